"""A scripted `Upstream` (claude_proxy.upstream.base) for the server's unit tests: no LiteLLM, no
HTTP. Each stream is a list of steps: OpenAI chunk dicts to yield, `Gate`s and `Pause`s to wait
on, exceptions to raise.

Every stream it hands out is kept (a strong reference), so the garbage collector can never
close one behind a test's back: a stream that ends up closed was closed by the code under test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from claude_proxy.translate.target import Target

PROVIDERS = frozenset({"openai", "gemini", "together_ai", "anthropic"})


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def text_chunk(text: str) -> dict[str, Any]:
    return chunk({"content": text})


def usage_chunk(prompt_tokens: int = 10, completion_tokens: int = 2) -> dict[str, Any]:
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return {**chunk({}), "choices": [], "usage": usage}


def answer(*texts: str) -> list[Any]:
    """The steps of a plain text answer: a role chunk, the texts, a stop and the usage."""
    return [
        chunk({"role": "assistant", "content": ""}),
        *(text_chunk(t) for t in texts),
        chunk({}, "stop"),
        usage_chunk(),
    ]


@dataclass
class Gate:
    """Wait until the test sets `event`; after `bound` seconds go on anyway (and say so), so a
    test whose condition never comes fails on its assertion instead of hanging."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    bound: float = 20.0
    timed_out: bool = False

    async def wait(self) -> None:
        try:
            await asyncio.wait_for(self.event.wait(), timeout=self.bound)
        except TimeoutError:
            self.timed_out = True


@dataclass
class Pause:
    seconds: float

    async def wait(self) -> None:
        await asyncio.sleep(self.seconds)


class ScriptedStream:
    """One stream handed out: its async iterator and how it ended."""

    def __init__(self, steps: list[Any]) -> None:
        self.steps = steps
        self.yielded = 0
        self.exhausted = False
        self.ended_by: str | None = None
        """`aclose` (GeneratorExit) or `cancel` (CancelledError), when it did not run out."""
        self.ended = asyncio.Event()
        self.iterator = self._run()

    @property
    def closed(self) -> bool:
        """Ended without running out: closed or cancelled by whoever read it."""
        return self.iterator.ag_frame is None and not self.exhausted

    async def _run(self) -> AsyncIterator[dict[str, Any]]:
        try:
            for step in self.steps:
                if isinstance(step, dict):
                    yield step
                    self.yielded += 1
                elif isinstance(step, BaseException):
                    raise step
                else:
                    await step.wait()
            self.exhausted = True
        except GeneratorExit:
            self.ended_by = "aclose"
            raise
        except asyncio.CancelledError:
            self.ended_by = "cancel"
            raise
        finally:
            self.ended.set()


class ScriptedUpstream:
    """`Upstream` by shape. Queue streams with `enqueue_stream`, answers with `enqueue_answer`."""

    def __init__(self, registry: dict[str, str] | None = None) -> None:
        self.registry = registry or {}
        self.stream_scripts: list[list[Any]] = []
        self.answers: list[dict[str, Any] | BaseException] = []
        self.requests: list[dict[str, Any]] = []
        self.streams: list[ScriptedStream] = []
        self.token_count = 1
        self.closed = False

    def enqueue_stream(self, *steps: Any) -> None:
        self.stream_scripts.append(list(steps))

    def enqueue_answer(self, response: dict[str, Any] | BaseException) -> None:
        self.answers.append(response)

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        response = self.answers.pop(0)
        if isinstance(response, BaseException):
            raise response
        return response

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        self.requests.append(request)
        stream = ScriptedStream(self.stream_scripts.pop(0))
        self.streams.append(stream)
        return stream.iterator

    async def target(self, model: str, provider: str) -> Target:
        return Target(model=model, provider=provider)

    async def count_tokens(self, request: dict[str, Any]) -> int:
        self.requests.append(request)
        return self.token_count

    def provider_of(self, model: str) -> str | None:
        return self.registry.get(model)

    def is_provider(self, prefix: str) -> bool:
        return prefix in PROVIDERS

    async def aclose(self) -> None:
        self.closed = True
