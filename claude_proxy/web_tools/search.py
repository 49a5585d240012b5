"""What every search backend shares: the query, the domain filter, one JSON call.

A backend is one small module (`brave.py`, `tavily.py`, `searxng.py`) with a `search`
coroutine; `backends.py` picks one from the settings. Failures become `WebToolFailure` with Anthropic's codes: a 429 is
`too_many_requests`, anything else that keeps results from coming is `unavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from claude_proxy.translate.web_domains import url_allowed
from claude_proxy.translate.web_results import SearchHit, WebToolFailure

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=20)
RESULTS = 10


@dataclass(frozen=True)
class Query:
    text: str
    allowed_domains: Sequence[str] = ()
    blocked_domains: Sequence[str] = ()
    user_location: dict[str, Any] | None = None
    count: int = RESULTS


Search = Callable[[Query], Awaitable[list[SearchHit]]]


def with_site_operators(query: Query) -> str:
    """The query with `site:` operators for the domain lists, for backends that read them
    (Brave; SearXNG's engines), so allowed domains are searched, not just filtered from the
    top results. The results are still filtered (`kept`): operators are a hint."""
    text = query.text
    allowed = [site_of(domain) for domain in query.allowed_domains]
    if allowed:
        text += " " + " OR ".join(f"site:{domain}" for domain in allowed if domain)
    for domain in query.blocked_domains:
        if site_of(domain):
            text += f" -site:{site_of(domain)}"
    return text


def site_of(domain: str) -> str:
    return domain.strip().split("://", 1)[-1].split("/", 1)[0]


def kept(hits: list[SearchHit], query: Query) -> list[SearchHit]:
    """The hits the query's domain lists allow, at most `count` of them."""
    allowed = [
        hit for hit in hits if url_allowed(hit.url, query.allowed_domains, query.blocked_domains)
    ]
    return allowed[: query.count]


async def request_json(
    backend: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """One call to a search API, its JSON answer; failures as `WebToolFailure`."""
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.request(method, url, headers=headers, params=params, json=body) as response,
        ):
            if response.status == 429:
                raise WebToolFailure("too_many_requests", f"{backend} answered 429")
            if response.status >= 400:
                raise WebToolFailure("unavailable", f"{backend} answered HTTP {response.status}")
            return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise WebToolFailure("unavailable", f"{backend}: {type(exc).__name__}") from exc


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def hits_in(
    results: Any, text: Callable[[dict[str, Any]], str], age_keys: tuple[str, ...]
) -> list[SearchHit]:
    """A backend's result list as hits: each item a dict with a `url` (the rest are skipped),
    its `title`, its text as `text` reads it, and the first of `age_keys` it has."""
    hits = []
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict) or not text_of(item.get("url")):
            continue
        ages = (text_of(item.get(key)) for key in age_keys)
        hits.append(
            SearchHit(
                url=item["url"],
                title=text_of(item.get("title")) or item["url"],
                text=text(item),
                page_age=next((age for age in ages if age), None),
            )
        )
    return hits
