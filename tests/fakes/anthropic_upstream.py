"""A fake Anthropic Messages API on 127.0.0.1, scripted per test.

It records every request (path, headers, raw bytes, parsed body) and answers with a queued
`Answer`: a whole Message, served as JSON or, when the request streams, as the SSE events the
real API would send for it (thinking with `signature_delta`, tool input as `input_json_delta`
fragments). So a test can check that the streamed and the JSON paths give the same Message,
and that the SSE bytes the client reads are exactly the bytes this server wrote.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Event = tuple[str, dict[str, Any]]


def text_message(text: str, *, message_id: str = "msg_01FakeText") -> dict[str, Any]:
    return message_of([{"type": "text", "text": text}], "end_turn", message_id=message_id)


def message_of(
    content: list[dict[str, Any]],
    stop_reason: str,
    *,
    message_id: str = "msg_01Fake",
    model: str = "claude-sonnet-4-5-20250929",
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 812,
            "output_tokens": 41,
            "cache_creation_input_tokens": 120,
            "cache_read_input_tokens": 6400,
        },
    }


@dataclass
class Answer:
    message: dict[str, Any]
    first_delay: float = 0.0
    """Seconds before the response headers."""
    silence_after: int | None = None
    """Go silent (for up to `silence` seconds) after this many stream events."""
    silence: float = 10.0
    drop_after: int | None = None
    """Close the connection after this many stream events."""
    keep_alive_after: int | None = None
    """After this many events, write a ping every 50 ms (at most 10 s) instead of the rest."""
    pieces: int = 3

    def events(self) -> list[Event]:
        return message_events(self.message, self.pieces)


@dataclass
class Failure:
    status: int
    error_type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    """A body that is not Anthropic's error JSON (a gateway's HTML page)."""

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        error = {"type": self.error_type, "message": self.message}
        return json.dumps(
            {"type": "error", "error": error, "request_id": "req_upstream_failure"}
        ).encode()


def split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def message_events(message: dict[str, Any], pieces: int = 3) -> list[Event]:
    """The SSE events the real API sends for `message`."""
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    events: list[Event] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        events += block_events(index, block, pieces)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    events.append(
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": message["usage"]})
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def block_events(index: int, block: dict[str, Any], pieces: int) -> list[Event]:
    kind = block["type"]
    deltas: list[dict[str, Any]] = []
    if kind == "text":
        opened: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": t} for t in split(block["text"], pieces)]
    elif kind == "thinking":
        opened = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": t} for t in split(block["thinking"], pieces)
        ]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "tool_use":
        opened = {**block, "input": {}}
        arguments = json.dumps(block["input"])
        fragments = ["", *[arguments[i : i + 7] for i in range(0, len(arguments), 7)]]
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in fragments]
    else:  # redacted_thinking, server-tool results, new types: whole in the start event
        opened = block
    return [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opened},
        ),
        *[
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def encode(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


@dataclass
class Received:
    path: str
    query: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed


class FakeAnthropic:
    """Serves queued answers at POST /v1/messages and /v1/messages/count_tokens."""

    def __init__(self) -> None:
        self.queue: list[Answer | Failure] = []
        self.received: list[Received] = []
        self.sent: list[bytes] = []
        """The exact bytes of each streamed response."""
        self.input_tokens = 1234
        self.disconnected = asyncio.Event()
        self.base_url = ""

    def enqueue(self, *answers: Answer | Failure) -> None:
        self.queue.extend(answers)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.received]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self.handle_messages)
        app.router.add_post("/v1/messages/count_tokens", self.handle_count_tokens)
        return app

    async def record(self, request: web.Request) -> Received:
        received = Received(
            request.path, request.query_string, dict(request.headers), await request.read()
        )
        self.received.append(received)
        return received

    async def handle_count_tokens(self, request: web.Request) -> web.Response:
        await self.record(request)
        answer = self.queue.pop(0) if self.queue else None
        if isinstance(answer, Failure):
            return self.failure(answer)
        return web.json_response({"input_tokens": self.input_tokens})

    async def handle_messages(self, request: web.Request) -> web.StreamResponse:
        received = await self.record(request)
        answer = self.queue.pop(0) if self.queue else Answer(text_message("(no answer queued)"))
        if isinstance(answer, Failure):
            return self.failure(answer)
        await asyncio.sleep(answer.first_delay)
        if not received.body.get("stream"):
            return web.json_response(answer.message, headers={"request-id": "req_upstream_1"})
        return await self.stream(request, answer)

    @staticmethod
    def failure(failure: Failure) -> web.Response:
        content_type = "text/html" if failure.raw is not None else "application/json"
        headers = {"content-type": content_type, **failure.headers}
        return web.Response(status=failure.status, body=failure.body(), headers=headers)

    async def stream(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "content-type": "text/event-stream; charset=utf-8",
                "cache-control": "no-cache",
                "request-id": "req_upstream_stream",
            }
        )
        await response.prepare(request)
        sent = bytearray()
        self.sent.append(b"")
        try:
            for count, (name, data) in enumerate(answer.events()):
                if count == answer.drop_after:
                    assert request.transport is not None
                    request.transport.close()
                    return response
                if count == answer.silence_after:
                    await asyncio.sleep(answer.silence)
                if count == answer.keep_alive_after:
                    for _ in range(200):
                        await response.write(encode("ping", {"type": "ping"}))
                        await asyncio.sleep(0.05)
                    return response
                chunk = encode(name, data)
                await response.write(chunk)
                sent += chunk
                self.sent[-1] = bytes(sent)
        except (asyncio.CancelledError, ConnectionResetError):
            self.disconnected.set()
            raise
        return response
