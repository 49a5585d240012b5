"""One error tree. Each error says what went wrong in words a user can act on.

    Error                              message (+ hint)
    ├── ProxyError                     an HTTP answer: Anthropic `error.type` and status
    │   ├── InvalidRequestError        400 invalid_request_error
    │   │   ├── ContextWindowExceededError   "prompt is too long: N tokens > M maximum"
    │   │   ├── ThreadRejectedError    a message thread's turn refused, `error.details` says why
    │   │   └── MaxTokensTooLargeError the upstream's words; `limit`: what it takes
    │   ├── AuthenticationError        401 authentication_error
    │   │   └── MissingKeyError        the proxy has no key: x-should-retry: false
    │   ├── BillingError               402 billing_error
    │   ├── PermissionDeniedError      403 permission_error
    │   ├── NotFoundError              404 not_found_error
    │   │   └── ThreadNotFoundError    no stored thread for `previous_message_id`
    │   ├── RequestTooLargeError       413 request_too_large
    │   ├── RateLimitError             429 rate_limit_error
    │   ├── ApiError                   500 api_error
    │   │   └── IncompleteAnswerError  502: no message, or a stream the upstream never finished
    │   ├── UpstreamTimeoutError       504 timeout_error
    │   └── OverloadedError            529 overloaded_error
    └── CommandError                   a `claude-proxy` command cannot go on: exit status

Third-party exceptions (LiteLLM's, aiohttp's) become members of this tree where they occur
(`upstream/`, `server/middleware.py`), raised `from` the original. The server renders a
`ProxyError` in one place (`server/middleware.py`) as Anthropic's error JSON, or as an SSE
`error` event once a stream has started; the CLI catches `Error` in one place
(`cli/app.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class Error(Exception):
    """Base of every error claude-proxy reports."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        """What to do next, when the message alone does not say."""


class ProxyError(Error):
    """An error the proxy answers an HTTP request with."""

    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"

    def __init__(
        self,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.headers: dict[str, str] = dict(headers or {})
        self.details: dict[str, Any] | None = dict(details) if details is not None else None
        """`error.details`: its `error_code` is what SDKs branch on (the message threads')."""

    def to_body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        body: dict[str, Any] = {"type": "error", "error": error}
        if request_id:
            body["request_id"] = request_id
        return body


class InvalidRequestError(ProxyError):
    status = 400
    error_type = "invalid_request_error"


class ContextWindowExceededError(InvalidRequestError):
    """Rendered with the exact text Claude Code compacts on."""

    def __init__(self, prompt_tokens: int, max_tokens: int) -> None:
        super().__init__(f"prompt is too long: {prompt_tokens} tokens > {max_tokens} maximum")
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens


class ThreadRejectedError(InvalidRequestError):
    """A message thread's turn the proxy cannot serve as asked; the SDKs replay the whole
    conversation (or send it without a thread) on each `error_code`."""

    def __init__(self, message: str, error_code: str, **details: Any) -> None:
        super().__init__(message, details={"error_code": error_code, **details})


class MaxTokensTooLargeError(InvalidRequestError):
    """The upstream refused `max_tokens` and said how many it takes (`limit`); `per_model`:
    the model's own limit, not what its window leaves for this prompt. The server retries."""

    def __init__(self, message: str, *, limit: int, per_model: bool) -> None:
        super().__init__(message)
        self.limit = limit
        self.per_model = per_model


class AuthenticationError(ProxyError):
    status = 401
    error_type = "authentication_error"


class MissingKeyError(AuthenticationError):
    """The proxy has no key for the provider a request needs.

    Retrying cannot help, so the answer tells clients not to (`x-should-retry: false`).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"x-should-retry": "false"})


class BillingError(ProxyError):
    status = 402
    error_type = "billing_error"


class PermissionDeniedError(ProxyError):
    status = 403
    error_type = "permission_error"


class NotFoundError(ProxyError):
    status = 404
    error_type = "not_found_error"


class ThreadNotFoundError(NotFoundError):
    """No stored thread for a `continue`'s `previous_message_id` (never kept, or evicted)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"error_code": "thread_not_found"})


class RequestTooLargeError(ProxyError):
    status = 413
    error_type = "request_too_large"


class RateLimitError(ProxyError):
    status = 429
    error_type = "rate_limit_error"


class ApiError(ProxyError):
    status = 500
    error_type = "api_error"


class IncompleteAnswerError(ApiError):
    """The upstream's answer is not a whole answer: a 200 without a message, or a stream that
    ended without the upstream saying why it stopped. Passing it on as `end_turn` would make a
    cut-off answer look complete."""

    status = 502


class UpstreamTimeoutError(ProxyError):
    status = 504
    error_type = "timeout_error"


class OverloadedError(ProxyError):
    status = 529
    error_type = "overloaded_error"


class CommandError(Error):
    """A `claude-proxy` command cannot go on; the CLI prints the message, the hint and exits."""

    def __init__(self, message: str, hint: str, *, exit_code: int = 1) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


# The class each status stands for, read off the classes, plus the statuses that share one.
_BY_STATUS: dict[int, type[ProxyError]] = {
    cls.status: cls
    for cls in (
        InvalidRequestError,
        AuthenticationError,
        BillingError,
        PermissionDeniedError,
        NotFoundError,
        RequestTooLargeError,
        RateLimitError,
        ApiError,
        UpstreamTimeoutError,
        OverloadedError,
    )
}
_ALSO: dict[int, type[ProxyError]] = {
    408: UpstreamTimeoutError,
    422: InvalidRequestError,
    502: ApiError,
    503: OverloadedError,
}


def for_status(status: int, *, clients_fault: bool = False) -> type[ProxyError]:
    """The error class an HTTP status maps to: 429 -> RateLimitError; ApiError for a status
    the tree has no class of, or InvalidRequestError for a 4xx when the client caused it
    (aiohttp's own refusals), so that clients do not retry their own mistake."""
    known = _BY_STATUS.get(status) or _ALSO.get(status)
    if known is not None:
        return known
    return InvalidRequestError if clients_fault and 400 <= status < 500 else ApiError
