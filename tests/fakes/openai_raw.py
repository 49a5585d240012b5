"""The fake OpenAI server of `openai_upstream.py`, plus answers it cannot script: raw bodies.

`Raw` sends exact bytes (a gateway's HTML page, a 5 MB error, JSON where SSE was asked for),
`RawStream` sends chunk dicts or raw SSE text exactly as given (Together's `eos`, `<think>`
content, error events), optionally holding the connection open afterwards. Held answers wait
on `release`, which the fixture sets when the test ends, so no test waits on a clock. Every
request's path is recorded, so a test sees when LiteLLM went elsewhere (the Responses API).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.openai_upstream import FakeOpenAI


@dataclass
class Raw:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hang_before: bool = False
    """Send nothing until the test ends (a server that never answers)."""
    hang_after: bool = False
    """Send `body`, then keep the response open until the test ends (an endless body)."""


@dataclass
class RawStream:
    events: list[dict[str, Any] | str]
    """Chunk dicts (sent as `data: <json>`) or raw SSE text sent as it is."""
    done: bool = True
    hang: bool = False
    """Keep the connection open after the events, sending nothing (a silent upstream)."""
    drop: bool = False
    """Close the connection abruptly after the events."""
    completion: dict[str, Any] | None = None
    """The answer to a non-streamed request for the same script."""


class FakeOpenAIRaw(FakeOpenAI):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []
        self.peers: list[Any] = []
        """The client address of each request: one address means one reused connection."""
        self.raw: list[Raw | RawStream] = []
        self.release = asyncio.Event()

    def enqueue_raw(self, *answers: Raw | RawStream) -> None:
        self.raw.extend(answers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        app.router.add_route("*", "/{tail:.*}", self.elsewhere)
        return app

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        return web.json_response({"error": {"message": "no such route"}}, status=404)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        self.peers.append(
            request.transport.get_extra_info("peername") if request.transport else None
        )
        if not self.raw:
            return await super().handle(request)
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        answer = self.raw.pop(0)
        if isinstance(answer, Raw):
            return await self._raw(request, answer)
        if not body.get("stream"):
            return web.json_response(answer.completion or {})
        return await self._raw_stream(request, answer)

    async def _raw(self, request: web.Request, answer: Raw) -> web.StreamResponse:
        if answer.hang_before:
            await self._held(request)
        headers = {"Content-Type": answer.content_type, **answer.headers}
        if not answer.hang_after:
            return web.Response(status=answer.status, body=answer.body, headers=headers)
        response = web.StreamResponse(status=answer.status, headers=headers)
        await response.prepare(request)
        await response.write(answer.body)
        await self._held(request)
        return response

    async def _held(self, request: web.Request) -> None:
        """Wait for the test to end, or for the client to leave (then mark `disconnected`)."""
        while not self.release.is_set():
            if request.transport is None or request.transport.is_closing():
                self.disconnected.set()
                return
            try:
                await asyncio.wait_for(self.release.wait(), 0.05)
            except TimeoutError:
                continue

    async def _raw_stream(self, request: web.Request, answer: RawStream) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for event in answer.events:
                text = event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n"
                await response.write(text.encode())
            if answer.drop:
                assert request.transport is not None
                request.transport.close()
                return response
            if answer.done:
                await response.write(b"data: [DONE]\n\n")
            if answer.hang:
                await self._held(request)
        except (asyncio.CancelledError, ConnectionResetError):
            self.disconnected.set()
            raise
        return response
