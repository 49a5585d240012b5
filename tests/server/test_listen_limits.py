"""`listen_limits`, through a real AppRunner and `ProxySite` on 127.0.0.1, driven with raw
sockets: slow clients are cut off, oversized and malformed requests get Anthropic error JSON
without a traceback, and connections beyond the cap are answered 529 and closed.

Timeouts are set short through the settings; the tests only ever check that the server acted
before a generous deadline, never how fast."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from claude_proxy.server.listen_limits import (
    FD_RESERVE,
    ProxySite,
    connection_cap,
    declared_refusal,
    expect_handler,
    honour_connection_close,
    open_file_limit,
    quiet_accept_errors,
    raise_open_file_limit,
    request_limits,
    runner_kwargs,
)
from claude_proxy.server.middleware import error_middleware
from claude_proxy.settings import load_settings
from tests.helpers.raw_http import (
    DEADLINE,
    RawResponse,
    closed_by_server,
    read_response,
    request_bytes,
)

REPO = Path(__file__).resolve().parents[2]


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"n": len(await request.read())})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def slow_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for index in range(3):
        await response.write(f"event: ping\ndata: {index}\n\n".encode())
        await asyncio.sleep(0.4)
    return response


def build_app(overrides: dict[str, Any]) -> tuple[web.Application, dict[str, Any], int]:
    """The app with the limits wired as create_app and run_server are to wire them."""
    settings = load_settings(overrides, env_file=None)
    app = web.Application(
        middlewares=[error_middleware, request_limits(settings)],
        client_max_size=settings.max_request_bytes,
    )
    app.on_response_prepare.append(honour_connection_close)
    app.router.add_post("/v1/messages", echo, expect_handler=expect_handler(settings))
    app.router.add_get("/health", health)
    app.router.add_get("/v1/stream", slow_stream)
    cap = connection_cap(settings.max_connections, open_file_limit())
    return app, runner_kwargs(settings), cap


Serve = Callable[..., Awaitable[ProxySite]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start(**overrides: Any) -> ProxySite:
        app, kwargs, cap = build_app(overrides)
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0, **kwargs
        )
        await runner.setup()
        runners.append(runner)
        site = ProxySite(runner, "127.0.0.1", 0, max_connections=cap)
        await site.start()
        return site

    yield start
    for runner in runners:
        await runner.cleanup()


async def connect(site: ProxySite) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", site.port)


async def drip(writer: asyncio.StreamWriter, data: bytes, pause: float = 0.05) -> int:
    """Send `data` a byte at a time until it is all sent or the server has closed; bytes sent."""
    for sent in range(len(data)):
        if writer.is_closing():
            return sent
        writer.write(data[sent : sent + 1])
        try:
            await writer.drain()
        except ConnectionError:
            return sent
        await asyncio.sleep(pause)
    return len(data)


def error_of(response: RawResponse, status: int, error_type: str) -> str:
    assert response.status == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type
    message: str = body["error"]["message"]
    return message


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]


def head_declaring(length: int, extra: dict[str, str] | None = None) -> bytes:
    return (
        "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in (extra or {}).items())
        + f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def test_slow_headers_are_cut_off(serve: Serve) -> None:
    site = await serve(client_header_timeout=0.5)
    reader, writer = await connect(site)
    endless = b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
    dripping = asyncio.create_task(drip(writer, endless))
    assert await closed_by_server(reader) == b""  # closed without an answer
    assert await dripping < len(endless)
    writer.close()


async def test_an_idle_connection_is_closed(serve: Serve) -> None:
    site = await serve(client_header_timeout=0.5)
    reader, writer = await connect(site)
    assert await closed_by_server(reader) == b""
    writer.close()


async def test_a_slow_body_gets_a_timeout_answer_and_the_connection_closes(serve: Serve) -> None:
    site = await serve(client_body_timeout=0.5)
    reader, writer = await connect(site)
    writer.write(head_declaring(5000))
    dripping = asyncio.create_task(drip(writer, b"x" * 5000))
    response = await read_response(reader)
    assert "CLIENT_BODY_TIMEOUT" in error_of(response, 504, "timeout_error")
    assert response.headers["Connection"] == "close"
    await closed_by_server(reader)
    assert await dripping < 5000
    writer.close()


async def test_a_long_stream_is_not_cut_by_the_client_timeouts(serve: Serve) -> None:
    site = await serve(client_header_timeout=0.2, client_body_timeout=0.2)
    reader, writer = await connect(site)
    writer.write(request_bytes("GET", "/v1/stream"))
    response = await read_response(reader)
    assert response.status == 200
    assert response.body.count(b"event: ping") == 3
    writer.close()


async def test_a_keep_alive_connection_serves_request_after_request(serve: Serve) -> None:
    site = await serve()
    reader, writer = await connect(site)
    for size in (0, 10, 100_000):
        writer.write(request_bytes("POST", "/v1/messages", {}, b"x" * size, close=False))
        response = await read_response(reader)
        assert (response.status, response.json()) == (200, {"n": size})
        assert response.headers.get("Connection") != "close"
    writer.close()


async def test_no_100_continue_for_a_body_over_the_limit(serve: Serve) -> None:
    site = await serve(max_request_bytes=1000, client_body_timeout=1.0)  # bounds the lingering
    reader, writer = await connect(site)
    writer.write(head_declaring(10**9, {"Expect": "100-continue"}))
    response = await read_response(reader)  # the first answer is the refusal, not a 100
    message = error_of(response, 413, "request_too_large")
    assert "1000000000 bytes" in message and "MAX_REQUEST_BYTES" in message
    assert "request-id" in response.headers  # rendered by the error middleware
    await closed_by_server(reader)
    writer.close()


async def test_100_continue_for_a_body_that_fits(serve: Serve) -> None:
    site = await serve(max_request_bytes=1000)
    reader, writer = await connect(site)
    writer.write(head_declaring(1000, {"Expect": "100-continue"}))
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"y" * 1000)
    response = await read_response(reader)
    assert (response.status, response.json()) == (200, {"n": 1000})
    writer.close()


async def test_a_declared_size_over_the_limit_is_refused_before_the_body(serve: Serve) -> None:
    site = await serve(max_request_bytes=1000, client_body_timeout=1.0)
    reader, writer = await connect(site)
    writer.write(head_declaring(1001))
    error_of(await read_response(reader), 413, "request_too_large")
    await closed_by_server(reader)
    writer.close()


async def test_a_chunked_body_over_the_limit_is_refused(serve: Serve) -> None:
    site = await serve(max_request_bytes=1000)
    reader, writer = await connect(site)
    chunk = b"z" * 600
    writer.write(
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"258\r\n" + chunk + b"\r\n") * 2
        + b"0\r\n\r\n"
    )
    error_of(await read_response(reader), 413, "request_too_large")
    writer.close()


async def test_an_unknown_expectation_is_refused(serve: Serve) -> None:
    site = await serve()
    reader, writer = await connect(site)
    writer.write(head_declaring(3, {"Expect": "teapot"}) + b"abc")
    assert "only 100-continue" in error_of(
        await read_response(reader), 400, "invalid_request_error"
    )
    writer.close()


TLS_HELLO = bytes.fromhex("16030100f4010000f00303") + bytes(range(32)) + b"\x00" * 200
FRAMING_ERRORS = [
    ("garbage request line", b"HELLO\r\n\r\n"),
    ("TLS to the HTTP port", TLS_HELLO),
    ("request line too long", b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("header too long", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n"),
    ("too many headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: a\r\n" * 200 + b"\r\n"),
    ("bad Content-Length", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
    (
        "two Content-Lengths",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ),
    ("header without colon", b"GET / HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n"),
    ("NUL in a header", b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n"),
    (
        "bad chunk size",
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    ),
    (
        "body that is not gzip",
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
    ),
]


@pytest.mark.parametrize("raw", [f[1] for f in FRAMING_ERRORS], ids=[f[0] for f in FRAMING_ERRORS])
async def test_malformed_http_gets_error_json_and_no_traceback(
    serve: Serve, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    site = await serve()
    reader, writer = await connect(site)
    writer.write(raw)
    response = await read_response(reader)
    message = error_of(response, 400, "invalid_request_error")
    assert message.startswith(("malformed HTTP request: ", "malformed request body: "))
    assert len(message) < 300 and "\n" not in message
    await closed_by_server(reader)
    writer.close()
    await asyncio.sleep(0.1)  # let aiohttp finish with the connection, and log if it would
    no_tracebacks(caplog)
    assert any(r.levelno == logging.WARNING for r in caplog.records)


async def test_connections_beyond_the_cap_get_529_and_are_closed(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    site = await serve(max_connections=3)
    held = []
    for _ in range(3):
        reader, writer = await connect(site)
        writer.write(request_bytes("GET", "/health", close=False))
        assert (await read_response(reader)).status == 200
        held.append((reader, writer))

    for _ in range(5):
        reader, writer = await connect(site)
        writer.write(request_bytes("GET", "/health"))
        response = await read_response(reader)
        assert "MAX_CONNECTIONS" in error_of(response, 529, "overloaded_error")
        assert response.headers["Retry-After"] == "1"
        await closed_by_server(reader)
        writer.close()
    assert site.limiter is not None and site.limiter.refused == 5
    refusals = [r for r in caplog.records if "refusing new connections" in r.getMessage()]
    assert len(refusals) == 1  # one line, not one per connection

    held.pop()[1].close()
    served = None
    for _ in range(100):  # bounded: the server notices the close within a loop iteration or two
        reader, writer = await connect(site)
        writer.write(request_bytes("GET", "/health"))
        response = await read_response(reader)
        writer.close()
        if response.status == 200:
            served = response
            break
        await asyncio.sleep(0.05)
    assert served is not None
    for _, writer in held:
        writer.close()
    no_tracebacks(caplog)


def test_runner_kwargs_come_from_the_settings() -> None:
    settings = load_settings(
        {"client_header_timeout": 7.0, "client_body_timeout": 2.0}, env_file=None
    )
    kwargs = runner_kwargs(settings)
    assert kwargs["keepalive_timeout"] == 7.0
    assert kwargs["lingering_time"] == 2.0
    assert {"max_line_size", "max_field_size", "max_headers"} <= set(kwargs)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, None),
        ({"Content-Length": "1000"}, None),
        ({"Content-Length": "1001"}, 413),
        ({"Content-Length": "99999999999999999999999"}, 413),
        ({"Expect": "100-continue"}, None),
        ({"Expect": "100-Continue "}, None),
        ({"Expect": "200-ok"}, 400),
    ],
)
def test_declared_refusal(headers: dict[str, str], status: int | None) -> None:
    refusal = declared_refusal(headers, 1000)
    assert (refusal.status if refusal else None) == status
    if refusal is not None:
        assert refusal.headers == {"connection": "close"}


@pytest.mark.parametrize(
    ("wanted", "limit", "cap"),
    [(1000, None, 1000), (1000, 1024, 480), (1000, 1_048_576, 1000), (10, 1024, 10), (1000, 60, 1)],
)
def test_connection_cap_fits_the_open_file_limit(wanted: int, limit: int | None, cap: int) -> None:
    assert connection_cap(wanted, limit) == cap


def test_raising_the_open_file_limit_never_lowers_it() -> None:
    before = open_file_limit()
    assert raise_open_file_limit(1) == before
    assert open_file_limit() == before


def test_quiet_accept_errors_logs_one_line_and_passes_the_rest_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(lambda loop, context: seen.append(context))
        handler = quiet_accept_errors(loop)
        emfile = {
            "message": "socket.accept() out of system resource",
            "exception": OSError(24, "Too many open files"),
        }
        for _ in range(50):
            handler(loop, emfile)
        handler(loop, {"message": "something else"})
    finally:
        loop.close()
    lines = [r for r in caplog.records if "cannot accept connections" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "Too many open files" in lines[0].getMessage()
    assert seen == [{"message": "something else"}]


SERVER_SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, resource, sys
    from aiohttp import web
    from claude_proxy.server.listen_limits import (
        ProxySite, connection_cap, open_file_limit, quiet_accept_errors, runner_kwargs,
    )
    from claude_proxy.settings import load_settings

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    soft, hard = int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    async def health(request):
        return web.json_response({"status": "ok"})

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(quiet_accept_errors(loop))
        app = web.Application()
        app.router.add_get("/health", health)
        settings = load_settings({"client_header_timeout": 30}, env_file=None)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1, **runner_kwargs(settings))
        await runner.setup()
        cap = connection_cap(1000, open_file_limit()) if sys.argv[2] == "auto" else int(sys.argv[2])
        site = ProxySite(runner, "127.0.0.1", 0, max_connections=cap)
        await site.start()
        print(site.port, cap, flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())
    """
)


