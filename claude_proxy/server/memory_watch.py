"""When to give back what a burst left behind: the resident set is read while the proxy idles,
and once it has idled MEMORY_RESTART_IDLE seconds, with no client connection left open, above
its start by MEMORY_RESTART_GROWTH percent, a restart in place is due (`server/restart.py`
carries it out).

Why a restart: CPython's allocator keeps a 1 MiB arena while any block in it lives. A burst
of hundreds of streams takes twenty arenas; afterwards a few hundred long-lived objects (a
grown table, a cache entry, a log record) are scattered over them and keep 20-25 MB that
nothing uses. No call inside the process gives that back; a fresh process does
(docs/performance.md, "After a burst").
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

Clock = Callable[[], float]


def current_rss() -> int | None:
    """This process's resident set in bytes; None where it cannot be read (no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class Activity:
    """API requests in flight, and when the last one ended (health probes do not count)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.in_flight = 0
        self.served = 0
        self._clock = clock
        self._last_end = clock()

    def begin(self) -> None:
        self.in_flight += 1
        self.served += 1

    def end(self) -> None:
        self.in_flight -= 1
        self._last_end = self._clock()

    def idle_for(self) -> float:
        """Seconds since the last request ended; 0 while one runs."""
        return 0.0 if self.in_flight else self._clock() - self._last_end


class MemoryWatch:
    def __init__(
        self,
        activity: Activity,
        *,
        growth_percent: float,
        idle_seconds: float,
        connections: Callable[[], int] = lambda: 0,
        rss: Callable[[], int | None] = current_rss,
    ) -> None:
        self.activity = activity
        self.connections = connections
        self.growth_percent = growth_percent
        self.idle_seconds = idle_seconds
        self._rss = rss
        self.start = rss() if growth_percent > 0 else None
        """RSS in bytes when the proxy began to serve; None when the watch is off."""

    @property
    def on(self) -> bool:
        return self.start is not None

    def turn_off(self) -> None:
        self.start = None

    @property
    def interval(self) -> float:
        """Seconds between looks: often enough to notice the idle time ending, cheap (one
        small read of /proc)."""
        return min(5.0, max(self.idle_seconds / 2, 0.05))

    def due(self) -> int | None:
        """The RSS now if a restart is due, otherwise None. Due: requests were served (without
        one there is nothing to give back: what grew came with the start itself), none for
        `idle_seconds`, no client connection open (none can be sending a request the restart
        would cut; idle keep-alive connections close after CLIENT_HEADER_TIMEOUT), and RSS
        above the start by the growth."""
        if self.start is None or not self.activity.served or self.connections():
            return None
        if self.activity.idle_for() < self.idle_seconds:
            return None
        now = self._rss()
        if now is None or now <= self.start * (1 + self.growth_percent / 100):
            return None
        return now

    async def wait(self) -> int:
        """Return the RSS once a restart is due; never, when the watch is off."""
        while True:
            if not self.on:
                await asyncio.Event().wait()
            await asyncio.sleep(self.interval)
            rss = self.due()
            if rss is not None:
                return rss
