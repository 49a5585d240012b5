from __future__ import annotations

from typing import Any, ClassVar

import pytest

from claude_proxy.model_map import alias_of, map_model
from claude_proxy.settings import load_settings


class DictRegistry:
    """LiteLLM's registry in miniature: bare name -> provider, and the provider prefixes."""

    models: ClassVar[dict[str, str]] = {
        "gpt-5-mini": "openai",
        "gemini-3-pro-preview": "vertex_ai-language-models",
        "deepseek-chat": "deepseek",
    }
    providers: ClassVar[set[str]] = {
        "openai",
        "gemini",
        "together_ai",
        "anthropic",
        "openrouter",
        "ollama",
        "deepseek",
        "vertex_ai",
    }

    def provider_of(self, model: str) -> str | None:
        return self.models.get(model)

    def is_provider(self, prefix: str) -> bool:
        return prefix in self.providers


CASES: list[tuple[dict[str, Any], str, str]] = [
    # (settings, requested, expected upstream model)
    ({}, "claude-opus-5-5", "openai/gpt-4.1"),
    ({}, "claude-sonnet-4-5-20250929", "openai/gpt-4.1"),
    ({}, "claude-3-5-haiku-20241022", "openai/gpt-4.1-mini"),
    ({}, "claude-haiku-5-5", "openai/gpt-4.1-mini"),
    ({}, "claude-instant-1", "openai/gpt-4.1"),
    ({}, "haiku", "openai/gpt-4.1-mini"),
    ({"big_model": "gpt-4o", "small_model": "gpt-4o-mini"}, "claude-opus-5-5", "openai/gpt-4o"),
    (
        {"big_model": "gpt-4o", "small_model": "gpt-4o-mini"},
        "claude-haiku-5-5",
        "openai/gpt-4o-mini",
    ),
    ({"opus_model": "o3-mini"}, "claude-opus-5-5", "openai/o3-mini"),
    ({"opus_model": "o3-mini"}, "claude-sonnet-5-5", "openai/gpt-4.1"),
    ({"haiku_model": "gpt-4o-mini"}, "claude-3-5-haiku-20241022", "openai/gpt-4o-mini"),
    ({"preferred_provider": "google"}, "claude-opus-5-5", "gemini/gemini-2.5-pro"),
    ({"preferred_provider": "google"}, "claude-haiku-5-5", "gemini/gemini-2.5-flash"),
    (
        {"preferred_provider": "google", "big_model": "gemini-2.0-flash"},
        "claude-sonnet-5-5",
        "gemini/gemini-2.0-flash",
    ),
    (
        {"preferred_provider": "google", "big_model": "gemini-3-pro-preview"},
        "claude-sonnet-5-5",
        "gemini/gemini-3-pro-preview",
    ),
    ({"preferred_provider": "google", "big_model": "gpt-4o"}, "claude-sonnet-5-5", "openai/gpt-4o"),
    (
        {"preferred_provider": "together"},
        "claude-opus-5-5",
        "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    ),
    (
        {"preferred_provider": "together"},
        "claude-haiku-5-5",
        "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    ),
    (
        {"preferred_provider": "together", "together_model": "Qwen/Qwen3-Coder"},
        "claude-opus-5-5",
        "together_ai/Qwen/Qwen3-Coder",
    ),
    ({"preferred_provider": "anthropic"}, "claude-opus-5-5", "anthropic/claude-opus-5-5"),
    (
        {"preferred_provider": "anthropic", "small_model": "claude-haiku-4-5"},
        "claude-3-5-haiku-20241022",
        "anthropic/claude-haiku-4-5",
    ),
    (
        {"big_model": "gemini/gemini-2.5-pro", "small_model": "openai/gpt-4.1-mini"},
        "claude-opus-5-5",
        "gemini/gemini-2.5-pro",
    ),
    (
        {"big_model": "gemini/gemini-2.5-pro", "small_model": "openai/gpt-4.1-mini"},
        "claude-haiku-5-5",
        "openai/gpt-4.1-mini",
    ),
    (
        {"big_model": "openrouter/qwen/qwen3-coder"},
        "claude-opus-5-5",
        "openrouter/qwen/qwen3-coder",
    ),
    ({"big_model": "ollama/llama3.1"}, "claude-opus-5-5", "ollama/llama3.1"),
    ({"big_model": "gpt-5-mini"}, "claude-opus-5-5", "openai/gpt-5-mini"),
    ({"big_model": "deepseek-chat"}, "claude-opus-5-5", "deepseek/deepseek-chat"),
    ({"big_model": "my-local-model"}, "claude-opus-5-5", "openai/my-local-model"),
    ({}, "gpt-4o", "openai/gpt-4o"),
    ({}, "gemini-2.5-flash", "gemini/gemini-2.5-flash"),
    ({}, "openrouter/anthropic/claude-sonnet-4", "openrouter/anthropic/claude-sonnet-4"),
    ({"preferred_provider": "google"}, "gpt-4.1", "openai/gpt-4.1"),
]
for _name in (
    "o3-mini",
    "o1",
    "o1-mini",
    "o1-pro",
    "gpt-4.5-preview",
    "gpt-4o",
    "gpt-4o-audio-preview",
    "chatgpt-4o-latest",
    "gpt-4o-mini",
    "gpt-4o-mini-audio-preview",
    "gpt-4.1",
    "gpt-4.1-mini",
):
    CASES.append(({"big_model": _name}, "claude-opus-5-5", f"openai/{_name}"))
for _name in (
    "gemini-2.5-pro-preview-03-25",
    "gemini-2.0-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
):
    CASES.append(({"big_model": _name}, "claude-opus-5-5", f"gemini/{_name}"))


@pytest.mark.parametrize(("overrides", "requested", "expected"), CASES)
def test_map_model(overrides: dict[str, Any], requested: str, expected: str) -> None:
    choice = map_model(requested, load_settings(overrides, env_file=None), DictRegistry())
    assert choice.model == expected
    assert choice.provider == expected.split("/")[0]
    assert choice.requested == requested


def test_google_fallback_says_why() -> None:
    settings = load_settings({"preferred_provider": "google", "big_model": "gpt-4o"}, env_file=None)
    choice = map_model("claude-opus-5-5", settings, DictRegistry())
    assert "falls back to the OpenAI mapping" in choice.reason


def test_reason_names_the_rule() -> None:
    settings = load_settings({"opus_model": "o3-mini"}, env_file=None)
    assert map_model("claude-opus-5-5", settings, DictRegistry()).reason == "opus -> OPUS_MODEL"
    assert (
        map_model("claude-sonnet-5-5", settings, DictRegistry()).reason
        == "sonnet -> default big_model for openai"
    )
    assert (
        map_model("gpt-4o", settings, DictRegistry()).reason == "not a Claude name: used as it is"
    )


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("claude-opus-4-1-20250805", "opus"),
        ("Claude-Sonnet", "sonnet"),
        ("claude-3-haiku", "haiku"),
        ("gpt-4o", None),
    ],
)
def test_alias_of(name: str, alias: str | None) -> None:
    assert alias_of(name) == alias
