"""Reading an upstream's error text: LiteLLM's prefixes and JSON wrappers stripped, the numbers
of a context overflow, and when the upstream says to retry."""

from __future__ import annotations

import pytest

from claude_proxy.upstream.error_text import (
    clean_message,
    looks_like_context_overflow,
    parse_context_numbers,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "litellm.BadRequestError: OpenAIException - Invalid value for 'messages'",
            "Invalid value for 'messages'",
        ),
        (
            "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached",
            "Rate limit reached",
        ),
        (
            'litellm.APIError: APIError: GeminiException - {"error": {"code": 400, "message": "Bad \\"schema\\""}}',
            'Bad "schema"',
        ),
        ("plain words", "plain words"),
        ("", "upstream error"),
    ],
)
def test_clean_message(raw: str, clean: str) -> None:
    assert clean_message(raw) == clean


@pytest.mark.parametrize(
    ("message", "numbers"),
    [
        (
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.",
            (130512, 128000),
        ),
        ("prompt is too long: 205351 tokens > 200000 maximum", (205351, 200000)),
        (
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            (1200000, 1048576),
        ),
        ("context_length_exceeded", None),
    ],
)
def test_parse_context_numbers(message: str, numbers: tuple[int, int] | None) -> None:
    assert parse_context_numbers(message) == numbers
    assert looks_like_context_overflow(message)
