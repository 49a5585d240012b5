"""Where a provider's requests go and with which key, for either engine.

One rule: the provider's key from the settings; without one, a custom base URL (a local server:
Ollama, vLLM, llama.cpp need no key) gets a placeholder, and no base URL is a MissingKeyError
that names the variable to set.
"""

from __future__ import annotations

from dataclasses import dataclass

from claude_proxy import errors
from claude_proxy.providers import ProviderInfo, provider_for
from claude_proxy.settings import Settings

CHAT_PATH = "/chat/completions"
NO_KEY_PLACEHOLDER = "no-key-needed"
"""Sent to a custom base URL without a key; the OpenAI client refuses to start without one."""


@dataclass(frozen=True)
class Credentials:
    key: str
    base_url: str | None
    """The base URL the settings give, None for the provider's default."""


def credentials(info: ProviderInfo, settings: Settings) -> Credentials:
    secret = getattr(settings, info.key_field)
    base = getattr(settings, info.base_field)
    key = secret.get_secret_value() if secret is not None else ""
    if not key and not base:
        raise errors.MissingKeyError(info.missing_key())
    return Credentials(key or NO_KEY_PLACEHOLDER, base)


def native_provider(model: str) -> ProviderInfo | None:
    """The row of a model string the native engine can serve, or None (LiteLLM serves it)."""
    info = provider_for(model.partition("/")[0])
    return info if info is not None and info.native_base is not None else None


def native_base(info: ProviderInfo, settings: Settings) -> str:
    """The Chat Completions base URL: the settings', else the provider's own."""
    base = getattr(settings, info.base_field) or info.native_base
    assert base is not None  # only rows the native engine serves get here
    return str(base).rstrip("/")


@dataclass(frozen=True)
class Endpoint:
    url: str
    """The full Chat Completions URL."""
    base_url: str
    key: str


def endpoint_for(info: ProviderInfo, settings: Settings) -> Endpoint:
    """Where the native engine sends and with which key; raises `MissingKeyError`."""
    found = credentials(info, settings)
    base = native_base(info, settings)
    # As LiteLLM's `get_complete_url`: a base that already names the endpoint is used as is.
    url = base if CHAT_PATH.strip("/") in base else base + CHAT_PATH
    return Endpoint(url, base, found.key)
