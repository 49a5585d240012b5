"""`serve --workers N`: N processes answering on one port, with gunicorn as the process manager.

Gunicorn's arbiter binds the port once, forks the workers (aiohttp's `GunicornWebWorker`),
restarts one that dies, and on SIGTERM stops them gracefully; each worker runs the same app
as a single process does, built by `create_app` after the fork (so each has its own event
loop, upstream client and connection pool). The proxy keeps no state between requests, so
any worker can answer any request.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web
from gunicorn.app.base import BaseApplication

from claude_proxy.server.app import SHUTDOWN_MARGIN, create_app, new_runner
from claude_proxy.settings import Settings


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
            return new_runner(create_app(settings))

        return runner


def serve_workers(settings: Settings, workers: int) -> None:
    """Run `workers` processes on the settings' host and port until SIGTERM or SIGINT."""
    ProxyWorkers(settings, workers).run()
