"""A restart in place: the process execs its own command again and the new image takes over
the listening sockets. The pid stays, so `run claude`, a service manager or a shell keep their
hold on it; connections that arrive meanwhile wait in the socket's backlog, none is refused.

    old image: a restart is due (memory_watch.py) and the configuration is still the one running
               ─▶ duplicate the listening sockets (inheritable)
               ─▶ stop as on SIGTERM: the port's own copy closes, streams drain, the ledger
                  and the thread store are written and closed
               ─▶ exec(the same argv), CLAUDE_PROXY_HANDOVER = the sockets and what was learned
    new image: take CLAUDE_PROXY_HANDOVER (and unset it) ─▶ serve on the inherited sockets with
               the old image's cooldowns and output limits, LiteLLM loaded if it had been

The handover holds file descriptor numbers, model names and numbers; never a key or a prompt.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from typing import NoReturn

from aiohttp import web

from claude_proxy.server.keys import COOLDOWNS, OUTPUT_LIMITS
from claude_proxy.server.listen_limits import ProxySite

logger = logging.getLogger(__name__)

HANDOVER_ENV = "CLAUDE_PROXY_HANDOVER"
MB = 1024 * 1024


@dataclass(frozen=True)
class Handover:
    listen_fds: list[int]
    rss: int
    """Bytes resident in the image that restarted, when it did."""
    start_rss: int
    """Bytes resident in that image when it began to serve."""
    cooldowns: dict[str, float]
    output_limits: dict[str, int]
    litellm: bool
    """Whether that image had loaded LiteLLM: the new one loads it before serving."""

    def encode(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def decode(cls, text: str) -> Handover:
        """Only the sockets are needed: an upgrade between the two images may have changed
        the rest, which then starts empty rather than costing the port."""
        values = json.loads(text)
        return cls(
            listen_fds=[int(fd) for fd in values["listen_fds"]],
            rss=int(values.get("rss", 0)),
            start_rss=int(values.get("start_rss", 0)),
            cooldowns={str(k): float(v) for k, v in dict(values.get("cooldowns", {})).items()},
            output_limits={
                str(k): int(v) for k, v in dict(values.get("output_limits", {})).items()
            },
            litellm=bool(values.get("litellm", False)),
        )

    def sockets(self) -> list[socket.socket]:
        return [socket.socket(fileno=fd) for fd in self.listen_fds]

    def restore(self, app: web.Application) -> None:
        app[COOLDOWNS].restore(self.cooldowns)
        app[OUTPUT_LIMITS].restore(self.output_limits)

    def note(self, rss_now: int | None) -> str:
        """The new image's log line."""
        now = f", {rss_now / MB:.0f} MB now" if rss_now is not None else ""
        return (
            f"restarted in place to give back memory: {self.rss / MB:.0f} MB resident before "
            f"(it began at {self.start_rss / MB:.0f} MB){now}"
        )


def take_handover() -> Handover | None:
    """The handover this image was started with; None for a fresh start. The variable is
    removed so that nothing this process starts inherits it."""
    text = os.environ.pop(HANDOVER_ENV, None)
    if not text:
        return None
    try:
        return Handover.decode(text)
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.warning("%s is not a handover this version reads; starting afresh", HANDOVER_ENV)
        return None


def keep_listening(site: ProxySite) -> list[int]:
    """Inheritable duplicates of the site's listening sockets: they stay open, with their
    backlog, while the site closes its own copies."""
    fds = [os.dup(sock.fileno()) for sock in site.listening()]
    for fd in fds:
        os.set_inheritable(fd, True)
    return fds


def handover_of(app: web.Application, listen_fds: list[int], rss: int, start_rss: int) -> Handover:
    return Handover(
        listen_fds=listen_fds,
        rss=rss,
        start_rss=start_rss,
        cooldowns=app[COOLDOWNS].items(),
        output_limits=app[OUTPUT_LIMITS].items(),
        litellm="litellm" in sys.modules,
    )


def restart_in_place(handover: Handover) -> NoReturn:
    """Exec this process's own command line again, with the handover in its environment."""
    os.environ[HANDOVER_ENV] = handover.encode()
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
