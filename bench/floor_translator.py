"""The floor: the least an Anthropic-to-OpenAI streaming translator can do, as its own process.

POST /v1/messages sends a Chat Completions request (model, messages, tools; nothing checked)
over one pooled aiohttp session, parses each upstream chunk with `json.loads`, and writes the
Anthropic events it makes, one `write` per upstream chunk:

    message_start ping (content_block_start content_block_delta* content_block_stop)*
    message_delta message_stop

Text opens a text block; each new tool call closes the open block and opens a tool_use block
whose argument fragments become input_json_delta events. No validation, no errors mapped, no
log line, no timeouts: what is left is the work any relay of this stream must do, so the
proxy's CPU per stream is read as a multiple of this one's, measured in the same run.

    uv run python -m bench.floor_translator PORT UPSTREAM_BASE    (e.g. http://127.0.0.1:9000/v1)
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

SESSION = web.AppKey("session", aiohttp.ClientSession)
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def to_openai(body: dict[str, Any]) -> dict[str, Any]:
    request = {
        "model": "gpt-4.1",
        "max_tokens": body["max_tokens"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": body["messages"],
    }
    if body.get("tools"):
        request["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t["input_schema"],
                },
            }
            for t in body["tools"]
        ]
    return request


class Translator:
    def __init__(self) -> None:
        self.index = -1
        self.open: str | None = None
        self.stop_reason = "end_turn"
        self.output_tokens = 0

    def _start(self, block: dict[str, Any]) -> bytes:
        out = self._stop()
        self.index += 1
        self.open = block["type"]
        return out + event(
            "content_block_start",
            {"type": "content_block_start", "index": self.index, "content_block": block},
        )

    def _stop(self) -> bytes:
        if self.open is None:
            return b""
        self.open = None
        return event("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return event(
            "content_block_delta",
            {"type": "content_block_delta", "index": self.index, "delta": delta},
        )

    def feed(self, chunk: dict[str, Any]) -> bytes:
        if chunk.get("usage"):
            self.output_tokens = chunk["usage"].get("completion_tokens", 0)
        if not chunk.get("choices"):
            return b""
        choice = chunk["choices"][0]
        delta, out = choice.get("delta") or {}, b""
        if delta.get("content"):
            if self.open != "text":
                out += self._start({"type": "text", "text": ""})
            out += self._delta({"type": "text_delta", "text": delta["content"]})
        for call in delta.get("tool_calls") or []:
            if call.get("id"):
                block = {"type": "tool_use", "id": call["id"], "name": call["function"]["name"]}
                out += self._start({**block, "input": {}})
            arguments = call.get("function", {}).get("arguments")
            if arguments:
                out += self._delta({"type": "input_json_delta", "partial_json": arguments})
        if choice.get("finish_reason"):
            self.stop_reason = STOP_REASONS.get(choice["finish_reason"], "end_turn")
        return out

    def finish(self) -> bytes:
        return (
            self._stop()
            + event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": self.output_tokens},
                },
            )
            + event("message_stop", {"type": "message_stop"})
        )


def make_app(upstream_base: str) -> web.Application:
    url = f"{upstream_base}/chat/completions"

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        message = {
            "id": "msg_floor",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        async with request.app[SESSION].post(url, json=to_openai(body)) as upstream:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(
                event("message_start", {"type": "message_start", "message": message})
                + event("ping", {"type": "ping"})
            )
            translator = Translator()
            async for line in upstream.content:
                if not line.startswith(b"data: "):
                    continue
                data = line[6:].strip()
                if data == b"[DONE]":
                    break
                out = translator.feed(json.loads(data))
                if out:
                    await response.write(out)
            await response.write(translator.finish())
        await response.write_eof()
        return response

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def session(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as s:
            app[SESSION] = s
            yield

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_post("/v1/messages", messages)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    port, base = int(sys.argv[1]), sys.argv[2]
    web.run_app(
        make_app(base), host="127.0.0.1", port=port, access_log=None, print=None, backlog=4096
    )
