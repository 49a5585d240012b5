"""Finding a claude-proxy on this machine: the address to reach it, its `/health`, whether it
serves the settings at hand, and whether a port can be bound."""

from __future__ import annotations

from claude_proxy.cli.local_proxy import (
    health_mismatch,
)
from claude_proxy.settings import load_settings


def test_health_mismatch() -> None:
    health = {
        "provider": "openai",
        "models": {"opus": "openai/gpt-4.1", "sonnet": "openai/gpt-4.1", "haiku": "openai/x"},
    }
    settings = load_settings({"small_model": "x"}, env_file=None)
    assert health_mismatch(health, settings) is None
    google = load_settings({"preferred_provider": "google"}, env_file=None)
    assert health_mismatch(health, google) == "provider openai, not google"
    other = load_settings({"big_model": "gpt-4o", "small_model": "x"}, env_file=None)
    assert health_mismatch(health, other) == "opus is served by openai/gpt-4.1, not gpt-4o"
