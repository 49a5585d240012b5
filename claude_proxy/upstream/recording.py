"""What the upstream was asked and answered, for `serve --record` (server/recorder.py).

The seam is the `Upstream` the server holds: `RecordingUpstream` wraps it and notes each call
with the OpenAI-shaped request dict the translation made and the response, chunk or error
dicts the engine gave back. Below that line the engines differ (the native engine's body,
LiteLLM's kwargs); above it everything is the proxy's own translation, which is what a bug
report needs to reproduce. The request dict holds no key (the engines add those), and a
recording replays the same way whichever engine made it (`replaying.py`).

Which exchange a call belongs to is a context variable the recorder sets per request: the
handler, and the stream it iterates, run in that request's task.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from claude_proxy import errors
from claude_proxy.translate.target import Target
from claude_proxy.upstream.base import Upstream, close_stream
from claude_proxy.upstream.error_text import redact

CallKind = Literal["complete", "stream", "count_tokens"]


@dataclass
class Call:
    """One call of the upstream: what it was asked and what came back."""

    kind: CallKind
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    """`complete`'s answer."""
    chunks: list[dict[str, Any]] = field(default_factory=list)
    """`stream`'s chunks, in order, up to the error or the end."""
    count: int | None = None
    """`count_tokens`' answer."""
    error: dict[str, Any] | None = None
    """The error raised instead of (or after some of) the answer: `describe_error`."""
    cut_off: bool = False
    """The caller stopped waiting (the client left, a timeout) before the answer ended."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "request": self.request}
        if self.kind == "complete":
            data["response"] = self.response
        elif self.kind == "stream":
            data["chunks"] = self.chunks
        else:
            data["count"] = self.count
        data["error"] = self.error
        data["cut_off"] = self.cut_off
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        kind = data["kind"]
        if kind not in ("complete", "stream", "count_tokens"):
            raise ValueError(f"unknown upstream call kind {kind!r}")
        return cls(
            kind=kind,
            request=dict(data["request"]),
            response=data.get("response"),
            chunks=list(data.get("chunks") or []),
            count=data.get("count"),
            error=data.get("error"),
            cut_off=bool(data.get("cut_off")),
        )

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, Exception):
            self.error = describe_error(exc)
        else:  # CancelledError, GeneratorExit: nobody waits for the rest
            self.cut_off = True


CALLS: ContextVar[list[Call] | None] = ContextVar("claude_proxy_recorded_calls", default=None)
"""The upstream calls of the exchange being recorded in this task; None when none is."""


def describe_error(exc: Exception) -> dict[str, Any]:
    """An error as JSON, enough for `rebuild_error` to raise its like again."""
    if not isinstance(exc, errors.ProxyError):
        return {"class": type(exc).__name__, "message": str(exc)}
    extra = {
        name: value
        for name, value in vars(exc).items()
        if name not in ("message", "hint", "headers") and isinstance(value, (str, int, float))
    }
    return {
        "class": type(exc).__name__,
        "status": exc.status,
        "error_type": exc.error_type,
        "message": exc.message,
        "headers": dict(exc.headers),
        "attributes": extra,
    }


def rebuild_error(data: dict[str, Any]) -> Exception:
    """The error `describe_error` described: the same class of the tree, message and headers;
    anything else as a RuntimeError with its message (the server answers both the same way)."""
    cls = getattr(errors, str(data.get("class")), None)
    message = str(data.get("message", ""))
    if not (isinstance(cls, type) and issubclass(cls, errors.ProxyError)):
        return RuntimeError(message)
    error = cls.__new__(cls)
    errors.ProxyError.__init__(error, message, headers=data.get("headers") or {})
    for name, value in (data.get("attributes") or {}).items():
        setattr(error, name, value)
    return error


def snapshot(value: Any) -> Any:
    """A plain JSON copy, taken as the value passes: later changes to it (a filter editing a
    chunk in place) do not reach the recording."""
    return json.loads(json.dumps(value, default=str))


def redact_all(value: Any, secrets: list[str]) -> Any:
    """`value` with every secret removed from every string in it, keys included."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [redact_all(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact(str(k), secrets): redact_all(v, secrets) for k, v in value.items()}
    return value


class RecordingUpstream:
    """An `Upstream` that passes every call on to `inner` and notes it in `CALLS`."""

    def __init__(self, inner: Upstream) -> None:
        self.inner = inner

    def _start(self, kind: CallKind, request: dict[str, Any]) -> Call | None:
        calls = CALLS.get()
        if calls is None:
            return None
        call = Call(kind, snapshot(request))
        calls.append(call)
        return call

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        call = self._start("complete", request)
        try:
            response = await self.inner.complete(request)
        except BaseException as exc:
            if call is not None:
                call.failed(exc)
            raise
        if call is not None:
            call.response = snapshot(response)
        return response

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        call = self._start("stream", request)
        chunks = self.inner.stream(request)
        return chunks if call is None else self._recorded(chunks, call)

    async def _recorded(
        self, chunks: AsyncIterator[dict[str, Any]], call: Call
    ) -> AsyncIterator[dict[str, Any]]:
        try:
            async for chunk in chunks:
                call.chunks.append(snapshot(chunk))
                yield chunk
        except BaseException as exc:
            call.failed(exc)
            raise
        finally:
            await close_stream(chunks)

    async def count_tokens(self, request: dict[str, Any]) -> int:
        call = self._start("count_tokens", request)
        try:
            count = await self.inner.count_tokens(request)
        except BaseException as exc:
            if call is not None:
                call.failed(exc)
            raise
        if call is not None:
            call.count = count
        return count

    async def target(self, model: str, provider: str) -> Target:
        return await self.inner.target(model, provider)

    def provider_of(self, model: str) -> str | None:
        return self.inner.provider_of(model)

    def is_provider(self, prefix: str) -> bool:
        return self.inner.is_provider(prefix)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        """What the inner upstream offers beyond the protocol (the engines' model facts)."""
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
