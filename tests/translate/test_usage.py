"""OpenAI usage -> Anthropic's four counters: always all four, always non-negative integers."""

from __future__ import annotations

import math

import pytest

from claude_proxy.translate.usage import count_of, to_anthropic_usage

ZERO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(None, ZERO_USAGE, id="none"),
        pytest.param({}, ZERO_USAGE, id="empty"),
        pytest.param(
            {"prompt_tokens": 812, "completion_tokens": 41},
            {**ZERO_USAGE, "input_tokens": 812, "output_tokens": 41},
            id="plain",
        ),
        pytest.param(
            {
                "prompt_tokens": 1000,
                "completion_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 900},
            },
            {
                "input_tokens": 100,
                "output_tokens": 5,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 900,
            },
            id="openai-cached",
        ),
        pytest.param(
            {
                "prompt_tokens": 1000,
                "completion_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300},
            },
            {
                "input_tokens": 100,
                "output_tokens": 5,
                "cache_creation_input_tokens": 300,
                "cache_read_input_tokens": 600,
            },
            id="cache-write-in-details",
        ),
        pytest.param(
            {
                "prompt_tokens": 1000,
                "completion_tokens": 5,
                "cache_read_input_tokens": 600,
                "cache_creation_input_tokens": 300,
                "prompt_tokens_details": {"cached_tokens": None},
            },
            {
                "input_tokens": 100,
                "output_tokens": 5,
                "cache_creation_input_tokens": 300,
                "cache_read_input_tokens": 600,
            },
            id="anthropic-style-top-level",
        ),
        pytest.param(
            {
                "prompt_tokens": 10,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": 50},
            },
            {
                "input_tokens": 0,
                "output_tokens": 2,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 50,
            },
            id="never-negative",
        ),
        pytest.param(
            {
                "prompt_tokens": 10.0,
                "completion_tokens": None,
                "prompt_tokens_details": "junk",
                "cost": 0.01,
            },
            {**ZERO_USAGE, "input_tokens": 10},
            id="odd-types",
        ),
        pytest.param(
            {"prompt_tokens": float("nan"), "completion_tokens": True},
            ZERO_USAGE,
            id="nan-and-bool",
        ),
    ],
)
def test_to_anthropic_usage(usage: dict | None, expected: dict) -> None:
    result = to_anthropic_usage(usage)
    assert result == expected
    assert all(type(value) is int for value in result.values())


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (7, 7),
        (7.9, 7),
        (0, 0),
        (-3, 0),
        (None, 0),
        ("12", 0),
        (True, 0),
        (False, 0),
        (math.inf, 0),
        (math.nan, 0),
        ([1], 0),
    ],
)
def test_count_of(value: object, count: int) -> None:
    assert count_of(value) == count
    assert type(count_of(value)) is int
