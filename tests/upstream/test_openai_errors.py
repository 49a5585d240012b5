"""An OpenAI-compatible upstream's refusal, read from its status, headers and (capped) body."""

from __future__ import annotations

import json

import pytest

from claude_proxy import errors
from claude_proxy.upstream.openai_errors import (
    error_for_status,
    error_in_body,
    unprocessable_params,
)


def body(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "x"}}).encode()


def same(text: str) -> str:
    return text


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (408, errors.UpstreamTimeoutError),
        (429, errors.RateLimitError),
        (500, errors.ApiError),
        (503, errors.OverloadedError),
        (504, errors.UpstreamTimeoutError),
    ],
)
def test_status_classes(status: int, cls: type[errors.ProxyError]) -> None:
    error = error_for_status(status, body("no"), {}, same)
    assert type(error) is cls


def test_retry_hints_and_redaction() -> None:
    error = error_for_status(429, body("slow down, sk-secret"), {"retry-after": "7"}, str.upper)
    assert error.headers == {"retry-after": "7"}
    assert error.message == "SLOW DOWN, SK-SECRET"


def test_context_overflow_carries_numbers_or_the_window() -> None:
    message = "This model's maximum context length is 100 tokens. However, your messages resulted in 150 tokens."
    error = error_for_status(400, body(message), {}, same)
    assert isinstance(error, errors.ContextWindowExceededError)
    assert (error.prompt_tokens, error.max_tokens) == (150, 100)
    unnumbered = error_for_status(
        400, body("context_length_exceeded"), {}, same, max_input_tokens=64
    )
    assert isinstance(unnumbered, errors.ContextWindowExceededError)
    assert unnumbered.max_tokens == 64


def test_errors_behind_a_200_take_their_code_as_status() -> None:
    payload = {"error": {"message": "overloaded", "code": 503}}
    assert isinstance(error_in_body(payload, same, streamed=True), errors.OverloadedError)
    assert isinstance(
        error_in_body({"error": {"message": "x"}}, same, streamed=False), errors.InvalidRequestError
    )


def test_the_parameters_a_422_names() -> None:
    detail = json.dumps({"detail": [{"loc": ["body", "top_k"]}, {"loc": ["query"]}]})
    assert unprocessable_params(body(detail)) == ["top_k"]
    assert unprocessable_params(b"not json") == []


def test_a_too_large_max_tokens_names_the_limit_before_any_overflow_rule() -> None:
    message = (
        "This model's maximum context length is 8192 tokens. However, you requested 10100"
        " tokens (100 in the messages, 10000 in the completion)."
    )
    error = error_for_status(400, body(message), {}, same)
    assert isinstance(error, errors.MaxTokensTooLargeError)
    assert (error.limit, error.per_model) == (8092, False)
    # Only a 400 is a refusal of the request's max_tokens.
    assert type(error_for_status(500, body(message), {}, same)) is not errors.MaxTokensTooLargeError
