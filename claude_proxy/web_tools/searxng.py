"""SearXNG, self-hosted, no key: GET {SEARXNG_URL}/search?q=...&format=json (the instance
must list `json` under `search.formats` in its settings.yml)."""

from __future__ import annotations

from typing import Any

from claude_proxy.settings import Settings
from claude_proxy.translate.web_results import SearchHit
from claude_proxy.web_tools.search import (
    Query,
    hits_in,
    kept,
    request_json,
    text_of,
    with_site_operators,
)


async def search(settings: Settings, query: Query) -> list[SearchHit]:
    assert settings.searxng_url
    params = {"q": with_site_operators(query), "format": "json"}
    url = settings.searxng_url.rstrip("/") + "/search"
    answer = await request_json("SearXNG", "GET", url, params=params)
    return kept(hits_of(answer), query)


def hits_of(answer: Any) -> list[SearchHit]:
    results = answer.get("results") if isinstance(answer, dict) else None
    return hits_in(results, lambda item: text_of(item.get("content")), ("publishedDate",))
