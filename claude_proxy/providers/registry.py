"""Which quirks serve which provider."""

from __future__ import annotations

from claude_proxy.providers.base import ProviderOptions, Quirks
from claude_proxy.providers.gemini import GeminiQuirks
from claude_proxy.providers.openai import OpenAIQuirks
from claude_proxy.providers.together import TogetherQuirks
from claude_proxy.translate.target import Target

# provider -> Quirks subclass; each provider module adds itself here.
QUIRKS: dict[str, type[Quirks]] = {
    "gemini": GeminiQuirks,
    "openai": OpenAIQuirks,
    "together_ai": TogetherQuirks,
}


def quirks_for(target: Target, options: ProviderOptions) -> Quirks:
    return QUIRKS.get(target.provider, Quirks)(target, options)
