"""When a restart in place is due: requests served, idle long enough, the resident set above
its start by the growth."""

from __future__ import annotations

import asyncio

from claude_proxy.server.memory_watch import Activity, MemoryWatch, current_rss

MB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Resident:
    def __init__(self, mb: float) -> None:
        self.bytes: int | None = int(mb * MB)

    def __call__(self) -> int | None:
        return self.bytes


def watch_of(rss: Resident, clock: Clock, *, growth: float = 20, idle: float = 30) -> MemoryWatch:
    return MemoryWatch(Activity(clock), growth_percent=growth, idle_seconds=idle, rss=rss)


def serve_one(watch: MemoryWatch) -> None:
    watch.activity.begin()
    watch.activity.end()


def test_due_once_idle_long_enough_and_grown_past_the_growth() -> None:
    clock, rss = Clock(), Resident(60)
    watch = watch_of(rss, clock)
    serve_one(watch)
    rss.bytes = 80 * MB
    clock.now += 29.9
    assert watch.due() is None  # not idle long enough
    clock.now += 0.1
    assert watch.due() == 80 * MB


def test_not_due_within_the_growth() -> None:
    clock, rss = Clock(), Resident(60)
    watch = watch_of(rss, clock)
    serve_one(watch)
    rss.bytes = 72 * MB  # exactly +20%
    clock.now += 3600
    assert watch.due() is None


def test_not_due_while_a_request_runs() -> None:
    clock, rss = Clock(), Resident(60)
    watch = watch_of(rss, clock)
    serve_one(watch)
    watch.activity.begin()  # a long stream
    rss.bytes = 90 * MB
    clock.now += 3600
    assert watch.activity.idle_for() == 0
    assert watch.due() is None
    watch.activity.end()
    assert watch.due() is None  # idle from the moment it ended
    clock.now += 30
    assert watch.due() == 90 * MB


def test_not_due_while_a_client_connection_is_open() -> None:
    """An idle keep-alive connection may be sending its next request as the restart closes
    it; the restart waits until CLIENT_HEADER_TIMEOUT has closed it."""
    clock, rss = Clock(), Resident(60)
    open_connections = [1]
    watch = MemoryWatch(
        Activity(clock),
        growth_percent=20,
        idle_seconds=30,
        connections=lambda: open_connections[0],
        rss=rss,
    )
    serve_one(watch)
    rss.bytes = 90 * MB
    clock.now += 3600
    assert watch.due() is None
    open_connections[0] = 0
    assert watch.due() == 90 * MB


def test_not_due_before_any_request_however_long_idle() -> None:
    """What grew came with the start itself: a restart would give back nothing, again and
    again."""
    clock, rss = Clock(), Resident(60)
    watch = watch_of(rss, clock, growth=0.001, idle=1)
    rss.bytes = 61 * MB
    clock.now += 3600
    assert watch.due() is None


def test_off_at_zero_growth_without_a_readable_rss_and_once_turned_off() -> None:
    clock, rss, unreadable = Clock(), Resident(60), Resident(0)
    unreadable.bytes = None  # no /proc
    off = watch_of(rss, clock, growth=0)
    never_read = watch_of(unreadable, clock)
    turned_off = watch_of(rss, clock)
    for watch in (off, never_read, turned_off):
        serve_one(watch)
    turned_off.turn_off()
    rss.bytes = unreadable.bytes = 200 * MB
    clock.now += 3600
    assert [w.on for w in (off, never_read, turned_off)] == [False, False, False]
    assert [w.due() for w in (off, never_read, turned_off)] == [None, None, None]


def test_not_due_when_the_rss_can_no_longer_be_read() -> None:
    clock, rss = Clock(), Resident(60)
    watch = watch_of(rss, clock)
    serve_one(watch)
    rss.bytes = None
    clock.now += 3600
    assert watch.on and watch.due() is None


async def test_wait_returns_the_rss_once_due() -> None:
    rss = Resident(60)
    watch = MemoryWatch(Activity(), growth_percent=20, idle_seconds=0.01, rss=rss)
    serve_one(watch)
    rss.bytes = 100 * MB
    assert await asyncio.wait_for(watch.wait(), timeout=30) == 100 * MB


def test_the_interval_follows_the_idle_time_within_bounds() -> None:
    clock, rss = Clock(), Resident(60)
    assert watch_of(rss, clock, idle=30).interval == 5
    assert watch_of(rss, clock, idle=2).interval == 1
    assert watch_of(rss, clock, idle=0.001).interval == 0.05


def test_current_rss_reads_this_process() -> None:
    rss = current_rss()
    assert rss is not None and 10 * MB < rss < 10_000 * MB
