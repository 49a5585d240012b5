"""`serve --workers N`: N processes answering on one port, with gunicorn as the process manager.

Gunicorn's arbiter binds the port once, forks the workers (`ProxyWorker`, aiohttp's worker),
restarts one that dies, and on SIGTERM stops them gracefully; each worker runs the same app
as a single process does, built by `create_app` after the fork (so each has its own event
loop, upstream client and connection pool). The proxy keeps no state between requests, so
any worker can answer any request. A worker that idles with memory a burst left behind retires
and is replaced, as a single process restarts in place.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from typing import Any

from aiohttp import web
from aiohttp.worker import GunicornWebWorker
from gunicorn.app.base import BaseApplication

from claude_proxy.server.app import SHUTDOWN_MARGIN, create_app, new_runner, open_site
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
            "worker_class": ProxyWorker,
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
            return new_runner(create_app(settings))

        return runner


class ProxyWorker(GunicornWebWorker):
    """aiohttp's worker, serving gunicorn's sockets through `ProxySite` as a single process
    does (the connection cap, framing errors as Anthropic JSON) instead of a plain
    `SockSite`; a worker that idles with memory a burst left behind retires, and the arbiter
    forks a fresh one (memory_watch.py), while the port, the arbiter's, stays open."""

    async def _run(self) -> None:
        runner: web.AppRunner = await self.wsgi()
        site = await open_site(runner, list(self.sockets))
        self.booted = True  # bound: the arbiter may now tell a failed boot from an exit
        settings = runner.app[SETTINGS]
        watch = MemoryWatch(
            runner.app[ACTIVITY],
            growth_percent=settings.memory_restart_growth,
            idle_seconds=settings.memory_restart_idle,
            connections=site.connections,
        )
        retiring = asyncio.ensure_future(self._retire_when_due(watch))
        pid = os.getpid()
        try:
            while self.alive:
                self.notify()
                if pid == os.getpid() and self.ppid != os.getppid():
                    self.alive = False
                    self.log.info("Parent changed, shutting down: %s", self)
                else:
                    await self._wait_next_notify()
        finally:
            retiring.cancel()
            await runner.cleanup()

    async def _retire_when_due(self, watch: MemoryWatch) -> None:
        rss = await watch.wait()
        logger.info(
            "retiring this worker to give back memory: %.0f MB resident, %.0f MB at its "
            "start; gunicorn starts a fresh one",
            rss / MB,
            (watch.start or 0) / MB,
        )
        self.alive = False
        self._notify_waiter_done()


def serve_workers(settings: Settings, workers: int) -> None:
    """Run `workers` processes on the settings' host and port until SIGTERM or SIGINT."""
    ProxyWorkers(settings, workers).run()
