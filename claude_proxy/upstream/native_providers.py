"""OpenAI-compatible providers the native upstream can call: one row per provider.

A row says where the provider's Chat Completions endpoint is, which settings hold its key and
base URL, and whether the native request rules (`openai_request.py`) are proven to send what
LiteLLM sends for it. Only proven rows are served natively; the others are listed because
their base URL is certain (LiteLLM's own default), but LiteLLM gives each of them its own
request config (Groq, OpenRouter and DeepSeek rewrite messages and parameters their own way),
and they have no key settings yet, so they stay on LiteLLM until a test proves them equal.

Base URLs are LiteLLM 1.106's defaults, so the same request goes to the same place on either
engine. (Together's is api.together.ai; api.together.xyz is the same service's older name.)
"""

from __future__ import annotations

from dataclasses import dataclass

from claude_proxy import errors
from claude_proxy.settings import Settings

CHAT_PATH = "/chat/completions"
# Sent when a custom base URL (a local server) needs no key; LiteLLM sends the same.
NO_KEY_PLACEHOLDER = "no-key-needed"


@dataclass(frozen=True)
class NativeProvider:
    prefix: str
    """LiteLLM's provider prefix of the model string: `openai/gpt-4.1`."""
    label: str
    base_url: str
    key_field: str
    """The `Settings` field holding the key."""
    base_field: str
    """The `Settings` field holding a base URL that overrides `base_url`."""
    env_name: str
    """Where users set the key, for messages."""
    proven: bool = False
    """The native request rules are tested equal to LiteLLM's for this provider."""


PROVIDERS: dict[str, NativeProvider] = {
    row.prefix: row
    for row in (
        NativeProvider(
            "openai",
            "OpenAI",
            "https://api.openai.com/v1",
            "openai_api_key",
            "openai_api_base",
            "OPENAI_API_KEY",
            proven=True,
        ),
        NativeProvider(
            "together_ai",
            "Together",
            "https://api.together.ai/v1",
            "togetherai_api_key",
            "togetherai_api_base",
            "TOGETHERAI_API_KEY",
            proven=True,
        ),
        NativeProvider(
            "openrouter",
            "OpenRouter",
            "https://openrouter.ai/api/v1",
            "openrouter_api_key",
            "openrouter_api_base",
            "OPENROUTER_API_KEY",
        ),
        NativeProvider(
            "deepseek",
            "DeepSeek",
            "https://api.deepseek.com/beta",
            "deepseek_api_key",
            "deepseek_api_base",
            "DEEPSEEK_API_KEY",
        ),
        NativeProvider(
            "groq",
            "Groq",
            "https://api.groq.com/openai/v1",
            "groq_api_key",
            "groq_api_base",
            "GROQ_API_KEY",
        ),
    )
}


def native_provider(model: str) -> NativeProvider | None:
    """The proven row serving a LiteLLM model string, or None (LiteLLM serves it)."""
    row = PROVIDERS.get(model.partition("/")[0])
    return row if row is not None and row.proven else None


@dataclass(frozen=True)
class Endpoint:
    url: str
    """The full Chat Completions URL."""
    base_url: str
    key: str


def endpoint_for(row: NativeProvider, settings: Settings) -> Endpoint:
    """Where to send and with which key; raises `MissingKeyError` as LiteLLM's path does.

    A custom base URL without a key gets the placeholder: Ollama, vLLM and llama.cpp need none.
    """
    secret = getattr(settings, row.key_field, None)
    custom_base = getattr(settings, row.base_field, None)
    key = secret.get_secret_value() if secret is not None else ""
    if not key and not custom_base:
        raise errors.MissingKeyError(
            f"No key for {row.label}: set {row.env_name} (or put it in .env)."
        )
    base = (custom_base or row.base_url).rstrip("/")
    # As LiteLLM's `get_complete_url`: a base that already names the endpoint is used as is.
    url = base if CHAT_PATH.strip("/") in base else base + CHAT_PATH
    return Endpoint(url, base, key or NO_KEY_PLACEHOLDER)
