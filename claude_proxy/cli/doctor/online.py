"""`claude-proxy doctor --online`: one small real request per configured model.

Each request goes the whole way, as Claude Code's would: through the proxy (started here on a
free loopback port, in this process), streamed, with one tool offered. The check reports the
latency and whether the model's tool call came back as a `tool_use` block.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from claude_proxy.cli.doctor.check import Check
from claude_proxy.model_map import Alias, ModelChoice
from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.settings import Settings

if TYPE_CHECKING:
    from claude_proxy.upstream.engines import Engines

REQUEST_TIMEOUT = 120.0
TOOL = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city's name."}},
        "required": ["city"],
    },
}
PROMPT = "What is the weather in Paris right now? Call the get_weather tool; do not guess."
FIXES = {
    401: "Check the provider's key (`claude-proxy doctor` names where it comes from).",
    403: "The key has no access to this model: check the provider's account.",
    404: "Check the model name (`claude-proxy models` lists the registry's), or its prefix.",
    429: "The provider's rate limit or quota: wait, or check the account's billing.",
}


async def check_online(
    settings: Settings, upstream: Engines, choices: Mapping[Alias, ModelChoice]
) -> list[Check]:
    first_alias: dict[str, Alias] = {}
    for alias, choice in choices.items():
        first_alias.setdefault(choice.model, alias)
    secret = settings.proxy_auth_token
    token = secret.get_secret_value() if secret is not None else "doctor"
    server_log = logging.getLogger("claude_proxy")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)  # the checks report what the log would say
    try:
        async with serving_on_loopback(create_app(settings, upstream=upstream)) as base:
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                checks = [
                    await check_model_online(session, f"{base}/v1/messages", alias, model, token)
                    for model, alias in first_alias.items()
                ]
        search = await check_search_online(settings)
        return checks if search is None else [*checks, search]
    finally:
        server_log.setLevel(level)


async def check_search_online(settings: Settings) -> Check | None:
    """One query to the web search backend, when there is one."""
    from claude_proxy.translate.web_results import WebToolFailure
    from claude_proxy.web_tools.backends import backend_name, search_backend
    from claude_proxy.web_tools.search import Query

    search = search_backend(settings)
    if search is None:
        return None
    name = f"online web search ({backend_name(settings)})"
    started = time.perf_counter()
    try:
        hits = await search(Query("claude-proxy", count=3))
    except WebToolFailure as exc:
        fix = "Check the backend's key and URL (docs/web-tools.md)."
        if exc.code == "too_many_requests":
            fix = "The backend's rate limit or quota: wait, or check its plan."
        return Check(name, "fail", f"{exc.code}: {exc.detail}", fix)
    seconds = time.perf_counter() - started
    if not hits:
        return Check(
            name, "warn", f"no results in {seconds:.1f} s", "Check the backend's settings."
        )
    return Check(name, "pass", f"{len(hits)} results in {seconds:.1f} s")


async def check_model_online(
    session: aiohttp.ClientSession, url: str, alias: str, model: str, token: str
) -> Check:
    name = f"online {alias}"
    body = {
        "model": alias,
        "max_tokens": 512,
        "stream": True,
        "tools": [TOOL],
        "messages": [{"role": "user", "content": PROMPT}],
    }
    started = time.perf_counter()
    try:
        async with session.post(url, json=body, headers={"x-api-key": token}) as response:
            if response.status != 200:
                error = (await response.json(content_type=None)).get("error", {})
                return Check(
                    name,
                    "fail",
                    f"{model}: {response.status} {error.get('type')}: {error.get('message')}",
                    FIXES.get(response.status, "See docs/troubleshooting.md for this error."),
                )
            events = [event async for event in sse_events(response)]
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check(
            name, "fail", f"{model}: {type(exc).__name__}: {exc}", "Check the network and base URL."
        )
    seconds = time.perf_counter() - started
    return judge(name, model, events, seconds)


async def sse_events(response: aiohttp.ClientResponse) -> Any:
    async for raw in response.content:
        line = raw.decode("utf-8", "replace").strip()
        if line.startswith("data:"):
            yield json.loads(line[5:])


def judge(name: str, model: str, events: list[dict[str, Any]], seconds: float) -> Check:
    """What a stream of Anthropic events says about the model's tool calling."""
    errors = [event["error"] for event in events if event.get("type") == "error"]
    if errors:
        return Check(
            name,
            "fail",
            f"{model}: the stream ended with {errors[0].get('type')}: {errors[0].get('message')}",
            "See docs/troubleshooting.md; the proxy's log has the upstream's message.",
        )
    tools = [
        event["content_block"]["name"]
        for event in events
        if event.get("type") == "content_block_start"
        and event.get("content_block", {}).get("type") == "tool_use"
    ]
    arguments = "".join(
        event["delta"].get("partial_json", "")
        for event in events
        if event.get("type") == "content_block_delta"
        and event.get("delta", {}).get("type") == "input_json_delta"
    )
    took = f"in {seconds:.2f} s"
    if not tools:
        return Check(
            name,
            "warn",
            f"{model} answered in text, not with a tool call ({took})",
            "Claude Code's tools may not run with this model: pick one that supports tools "
            "(`claude-proxy models` shows which do).",
        )
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return Check(
            name,
            "warn",
            f"{model} called {tools[0]}, but with arguments that are not JSON: {arguments!r}",
            "This model's tool calls may fail in Claude Code; try another model.",
        )
    return Check(name, "pass", f"{model} called {tools[0]}({json.dumps(parsed)}) {took}")
