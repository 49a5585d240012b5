"""LiteLLM's exceptions, mapped onto the proxy's error tree.

Pure: the exception classes the mapping tells apart arrive as an `ErrorClasses` table built by
`litellm_client.py` (the one module that imports litellm), so this module is tested with
stand-in classes and needs no litellm. The order of the rules matters and is the order below:
a too large max_tokens first (the server retries with the limit the message names), then a
context overflow (Claude Code compacts on it), then an unknown model, a timeout (which
LiteLLM may report as a 500 or a connection error), a connection failure, and last the
upstream's HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claude_proxy import errors
from claude_proxy.upstream.error_text import (
    clean_message,
    looks_like_context_overflow,
    output_limit_error,
    retry_after_of,
)

Classes = tuple[type[BaseException], ...]


@dataclass(frozen=True)
class ErrorClasses:
    """The third-party exception classes each rule recognises (subclasses included)."""

    context_window: Classes
    unknown_model: Classes
    timeout: Classes
    connection: Classes


def exception_chain(exc: BaseException, depth: int = 6) -> list[BaseException]:
    """`exc` and what it wraps: LiteLLM keeps the original in `original_exception` or the cause."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < depth:
        chain.append(seen)
        seen = getattr(seen, "original_exception", None) or seen.__cause__ or seen.__context__
    return chain


def status_of(chain: list[BaseException]) -> int | None:
    """The upstream's status. LiteLLM raises Gemini's 503 as a 500 while handling an exception
    that keeps the 503, so a 500 gives way to a more specific status further down the chain."""
    codes = (getattr(e, "status_code", None) for e in chain)
    statuses = [code for code in codes if isinstance(code, int)]
    return next((s for s in statuses if s != 500), statuses[0] if statuses else None)


def retry_headers_of(exc: BaseException) -> dict[str, str]:
    """The retry hints of the first header set LiteLLM kept, or Gemini's RetryInfo."""
    sources: list[Any] = [
        getattr(exc, "litellm_response_headers", None),
        getattr(exc, "headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ]
    found: dict[str, str] = {}
    for source in sources:
        if source:
            found = retry_after_of(source) | found
    return retry_after_of(None, str(exc)) | found


def is_timeout(chain: list[BaseException], classes: ErrorClasses, message: str) -> bool:
    """A timeout, however LiteLLM wrapped it: streams report read timeouts as status 500."""
    if any(isinstance(e, (TimeoutError, *classes.timeout)) for e in chain):
        return True
    lowered = message.lower()
    return "timed out" in lowered or "timeout on reading" in lowered


def map_error(
    exc: BaseException,
    classes: ErrorClasses,
    *,
    model: str,
    redact: Callable[[str], str],
    context_error: Callable[[str], errors.ProxyError],
) -> errors.ProxyError:
    """The error tree's member for a LiteLLM (or transport) exception.

    `context_error` builds the overflow answer from the cleaned message (counting the prompt
    needs LiteLLM, which this module does not touch).
    """
    if isinstance(exc, errors.ProxyError):
        return exc
    message = redact(clean_message(str(getattr(exc, "message", None) or exc)))
    chain = exception_chain(exc)
    status = status_of(chain)
    if status in (None, 400) and (limit := output_limit_error(message)) is not None:
        return limit
    if isinstance(exc, classes.context_window) or looks_like_context_overflow(message):
        return context_error(message)
    if isinstance(exc, classes.unknown_model) or "LLM Provider NOT provided" in message:
        return errors.NotFoundError(f"model {model!r} is not known to LiteLLM: {message}")
    if is_timeout(chain, classes, message):
        return errors.UpstreamTimeoutError(f"upstream timed out: {message}")
    if isinstance(exc, classes.connection) and status in (None, 500):
        return errors.ApiError(f"could not reach the upstream: {message}")
    headers = retry_headers_of(exc)
    error_class = errors.for_status(status or 500)
    if status is not None and status >= 500 and error_class is errors.ApiError:
        return errors.ApiError(f"upstream error {status}: {message}", headers=headers)
    return error_class(message, headers=headers)
