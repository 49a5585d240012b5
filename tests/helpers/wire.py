"""What went over the wire under a client that parses it: an httpx2 transport (the transport library the anthropic SDK uses) that counts the
SSE events of each response as the bytes pass, and sets events when counts are reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx2


class CountingTransport(httpx2.AsyncBaseTransport):
    """Passes every byte on unchanged; `wire` holds them, `count(name)` counts events."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.wire = b""
        self.waiting: list[tuple[str, int, asyncio.Event]] = []

    def count(self, name: str) -> int:
        return self.wire.count(f"event: {name}\n".encode())

    def when(self, name: str, count: int) -> asyncio.Event:
        """An event set once `count` events called `name` have passed."""
        event = asyncio.Event()
        self.waiting.append((name, count, event))
        self._check()
        return event

    def _check(self) -> None:
        for name, count, event in self.waiting:
            if self.count(name) >= count:
                event.set()

    def _feed(self, data: bytes) -> None:
        self.wire += data
        self._check()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Counted(response.stream, self._feed),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Counted(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, feed: Callable[[bytes], None]) -> None:
        self.inner = inner
        self.feed = feed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for data in self.inner:
            self.feed(data)
            yield data

    async def aclose(self) -> None:
        await self.inner.aclose()
