"""Limits on the listening side: how long a client may take, how much it may send, how many
connections it may hold, and what a client gets when it breaks HTTP itself.

What aiohttp 3.14 offers, read from `web_protocol.py`, `web_runner.py` and `web_app.py`:

- `keepalive_timeout` (a RequestHandler argument, passed through AppRunner): one timer, armed
  when a connection opens and again after each answer, closes the connection if no complete
  request head has arrived by then. Bytes arriving do not re-arm it, so it is the header timeout
  and the idle timeout at once: CLIENT_HEADER_TIMEOUT.
- `max_line_size`, `max_field_size`, `max_headers`: oversized heads are framing errors.
- `lingering_time`: after an answer given before the body was read, how long the rest of the
  body is read and dropped before the connection is closed.
- `client_max_size` (Application) is enforced only while a handler reads the body.

What it does not offer, and this module adds:

- a body timeout: nothing bounds a body arriving a byte a second. `request_limits` reads the
  body under CLIENT_BODY_TIMEOUT before any handler runs.
- `100 Continue` by size: the default expect handler always says Continue. `expect_handler`
  says it only for a body that fits MAX_REQUEST_BYTES; `request_limits` refuses the others
  (413) before reading a byte of them. The expect handler runs before the middlewares, so it
  only decides; the refusal goes through the error middleware like every other error.
- framing errors as Anthropic JSON: `RequestHandler.handle_error` writes text/plain and logs
  an ERROR traceback. `ProxyRequestHandler` overrides it (one WARNING line, no traceback).
- a connection cap: `ProxySite` answers connections beyond it with 529 overloaded_error and
  closes them; `connection_cap` keeps the cap within the open-file limit, and
  `quiet_accept_errors` turns asyncio's traceback for each failed accept() into one line.
- closing after `Connection: close`: aiohttp keeps a connection alive by its own reckoning,
  whatever the answer's header says; `honour_connection_close` makes the header true.

aiohttp's Server builds its `RequestHandler` by name, with no hook for a subclass, so
`ProxySite` passes its own protocol factory to `loop.create_server`, with the very arguments the
Server would have used (its `_kwargs`: the AppRunner's keyword arguments and the app's
`handler_args`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import HttpVersion11, web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from claude_proxy import errors
from claude_proxy.settings import Settings

logger = logging.getLogger(__name__)

ExpectHandler = Callable[[web.Request], Awaitable[None]]
ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]

LINGERING_SECONDS = 5.0
FD_RESERVE = 64
"""Open files kept back from the connection cap: log files, the upstream pools' DNS, LiteLLM."""
REFUSALS_LINGERING = 32
REFUSAL_LINGER_SECONDS = 2.0
LOG_EVERY_SECONDS = 10.0
"""At most one line per this many seconds about refused connections or failed accepts."""
CLOSE = {"connection": "close"}


def runner_kwargs(settings: Settings) -> dict[str, Any]:
    """The RequestHandler arguments for `web.AppRunner(app, **runner_kwargs(settings), ...)`."""
    return {
        "keepalive_timeout": settings.client_header_timeout,
        # Reading a body nobody will use is still reading a body: no longer than its timeout.
        "lingering_time": min(LINGERING_SECONDS, settings.client_body_timeout),
        "max_line_size": 8190,
        "max_field_size": 8190,
        "max_headers": 128,
    }


def declared_refusal(headers: Mapping[str, str], max_bytes: int) -> errors.ProxyError | None:
    """Why a request is refused on its head alone (declared size, unknown Expect), or None."""
    length = headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        return errors.RequestTooLargeError(
            f"request body of {length} bytes is over the limit of {max_bytes} bytes "
            "(MAX_REQUEST_BYTES)",
            headers=CLOSE,
        )
    expect = headers.get("Expect")
    if expect is not None and expect.strip().lower() != "100-continue":
        return errors.InvalidRequestError(
            f"Expect: {expect.strip()[:40]!r} is not supported; only 100-continue is",
            headers=CLOSE,
        )
    return None


def expect_handler(settings: Settings) -> ExpectHandler:
    """For `add_post(..., expect_handler=...)`: `100 Continue` only for a body that fits."""

    async def handler(request: web.Request) -> None:
        if declared_refusal(request.headers, settings.max_request_bytes) is not None:
            return  # `request_limits` refuses it, through the error middleware
        if request.version >= HttpVersion11:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0  # as aiohttp's own: the answer has not started

    return handler


