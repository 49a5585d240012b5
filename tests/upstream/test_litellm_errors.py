"""The pure mapping of LiteLLM's exceptions onto the error tree, with stand-in exception
classes in an `ErrorClasses` table: no litellm imported. The rules apply in order: a context
overflow, an unknown model, a timeout, a connection failure, then the upstream's status."""

from __future__ import annotations

from typing import Any

import pytest

from claude_proxy import errors
from claude_proxy.upstream.litellm_errors import (
    ErrorClasses,
    exception_chain,
    map_error,
    retry_headers_of,
    status_of,
)


class StandIn(Exception):
    """Like LiteLLM's exceptions: a message attribute, a status code, maybe headers."""

    def __init__(
        self,
        message: str = "upstream said no",
        status_code: int | None = None,
        *,
        original: BaseException | None = None,
        **attributes: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if original is not None:
            self.original_exception = original
        for name, value in attributes.items():
            setattr(self, name, value)


class ContextWindow(StandIn):
    pass


class UnknownModel(StandIn):
    pass


class Timeout(StandIn):
    pass


class Connection(StandIn):
    pass


class SubConnection(Connection):
    pass


CLASSES = ErrorClasses(
    context_window=(ContextWindow,),
    unknown_model=(UnknownModel,),
    timeout=(Timeout,),
    connection=(Connection,),
)


def overflow(message: str) -> errors.ProxyError:
    return errors.InvalidRequestError(f"overflow: {message}")


def mapped(exc: BaseException, *, redact: Any = lambda text: text) -> errors.ProxyError:
    return map_error(exc, CLASSES, model="openai/gpt-4.1", redact=redact, context_error=overflow)


@pytest.mark.parametrize(
    ("exc", "error_class", "message"),
    [
        (ContextWindow("too long", 400), errors.InvalidRequestError, "overflow: too long"),
        (
            StandIn("This model's maximum context length is 8 tokens", 400),
            errors.InvalidRequestError,
            "overflow: This model's maximum context length is 8 tokens",
        ),
        (
            UnknownModel("no such model", 400),
            errors.NotFoundError,
            "model 'openai/gpt-4.1' is not known to LiteLLM: no such model",
        ),
        (
            StandIn("LLM Provider NOT provided. Pass in the LLM provider", 400),
            errors.NotFoundError,
            "model 'openai/gpt-4.1' is not known to LiteLLM: "
            "LLM Provider NOT provided. Pass in the LLM provider",
        ),
        (Timeout("slow", 500), errors.UpstreamTimeoutError, "upstream timed out: slow"),
        (TimeoutError("read"), errors.UpstreamTimeoutError, "upstream timed out: read"),
        (
            StandIn("Request timed out.", 500),
            errors.UpstreamTimeoutError,
            "upstream timed out: Request timed out.",
        ),
        (
            Connection("Connection refused"),
            errors.ApiError,
            "could not reach the upstream: Connection refused",
        ),
        (
            SubConnection("reset", 500),
            errors.ApiError,
            "could not reach the upstream: reset",
        ),
        (StandIn("bad key", 401), errors.AuthenticationError, "bad key"),
        (StandIn("pay up", 402), errors.BillingError, "pay up"),
        (StandIn("not yours", 403), errors.PermissionDeniedError, "not yours"),
        (StandIn("gone", 404), errors.NotFoundError, "gone"),
        (StandIn("big", 413), errors.RequestTooLargeError, "big"),
        (StandIn("odd", 422), errors.InvalidRequestError, "odd"),
        (StandIn("slow down", 429), errors.RateLimitError, "slow down"),
        (StandIn("busy", 503), errors.OverloadedError, "busy"),
        (StandIn("busy", 529), errors.OverloadedError, "busy"),
        (StandIn("late", 504), errors.UpstreamTimeoutError, "late"),
        (StandIn("bad gateway", 502), errors.ApiError, "upstream error 502: bad gateway"),
        (StandIn("oops", 500), errors.ApiError, "upstream error 500: oops"),
        (StandIn("teapot", 418), errors.ApiError, "teapot"),
        (StandIn("no status"), errors.ApiError, "no status"),
        (
            StandIn("litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit", 429),
            errors.RateLimitError,
            "Rate limit",
        ),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_map_error(exc: BaseException, error_class: type[errors.ProxyError], message: str) -> None:
    error = mapped(exc)
    assert type(error) is error_class
    assert error.message == message


def test_the_rules_apply_in_order() -> None:
    # an overflow wins over everything, a timeout over a connection failure and a status
    assert type(mapped(ContextWindow("timed out", 503))) is errors.InvalidRequestError
    assert type(mapped(UnknownModel("timed out", 429))) is errors.NotFoundError
    assert type(mapped(Connection("timed out", 429))) is errors.UpstreamTimeoutError
    # a connection failure that carries a real status is that status
    assert type(mapped(Connection("refused", 429))) is errors.RateLimitError


def test_a_proxy_error_passes_unchanged() -> None:
    error = errors.MissingKeyError("No key for OpenAI")
    assert mapped(error) is error


def test_a_timeout_deep_in_the_chain_is_a_timeout() -> None:
    try:
        try:
            raise Timeout("read timeout")
        except Timeout as inner:
            raise StandIn("Internal server error", 500) from inner
    except StandIn as outer:
        assert type(mapped(outer)) is errors.UpstreamTimeoutError


def test_messages_are_redacted() -> None:
    error = mapped(
        StandIn("Incorrect API key provided: sk-secret-1", 401),
        redact=lambda t: t.replace("sk-secret-1", "***"),
    )
    assert error.message == "Incorrect API key provided: ***"


def test_exception_chain_follows_original_exception_then_cause_then_context() -> None:
    root = ValueError("root")
    middle = StandIn("middle", original=root)
    top = StandIn("top", original=middle)
    assert exception_chain(top) == [top, middle, root]
    try:
        try:
            raise root
        except ValueError:
            raise KeyError("while handling")  # noqa: B904 (the context is the point)
    except KeyError as during:
        assert exception_chain(during) == [during, root]
    caused = RuntimeError("caused")
    caused.__cause__ = root
    assert exception_chain(caused) == [caused, root]


def test_exception_chain_is_bounded_even_for_a_loop() -> None:
    a, b = StandIn("a"), StandIn("b")
    a.original_exception, b.original_exception = b, a  # type: ignore[attr-defined]
    assert exception_chain(a, depth=6) == [a, b, a, b, a, b]


@pytest.mark.parametrize(
    ("statuses", "status"),
    [
        ([500, 503], 503),  # Gemini's 503 that LiteLLM re-raised as a 500
        ([429, 500], 429),
        ([500], 500),
        ([500, None, 500], 500),
        ([None, None], None),
        ([], None),
        ([None, 401], 401),
    ],
)
def test_status_of(statuses: list[int | None], status: int | None) -> None:
    chain: list[BaseException] = [StandIn("x", code) for code in statuses]
    assert status_of(chain) == status


def test_a_503_under_a_500_is_overloaded() -> None:
    outer = StandIn("APIError: 500", 500, original=StandIn("UNAVAILABLE", 503))
    assert type(mapped(outer)) is errors.OverloadedError


class Response:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


@pytest.mark.parametrize(
    ("exc", "found"),
    [
        (StandIn("x", 429, litellm_response_headers={"retry-after": "7"}), {"retry-after": "7"}),
        (StandIn("x", 429, headers={"retry-after-ms": "900"}), {"retry-after-ms": "900"}),
        (StandIn("x", 429, response=Response({"retry-after": "3"})), {"retry-after": "3"}),
        (
            StandIn(
                "x",
                429,
                litellm_response_headers={"retry-after": "1"},
                response=Response({"retry-after": "9"}),
            ),
            {"retry-after": "1"},  # the first header set LiteLLM kept wins
        ),
        (StandIn('quota {"retryDelay": "12s"}', 429), {"retry-after": "12"}),
        (
            StandIn('quota {"retryDelay": "12s"}', 429, headers={"retry-after": "2"}),
            {"retry-after": "2"},
        ),
        (StandIn("x", 429), {}),
    ],
    ids=[
        "litellm-headers",
        "headers",
        "response-headers",
        "first-wins",
        "gemini-body",
        "header-over-body",
        "none",
    ],
)
def test_retry_headers_of(exc: BaseException, found: dict[str, str]) -> None:
    assert retry_headers_of(exc) == found


def test_a_rate_limit_carries_its_retry_headers() -> None:
    error = mapped(StandIn("slow down", 429, litellm_response_headers={"retry-after": "7"}))
    assert type(error) is errors.RateLimitError
    assert error.headers == {"retry-after": "7"}
    server = mapped(StandIn("down", 502, headers={"retry-after": "30"}))
    assert server.headers == {"retry-after": "30"}


def test_a_too_large_max_tokens_comes_before_the_overflow_rule() -> None:
    words = (
        "litellm.ContextWindowExceededError: This model's maximum context length is 8192"
        " tokens. However, you requested 10100 tokens (100 in the messages, 10000 in the"
        " completion)."
    )
    error = mapped(ContextWindow(words))
    assert isinstance(error, errors.MaxTokensTooLargeError)
    assert (error.limit, error.per_model) == (8092, False)
