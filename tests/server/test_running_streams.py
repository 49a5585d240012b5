"""A shutdown lets running streams finish within the grace period, then ends the rest with an
error clients retry."""

from __future__ import annotations

import asyncio

from claude_proxy import errors
from claude_proxy.server.running_streams import RunningStreams


class Stream:
    def __init__(self) -> None:
        self.reasons: list[errors.ProxyError] = []

    def stop(self, reason: errors.ProxyError) -> None:
        self.reasons.append(reason)


async def test_no_streams_drain_at_once() -> None:
    assert await RunningStreams().drain(grace=3600) == 0


async def test_streams_that_finish_in_the_grace_period_are_left_alone() -> None:
    streams, stream = RunningStreams(), Stream()
    streams.add(stream)
    asyncio.get_running_loop().call_soon(streams.discard, stream)
    assert await streams.drain(grace=3600) == 0  # returns when the last one ends
    assert stream.reasons == [] and len(streams) == 0


async def test_streams_still_running_after_the_grace_period_are_stopped_retryably() -> None:
    streams, kept, done = RunningStreams(), Stream(), Stream()
    streams.add(kept)
    streams.add(done)
    streams.discard(done)
    assert await streams.drain(grace=0) == 1
    [reason] = kept.reasons
    assert isinstance(reason, errors.OverloadedError)
    assert reason.headers["x-should-retry"] == "true" and "shutting down" in reason.message
    assert done.reasons == []