def request_limits(settings: Settings) -> Middleware:
    """Refuse what the head declares too large; read the body within CLIENT_BODY_TIMEOUT.

    It must run inside the error middleware, and after the access checks, so that the body of
    a request that will be refused anyway is never waited for.
    """
    max_bytes = settings.max_request_bytes
    timeout = settings.client_body_timeout

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = declared_refusal(request.headers, max_bytes)
        if refusal is not None:
            raise refusal
        if request.body_exists:
            try:
                async with asyncio.timeout(timeout):
                    await request.read()  # kept by aiohttp: the handler's read() returns it
            except TimeoutError:
                raise errors.UpstreamTimeoutError(
                    f"the request body did not arrive within {timeout:g} s (CLIENT_BODY_TIMEOUT)",
                    headers=CLOSE,
                ) from None
            except web.RequestPayloadError as exc:  # bad chunks, bad gzip: the client's fault
                raise errors.InvalidRequestError(
                    f"malformed request body: {_one_line(str(exc.__cause__ or exc))}",
                    headers=CLOSE,
                ) from None
        return await handler(request)

    return middleware


async def honour_connection_close(request: web.Request, response: web.StreamResponse) -> None:
    """An `on_response_prepare` hook: an answer saying `Connection: close` does close it.

    aiohttp keeps the connection by its own reckoning whatever the header says; after a refused
    or unreadable body, the rest of the stream cannot be trusted to frame another request.
    """
    if response.headers.get("Connection", "").lower() == "close":
        response.force_close()


