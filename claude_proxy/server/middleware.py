"""The error middleware: every request gets a request id and a `RequestLog`, every failure
before the first byte becomes Anthropic's error JSON, and every API request one log line and
one row of the usage ledger (queued: the ledger's writer does the writing, off this path).

Errors after a stream has started are written as SSE `error` events by the stream writer;
this middleware only sees errors raised before the first byte.
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from claude_proxy import errors
from claude_proxy.server.keys import ACTIVITY, LEDGER, LOG
from claude_proxy.server.request_log import RequestLog
from claude_proxy.translate.session import SESSION_HEADER, session_id

logger = logging.getLogger(__name__)


QUIET_PATHS = ("/health", "/")
"""Probed by the launcher and health checks; not worth a log line each."""


def new_request_id() -> str:
    return "req_" + secrets.token_urlsafe(18)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    log = RequestLog(new_request_id(), request.method, request.path)
    log.session = session_id(request.headers.get(SESSION_HEADER))
    request[LOG] = log
    quiet = request.path in QUIET_PATHS or request.method == "HEAD"
    activity = None if quiet else request.app.get(ACTIVITY)
    if activity is not None:
        activity.begin()
    error: errors.ProxyError | None = None
    try:
        response = await handler(request)
    except Exception as exc:
        error = to_proxy_error(exc, request)
        response = error_response(error, log.request_id)
    finally:
        if activity is not None:
            activity.end()
    if not response.prepared:
        response.headers["request-id"] = log.request_id
    log.finish(response.status, error)
    if not quiet:
        level = logging.WARNING if error is not None else logging.INFO
        logger.log(level, log.line(), extra={"request_log": log})
        ledger = request.app.get(LEDGER)
        row = log.row() if ledger is not None else None
        if row is not None and ledger is not None:
            ledger.add(row)
    return response


def to_proxy_error(exc: Exception, request: web.Request) -> errors.ProxyError:
    """aiohttp's own HTTP errors and unexpected failures, as members of the error tree."""
    if isinstance(exc, errors.ProxyError):
        return exc
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return errors.RequestTooLargeError(exc.text or "request body too large")
    if isinstance(exc, web.HTTPNotFound):
        return errors.NotFoundError(f"{request.method} {request.path} is not a route of this proxy")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return errors.InvalidRequestError(f"{request.method} is not allowed on {request.path}")
    if isinstance(exc, web.HTTPException):
        return errors.for_status(exc.status, clients_fault=True)(exc.text or exc.reason)
    if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
        # A body aiohttp cannot read (a bad Content-Encoding): the client's mistake.
        return errors.for_status(exc.code, clients_fault=True)(
            f"the request body cannot be read: {exc.message}"
        )
    request_id = request[LOG].request_id
    logger.exception("unexpected error in %s %s [%s]", request.method, request.path, request_id)
    return errors.ApiError(f"internal error in claude-proxy (request {request_id}); see its log")


FINAL_STATUSES = frozenset({400, 401, 403, 404, 413, 422})
"""Answers a retry cannot change; the SDKs retry some of them (Claude Code retried a rejected
key ten times over two minutes) unless told not to."""


def error_response(exc: errors.ProxyError, request_id: str) -> web.Response:
    response = web.json_response(exc.to_body(request_id), status=exc.status)
    response.headers.update(exc.headers)
    if exc.status in FINAL_STATUSES:
        response.headers.setdefault("x-should-retry", "false")
    return response
