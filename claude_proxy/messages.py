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
from claude_proxy.state import (
    ANTHROPIC,
    CATALOG,
    MESSAGE_COUNT,
    REQUEST_ID,
    ROUTE,
    SETTINGS,
    STREAMED,
    TOOL_COUNT,
    UPSTREAM,
    USAGE,
)
from claude_proxy.stream_writer import SSE_HEADERS, write_stream
from claude_proxy.translate.request import (
    to_openai_request,
    validate_count_tokens_request,
    validate_request,
)
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.upstream.anthropic_passthrough import COUNT_TOKENS_PATH, MESSAGES_PATH, usage_of

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
    choice = early_choice(request, body)
    if choice is not None and choice.provider == "anthropic":
        return await relay_to_anthropic(request, body, choice, MESSAGES_PATH)
    validate_request(body)
    request[MESSAGE_COUNT] = len(body["messages"])
    request[TOOL_COUNT] = len(body.get("tools") or [])
    settings = request.app[SETTINGS]
    choice = choice or choose_model(request, body["model"])
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
            target=target,
        )
    response = quirks.fix_response(await upstream.complete(openai_request), body)
    message = to_anthropic_message(
        response, requested_model=body["model"], stop_sequences=stop_sequences, target=target
    )
    request[USAGE] = message["usage"]
    return web.json_response(message)


def early_choice(request: web.Request, body: Any) -> ModelChoice | None:
    """The model mapping, taken before validation: Anthropic's requests skip our validation.

    None when the body has no model name to map; validation then says what is wrong.
    """
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return None
    return choose_model(request, body["model"])


async def relay_to_anthropic(
    request: web.Request, body: dict[str, Any], choice: ModelChoice, path: str
) -> web.StreamResponse:
    """Anthropic's own answer, relayed as it comes (upstream/anthropic_passthrough.py).

    The body is neither validated nor translated: Anthropic judges it, so nothing is lost.
    """
    if isinstance(body.get("messages"), list):
        request[MESSAGE_COUNT] = len(body["messages"])
        request[TOOL_COUNT] = len(body.get("tools") or [])
    raw = await request.read()
    reply = await request.app[ANTHROPIC].send(path, body, raw, choice.model, request.headers)
    if reply.events is None:
        if reply.status == 200 and path == MESSAGES_PATH:
            request[USAGE] = usage_of(reply.body)
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
    request[STREAMED] = True
    response = web.StreamResponse(headers={**SSE_HEADERS, "request-id": request[REQUEST_ID]})
    try:
        await response.prepare(request)
        async for data in reply.events:
            await response.write(data)
    except ConnectionError:
        logger.info("client went away mid-stream [%s]; upstream closed", request[REQUEST_ID])
    finally:
        await reply.events.aclose()
        request[USAGE] = reply.events.usage
    return response


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


async def handle_count_tokens(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    choice = early_choice(request, body)
    if choice is not None and choice.provider == "anthropic":
        return await relay_to_anthropic(request, body, choice, COUNT_TOKENS_PATH)
    validate_count_tokens_request(body)
    choice = choice or choose_model(request, body["model"])
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
