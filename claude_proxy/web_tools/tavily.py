"""Tavily: POST {TAVILY_API_BASE}/search with the key as a bearer token; it filters domains
itself (include_domains / exclude_domains), and the proxy checks them again."""

from __future__ import annotations

from typing import Any

from claude_proxy.settings import Settings
from claude_proxy.translate.web_results import SearchHit
from claude_proxy.web_tools.search import Query, hits_in, kept, request_json, text_of


async def search(settings: Settings, query: Query) -> list[SearchHit]:
    assert settings.tavily_api_key is not None
    body: dict[str, Any] = {"query": query.text, "max_results": 20, "search_depth": "basic"}
    if query.allowed_domains:
        body["include_domains"] = list(query.allowed_domains)
    if query.blocked_domains:
        body["exclude_domains"] = list(query.blocked_domains)
    headers = {"Authorization": f"Bearer {settings.tavily_api_key.get_secret_value()}"}
    url = settings.tavily_api_base.rstrip("/") + "/search"
    answer = await request_json("Tavily", "POST", url, headers=headers, body=body)
    return kept(hits_of(answer), query)


def hits_of(answer: Any) -> list[SearchHit]:
    results = answer.get("results") if isinstance(answer, dict) else None
    return hits_in(results, lambda item: text_of(item.get("content")), ("published_date",))
