"""`serve --workers N`: N processes answering on one port, with gunicorn as the process manager.

Gunicorn's arbiter binds the port once, forks the workers (aiohttp's `GunicornWebWorker`),
restarts one that dies, and on SIGTERM stops them gracefully; each worker runs the same app
as a single process does, built by `create_app` after the fork (so each has its own event
loop, upstream client and connection pool). The proxy keeps no state between requests, so
any worker can answer any request. A worker that idles with memory a burst left behind retires
and is replaced (`retire_when_due`), as a single process restarts in place.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from gunicorn.app.base import BaseApplication

from claude_proxy.server.app import SHUTDOWN_MARGIN, create_app, new_runner
from claude_proxy.server.keys import ACTIVITY, SETTINGS
from claude_proxy.server.memory_watch import MemoryWatch
from claude_proxy.server.restart import MB
from claude_proxy.settings import Settings

logger = logging.getLogger(__name__)


class ProxyWorkers(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        super().__init__()

    def load_config(self) -> None:
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        options: dict[str, Any] = {
            "bind": f"{host}:{self.settings.port}",
            "workers": self.workers,
            "worker_class": "aiohttp.GunicornWebWorker",
            # Gunicorn waits this long for a worker to stop after SIGTERM; the worker drains
            # its streams for SHUTDOWN_GRACE first.
            "graceful_timeout": math.ceil(self.settings.shutdown_grace + 2 * SHUTDOWN_MARGIN),
            "accesslog": None,
            "loglevel": self.settings.log_level,
            "proc_name": "claude-proxy",
            # gunicorn 25+ opens a control socket in ~/.gunicorn; nothing here uses it.
            "control_socket_disable": True,
        }
        for name, value in options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        settings = self.settings

        async def runner() -> web.AppRunner:
            app = create_app(settings)
            runner = new_runner(app)
            app.cleanup_ctx.append(retire_when_due(runner))
            return runner

        return runner


def retire_when_due(runner: web.AppRunner) -> Callable[[web.Application], AsyncIterator[None]]:
    """A worker's memory watch (`memory_watch.py`): once due, the worker stops as on SIGTERM
    and gunicorn's arbiter forks a fresh one, from the settings it started with. The port is
    the arbiter's, so it stays open, and the other workers serve meanwhile."""

    def connections() -> int:
        return len(runner.server.connections) if runner.server is not None else 0

    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        watch = MemoryWatch(
            app[ACTIVITY],
            growth_percent=settings.memory_restart_growth,
            idle_seconds=settings.memory_restart_idle,
            connections=connections,
        )

        async def retire() -> None:
            rss = await watch.wait()
            logger.info(
                "retiring this worker to give back memory: %.0f MB resident, %.0f MB at its "
                "start; gunicorn starts a fresh one",
                rss / MB,
                (watch.start or 0) / MB,
            )
            os.kill(os.getpid(), signal.SIGTERM)

        task = asyncio.ensure_future(retire())
        try:
            yield
        finally:
            task.cancel()

    return context


def serve_workers(settings: Settings, workers: int) -> None:
    """Run `workers` processes on the settings' host and port until SIGTERM or SIGINT."""
    ProxyWorkers(settings, workers).run()
