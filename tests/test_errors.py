"""The error tree: each error's Anthropic type and status, its JSON body, the status an
upstream's HTTP status maps to, and the CLI's branch kept off the HTTP one."""

from __future__ import annotations

import inspect

import pytest

from claude_proxy import errors

HTTP_ERRORS = [
    cls
    for cls in vars(errors).values()
    if inspect.isclass(cls) and issubclass(cls, errors.ProxyError) and cls is not errors.ProxyError
]


def test_error_body_shape() -> None:
    error = errors.ContextWindowExceededError(205351, 200000)
    assert (error.status, error.error_type) == (400, "invalid_request_error")
    assert error.to_body("req_1") == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "prompt is too long: 205351 tokens > 200000 maximum",
        },
        "request_id": "req_1",
    }


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthenticationError),
        (402, errors.BillingError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (408, errors.UpstreamTimeoutError),
        (413, errors.RequestTooLargeError),
        (422, errors.InvalidRequestError),
        (429, errors.RateLimitError),
        (500, errors.ApiError),
        (502, errors.ApiError),
        (503, errors.OverloadedError),
        (504, errors.UpstreamTimeoutError),
        (529, errors.OverloadedError),
        (418, errors.ApiError),  # a status the tree has no class of
        (599, errors.ApiError),
    ],
)
def test_for_status(status: int, error_class: type[errors.ProxyError]) -> None:
    assert errors.for_status(status) is error_class


def test_for_status_gives_each_class_back_its_own_status() -> None:
    for cls in HTTP_ERRORS:
        if cls in (
            errors.ContextWindowExceededError,
            errors.MaxTokensTooLargeError,
            errors.MissingKeyError,
            errors.ThreadRejectedError,
            errors.ThreadNotFoundError,
        ):
            continue  # subclasses that share their parent's status
        if cls is errors.IncompleteAnswerError:
            # The proxy's own finding about a 200; an upstream's 502 is a plain ApiError.
            assert errors.for_status(cls.status) is errors.ApiError
            continue
        assert errors.for_status(cls.status) is cls, cls


@pytest.mark.parametrize("cls", HTTP_ERRORS, ids=lambda cls: cls.__name__)
def test_every_http_error_has_an_anthropic_type_and_status_and_is_drawn_in_the_tree(
    cls: type[errors.ProxyError],
) -> None:
    assert cls.error_type.endswith("_error") or cls.error_type == "request_too_large"
    assert 400 <= cls.status < 600
    assert cls.__name__ in (errors.__doc__ or "")


def test_an_error_body_without_a_request_id_and_with_headers() -> None:
    error = errors.RateLimitError("slow down", headers={"retry-after": "7"})
    assert error.to_body() == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "slow down"},
    }
    assert error.headers == {"retry-after": "7"}
    assert (error.status, str(error)) == (429, "slow down")


def test_a_missing_key_tells_clients_not_to_retry() -> None:
    error = errors.MissingKeyError("No key for Gemini: set GEMINI_API_KEY (or put it in .env).")
    assert isinstance(error, errors.AuthenticationError)
    assert (error.status, error.error_type) == (401, "authentication_error")
    assert error.headers == {"x-should-retry": "false"}


def test_a_context_overflow_keeps_its_numbers() -> None:
    error = errors.ContextWindowExceededError(10, 8)
    assert isinstance(error, errors.InvalidRequestError)
    assert (error.prompt_tokens, error.max_tokens) == (10, 8)


def test_a_command_error_is_not_an_http_answer() -> None:
    error = errors.CommandError("the port is taken", "Pick another with --port.", exit_code=3)
    assert isinstance(error, errors.Error) and not isinstance(error, errors.ProxyError)
    assert (error.message, error.hint, error.exit_code) == (
        "the port is taken",
        "Pick another with --port.",
        3,
    )
    assert errors.CommandError("x", "y").exit_code == 1


def test_the_thread_errors_carry_the_details_the_sdks_branch_on() -> None:
    rejected = errors.ThreadRejectedError("no", "thread_unsupported_request", unsupported=["x"])
    assert rejected.to_body("req_1") == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "no",
            "details": {"error_code": "thread_unsupported_request", "unsupported": ["x"]},
        },
        "request_id": "req_1",
    }
    lost = errors.ThreadNotFoundError("gone")
    assert (lost.status, lost.error_type) == (404, "not_found_error")
    assert lost.to_body()["error"]["details"] == {"error_code": "thread_not_found"}
    assert "details" not in errors.InvalidRequestError("plain").to_body()["error"]
