"""An OpenAI-compatible upstream's refusals as the proxy's errors, the way the LiteLLM path
maps them: the same status classes, the same messages (the upstream's `error.message`),
retry-after passed on, context overflow in the words Claude Code compacts on.

Pure: the caller reads the status, headers and a capped body; nothing here does I/O.
Reading the error text is `error_text.py`'s, shared with the LiteLLM path; the status classes
are the error tree's (`errors.for_status`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from claude_proxy import errors
from claude_proxy.upstream.error_text import (
    clean_message,
    looks_like_context_overflow,
    output_limit_error,
    parse_context_numbers,
    retry_after_of,
)

Redact = Callable[[str], str]


def error_for_status(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    redact: Redact,
    *,
    max_input_tokens: int | None = None,
) -> errors.ProxyError:
    """The error for an HTTP error answer; `body` may be cut (it is read with a cap)."""
    message = redact(clean_message(body.decode("utf-8", "replace")))
    retry = retry_after_of(headers, body[:8192].decode("utf-8", "replace"))
    if status == 400 and (limit := output_limit_error(message)) is not None:
        return limit
    if looks_like_context_overflow(message):
        return context_error(message, max_input_tokens)
    if status in (408, 504):
        return errors.UpstreamTimeoutError(f"upstream timed out: {message}", headers=retry)
    error_class = errors.for_status(status)
    if status >= 500 and error_class is errors.ApiError:
        return errors.ApiError(f"upstream error {status}: {message}", headers=retry)
    return error_class(message, headers=retry)


def error_in_body(payload: dict[str, Any], redact: Redact, *, streamed: bool) -> errors.ProxyError:
    """An `{"error": ...}` behind a 200 (vLLM, SGLang and proxies report failures so): its
    `code` is the status when it is one; else, as on the LiteLLM path, a stream's is a 500 and
    a whole answer's a 400."""
    error = payload.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and 400 <= code < 600 else (500 if streamed else 400)
    return error_for_status(status, json.dumps(payload).encode(), {}, redact)


def unprocessable_params(body: bytes) -> list[str]:
    """The parameters a 422 names (FastAPI's `detail[].loc` = ["body", name], as vLLM answers)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str):
        return []
    try:
        detail = json.loads(message).get("detail")
    except (ValueError, AttributeError):
        return []
    if not isinstance(detail, list):
        return []
    return [
        item["loc"][1]
        for item in detail
        if isinstance(item, dict) and isinstance(item.get("loc"), list) and len(item["loc"]) == 2
    ]


def context_error(message: str, max_input_tokens: int | None) -> errors.ProxyError:
    numbers = parse_context_numbers(message)
    if numbers is not None:
        return errors.ContextWindowExceededError(*numbers)
    if max_input_tokens is not None:
        # The LiteLLM path counts the prompt here; without a tokenizer the window plus one is
        # still the shape Claude Code compacts on, and it errs towards compacting.
        return errors.ContextWindowExceededError(max_input_tokens + 1, max_input_tokens)
    return errors.InvalidRequestError(f"prompt is too long: {message}")
