"""One error tree. Each error knows its Anthropic error type and HTTP status.

Third-party exceptions (LiteLLM's, aiohttp's) are translated into this tree at the boundary
where they occur (`upstream/litellm_client.py`, `server.py`); one middleware renders it as
Anthropic's error JSON, or as an SSE `error` event once a stream has started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ProxyError(Exception):
    """Base of every error this proxy answers with."""

    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})

    def to_body(self, request_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": self.error_type, "message": self.message},
        }
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


class AuthenticationError(ProxyError):
    status = 401
    error_type = "authentication_error"


class BillingError(ProxyError):
    status = 402
    error_type = "billing_error"


class PermissionDeniedError(ProxyError):
    status = 403
    error_type = "permission_error"


class NotFoundError(ProxyError):
    status = 404
    error_type = "not_found_error"


class RequestTooLargeError(ProxyError):
    status = 413
    error_type = "request_too_large"


class RateLimitError(ProxyError):
    status = 429
    error_type = "rate_limit_error"


class ApiError(ProxyError):
    status = 500
    error_type = "api_error"


class TimeoutError_(ProxyError):
    status = 504
    error_type = "timeout_error"


class OverloadedError(ProxyError):
    status = 529
    error_type = "overloaded_error"


class MissingKeyError(AuthenticationError):
    """The proxy has no key for the provider a request needs.

    Retrying cannot help, so the answer tells clients not to (`x-should-retry: false`).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"x-should-retry": "false"})


class CommandError(ProxyError):
    """A `claude-proxy` command cannot go on; the CLI prints the message and what to do next."""

    def __init__(self, message: str, hint: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.hint = hint
        self.exit_code = exit_code
