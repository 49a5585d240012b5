"""Reading an upstream's error text: LiteLLM's prefixes and JSON wrappers stripped, the numbers
of a context overflow, and when the upstream says to retry."""

from __future__ import annotations

import pytest

from claude_proxy.upstream.error_text import (
    clean_message,
    looks_like_context_overflow,
    parse_context_numbers,
    retry_after_of,
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


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('b\'{"error": {"code": 429, "message": "Quota exceeded"}}\'', "Quota exceeded"),
        ('{"message": "top-level message"}', "top-level message"),
        ("{not json at all", "{not json at all"),
        ('{"error": {"code": 500}}', '{"error": {"code": 500}}'),
        ("   \n  ", "upstream error"),
    ],
    ids=["gemini-bytes-repr", "bare-object", "broken-json", "no-message", "blank"],
)
def test_clean_message_unwraps_what_it_can_and_keeps_the_rest(raw: str, clean: str) -> None:
    assert clean_message(raw) == clean


def test_clean_message_is_bounded() -> None:
    assert len(clean_message("x" * 10_000)) == 2000


@pytest.mark.parametrize(
    "message",
    ["Rate limit reached", "invalid api key", "the model does not exist"],
)
def test_other_errors_are_no_context_overflow(message: str) -> None:
    assert not looks_like_context_overflow(message)
    assert parse_context_numbers(message) is None


@pytest.mark.parametrize(
    ("headers", "body", "found"),
    [
        ({"retry-after": "7"}, "", {"retry-after": "7"}),
        ({"retry-after-ms": "1500"}, "", {"retry-after-ms": "1500"}),
        (
            {"retry-after": "2", "retry-after-ms": "1500"},
            "",
            {"retry-after": "2", "retry-after-ms": "1500"},
        ),
        ({"retry-after": ""}, "", {}),
        ({"content-type": "application/json"}, "", {}),
        (None, "", {}),
        (
            None,
            '{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}',
            {"retry-after": "37"},
        ),
        (None, '"retryDelay": "1.2s"', {"retry-after": "2"}),  # rounded up: never retry early
        ({"retry-after": "5"}, '"retryDelay": "37s"', {"retry-after": "5"}),  # the header wins
        (None, '"retryDelay": "soon"', {}),
    ],
    ids=[
        "seconds",
        "milliseconds",
        "both",
        "empty",
        "other-headers",
        "nothing",
        "gemini-retry-info",
        "gemini-fraction",
        "header-wins",
        "no-number",
    ],
)
def test_retry_after_of(headers: dict[str, str] | None, body: str, found: dict[str, str]) -> None:
    assert retry_after_of(headers, body) == found


def test_redact_replaces_every_secret() -> None:
    from claude_proxy.upstream.error_text import redact

    assert (
        redact("key sk-1 and tok-2, sk-1 again", ["sk-1", "tok-2"]) == "key *** and ***, *** again"
    )
