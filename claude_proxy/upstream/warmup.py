"""A throwaway OpenAI-compatible server on loopback, for warming LiteLLM up at start-up.

LiteLLM loads hundreds of modules on its first real call (its HTTP client, stream wrapper and
response handlers); a `mock_response` call skips them. Without a real call at start-up the
user's first request pays 0.2-0.6 s (docs/performance.md). This server answers one canned
completion per connection, streamed or not, and never leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

_CHUNK = {"id": "warmup", "object": "chat.completion.chunk", "created": 0, "model": "warmup"}
_COMPLETION = {
    "id": "warmup",
    "object": "chat.completion",
    "created": 0,
    "model": "warmup",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def _stream_body() -> bytes:
    chunks = [
        {
            **_CHUNK,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": None}
            ],
        },
        {**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**_CHUNK, "choices": [], "usage": _COMPLETION["usage"]},
    ]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = json.loads(await asyncio.wait_for(reader.readexactly(length), timeout=5) or b"{}")
        if body.get("stream"):
            payload, kind = _stream_body(), b"text/event-stream"
        else:
            payload, kind = json.dumps(_COMPLETION).encode(), b"application/json"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
        )
        await writer.drain()
    except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def loopback_openai_server() -> AsyncIterator[str]:
    """Yields the base URL (`http://127.0.0.1:PORT/v1`) of a server that lives for the block."""
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        await server.wait_closed()
