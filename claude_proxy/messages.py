"""`POST /v1/messages` and `POST /v1/messages/count_tokens`.

A request flows: JSON body -> `validate_request` -> `map_model` -> `to_openai_request` ->
upstream -> `to_anthropic_message` (JSON) or `StreamTranslator` (SSE). See
docs/architecture.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from claude_proxy import errors
from claude_proxy.model_map import ModelChoice, map_model
from claude_proxy.providers import ChunkFilter, ProviderOptions, quirks_for
from claude_proxy.settings import Settings
from claude_proxy.state import CATALOG, ROUTE, SETTINGS, STREAMED, UPSTREAM
from claude_proxy.stream_writer import write_stream
from claude_proxy.translate.request import (
    to_openai_request,
    validate_count_tokens_request,
    validate_request,
)
from claude_proxy.translate.response import to_anthropic_message

logger = logging.getLogger(__name__)


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise errors.InvalidRequestError("request body is empty: expected a JSON object")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise errors.InvalidRequestError(f"request body is not valid JSON: {exc}") from exc


def choose_model(request: web.Request, requested: str) -> ModelChoice:
    choice = map_model(requested, request.app[SETTINGS], request.app[CATALOG])
    request[ROUTE] = f"{requested} -> {choice.model}"
    return choice


def provider_options(settings: Settings) -> ProviderOptions:
    return ProviderOptions(
        process_newlines=settings.process_newlines,
        preserve_openai_newlines=settings.preserve_openai_newlines,
    )


async def handle_messages(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    validate_request(body)
    settings = request.app[SETTINGS]
    choice = choose_model(request, body["model"])
    target = request.app[CATALOG].target(choice.model, choice.provider)
    quirks = quirks_for(target, provider_options(settings))
    openai_request = quirks.prepare_request(to_openai_request(body, target), body)
    stop_sequences = body.get("stop_sequences") or None
    upstream = request.app[UPSTREAM]
    if body.get("stream"):
        request[STREAMED] = True
        chunks = upstream.stream(openai_request)
        chunk_filter = quirks.filter_stream(body)
        return await write_stream(
            request,
            chunks if chunk_filter is None else filtered(chunks, chunk_filter),
            requested_model=body["model"],
            stop_sequences=stop_sequences,
            ping_interval=settings.ping_interval,
        )
    response = quirks.fix_response(await upstream.complete(openai_request), body)
    message = to_anthropic_message(
        response, requested_model=body["model"], stop_sequences=stop_sequences
    )
    return web.json_response(message)


async def filtered(
    chunks: AsyncIterator[dict[str, Any]], chunk_filter: ChunkFilter
) -> AsyncIterator[dict[str, Any]]:
    """The upstream's chunks through a provider's filter; closing this closes the upstream."""
    try:
        async for chunk in chunks:
            for out in chunk_filter.feed(chunk):
                yield out
        for out in chunk_filter.finish():
            yield out
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def handle_count_tokens(request: web.Request) -> web.Response:
    body = await read_json(request)
    validate_count_tokens_request(body)
    choice = choose_model(request, body["model"])
    catalog = request.app[CATALOG]
    target = catalog.target(choice.model, choice.provider)
    openai_request = to_openai_request({**body, "max_tokens": 1, "stream": False}, target)
    try:
        count = await catalog.count_tokens(openai_request)
    except errors.ProxyError:
        raise
    except Exception as exc:
        logger.warning("token counting failed for %s: %s", choice.model, exc)
        raise errors.ApiError(f"could not count tokens for {choice.model}: {exc}") from exc
    return web.json_response({"input_tokens": count})
