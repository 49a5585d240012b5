"""Which upstream model serves a requested model name, and why.

A pure function of the requested name, the settings and a model registry (`ModelRegistry`:
the server's `Upstream` answers it from LiteLLM's bundled map; the unit tests use a stand-in).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from claude_proxy.providers.table import PROVIDERS, provider_named, registry_provider

if TYPE_CHECKING:
    from claude_proxy.settings import Settings

logger = logging.getLogger(__name__)

Alias = Literal["opus", "sonnet", "haiku"]
ALIASES: tuple[Alias, ...] = ("opus", "sonnet", "haiku")


class ModelRegistry(Protocol):
    def provider_of(self, model: str) -> str | None:
        """The LiteLLM provider of a bare model name, or None when the registry does not know it."""

    def is_provider(self, prefix: str) -> bool:
        """Whether `prefix` (the part before the first "/") is a LiteLLM provider."""


@dataclass(frozen=True)
class ModelChoice:
    requested: str
    model: str
    """The LiteLLM model string sent upstream, provider prefix included."""
    provider: str
    """The LiteLLM provider (`openai`, `gemini`, `together_ai`, `anthropic`, ...)."""
    reason: str
    """Which rule applied, in words: shown by `models resolve` and in debug logs."""
    alias: Alias | None = None


def alias_of(requested: str) -> Alias | None:
    """The Claude alias a requested name stands for: `claude-3-5-haiku-20241022` -> haiku."""
    lowered = requested.lower()
    if "haiku" in lowered:
        return "haiku"
    if "sonnet" in lowered:
        return "sonnet"
    if "opus" in lowered:
        return "opus"
    return None


def alias_target(alias: Alias, settings: Settings) -> tuple[str, str]:
    """The configured model for an alias, before any prefix, and the rule that chose it."""
    override = {
        "opus": settings.opus_model,
        "sonnet": settings.sonnet_model,
        "haiku": settings.haiku_model,
    }[alias]
    if override:
        return override, f"{alias.upper()}_MODEL"
    provider = settings.preferred_provider
    size = "SMALL_MODEL" if alias == "haiku" else "BIG_MODEL"
    configured = settings.small_model if alias == "haiku" else settings.big_model
    if configured:
        return configured, size
    if provider == "together":
        return settings.together_model, "TOGETHER_MODEL"
    models = provider_named(provider).models
    if models is None:
        return "", "anthropic passthrough"
    big, small = models
    return (small if alias == "haiku" else big), f"default {size.lower()} for {provider}"


def map_model(requested: str, settings: Settings, registry: ModelRegistry) -> ModelChoice:
    """Map a requested model name to the upstream model that serves it."""
    prefix, sep, _rest = requested.partition("/")
    if sep and registry.is_provider(prefix):
        return ModelChoice(requested, requested, prefix, "carries a provider prefix: used as it is")
    alias = alias_of(requested)
    is_claude = alias is not None or requested.lower().startswith("claude")
    if not is_claude:
        model, provider = with_prefix(requested, settings, registry, preferred=None)
        return ModelChoice(requested, model, provider, "not a Claude name: used as it is")

    alias = alias or "sonnet"  # a Claude name with no alias word is served like the default model
    target, rule = alias_target(alias, settings)
    if settings.preferred_provider == "anthropic" and not target:
        return ModelChoice(
            requested, f"anthropic/{requested}", "anthropic", "anthropic passthrough", alias
        )

    model, provider = with_prefix(target, settings, registry, preferred=settings.preferred_provider)
    reason = f"{alias} -> {rule}"
    if settings.preferred_provider == "google" and provider != "gemini" and "/" not in target:
        # The server logs the alias table, reasons included, at start-up.
        reason += " (not a Gemini model: falls back to the OpenAI mapping)"
    logger.debug("model %s -> %s (%s)", requested, model, reason)
    return ModelChoice(requested, model, provider, reason, alias)


def with_prefix(
    name: str, settings: Settings, registry: ModelRegistry, *, preferred: str | None
) -> tuple[str, str]:
    """Give a model name its LiteLLM provider prefix; returns (model, provider)."""
    prefix, sep, _rest = name.partition("/")
    if sep and registry.is_provider(prefix):
        return name, prefix
    if preferred == "together":
        return f"together_ai/{name}", "together_ai"
    for info in PROVIDERS:
        if name in info.bare_models:
            return f"{info.litellm}/{name}", info.litellm
    known = registry.provider_of(name)
    if known is not None:
        provider = registry_provider(known)
        return f"{provider}/{name}", provider
    if preferred == "anthropic":
        return f"anthropic/{name}", "anthropic"
    # Unknown to the registry: the OpenAI mapping, which also serves any OpenAI-compatible
    # server behind OPENAI_API_BASE. A name that upstream does not know becomes a 404.
    return f"openai/{name}", "openai"
