"""Reading an upstream's error text: LiteLLM's prefixes and JSON wrappers stripped, the numbers
of a context overflow, and when the upstream says to retry."""

from __future__ import annotations

import pytest

from claude_proxy.upstream.error_text import (
    OutputLimit,
    clean_message,
    looks_like_context_overflow,
    output_limit_error,
    parse_context_numbers,
    parse_output_limit,
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


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        pytest.param(
            "max_tokens is too large: 128000. This model supports at most 32768 completion"
            " tokens, whereas you provided 128000.",
            OutputLimit(32768, per_model=True),
            id="openai",
        ),
        pytest.param(
            "max_completion_tokens is too large: 200000. This model supports at most 100000"
            " completion tokens, whereas you provided 200000.",
            OutputLimit(100000, per_model=True),
            id="openai-reasoning",
        ),
        pytest.param(
            "'max_tokens' or 'max_completion_tokens' is too large: 10000. This model's maximum"
            " context length is 8192 tokens and your request has 100 input tokens"
            " (10000 > 8192 - 100).",
            OutputLimit(8092, per_model=False),
            id="vllm",
        ),
        pytest.param(
            "This model's maximum context length is 8192 tokens. However, you requested 10100"
            " tokens (100 in the messages, 10000 in the completion). Please reduce the length"
            " of the messages or completion.",
            OutputLimit(8092, per_model=False),
            id="vllm-older",
        ),
        pytest.param(
            "This model's maximum context length is 8192 tokens. However, you requested 10100"
            " tokens (7500 in the messages, 2600 in the completion).",
            None,
            id="vllm-little-room-is-an-overflow",
        ),
        pytest.param(
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8193. Given:"
            " 45 `inputs` tokens and 10000 `max_new_tokens`",
            OutputLimit(8148, per_model=False),
            id="together-tgi",
        ),
        pytest.param(
            "max_tokens must be less than or equal to 8192",
            OutputLimit(8192, per_model=True),
            id="together-parameter-check",
        ),
        pytest.param(
            "The maximum number of output tokens for this model is 65536.",
            OutputLimit(65536, per_model=True),
            id="gemini",
        ),
        pytest.param(
            "Unable to submit request because it has a maxOutputTokens value of 100000 but the"
            " supported range is from 1 (inclusive) to 65537 (exclusive). Update the value and"
            " try again.",
            OutputLimit(65536, per_model=True),
            id="vertex",
        ),
        pytest.param("prompt is too long: 300000 tokens > 200000 maximum", None, id="overflow"),
        pytest.param(
            "This model's maximum context length is 100 tokens. However, your messages"
            " resulted in 150 tokens.",
            None,
            id="openai-overflow",
        ),
        pytest.param("Rate limit reached", None, id="other"),
    ],
)
def test_parse_output_limit(message: str, limit: OutputLimit | None) -> None:
    assert parse_output_limit(message) == limit


def test_output_limit_error_keeps_the_upstreams_words() -> None:
    error = output_limit_error("max_tokens must be less than or equal to 8192")
    assert error is not None
    assert (error.message, error.limit, error.per_model, error.status) == (
        "max_tokens must be less than or equal to 8192",
        8192,
        True,
        400,
    )
    assert output_limit_error("Rate limit reached") is None
