"""Where each provider's requests go and with which key: one rule for both engines."""

from __future__ import annotations

import pytest

from claude_proxy import errors
from claude_proxy.providers import PROVIDERS, provider_named
from claude_proxy.settings import load_settings
from claude_proxy.upstream.endpoints import (
    NO_KEY_PLACEHOLDER,
    credentials,
    endpoint_for,
    native_provider,
)


def test_default_bases_and_the_table() -> None:
    settings = load_settings({"openai_api_key": "k", "togetherai_api_key": "t"}, env_file=None)
    openai = endpoint_for(provider_named("openai"), settings)
    assert openai.url == "https://api.openai.com/v1/chat/completions" and openai.key == "k"
    together = endpoint_for(provider_named("together"), settings)
    assert together.url == "https://api.together.ai/v1/chat/completions"
    settings = load_settings({"openai_api_base": "http://h:1/v1/chat/completions/"}, env_file=None)
    assert endpoint_for(provider_named("openai"), settings).url == "http://h:1/v1/chat/completions"
    assert native_provider("openai/gpt-4.1") is provider_named("openai")
    for model in ("gemini/gemini-2.5-pro", "anthropic/claude-x", "groq/llama-3", "openrouter/x"):
        assert native_provider(model) is None, model
    for row in PROVIDERS:
        assert row.native_base is None or row.native_base.startswith("https://")


def test_credentials_need_a_key_or_a_base_url() -> None:
    openai = provider_named("openai")
    with pytest.raises(errors.MissingKeyError, match="set OPENAI_API_KEY"):
        credentials(openai, load_settings(env_file=None))
    local = credentials(openai, load_settings({"openai_api_base": "http://h:1/v1"}, env_file=None))
    assert (local.key, local.base_url) == (NO_KEY_PLACEHOLDER, "http://h:1/v1")
    keyed = credentials(openai, load_settings({"openai_api_key": "sk-1"}, env_file=None))
    assert (keyed.key, keyed.base_url) == ("sk-1", None)
