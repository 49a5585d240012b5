"""Provider quirks: one module per provider, each a pure adjustment around the core translation.

The core translation (`claude_proxy.translate`) speaks plain OpenAI chat completions. What a
particular provider needs on top of that lives here, behind three hooks:

    to_openai_request(body) --prepare_request--> upstream --fix_response--> to_anthropic_message
                                                          --filter_stream--> StreamTranslator

`quirks_for(target, options)` picks the provider's `Quirks`. Everything here is pure: dicts in,
dicts out, no I/O.
"""

from __future__ import annotations

from claude_proxy.providers.base import ChunkFilter, ProviderOptions, Quirks
from claude_proxy.providers.registry import quirks_for

__all__ = ["ChunkFilter", "ProviderOptions", "Quirks", "quirks_for"]
