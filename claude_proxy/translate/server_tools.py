"""Anthropic's web server tools, emulated: what the upstream model is offered, and how a
conversation holding their blocks is told to it.

The upstream sees `web_search` and `web_fetch` as ordinary function tools. The client sees
Anthropic's blocks: `server_tool_use` for the call and a `*_tool_result` block after it, in
the same assistant turn. Going upstream, such a turn is split where each result block sits:

    assistant [text, server_tool_use S, web_search_tool_result S, text]
    ->  assistant [text, tool_use U]   user [tool_result U: the results as text]
        assistant [text]

where S is `srvtoolu_` + U, the upstream's own id for the call. So the next round of the
proxy's loop and a later request carrying the same history are
translated by one rule (`upstream_body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.server_tool_blocks import (
    RESULT_TYPES,
    result_text,
    search_items,
    server_tool_id,
    server_tool_use,
    upstream_tool_id,
)

Block = dict[str, Any]

KINDS = {"web_search_": "web_search", "web_fetch_": "web_fetch"}
DESCRIPTIONS = {
    "web_search": (
        "Search the web for current information. Returns result titles, URLs and text. "
        "Use it for anything recent or that you are unsure of; cite the URLs you use."
    ),
    "web_fetch": "Fetch a web page or document by its URL and return its text.",
}
PARAMETERS = {
    "web_search": ("query", "The search query."),
    "web_fetch": ("url", "The absolute http(s) URL to fetch."),
}


@dataclass(frozen=True)
class ServerTool:
    """One web tool of a request, with the limits the client set on it."""

    kind: str
    """web_search or web_fetch."""
    name: str
    max_uses: int | None = None
    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    user_location: dict[str, Any] | None = None
    max_content_tokens: int | None = None
    url_sources: dict[str, Any] | None = None
    """web_fetch: where the URLs it may fetch come from (`fetchable_urls.py`)."""


def server_tools_of(body: dict[str, Any]) -> dict[str, ServerTool]:
    """The web tools a request carries, by the name the model calls them by."""
    tools: dict[str, ServerTool] = {}
    for tool in body.get("tools") or []:
        kind = kind_of(tool)
        if kind is None:
            continue
        name = tool_name(tool, kind)
        location = tool.get("user_location")
        tools[name] = ServerTool(
            kind=kind,
            name=name,
            max_uses=positive_int(tool.get("max_uses")),
            allowed_domains=strings(tool.get("allowed_domains")),
            blocked_domains=strings(tool.get("blocked_domains")),
            user_location=location if isinstance(location, dict) else None,
            max_content_tokens=positive_int(tool.get("max_content_tokens")),
            url_sources=sources if isinstance(sources := tool.get("url_sources"), dict) else None,
        )
    return tools


def check_server_tools(body: dict[str, Any]) -> None:
    """Raise `InvalidRequestError` for a web tool Anthropic's API would refuse."""
    for index, tool in enumerate(body.get("tools") or []):
        if kind_of(tool) is None:
            continue
        path = f"tools.{index}"
        for key in ("allowed_domains", "blocked_domains"):
            value = tool.get(key)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                raise InvalidRequestError(f"{path}.{key}: expected an array of strings")
        if tool.get("allowed_domains") and tool.get("blocked_domains"):
            raise InvalidRequestError(
                f"{path}: allowed_domains and blocked_domains cannot be used together"
            )
        uses = tool.get("max_uses")
        if uses is not None and positive_int(uses) is None:
            raise InvalidRequestError(f"{path}.max_uses: expected a positive integer")
        if tool.get("user_location") is not None and not isinstance(tool["user_location"], dict):
            raise InvalidRequestError(f"{path}.user_location: expected an object")


def uses_server_tools(body: dict[str, Any]) -> bool:
    """Whether the request offers a web tool or its history holds their blocks."""
    if server_tools_of(body):
        return True
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(block, dict) and block.get("type") in RESULT_TYPES for block in content
        ):
            return True
    return False


def kind_of(tool: Any) -> str | None:
    kind = tool.get("type") if isinstance(tool, dict) else None
    if not isinstance(kind, str):
        return None
    for prefix, name in KINDS.items():
        if kind.startswith(prefix):
            return name
    return None


def positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


def function_tool(tool: ServerTool) -> Block:
    """The Anthropic custom tool the upstream is offered in place of a server tool."""
    parameter, description = PARAMETERS[tool.kind]
    text = DESCRIPTIONS[tool.kind]
    if tool.allowed_domains:
        text += " Only these domains are searched: " + ", ".join(tool.allowed_domains) + "."
    if tool.blocked_domains:
        text += " These domains are excluded: " + ", ".join(tool.blocked_domains) + "."
    return {
        "name": tool.name,
        "description": text,
        "input_schema": {
            "type": "object",
            "properties": {parameter: {"type": "string", "description": description}},
            "required": [parameter],
        },
    }


def upstream_body(
    body: dict[str, Any],
    *,
    offer_tools: bool = True,
    continuing: bool = False,
    details: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body the normal translation takes: server tools as function tools (or none, when
    `offer_tools` is false), and the history's server-tool blocks as tool calls and results.

    `continuing` is true after the proxy ran a search in this request: a `tool_choice` that
    forced the server tool (Claude Code's WebSearch forces `web_search`) has been obeyed.
    """
    tools = server_tools_of(body)
    new_tools = []
    for tool in body.get("tools") or []:
        if kind_of(tool) is None:
            new_tools.append(tool)
        elif offer_tools:
            new_tools.append(function_tool(tools[tool_name(tool, kind_of(tool) or "")]))
    rebuilt = {**body, "messages": rewrite_history(body["messages"], details or {})}
    if "tools" in body:
        rebuilt["tools"] = new_tools
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and (continuing or not offer_tools):
        forced_server_tool = choice.get("type") == "tool" and choice.get("name") in tools
        only_server_tools = choice.get("type") == "any" and not any(
            kind_of(tool) is None for tool in body.get("tools") or []
        )
        if forced_server_tool or only_server_tools:
            rebuilt["tool_choice"] = {"type": "auto"}
    if not new_tools and "tool_choice" in rebuilt:
        del rebuilt["tool_choice"]
    return rebuilt


def tool_name(tool: Block, kind: str) -> str:
    name = tool.get("name")
    return name if isinstance(name, str) and name else kind


def rewrite_history(messages: list[Any], details: Mapping[str, str]) -> list[Any]:
    out: list[Any] = []
    numbered = 0  # search results numbered so far (server_tool_blocks.py)
    for message in messages:
        content = message.get("content")
        if message.get("role") != "assistant" or not isinstance(content, list):
            out.append(message)
            continue
        current: list[Block] = []
        for block in content:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "server_tool_use":
                current.append(
                    {
                        "type": "tool_use",
                        "id": upstream_tool_id(str(block.get("id", ""))),
                        "name": block.get("name", ""),
                        "input": block.get("input") or {},
                    }
                )
            elif kind in RESULT_TYPES:
                out.append({**message, "content": current})
                call_id = str(block.get("tool_use_id", ""))
                text = result_text(block, details.get(call_id, ""), numbered + 1)
                numbered += len(search_items(block))
                upstream_id = upstream_tool_id(call_id)
                result = {"type": "tool_result", "tool_use_id": upstream_id, "content": text}
                out.append({"role": "user", "content": [result]})
                current = []
            else:
                current.append(block)
        out.append({**message, "content": current})
    return [message for message in out if message.get("content") != []]


def as_server_calls(
    content: list[Block], tools: dict[str, ServerTool]
) -> tuple[list[Block], list[Block]]:
    """An upstream turn's content with its calls of server tools turned into
    `server_tool_use` blocks; and those blocks, in order."""
    rebuilt: list[Block] = []
    calls: list[Block] = []
    for block in content:
        if block.get("type") == "tool_use" and block.get("name") in tools:
            call_id = server_tool_id(str(block.get("id", "")))
            call = server_tool_use(call_id, block["name"], block.get("input") or {})
            rebuilt.append(call)
            calls.append(call)
        else:
            rebuilt.append(block)
    return rebuilt, calls


def has_client_calls(content: list[Block]) -> bool:
    return any(block.get("type") == "tool_use" for block in content)
