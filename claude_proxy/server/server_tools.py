"""The loop of a request whose model may use Anthropic's web tools, run by the proxy.

Each round sends the conversation so far to the upstream (`translate/server_tools.py` turns
the web tools into function tools and their blocks into calls and results); when the model
calls `web_search` or `web_fetch`, the proxy runs it (`web_tools/`), appends the
`server_tool_use` and result blocks to the answer, and sends the next round. The loop ends
when the model answers without calling them, when it calls a tool the client runs (then
`stop_reason` is `tool_use`, as usual), or after `MAX_ROUNDS` (`pause_turn`: the client
sends the turn back to continue, as with Anthropic). All rounds make one answer: one JSON
message, or one SSE message (`translate/server_tool_stream.py`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from claude_proxy.model_map import ModelChoice
from claude_proxy.providers import Quirks
from claude_proxy.server.keys import LOG, SETTINGS, UPSTREAM
from claude_proxy.server.stream_writer import MODEL_HEADER, Deadlines, filtered, write_stream
from claude_proxy.server.translation import off_loop, translate
from claude_proxy.settings import Settings
from claude_proxy.translate.citation_stream import cite_content
from claude_proxy.translate.citations import numbered_results, results_in
from claude_proxy.translate.fetchable_urls import admits, fetchable_urls, in_context, result_urls
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.translate.server_tool_blocks import (
    error_block,
    fetch_result_block,
    search_result_block,
)
from claude_proxy.translate.server_tool_stream import ServerToolStream, results, round_end
from claude_proxy.translate.server_tools import (
    ServerTool,
    as_server_calls,
    check_server_tools,
    has_client_calls,
    server_tools_of,
    upstream_body,
)
from claude_proxy.translate.target import Target
from claude_proxy.translate.usage import count_of
from claude_proxy.translate.web_results import WebToolFailure
from claude_proxy.upstream.base import close_stream
from claude_proxy.web_tools.backends import missing_setting, search_backend
from claude_proxy.web_tools.fetch import FetchRules, fetch_page
from claude_proxy.web_tools.search import Query

logger = logging.getLogger(__name__)

Block = dict[str, Any]
MAX_ROUNDS = 6
MAX_QUERY_CHARS = 400
TOKENS_TO_CHARS = 4
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class WebToolRunner:
    """Runs the model's calls of one request's web tools, counting uses against `max_uses`."""

    def __init__(
        self, settings: Settings, tools: dict[str, ServerTool], messages: list[Any]
    ) -> None:
        self.settings = settings
        self.tools = tools
        self.fetchable = {
            name: fetchable_urls(messages, tool.url_sources)
            for name, tool in tools.items()
            if tool.kind == "web_fetch"
        }
        """The URLs each web_fetch tool may fetch: those in the conversation so far."""
        self.used: collections.Counter[str] = collections.Counter()
        self.requests = {"web_search_requests": 0, "web_fetch_requests": 0}
        self.details: dict[str, str] = {}
        """What the model is told about a failure, by tool_use_id, beyond its code."""

    async def run_all(self, calls: list[Block]) -> list[Block]:
        names = {call["id"]: call["name"] for call in calls}
        blocks = list(await asyncio.gather(*(self.run(call) for call in calls)))
        for name, tool in self.tools.items():
            if tool.kind != "web_fetch":
                continue
            rule = (tool.url_sources or {}).get("server_tool_results")
            for block in blocks:
                if admits(rule, names.get(block["tool_use_id"], "")):
                    self.fetchable[name] |= result_urls(block)
        return blocks

    async def run(self, call: Block) -> Block:
        tool = self.tools[call["name"]]
        self.used[tool.name] += 1
        try:
            if tool.max_uses is not None and self.used[tool.name] > tool.max_uses:
                raise WebToolFailure("max_uses_exceeded", f"max_uses is {tool.max_uses}")
            if tool.kind == "web_search":
                return await self.search(call, tool)
            return await self.fetch(call, tool)
        except WebToolFailure as exc:
            logger.info("%s failed: %s", tool.kind, exc.code)
            self.details[call["id"]] = exc.detail
            return error_block(tool.kind, call["id"], exc.code)
        except Exception:
            # A bug of ours must not cost the client its answer: the model hears "unavailable".
            logger.exception("%s failed unexpectedly", tool.kind)
            return error_block(tool.kind, call["id"], "unavailable")

    async def search(self, call: Block, tool: ServerTool) -> Block:
        query = call["input"].get("query")
        if not isinstance(query, str) or not query.strip():
            raise WebToolFailure("invalid_tool_input", "the input needs a query string")
        if len(query) > MAX_QUERY_CHARS:
            raise WebToolFailure("query_too_long", f"at most {MAX_QUERY_CHARS} characters")
        search = search_backend(self.settings)
        if search is None:
            raise WebToolFailure("unavailable", missing_setting(self.settings) or "")
        self.requests["web_search_requests"] += 1
        hits = await search(
            Query(
                text=query,
                allowed_domains=tool.allowed_domains,
                blocked_domains=tool.blocked_domains,
                user_location=tool.user_location,
            )
        )
        return search_result_block(call["id"], hits)

    async def fetch(self, call: Block, tool: ServerTool) -> Block:
        url = call["input"].get("url")
        if not isinstance(url, str) or not url.strip():
            raise WebToolFailure("invalid_tool_input", "the input needs a url string")
        if not in_context(url.strip(), self.fetchable[tool.name]):
            raise WebToolFailure(
                "url_not_in_prior_context",
                "only URLs from the user, tool results or search results can be fetched",
            )
        limit = tool.max_content_tokens
        rules = FetchRules(
            allowed_domains=tool.allowed_domains,
            blocked_domains=tool.blocked_domains,
            allow_private=self.settings.web_fetch_allow_private,
            max_chars=limit * TOKENS_TO_CHARS if limit else None,
        )
        self.requests["web_fetch_requests"] += 1
        return fetch_result_block(call["id"], await fetch_page(url.strip(), rules))


def round_body(
    body: dict[str, Any], content: list[Block], number: int, runner: WebToolRunner
) -> dict[str, Any]:
    """The request of round `number`: the client's, with this answer's blocks so far as the
    last assistant turn; the last round offers no web tools, so it must answer."""
    if content:
        body = {**body, "messages": [*body["messages"], {"role": "assistant", "content": content}]}
    return upstream_body(
        body,
        offer_tools=number < MAX_ROUNDS - 1,
        continuing=number > 0,
        details=runner.details,
    )


def round_request(
    body: dict[str, Any],
    content: list[Block],
    number: int,
    runner: WebToolRunner,
    target: Target,
    quirks: Quirks,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Round `number`'s body and its upstream request."""
    this_round = round_body(body, content, number, runner)
    return this_round, translate(this_round, target, quirks)


