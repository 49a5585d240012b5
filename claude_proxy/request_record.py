"""What one finished API request did, gathered from the request's typed keys.

The server attaches a `RequestRecord` to its per-request log line (`extra={"request_record":
...}`); `serve --debug-rich` renders it as a rich line with tokens and cost, the plain log
shows the line's text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web

from claude_proxy import errors
from claude_proxy.state import MESSAGE_COUNT, REQUEST_ID, ROUTE, STREAMED, TOOL_COUNT, USAGE


@dataclass(frozen=True)
class RequestRecord:
    finished: float
    """Unix time the answer was complete."""
    method: str
    path: str
    request_id: str
    requested_model: str | None
    upstream_model: str | None
    streamed: bool
    messages: int | None
    tools: int | None
    status: int
    seconds: float
    usage: dict[str, int] | None
    """Anthropic usage: input_tokens, output_tokens, cache_read_input_tokens, ..."""
    error_type: str | None = None
    error_message: str | None = None


def request_record(
    request: web.Request,
    response: web.StreamResponse,
    seconds: float,
    error: errors.ProxyError | None,
) -> RequestRecord:
    requested, _, upstream = (request.get(ROUTE) or "").partition(" -> ")
    return RequestRecord(
        finished=time.time(),
        method=request.method,
        path=request.path,
        request_id=request[REQUEST_ID],
        requested_model=requested or None,
        upstream_model=upstream or None,
        streamed=bool(request.get(STREAMED)),
        messages=request.get(MESSAGE_COUNT),
        tools=request.get(TOOL_COUNT),
        status=response.status,
        seconds=seconds,
        usage=request.get(USAGE),
        error_type=error.error_type if error is not None else None,
        error_message=error.message if error is not None else None,
    )
