"""`POST /v1/messages` and `POST /v1/messages/count_tokens`.

A request reads top to bottom: map the model once, validate, translate, send, answer. Models
that map to Anthropic skip the middle: Anthropic judges and answers its own requests
(`relay_to_anthropic`). See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from claude_proxy import errors
from claude_proxy.model_map import ModelChoice, map_model
from claude_proxy.providers import ProviderOptions, Quirks, quirks_for
from claude_proxy.providers.base import chained
from claude_proxy.server.body_guard import check_tool_schemas, read_body
from claude_proxy.server.fallbacks import candidates, may_fall_back
from claude_proxy.server.keys import (
    ANTHROPIC,
    COOLDOWNS,
    LOG,
    OUTPUT_LIMITS,
    SETTINGS,
    THREADS,
    UPSTREAM,
)
from claude_proxy.server.server_tools import answer_with_web_tools
from claude_proxy.server.stream_writer import (
    MODEL_HEADER,
    SSE_HEADERS,
    Deadlines,
    write_stream,
)
from claude_proxy.server.thread_store import ThreadTurn, thread_turn
from claude_proxy.server.translation import off_loop, translate
from claude_proxy.settings import Settings
from claude_proxy.translate.request import (
    requested_model,
    to_openai_request,
    validate_count_tokens_request,
    validate_request,
)
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.translate.server_tools import upstream_body, uses_server_tools
from claude_proxy.translate.structured import TextAnswerStream, answer_tool, with_text_answer
from claude_proxy.translate.target import Target
from claude_proxy.translate.threads import read_thread
from claude_proxy.upstream.anthropic_passthrough import Reply

logger = logging.getLogger(__name__)

Relay = Callable[[dict[str, Any], bytes, str, Mapping[str, str]], Awaitable[Reply]]


async def handle_messages(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    choice = choose_model(request, body)
    if choice.provider == "anthropic":
        # Anthropic keeps its own message threads: `thread` goes to it as it came.
        return await relay_to_anthropic(request, body, choice, request.app[ANTHROPIC].messages)
    thread = read_thread(body)
    if thread is None:
        return await serve(request, body, choice)
    size = len(await request.read())
    async with thread_turn(request.app[THREADS], body, thread, size) as turn:
        return await serve(request, turn.request, choice, turn)


async def serve(
    request: web.Request, body: dict[str, Any], choice: ModelChoice, turn: ThreadTurn | None = None
) -> web.StreamResponse:
    """Validate the whole request, and answer it from `choice`'s model or its fallbacks."""
    validate_request(body)
    request[LOG].count(body)
    cooldowns = request.app[COOLDOWNS]
    chain = candidates(choice, request.app[SETTINGS], request.app[UPSTREAM], cooldowns)
    for choice in chain:
        try:
            return await answer(request, body, choice, turn)
        except errors.ProxyError as exc:
            cooldowns.note(choice.model, exc)
            if choice is chain[-1] or not may_fall_back(exc):
                raise
            logger.warning(
                "%s failed before the first byte (%s); falling back [%s]",
                choice.model,
                exc.error_type,
                request[LOG].request_id,
            )
            request[LOG].failed.append(choice.model)
    raise AssertionError("unreachable: the last candidate returns or raises")


async def answer(
    request: web.Request, body: dict[str, Any], choice: ModelChoice, turn: ThreadTurn | None = None
) -> web.StreamResponse:
    """Translate, send to `choice`'s model, and answer: as SSE or as one JSON message.
    A message thread's `turn` keeps the message before the client has it."""
    request[LOG].choice = choice
    upstream = request.app[UPSTREAM]
    limits = request.app[OUTPUT_LIMITS]
    target = limits.applied(await upstream.target(choice.model, choice.provider))
    quirks = quirks_for(target, provider_options(request.app[SETTINGS]))
    if uses_server_tools(body):
        return await answer_with_web_tools(request, body, choice, target, quirks)
    # aiohttp keeps the body: this reads nothing again
    size = turn.size if turn is not None else len(await request.read())
    openai_request = await off_loop(size, translate, body, target, quirks)
    asked = openai_request.get("max_tokens")
    sending = send(request, body, choice, target, quirks, openai_request, turn)
    del openai_request  # a stream lets go of it once it is sent (memory per stream)
    try:
        return await sending
    except errors.MaxTokensTooLargeError as exc:
        if not isinstance(asked, int) or exc.limit >= asked:
            raise
        if exc.per_model:
            limits.learn(choice.model, exc.limit)
        # Nothing reached the client yet (the stream writer holds the status for the first
        # chunk), so the one retry is invisible to it. The translation is the same again.
        retried = {**await off_loop(size, translate, body, target, quirks), "max_tokens": exc.limit}
        return await send(request, body, choice, target, quirks, retried, turn)