async def answer_with_web_tools(
    request: web.Request, body: dict[str, Any], choice: ModelChoice, target: Target, quirks: Quirks
) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    check_server_tools(body)
    runner = WebToolRunner(settings, server_tools_of(body), body["messages"])
    if body.get("stream"):
        request[LOG].streamed = True
        stream = ServerToolStream(
            requested_model=body["model"],
            server_names=set(runner.tools),
            stop_sequences=body.get("stop_sequences") or None,
            target=target,
            first_result=results_in(body["messages"]) + 1,
        )
        return await write_stream(
            request,
            rounds(request, body, target, quirks, runner, stream),
            requested_model=body["model"],
            stop_sequences=body.get("stop_sequences") or None,
            ping_interval=settings.ping_interval,
            deadlines=Deadlines.of(settings),
            target=target,
            translator=stream,
        )
    try:
        async with asyncio.timeout(settings.request_timeout):
            message = await complete_rounds(request, body, target, quirks, runner)
    except TimeoutError:
        raise Deadlines.of(settings).error(began=False, ran_out=True) from None
    request[LOG].usage = message["usage"]
    return web.json_response(message, headers={MODEL_HEADER: choice.model})


async def complete_rounds(
    request: web.Request,
    body: dict[str, Any],
    target: Target,
    quirks: Quirks,
    runner: WebToolRunner,
) -> dict[str, Any]:
    upstream = request.app[UPSTREAM]
    content: list[Block] = []
    usage = dict.fromkeys(USAGE_KEYS, 0)
    first_result = results_in(body["messages"]) + 1
    size = len(await request.read())
    for number in range(MAX_ROUNDS):
        this_round, openai_request = await off_loop(
            size, round_request, body, content, number, runner, target, quirks
        )
        completion = await upstream.complete(openai_request)
        message = to_anthropic_message(
            quirks.fix_response(completion, this_round),
            requested_model=body["model"],
            stop_sequences=body.get("stop_sequences") or None,
            target=target,
        )
        for key in USAGE_KEYS:
            usage[key] += count_of(message["usage"].get(key))
        turn, calls = as_server_calls(message["content"], runner.tools)
        content += cite_content(turn, numbered_results(content, first_result))
        if not calls:
            break
        content += await runner.run_all(calls)
        if has_client_calls(turn):
            message["stop_reason"] = "tool_use"
            break
        message["stop_reason"] = "pause_turn"
    return {**message, "content": content, "usage": {**usage, "server_tool_use": runner.requests}}


async def rounds(
    request: web.Request,
    body: dict[str, Any],
    target: Target,
    quirks: Quirks,
    runner: WebToolRunner,
    stream: ServerToolStream,
) -> AsyncIterator[dict[str, Any]]:
    """The chunks of every round, with the markers `ServerToolStream` turns into the end of
    a round and the result blocks."""
    upstream = request.app[UPSTREAM]
    size = len(await request.read())
    for number in range(MAX_ROUNDS):
        this_round, openai_request = await off_loop(
            size, round_request, body, stream.content, number, runner, target, quirks
        )
        chunks = upstream.stream(openai_request)
        chunk_filter = quirks.filter_stream(this_round)
        source = chunks if chunk_filter is None else filtered(chunks, chunk_filter)
        try:
            async for chunk in source:
                yield chunk
        finally:
            await close_stream(source)
            await close_stream(chunks)
        if not stream.upstream_finished:
            return  # the writer reports the cut-off answer
        yield round_end()
        calls = stream.round_calls
        if not calls:
            return
        yield results(await runner.run_all(calls), runner.requests)
        if stream.client_calls:
            stream.set_stop_reason("tool_use")
            return
    stream.set_stop_reason("pause_turn")
