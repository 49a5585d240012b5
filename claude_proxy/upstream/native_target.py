"""The translation's `Target` for an openai or together_ai model, without LiteLLM.

The same value `LiteLLMUpstream.target` builds from `litellm.get_model_info` and
`litellm.get_supported_openai_params` (tests/upstream/test_native_target.py compares them for
every model of both providers in the map), so the translator can be fed before, or without,
importing litellm. Other providers' parameter lists are not reproduced: None for them.
"""

from __future__ import annotations

import functools

from claude_proxy.translate.target import Target
from claude_proxy.upstream.model_facts import facts_for, response_schema_verdict
from claude_proxy.upstream.openai_params import supported_params

PROVIDERS = frozenset({"openai", "together_ai"})


def limits_target(model: str, provider: str) -> Target:
    """A `Target` with the map's limits only, for a model nothing is translated for."""
    facts = facts_for(model)
    return Target(
        model=model,
        provider=provider,
        max_output_tokens=facts.max_output_tokens,
        max_input_tokens=facts.max_input_tokens,
    )


@functools.lru_cache(maxsize=64)
def target_for(model: str) -> Target | None:
    """Built once per model: a `Target` is frozen, and its parameter set (about 2 KB) was
    otherwise rebuilt for every request and held for as long as its stream ran."""
    facts = facts_for(model)
    if facts.provider not in PROVIDERS:
        return None
    return Target(
        model=model,
        provider=facts.provider,
        max_output_tokens=facts.max_output_tokens,
        max_input_tokens=facts.max_input_tokens,
        supported_params=frozenset(supported_params(facts)),
        supports_vision=facts.supports_vision,
        supports_reasoning=facts.supports_reasoning,
        supports_minimal_reasoning=facts.supports_minimal_reasoning,
        supports_response_schema=response_schema_verdict(facts.provider, facts.info),
    )
