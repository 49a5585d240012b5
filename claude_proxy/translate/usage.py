"""OpenAI usage -> Anthropic usage, shared by the JSON and the streaming paths."""

from __future__ import annotations

import math
from typing import Any


def to_anthropic_usage(usage: dict[str, Any] | None) -> dict[str, int]:
    """Map OpenAI usage to Anthropic's four counters, always all four and always integers.

    OpenAI's `prompt_tokens` includes cached and cache-written tokens; Anthropic's
    `input_tokens` counts only the rest (clients add the three to get the total).
    """
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    if not isinstance(details, dict):
        details = {}
    cached = max(
        count_of(details.get("cached_tokens")), count_of(usage.get("cache_read_input_tokens"))
    )
    cache_write = max(
        count_of(details.get("cache_write_tokens")),
        count_of(usage.get("cache_creation_input_tokens")),
    )
    prompt = count_of(usage.get("prompt_tokens"))
    return {
        "input_tokens": max(prompt - cached - cache_write, 0),
        "output_tokens": count_of(usage.get("completion_tokens")),
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cached,
    }


def count_of(value: Any) -> int:
    """A token count as a non-negative int; anything else (None, NaN, text) counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(int(value), 0)
