"""Brave Search API: GET {BRAVE_API_BASE}/web/search?q=..., key in X-Subscription-Token."""

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
    assert settings.brave_api_key is not None
    params = {"q": with_site_operators(query), "count": "20"}
    country = (query.user_location or {}).get("country")
    if isinstance(country, str) and len(country) == 2:
        params["country"] = country.lower()
    headers = {
        "Accept": "application/json",
        "X-Subscription-Token": settings.brave_api_key.get_secret_value(),
    }
    url = settings.brave_api_base.rstrip("/") + "/web/search"
    answer = await request_json("Brave", "GET", url, headers=headers, params=params)
    return kept(hits_of(answer), query)


def hits_of(answer: Any) -> list[SearchHit]:
    web = answer.get("web") if isinstance(answer, dict) else None
    results = web.get("results") if isinstance(web, dict) else None
    return hits_in(results, snippets_of, ("page_age", "age"))


def snippets_of(item: dict[str, Any]) -> str:
    snippets = [text_of(item.get("description"))]
    snippets += [text_of(extra) for extra in item.get("extra_snippets") or []]
    return "\n".join(snippet for snippet in snippets if snippet)
