"""The streams being written, so that a shutdown can let them finish, then end the rest."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from claude_proxy import errors


class Stoppable(Protocol):
    def stop(self, reason: errors.ProxyError) -> None:
        """End the stream now, telling the client `reason`."""


class RunningStreams:
    """The streams being written, so that a shutdown can let them finish, then end the rest."""

    def __init__(self) -> None:
        self._writers: set[Stoppable] = set()
        self._none = asyncio.Event()
        self._none.set()

    def add(self, writer: Stoppable) -> None:
        self._writers.add(writer)
        self._none.clear()

    def discard(self, writer: Stoppable) -> None:
        self._writers.discard(writer)
        if not self._writers:
            self._none.set()

    def __len__(self) -> int:
        return len(self._writers)

    async def drain(self, grace: float) -> int:
        """Wait up to `grace` seconds for the streams to end, then end the rest with an
        overloaded error, which clients retry (elsewhere, behind a load balancer). Returns how
        many had to be ended."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._none.wait(), grace)
        left = list(self._writers)
        reason = errors.OverloadedError(
            "claude-proxy is shutting down; retry the request", headers={"x-should-retry": "true"}
        )
        for writer in left:
            writer.stop(reason)
        return len(left)