async def send(
    request: web.Request,
    body: dict[str, Any],
    choice: ModelChoice,
    target: Target,
    quirks: Quirks,
    openai_request: dict[str, Any],
    turn: ThreadTurn | None,
) -> web.StreamResponse:
    """Send the translated request and answer the client: as SSE or as one JSON message.
    A message thread's `turn` keeps the message before the client has it."""
    settings = request.app[SETTINGS]
    keep = turn.keep if turn is not None else None
    upstream = request.app[UPSTREAM]
    stop_sequences = body.get("stop_sequences") or None
    forced = answer_tool(body, target)  # structured output through a forced tool call
    if body.get("stream"):
        request[LOG].streamed = True
        chunks = upstream.stream(openai_request)
        del openai_request  # the stream holds it until it is sent, not for its whole length
        return await write_stream(
            request,
            chunks,
            chunk_filter=chained(
                quirks.filter_stream(body), TextAnswerStream(forced) if forced else None
            ),
            requested_model=body["model"],
            stop_sequences=stop_sequences,
            ping_interval=settings.ping_interval,
            deadlines=Deadlines.of(settings),
            target=target,
            keep=keep,
        )
    try:
        async with asyncio.timeout(settings.request_timeout):
            completion = await upstream.complete(openai_request)
    except TimeoutError:
        raise Deadlines.of(settings).error(began=False, ran_out=True) from None
    response = quirks.fix_response(completion, body)
    if forced is not None:
        response = with_text_answer(response, forced)
    message = to_anthropic_message(
        response, requested_model=body["model"], stop_sequences=stop_sequences, target=target
    )
    request[LOG].usage = message["usage"]
    if keep is not None:
        await keep(message)
    return web.json_response(message, headers={MODEL_HEADER: choice.model})


async def handle_count_tokens(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    choice = choose_model(request, body)
    if choice.provider == "anthropic":
        return await relay_to_anthropic(request, body, choice, request.app[ANTHROPIC].count_tokens)
    validate_count_tokens_request(body)
    upstream = request.app[UPSTREAM]
    target = await upstream.target(choice.model, choice.provider)
    openai_request = await off_loop(len(await request.read()), counted, body, target)
    try:
        count = await upstream.count_tokens(openai_request)
    except errors.ProxyError:
        raise
    except Exception as exc:
        logger.warning("token counting failed for %s: %s", choice.model, exc)
        raise errors.ApiError(f"could not count tokens for {choice.model}: {exc}") from exc
    return web.json_response({"input_tokens": count})


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400 naming what is wrong (body_guard.py)."""
    raw = await request.read()
    body = await off_loop(len(raw), read_body, raw)
    check_tool_schemas(body)
    return body


def counted(body: dict[str, Any], target: Target) -> dict[str, Any]:
    """The upstream request count_tokens counts: what /v1/messages would send."""
    if uses_server_tools(body):
        body = upstream_body(body)
    return to_openai_request({**body, "max_tokens": 1, "stream": False}, target)


def choose_model(request: web.Request, body: Any) -> ModelChoice:
    """Which upstream model serves the request, decided once, before validation, because
    requests for Anthropic's own models are not ours to validate."""
    choice = map_model(requested_model(body), request.app[SETTINGS], request.app[UPSTREAM])
    request[LOG].choice = choice
    return choice


def provider_options(settings: Settings) -> ProviderOptions:
    return ProviderOptions(
        process_newlines=settings.process_newlines,
        preserve_openai_newlines=settings.preserve_openai_newlines,
        openai_cache_keys=settings.sends_prompt_cache_key(),
    )


async def relay_to_anthropic(
    request: web.Request, body: dict[str, Any], choice: ModelChoice, send: Relay
) -> web.StreamResponse:
    """Anthropic's own answer, relayed as it comes (upstream/anthropic_passthrough.py).

    The body is neither validated nor translated: Anthropic judges it, so nothing is lost.
    """
    log = request[LOG]
    log.count(body)
    reply = await send(body, await request.read(), choice.model, request.headers)
    if reply.events is None:
        log.usage = reply.usage
        headers = {**reply.headers, MODEL_HEADER: choice.model}
        return web.Response(status=reply.status, body=reply.body, headers=headers)
    log.streamed = True
    headers = {**SSE_HEADERS, "request-id": log.request_id, MODEL_HEADER: choice.model}
    response = web.StreamResponse(headers=headers)
    try:
        await response.prepare(request)
        async for data in reply.events:
            await response.write(data)
    except ConnectionError:
        logger.info("client went away mid-stream [%s]; upstream closed", log.request_id)
    finally:
        await reply.events.aclose()
        log.usage = reply.usage
    return response
