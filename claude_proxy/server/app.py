"""The aiohttp application: routes, start-up and shutdown.

`create_app(settings)` builds everything; nothing is read at import. The upstream defaults to
the engines (`upstream/engines.py`), started with the app; tests and the CLI may pass their own.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from claude_proxy import __version__
from claude_proxy.ledger.store import ledger_path
from claude_proxy.ledger.writer import LedgerWriter
from claude_proxy.model_map import ALIASES, map_model
from claude_proxy.server.access import access_middleware, cors_headers
from claude_proxy.server.fallbacks import Cooldowns
from claude_proxy.server.keys import (
    ACTIVITY,
    ANTHROPIC,
    COOLDOWNS,
    LEDGER,
    OUTPUT_LIMITS,
    SETTINGS,
    STREAMS,
    THREADS,
    UPSTREAM,
)
from claude_proxy.server.listen_limits import (
    FD_RESERVE,
    ProxySite,
    connection_cap,
    expect_handler,
    honour_connection_close,
    quiet_accept_errors,
    raise_open_file_limit,
    request_limits,
    runner_kwargs,
)
from claude_proxy.server.memory_watch import Activity, MemoryWatch
from claude_proxy.server.messages import handle_count_tokens, handle_messages
from claude_proxy.server.middleware import error_middleware
from claude_proxy.server.models import handle_model, handle_models
from claude_proxy.server.output_limits import OutputLimits
from claude_proxy.server.recorder import record_to
from claude_proxy.server.restart import MB, Handover, handover_of, keep_listening
from claude_proxy.server.running_streams import RunningStreams
from claude_proxy.server.thread_store import ThreadStore
from claude_proxy.settings import Settings
from claude_proxy.upstream.anthropic_passthrough import AnthropicPassthrough
from claude_proxy.upstream.base import Upstream
from claude_proxy.upstream.engines import Engines
from claude_proxy.upstream.recording import RecordingUpstream

logger = logging.getLogger(__name__)

SHUTDOWN_MARGIN = 5.0


async def handle_health(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    upstream = request.app[UPSTREAM]
    choices = {alias: map_model(alias, settings, upstream) for alias in ALIASES}
    targets = {alias: await upstream.target(c.model, c.provider) for alias, c in choices.items()}
    return web.json_response(
        {
            "status": "ok",
            "service": "claude-proxy",
            "version": __version__,
            "provider": settings.preferred_provider,
            "models": {alias: choice.model for alias, choice in choices.items()},
            "limits": {
                alias: {
                    "max_input_tokens": target.max_input_tokens,
                    "max_output_tokens": target.max_output_tokens,
                }
                for alias, target in targets.items()
            },
        }
    )


async def handle_root(request: web.Request) -> web.Response:
    return web.json_response({"service": "claude-proxy", "version": __version__})


def create_app(settings: Settings, *, upstream: Upstream | None = None) -> web.Application:
    """Build the proxy. Without `upstream`, `start_engines` makes one when the app starts."""
    # The error middleware renders what the others raise; access is checked before the body
    # is read, so a request that will be refused is never waited for.
    app = web.Application(
        middlewares=[error_middleware, access_middleware(settings), request_limits(settings)],
        client_max_size=settings.max_request_bytes,
    )
    app.on_response_prepare.append(cors_headers(settings))
    app.on_response_prepare.append(honour_connection_close)
    app[SETTINGS] = settings
    app[STREAMS] = RunningStreams()
    app[ACTIVITY] = Activity()
    app[COOLDOWNS] = Cooldowns()
    app[OUTPUT_LIMITS] = OutputLimits()
    app.cleanup_ctx.append(_upstream_context(upstream))
    app.cleanup_ctx.append(_thread_store_context)
    if settings.usage_ledger:
        app.cleanup_ctx.append(_ledger_context)
    app.on_shutdown.append(_drain_streams)
    app.router.add_get("/", handle_root)
    app.router.add_route("HEAD", "/api/hello", handle_root)
    app.router.add_get("/health", handle_health)
    expect = expect_handler(settings)
    app.router.add_post("/v1/messages", handle_messages, expect_handler=expect)
    app.router.add_post("/v1/messages/count_tokens", handle_count_tokens, expect_handler=expect)
    app.router.add_get("/v1/models", handle_models)
    app.router.add_get("/v1/models/{model_id}", handle_model)
    if settings.record_dir is not None:
        record_to(app, settings.record_dir)
    return app


def _upstream_context(
    upstream: Upstream | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        app[UPSTREAM] = upstream or await start_engines(app[SETTINGS])
        if app[SETTINGS].record_dir is not None:
            app[UPSTREAM] = RecordingUpstream(app[UPSTREAM])
        app[ANTHROPIC] = AnthropicPassthrough(app[SETTINGS])
        try:
            yield
        finally:
            await app[ANTHROPIC].close()
            await app[UPSTREAM].aclose()

    return context


async def _thread_store_context(app: web.Application) -> AsyncIterator[None]:
    app[THREADS] = ThreadStore.of(app[SETTINGS])
    try:
        yield
    finally:
        await app[THREADS].aclose()


async def _ledger_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    ledger = LedgerWriter(ledger_path(settings.data_path()), settings.usage_retention_days)
    await ledger.start()
    app[LEDGER] = ledger
    try:
        yield
    finally:
        await ledger.close()


async def start_engines(settings: Settings) -> Engines:
    """The engines, with LiteLLM loaded and warmed up now if an alias needs it, so that no
    request pays for its import; otherwise it stays out of the process until one does."""
    engines = Engines(settings)
    models = [map_model(alias, settings, engines).model for alias in ALIASES]
    if engines.needs_litellm(models):
        await engines.load_litellm()
    return engines


async def _drain_streams(app: web.Application) -> None:
    """On shutdown (the listening socket already closed): running streams get SHUTDOWN_GRACE
    seconds to finish, then end with an error the client retries, so none is cut silently."""
    streams = app[STREAMS]
    if streams:
        logger.info("waiting for %d running stream(s) to finish", len(streams))
    ended = await streams.drain(app[SETTINGS].shutdown_grace)
    if ended:
        logger.warning("ended %d stream(s) still running after SHUTDOWN_GRACE", ended)


def new_runner(app: web.Application) -> web.AppRunner:
    """A runner whose handlers are cancelled when their client goes away, with the listening
    side's limits (listen_limits.py)."""
    return web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        **runner_kwargs(app[SETTINGS]),
        # After the drain, handlers still running are cancelled this much later.
        shutdown_timeout=SHUTDOWN_MARGIN,
    )


