"""Provider quirks: one module per provider, each a pure adjustment around the core translation.

The core translation (`claude_proxy.translate`) speaks plain OpenAI chat completions. What a
particular provider needs on top of that lives here, behind three hooks:

    to_openai_request(body) --prepare_request--> upstream --fix_response--> to_anthropic_message
                                                          --filter_stream--> StreamTranslator

`table.py` holds one row per provider; `quirks_for(target, options)` picks its `Quirks`. Everything here is pure: dicts in,
dicts out, no I/O.
"""

from __future__ import annotations

from claude_proxy.providers.base import ChunkFilter, ProviderOptions, Quirks
from claude_proxy.providers.table import (
    PROVIDERS,
    ProviderInfo,
    provider_for,
    provider_label,
    provider_named,
    quirks_for,
)

__all__ = [
    "PROVIDERS",
    "ChunkFilter",
    "ProviderInfo",
    "ProviderOptions",
    "Quirks",
    "provider_for",
    "provider_label",
    "provider_named",
    "quirks_for",
]
