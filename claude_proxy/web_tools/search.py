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