async def open_site(runner: web.AppRunner, sockets: list[socket.socket] | None = None) -> ProxySite:
    """Set up `runner` and serve it on the settings' host and port, or on `sockets` (a
    handover's, gunicorn's), with what every serving process needs: the open-file limit
    raised for MAX_CONNECTIONS, the cap within it, accept() failures as one line each."""
    settings = runner.app[SETTINGS]
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_accept_errors(loop))
    file_limit = raise_open_file_limit(2 * settings.max_connections + FD_RESERVE)
    await runner.setup()
    cap = connection_cap(settings.max_connections, file_limit)
    site = ProxySite(runner, settings.host, settings.port, max_connections=cap, sockets=sockets)
    await site.start()
    return site


async def run_server(
    settings: Settings,
    app: web.Application | None = None,
    *,
    handover: Handover | None = None,
    unchanged: Callable[[], bool] | None = None,
) -> Handover | None:
    """Serve until SIGTERM or SIGINT (or cancelled); then stop gracefully: the port closes,
    running streams get SHUTDOWN_GRACE seconds (`_drain_streams`). Returns None; or, given
    `unchanged` (whether the configuration is still the one running), returns the handover
    once a restart in place is due (`memory_watch.py`, `restart.py`), the port kept open."""
    loop = asyncio.get_running_loop()
    app = app or create_app(settings)
    if handover is not None:
        handover.restore(app)
    runner = new_runner(app)
    site = await open_site(runner, handover.sockets() if handover is not None else None)
    watch = MemoryWatch(
        app[ACTIVITY],
        growth_percent=settings.memory_restart_growth if unchanged is not None else 0,
        idle_seconds=settings.memory_restart_idle,
        connections=site.connections,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    stopping = asyncio.ensure_future(stop.wait())
    due = asyncio.ensure_future(_restart_due(watch, unchanged or (lambda: False), site))
    restart: Handover | None = None
    try:
        await asyncio.wait({stopping, due}, return_when=asyncio.FIRST_COMPLETED)
        if due.done() and not stop.is_set() and watch.start is not None:  # a stop wins
            rss, listening = due.result()
            restart = handover_of(app, listening, rss, watch.start)
            logger.info(
                "restarting in place: %.0f MB resident, %.0f MB at start; the port stays open",
                restart.rss / MB,
                restart.start_rss / MB,
            )
        else:
            logger.info("stopping: the port is closed to new connections")
    finally:
        for task in (stopping, due):
            task.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
    return restart


async def _restart_due(
    watch: MemoryWatch, unchanged: Callable[[], bool], site: ProxySite
) -> tuple[int, list[int]]:
    """The RSS and the kept listening sockets once a restart in place is due. The site stops
    accepting in the same step as the last look, so no connection is accepted in between.
    Not while the configuration differs from the one running: the new image would read it,
    so the restart would change what the proxy does; the watch stops instead, with a warning."""
    while True:  # until due with the configuration unchanged: a watch turned off waits forever
        rss = await watch.wait()
        if unchanged():
            listening = keep_listening(site)
            site.stop_accepting()
            return rss, listening
        logger.warning(
            "not restarting in place to give back %.0f MB: the configuration changed since "
            "the start; restart claude-proxy to apply it",
            (rss - (watch.start or 0)) / MB,
        )
        watch.turn_off()


@asynccontextmanager
async def serving_on_loopback(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port for the block; yields its base URL."""
    runner = new_runner(app)
    await runner.setup()
    try:
        site = ProxySite(runner, "127.0.0.1", 0, max_connections=app[SETTINGS].max_connections)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
