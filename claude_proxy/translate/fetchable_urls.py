"""Which URLs `web_fetch` may fetch: as with Anthropic, only those already in the
conversation, so a model cannot make up a URL (one that carries the conversation out in its
query string, say) and have the proxy call it.

The sources are the tool's `url_sources` (every one when omitted): URLs in the user's own
text (`user_input`), in the results of the client's tools (`client_tool_results`), and in web
search and fetch results (`server_tool_results`). A URL matches without its fragment and
trailing slash. URLs are found in text with a pattern, not by parsing HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

Block = dict[str, Any]

URL = re.compile(r"https?://[^\s<>\"'`\\^{}|\[\]]+")
TRAILING = ".,;:!?)'\""
RESULT_TYPES = ("web_search_tool_result", "web_fetch_tool_result")


def normal(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/")


def urls_in(text: str) -> set[str]:
    return {normal(match.rstrip(TRAILING)) for match in URL.findall(text)}


def texts_of(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, dict):
                if isinstance(block.get("text"), str):
                    yield block["text"]
                if block.get("type") == "tool_result":
                    yield from texts_of(block.get("content"))


def result_urls(block: Block) -> set[str]:
    """The URLs a web_search or web_fetch result block brings in."""
    content = block.get("content")
    found: set[str] = set()
    if isinstance(content, list):
        found |= {
            normal(item["url"]) for item in content if isinstance(item, dict) and "url" in item
        }
    elif isinstance(content, dict) and isinstance(content.get("url"), str):
        found.add(normal(content["url"]))
        source = (content.get("content") or {}).get("source") or {}
        if isinstance(source, dict) and isinstance(source.get("data"), str):
            found |= urls_in(source["data"])
    return found


def admits(rule: Any, name: str) -> bool:
    """Whether a `url_sources` entry lets the results of tool `name` contribute."""
    kind = rule.get("type") if isinstance(rule, dict) else "all"
    named = (
        {tool.get("name") for tool in (rule.get("tools") or []) if isinstance(tool, dict)}
        if isinstance(rule, dict)
        else set()
    )
    return (
        kind == "all"
        or (kind == "only" and name in named)
        or (kind == "except" and name not in named)
    )


def fetchable_urls(messages: list[Any], url_sources: Any = None) -> set[str]:
    sources = url_sources if isinstance(url_sources, dict) else {}
    user_rule = sources.get("user_input", {"type": "all"})
    client_rule = sources.get("client_tool_results", {"type": "all"})
    server_rule = sources.get("server_tool_results", {"type": "all"})
    tool_names: dict[str, str] = {}
    found: set[str] = set()
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        if message.get("role") == "assistant":
            for block in blocks:
                if not isinstance(block, dict):
                    continue
                if block.get("type") in ("tool_use", "server_tool_use"):
                    tool_names[str(block.get("id"))] = str(block.get("name"))
                elif block.get("type") in RESULT_TYPES:
                    name = tool_names.get(str(block.get("tool_use_id")), "")
                    if admits(server_rule, name or str(block["type"]).removesuffix("_tool_result")):
                        found |= result_urls(block)
            continue
        if message.get("role") != "user":
            continue
        if admits(user_rule, ""):
            plain = [b for b in blocks if isinstance(b, dict) and b.get("type") != "tool_result"]
            for text in texts_of(content if isinstance(content, str) else plain):
                found |= urls_in(text)
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                name = tool_names.get(str(block.get("tool_use_id")), "")
                if admits(client_rule, name):
                    for text in texts_of([block]):
                        found |= urls_in(text)
    return found


def in_context(url: str, fetchable: set[str]) -> bool:
    return normal(url) in fetchable