@contextlib.asynccontextmanager
async def server_process(file_limit: int, cap: str) -> AsyncIterator[tuple[int, int, list[str]]]:
    """The server in its own process with a low open-file limit; yields port, cap and, after
    the block, its stderr lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVER_SCRIPT,
        str(file_limit),
        cap,
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    stderr: list[str] = []
    try:
        line = await asyncio.wait_for(process.stdout.readline(), DEADLINE)
        port, actual_cap = (int(part) for part in line.split())
        yield port, actual_cap, stderr
    finally:
        process.stdin.close()
        try:
            _, err = await asyncio.wait_for(process.communicate(), DEADLINE)
        except TimeoutError:
            process.kill()
            _, err = await process.communicate()
        stderr.extend(err.decode(errors="replace").splitlines())


async def ask_health(port: int, timeout: float) -> tuple[int | None, asyncio.StreamWriter | None]:
    """GET /health on a new kept-alive connection: the status (None: no answer in time)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None, None
    writer.write(request_bytes("GET", "/health", close=False))
    try:
        response = await asyncio.wait_for(read_response(reader), timeout)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        return None, writer
    return response.status, writer


@pytest.mark.skipif(sys.platform == "win32", reason="open-file limits are POSIX")
async def test_the_cap_keeps_the_server_within_a_low_open_file_limit() -> None:
    async with server_process(160, "auto") as (port, cap, stderr):
        assert cap == (160 - FD_RESERVE) // 2
        answers = [await ask_health(port, DEADLINE) for _ in range(cap + 30)]
        statuses = [status for status, _ in answers]
        assert statuses[:cap] == [200] * cap
        assert set(statuses[cap:]) == {529}
        for _, writer in answers:
            if writer is not None:
                writer.close()
    assert not any("Traceback" in line or "Too many open files" in line for line in stderr), stderr
    assert sum("refusing new connections" in line for line in stderr) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="open-file limits are POSIX")
async def test_running_out_of_files_logs_a_line_not_tracebacks() -> None:
    """A cap set beyond the open-file limit: accept() fails, and says so quietly."""
    async with server_process(64, "1000") as (port, _, stderr):
        answers = await asyncio.gather(*(ask_health(port, 1.5) for _ in range(120)))
        served = sum(status == 200 for status, _ in answers)
        assert 0 < served < 120
        for _, writer in answers:
            if writer is not None:
                writer.close()
        recovered = None
        for _ in range(40):  # asyncio retries accept() a second after running out
            recovered, writer = await ask_health(port, 3.0)
            if writer is not None:
                writer.close()
            if recovered == 200:
                break
            await asyncio.sleep(0.25)
        assert recovered == 200
    assert any("cannot accept connections" in line for line in stderr), stderr
    assert not any("Traceback" in line for line in stderr), stderr


def test_framing_errors_json_is_valid_for_every_status() -> None:
    from claude_proxy.server.listen_limits import _error_for_status

    for status in (400, 413, 500, 504):
        error = _error_for_status(status, "x")
        assert error.status == status
        json.dumps(error.to_body())
