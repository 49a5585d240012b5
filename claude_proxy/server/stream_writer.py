"""Writes an upstream chunk stream to the client as Anthropic SSE.

The HTTP status is decided by the first upstream chunk that makes an event: an upstream that
fails before it (401, 429, 503, ...) becomes an HTTP error the client can retry on, not an
`error` event behind a 200. A stream is complete only when the upstream says why it stopped
(a finish_reason); one that just ends is an error, never `end_turn`. A first chunk that takes longer than the ping interval (a reasoning model
thinking) starts the stream anyway, with pings while the upstream is silent, so the client's
idle watchdog stays calm. After the 200, a failure ends the stream with an SSE `error` event.
A client that goes away cancels this handler (aiohttp's handler cancellation), and the
`finally` closes the upstream request, so its tokens stop being billed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from claude_proxy import errors
from claude_proxy.providers import ChunkFilter
from claude_proxy.server.keys import LOG, STREAMS
from claude_proxy.settings import Settings
from claude_proxy.translate.events import Event
from claude_proxy.translate.ids import new_message_id
from claude_proxy.translate.server_tool_stream import ServerToolStream
from claude_proxy.translate.sse import encode_events
from claude_proxy.translate.stream import StreamTranslator
from claude_proxy.translate.target import Target
from claude_proxy.translate.threads import streamed_message
from claude_proxy.upstream.base import close_stream

logger = logging.getLogger(__name__)

Translator = StreamTranslator | ServerToolStream

PING: Event = ("ping", {"type": "ping"})
MODEL_HEADER = "x-claude-proxy-model"
"""Which upstream model answered (a fallback may have): on every answer of /v1/messages."""
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


Keep = Callable[[dict[str, Any]], Awaitable[None]]
"""A message thread's: awaited with the answer's message before the client has all of it."""


class _ClientGone(Exception):
    pass


@dataclass(frozen=True)
class Deadlines:
    """How long a stream may take: in all, to its first chunk, and between chunks."""

    total: float
    first_byte: float
    idle: float

    @classmethod
    def of(cls, settings: Settings) -> Deadlines:
        return cls(settings.request_timeout, settings.first_byte_timeout, settings.idle_timeout)

    def error(self, began: bool, ran_out: bool) -> errors.UpstreamTimeoutError:
        if ran_out:
            why = f"the request took longer than {self.total:g} s (REQUEST_TIMEOUT)"
        elif began:
            why = f"the upstream sent nothing for {self.idle:g} s (IDLE_TIMEOUT)"
        else:
            why = f"the upstream sent no first chunk within {self.first_byte:g} s (FIRST_BYTE_TIMEOUT)"
        return errors.UpstreamTimeoutError(f"upstream timed out: {why}")


class _SseWriter:
    """The response of one stream, opened on the first write, written by the chunk loop and
    the heartbeat; a lock keeps their events whole and in order (uncontended, it costs no
    task switch)."""

    def __init__(self, request: web.Request, translator: Translator) -> None:
        self.request = request
        self.translator = translator
        self.task = asyncio.current_task()
        self.stopping: errors.ProxyError | None = None
        """Why the proxy ends this stream early (it is shutting down)."""
        self.response: web.StreamResponse | None = None
        self.last_write = asyncio.get_running_loop().time()
        self._lock = asyncio.Lock()
        self._interval = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._ping: asyncio.Task[None] | None = None

    async def send(self, events: list[Event]) -> None:
        async with self._lock:
            if self.response is None:
                log = self.request[LOG]
                headers = {**SSE_HEADERS, "request-id": log.request_id}
                if log.choice is not None:
                    headers[MODEL_HEADER] = log.choice.model
                self.response = web.StreamResponse(headers=headers)
                await self.response.prepare(self.request)
                events = self.translator.start() + events
            self.last_write = asyncio.get_running_loop().time()
            if events:
                try:
                    await self.response.write(encode_events(events))
                except ConnectionError as exc:
                    raise _ClientGone from exc

    def stop(self, reason: errors.ProxyError) -> None:
        """End the stream now with `reason`: an SSE error event, or the error itself when
        nothing was sent yet."""
        self.stopping = reason
        if self.task is not None:
            self.task.cancel()

    def start_heartbeat(self, interval: float) -> None:
        """Ping after `interval` seconds without a write; the first one opens the stream.

        A timer, not a task that sleeps: a stream whose chunks keep coming never needs more
        than the one timer (less memory per stream in flight, no task switch at its ends)."""
        self._interval = interval
        self._schedule()

    async def stop_heartbeat(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._ping is not None:
            self._ping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ping

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(self.last_write + self._interval, self._due)

    def _due(self) -> None:
        if asyncio.get_running_loop().time() < self.last_write + self._interval:
            self._schedule()  # written since: wait for the silence to last the interval
        else:
            self._timer = None
            self._ping = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        with contextlib.suppress(_ClientGone):
            await self.send([PING] if self.response is not None else [])
            self._schedule()


async def write_stream(
    request: web.Request,
    chunks: AsyncIterator[dict[str, Any]],
    *,
    chunk_filter: ChunkFilter | None = None,
    requested_model: str,
    stop_sequences: list[str] | None,
    ping_interval: float,
    deadlines: Deadlines,
    target: Target | None = None,
    keep: Keep | None = None,
    translator: Translator | None = None,
) -> web.StreamResponse:
    """`keep` gets the message of a stream that finished before its `message_stop` goes
    out, so the client's next turn finds its thread kept. `translator` replaces the one made
    from the other arguments (the web tools' loop brings its own,
    `translate/server_tool_stream.py`)."""
    message_id = new_message_id()
    translator = translator or StreamTranslator(
        requested_model=requested_model,
        message_id=message_id,
        stop_sequences=stop_sequences,
        target=target,
    )
    request_id = request[LOG].request_id
    source = chunks if chunk_filter is None else filtered(chunks, chunk_filter)
    writer = _SseWriter(request, translator)
    running = request.app[STREAMS]
    running.add(writer)
    writer.start_heartbeat(ping_interval)
    loop = asyncio.get_running_loop()
    ends = loop.time() + deadlines.total
    began = False
    sent: list[Event] = []
    try:
        try:
            try:
                async with asyncio.timeout_at(
                    min(ends, loop.time() + deadlines.first_byte)
                ) as limit:
                    async for chunk in source:
                        began = True
                        limit.reschedule(min(ends, loop.time() + deadlines.idle))
                        if events := translator.feed(chunk):
                            if keep is not None:
                                sent += events
                            await writer.send(events)
                        if translator.stopped:
                            break  # a stop sequence the upstream ignored: end now, close it
            except TimeoutError:
                raise deadlines.error(began, loop.time() >= ends) from None
            if not translator.upstream_finished:
                raise errors.IncompleteAnswerError(
                    "the upstream's stream ended without a finish_reason: the answer may be cut off"
                )
        except _ClientGone:
            raise
        except asyncio.CancelledError:
            if writer.stopping is None:  # the client went away: aiohttp cancelled us
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            if writer.response is None:
                raise writer.stopping from None
            await writer.send(translator.abort(writer.stopping.error_type, writer.stopping.message))
        except errors.ProxyError as exc:
            if writer.response is None:
                raise
            logger.warning("upstream failed mid-stream: %s", exc.message)
            await writer.send(translator.abort(exc.error_type, exc.message))
        except Exception as exc:
            if writer.response is None:
                raise
            logger.exception("unexpected error mid-stream [%s]", request_id)
            await writer.send(
                translator.abort("api_error", f"internal error in claude-proxy: {exc}")
            )
        else:
            final = record_usage(request, translator.finish())
            if (
                keep is not None
                and (message := streamed_message(message_id, sent + final)) is not None
            ):
                await keep(message)
            await writer.send(final)
    except _ClientGone:
        logger.info("client went away mid-stream [%s]; upstream request cancelled", request_id)
    finally:
        running.discard(writer)
        await writer.stop_heartbeat()
        await close_stream(source)  # the provider's filter, when there is one
        await close_stream(chunks)  # the upstream request
    assert writer.response is not None  # every path above has written
    return writer.response


def record_usage(request: web.Request, events: list[Event]) -> list[Event]:
    """Remember the final usage (in `message_delta`) for the request log."""
    for name, data in events:
        if name == "message_delta" and isinstance(data.get("usage"), dict):
            request[LOG].usage = data["usage"]
    return events


async def filtered(
    chunks: AsyncIterator[dict[str, Any]], chunk_filter: ChunkFilter
) -> AsyncIterator[dict[str, Any]]:
    """The upstream's chunks through a provider's filter."""
    async for chunk in chunks:
        for out in chunk_filter.feed(chunk):
            yield out
    for out in chunk_filter.finish():
        yield out