class ProxyRequestHandler(RequestHandler):
    """aiohttp's protocol, with Anthropic error JSON for the errors it answers itself."""

    __slots__ = ("_on_lost",)

    def __init__(self, manager: Server, *, on_lost: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._on_lost: Callable[[], None] | None = on_lost

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if self._on_lost is not None:
            self._on_lost()
            self._on_lost = None

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        # After answering a body that broke off (bad chunks, bad gzip), aiohttp reads on, meets
        # the same error again and would log it as an unhandled traceback; the client has had
        # its 400 already.
        if isinstance(kwargs.get("exc_info"), web.RequestPayloadError):
            logger.debug("dropped the rest of a malformed body from %s", self.peername)
            return
        super().log_exception(*args, **kwargs)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Framing errors (bad request line, oversized head) and failures outside the error
        middleware, as Anthropic error JSON. The connection is closed after it."""
        if request.writer.output_size > 0:  # as aiohttp's own: too late for another answer
            raise ConnectionError("the answer has started; cannot send an error answer")
        if status < 500:
            detail = _one_line(message or (str(exc) if exc else "") or "unreadable request")
            logger.warning("refused a malformed request from %s: %s", request.remote, detail)
            error: errors.ProxyError = _error_for_status(
                status, f"malformed HTTP request: {detail}"
            )
        else:
            logger.error("error outside the handlers for %s", request.remote, exc_info=exc)
            error = _error_for_status(status, "internal error in claude-proxy; see its log")
        response = web.Response(
            status=error.status,
            text=json.dumps(error.to_body()),
            content_type="application/json",
        )
        response.force_close()
        return response


class ConnectionLimiter:
    """The protocol factory of `ProxySite`: aiohttp's protocol while fewer than `cap`
    connections are open, otherwise a 529 answer and a close."""

    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop, cap: int) -> None:
        self.server = server
        self.loop = loop
        self.cap = cap
        self.open = 0
        self.refusing = 0
        """Refused connections still waiting for their client to read the answer and close."""
        self.refused = 0
        self._logged_at = -LOG_EVERY_SECONDS

    def __call__(self) -> asyncio.BaseProtocol:
        if self.open >= self.cap:
            self.refused += 1
            self._log_refusal()
            # A flood of refusals must not hold file descriptors of its own: past a few, the
            # answer is written and the socket closed at once (the client may see a reset).
            lingering = self.refusing < REFUSALS_LINGERING
            self.refusing += lingering
            return RefusedConnection(self.loop, self._refusal_done if lingering else None)
        self.open += 1
        # `_kwargs` are what Server.__call__ builds its RequestHandler with.
        return ProxyRequestHandler(
            self.server, loop=self.loop, on_lost=self._released, **self.server._kwargs
        )

    def _released(self) -> None:
        self.open -= 1

    def _refusal_done(self) -> None:
        self.refusing -= 1

    def _log_refusal(self) -> None:
        now = self.loop.time()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            self._logged_at = now
            logger.warning(
                "refusing new connections: %d are open, the cap is %d (MAX_CONNECTIONS, "
                "bounded by the open-file limit); %d refused so far",
                self.open,
                self.cap,
                self.refused,
            )


def overloaded_answer() -> bytes:
    error = errors.OverloadedError(
        "claude-proxy holds as many connections as it may (MAX_CONNECTIONS); retry shortly"
    )
    body = json.dumps(error.to_body()).encode()
    head = (
        f"HTTP/1.1 {error.status} Overloaded\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Retry-After: 1\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class RefusedConnection(asyncio.Protocol):
    """Over the cap: answer before reading anything, then close; no handler, no task.

    Closing a socket with the client's request unread sends a reset, which may destroy the
    answer before the client reads it. So, when `on_done` is given, the answer is followed by a
    half-close and the request is read and dropped until the client closes, for at most
    REFUSAL_LINGER_SECONDS.
    """

    ANSWER = overloaded_answer()

    def __init__(self, loop: asyncio.AbstractEventLoop, on_done: Callable[[], None] | None) -> None:
        self.loop = loop
        self.on_done = on_done
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.ANSWER)
        if self.on_done is None or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.deadline = self.loop.call_later(REFUSAL_LINGER_SECONDS, transport.abort)

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        if self.on_done is not None:
            self.on_done()
            self.on_done = None


class ProxySite(web.BaseSite):
    """A TCP site whose connections are `ProxyRequestHandler`s, at most `max_connections`;
    bound to host and port, or serving listening sockets it is given (a restart in place
    hands them over, `server/restart.py`)."""

    __slots__ = (
        "_bound_port",
        "_host",
        "_max_connections",
        "_port",
        "_servers",
        "_sockets",
        "limiter",
    )

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        max_connections: int,
        backlog: int = 128,
        sockets: list[socket.socket] | None = None,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._host = host
        self._port = port
        self._max_connections = max_connections
        self._sockets = sockets or []
        self._servers: list[asyncio.Server] = []
        self._bound_port: int | None = None
        self.limiter: ConnectionLimiter | None = None

    @property
    def name(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def port(self) -> int:
        return self._bound_port if self._bound_port is not None else self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self.limiter = ConnectionLimiter(server, loop, self._max_connections)
        if self._sockets:
            self._servers = [
                await loop.create_server(self.limiter, sock=sock, backlog=self._backlog)
                for sock in self._sockets
            ]
        else:
            self._servers = [
                await loop.create_server(
                    self.limiter, self._host, self._port, backlog=self._backlog
                )
            ]
        self._server = self._servers[0]
        sockets = self.listening()
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    def listening(self) -> list[socket.socket]:
        """The listening sockets (more than one when the host names several addresses)."""
        return [sock for server in self._servers for sock in server.sockets]

    def connections(self) -> int:
        """Client connections open now, refused ones included."""
        return self.limiter.open + self.limiter.refusing if self.limiter is not None else 0

    def stop_accepting(self) -> None:
        """Close this site's listening sockets now (`stop` does too, later): new connections
        wait in the backlog of a duplicate, if one is kept, or are refused."""
        for server in self._servers:
            server.close()

    async def stop(self) -> None:
        self.stop_accepting()
        await super().stop()


def open_file_limit() -> int | None:
    """The soft limit on open files, or None where there is none to read (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_open_file_limit(wanted: int) -> int | None:
    """Raise the soft open-file limit toward `wanted` (never past the hard limit, never
    lower); the limit now in force. Python, unlike Go, does not do this by itself."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # macOS refuses some values below the hard limit
            return soft
        return target
    return None if soft == resource.RLIM_INFINITY else soft


def connection_cap(max_connections: int, file_limit: int | None) -> int:
    """MAX_CONNECTIONS, lowered so that each connection can also hold an upstream one."""
    if file_limit is None:
        return max_connections
    return max(1, min(max_connections, (file_limit - FD_RESERVE) // 2))


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> ExceptionHandler:
    """An event-loop exception handler: a failed accept() (out of file descriptors) is one
    WARNING line every LOG_EVERY_SECONDS, not a traceback a second; anything else goes to the
    handler that was there before (or asyncio's default)."""
    previous = loop.get_exception_handler()
    logged_at = -LOG_EVERY_SECONDS

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal logged_at
        if context.get("message") != "socket.accept() out of system resource":
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = loop.time()
        if now - logged_at >= LOG_EVERY_SECONDS:
            logged_at = now
            logger.warning(
                "cannot accept connections: %s; raise the open-file limit (ulimit -n) or "
                "lower MAX_CONNECTIONS",
                context.get("exception") or "out of system resources",
            )

    return handler


def _error_for_status(status: int, message: str) -> errors.ProxyError:
    """aiohttp's own refusals are the client's doing: a 4xx stays a 4xx."""
    return errors.for_status(status, clients_fault=True)(message)


def _one_line(text: str) -> str:
    """Client bytes quoted in a message: one line, printable, short (it is logged too)."""
    flat = " ".join(text.split()).encode("ascii", "backslashreplace").decode("ascii")
    return flat if len(flat) <= 200 else flat[:200] + "..."
