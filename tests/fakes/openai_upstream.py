"""A fake OpenAI chat-completions server on 127.0.0.1, scripted per test.

Real LiteLLM talks to it over HTTP exactly as it would to api.openai.com. An `Answer` renders
both as a JSON completion and as a chunk stream, so a test can check that the streamed and the
non-streamed paths give the same Message for the same upstream answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HOLD_BOUND = 20.0


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str
    fragments: list[str] | None = None
    """How the arguments arrive in a stream; default: cut in pieces of 7 characters."""

    def pieces(self) -> list[str]:
        if self.fragments is not None:
            return self.fragments
        return [self.arguments[i : i + 7] for i in range(0, len(self.arguments), 7)] or [""]


@dataclass
class Answer:
    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 21
    completion_tokens: int = 9
    cached_tokens: int = 0
    interleave: bool = False
    """Stream parallel tool calls' argument fragments interleaved by index."""
    text_pieces: int = 3
    text_fragments: list[str] | None = None
    """How the text arrives in a stream (joined, they must equal `text`); default: `text_pieces` pieces."""
    delay: float = 0.0
    """Seconds between stream chunks."""
    first_delay: float = 0.0
    """Seconds before the first stream chunk, or before the JSON answer."""
    drop_after: int | None = None
    """Close the connection after this many stream chunks."""
    reasoning: str | None = None
    """Sent as `message.reasoning_content`, streamed as `delta.reasoning_content` before the text."""
    hold: dict[int, asyncio.Event] = field(default_factory=dict)
    """Before stream chunk i, wait until the test sets `hold[i]` (for at most `HOLD_BOUND` s,
    so a test whose condition never comes fails on its assertion instead of hanging)."""

    def finish(self) -> str:
        return self.finish_reason or ("tool_calls" if self.tool_calls else "stop")

    def usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }

    def completion(self, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.reasoning is not None:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in self.tool_calls
            ]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish()}],
            "usage": self.usage(),
        }

    def chunks(self, model: str, include_usage: bool) -> list[dict[str, Any]]:
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if self.reasoning:
            size = max(1, -(-len(self.reasoning) // self.text_pieces))
            deltas += [
                {"reasoning_content": self.reasoning[i : i + size]}
                for i in range(0, len(self.reasoning), size)
            ]
        if self.text_fragments is not None:
            deltas += [{"content": piece} for piece in self.text_fragments]
        elif self.text:
            size = max(1, -(-len(self.text) // self.text_pieces))
            deltas += [{"content": self.text[i : i + size]} for i in range(0, len(self.text), size)]
        deltas += self._tool_deltas()
        chunks = [self._chunk(model, delta, None) for delta in deltas]
        chunks.append(self._chunk(model, {}, self.finish()))
        if include_usage:
            chunks.append({**self._chunk(model, {}, None), "choices": [], "usage": self.usage()})
        return chunks

    def _tool_deltas(self) -> list[dict[str, Any]]:
        per_call: list[list[dict[str, Any]]] = []
        for index, call in enumerate(self.tool_calls):
            pieces = call.pieces()
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": pieces[0]},
            }
            rest = [{"index": index, "function": {"arguments": p}} for p in pieces[1:]]
            per_call.append([first, *rest])
        if not self.interleave:
            return [{"tool_calls": [d]} for call in per_call for d in call]
        out = []
        longest = max((len(c) for c in per_call), default=0)
        for i in range(longest):
            out += [{"tool_calls": [call[i]]} for call in per_call if i < len(call)]
        return out

    @staticmethod
    def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }


@dataclass
class Failure:
    status: int
    message: str = "upstream failure"
    error_type: str = "server_error"
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeOpenAI:
    """Serves queued answers at POST /v1/chat/completions and records every request."""

    def __init__(self) -> None:
        self.queue: list[Answer | Failure] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnected = asyncio.Event()
        self.base_url = ""

    def enqueue(self, *answers: Answer | Failure) -> None:
        self.queue.extend(answers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if "nonexistent" in body["model"]:
            message = f"The model `{body['model']}` does not exist or you do not have access to it."
            error = {"message": message, "type": "invalid_request_error", "code": "model_not_found"}
            return web.json_response({"error": error}, status=404)
        answer = self.queue.pop(0) if self.queue else Answer(text="(no answer queued)")
        if isinstance(answer, Failure):
            error = {"message": answer.message, "type": answer.error_type, "code": answer.code}
            return web.json_response({"error": error}, status=answer.status, headers=answer.headers)
        if not body.get("stream"):
            await asyncio.sleep(answer.first_delay)
            return web.json_response(answer.completion(body["model"]))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return await self._stream(request, answer, answer.chunks(body["model"], include_usage))

    async def _stream(
        self, request: web.Request, answer: Answer, chunks: list[dict[str, Any]]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            await asyncio.sleep(answer.first_delay)
            for sent, chunk in enumerate(chunks):
                if sent in answer.hold:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(answer.hold[sent].wait(), timeout=HOLD_BOUND)
                if answer.drop_after is not None and sent >= answer.drop_after:
                    assert request.transport is not None
                    request.transport.close()
                    return response
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
                await asyncio.sleep(answer.delay)
            await response.write(b"data: [DONE]\n\n")
        except (asyncio.CancelledError, ConnectionResetError):
            self.disconnected.set()
            raise
        return response
