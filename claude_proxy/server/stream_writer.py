"""Writes an upstream chunk stream to the client as Anthropic SSE.

The HTTP status is decided by the first upstream chunk: an upstream that fails before it
(401, 429, 503, ...) becomes an HTTP error the client can retry on, not an `error` event
behind a 200. A first chunk that takes longer than the ping interval (a reasoning model
thinking) starts the stream anyway, with pings while the upstream is silent, so the client's
idle watchdog stays calm. After the 200, a failure ends the stream with an SSE `error` event.
A client that goes away cancels this handler (aiohttp's handler cancellation), and the
`finally` closes the upstream request, so its tokens stop being billed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from claude_proxy import errors
from claude_proxy.providers import ChunkFilter
from claude_proxy.server.keys import LOG
from claude_proxy.translate.events import Event
from claude_proxy.translate.sse import encode_events
from claude_proxy.translate.stream import StreamTranslator
from claude_proxy.translate.target import Target
from claude_proxy.upstream.base import close_stream

logger = logging.getLogger(__name__)

PING: Event = ("ping", {"type": "ping"})
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


class _ClientGone(Exception):
    pass


async def write_stream(
    request: web.Request,
    chunks: AsyncIterator[dict[str, Any]],
    *,
    chunk_filter: ChunkFilter | None = None,
    requested_model: str,
    stop_sequences: list[str] | None,
    ping_interval: float,
    target: Target | None = None,
) -> web.StreamResponse:
    translator = StreamTranslator(
        requested_model=requested_model, stop_sequences=stop_sequences, target=target
    )
    request_id = request[LOG].request_id
    source = chunks if chunk_filter is None else filtered(chunks, chunk_filter)
    response: web.StreamResponse | None = None
    pending: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(anext(source))

    async def send(events: list[Event]) -> web.StreamResponse:
        nonlocal response
        if response is None:
            response = web.StreamResponse(headers={**SSE_HEADERS, "request-id": request_id})
            await response.prepare(request)
            events = translator.start() + events
        if events:
            try:
                await response.write(encode_events(events))
            except ConnectionError as exc:
                raise _ClientGone from exc
        return response

    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=ping_interval)
            if not done:
                await send([PING] if response is not None else [])
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                return await send(record_usage(request, translator.finish()))
            except errors.ProxyError as exc:
                if response is None:
                    raise
                logger.warning("upstream failed mid-stream: %s", exc.message)
                return await send(translator.abort(exc.error_type, exc.message))
            except Exception as exc:
                if response is None:
                    raise
                logger.exception("unexpected error mid-stream [%s]", request_id)
                return await send(
                    translator.abort("api_error", f"internal error in claude-proxy: {exc}")
                )
            await send(translator.feed(chunk))
            pending = asyncio.ensure_future(anext(source))
    except _ClientGone:
        logger.info("client went away mid-stream [%s]; upstream request cancelled", request_id)
        assert response is not None
        return response
    finally:
        if not pending.done():
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending
        await close_stream(source)  # the provider's filter, when there is one
        await close_stream(chunks)  # the upstream request


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
