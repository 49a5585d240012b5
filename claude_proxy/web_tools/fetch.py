"""`web_fetch`: one URL's text, fetched with every hop checked.

Redirects are followed here, not by aiohttp, so each hop's URL passes the same checks as the
first: http(s) only, the request's allowed/blocked domains, and the SSRF guard (`guard.py`)
unless WEB_FETCH_ALLOW_PRIVATE. The body is read up to `MAX_BYTES`; the whole fetch has a
timeout. HTML becomes text (`html_text.py`); other text types are kept as they are; anything
else is `unsupported_content_type`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

from claude_proxy.translate.web_domains import url_allowed
from claude_proxy.translate.web_results import FetchedPage, WebToolFailure
from claude_proxy.web_tools.guard import GuardedResolver, check_host, is_public
from claude_proxy.web_tools.html_text import html_title, html_to_text

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000
TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)
REDIRECTS = (301, 302, 303, 307, 308)
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml")
HEADERS = {"User-Agent": "claude-proxy-web-fetch/1", "Accept": "text/html,text/*;q=0.9,*/*;q=0.1"}


@dataclass(frozen=True)
class FetchRules:
    allowed_domains: Sequence[str] = ()
    blocked_domains: Sequence[str] = ()
    allow_private: bool = False
    max_chars: int | None = None
    public: Callable[[str], bool] = is_public
    """Which addresses count as public (tests narrow it to let one loopback port through)."""


def check_url(url: str, rules: FetchRules) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise WebToolFailure("url_too_long", f"{len(url)} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise WebToolFailure("invalid_tool_input", "not a URL") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise WebToolFailure("invalid_tool_input", "only absolute http(s) URLs are fetched")
    if not url_allowed(url, rules.allowed_domains, rules.blocked_domains):
        raise WebToolFailure("url_not_allowed", host)
    check_host(host, allow_private=rules.allow_private, public=rules.public)


async def fetch_page(url: str, rules: FetchRules) -> FetchedPage:
    resolver = GuardedResolver(allow_private=rules.allow_private, public=rules.public)
    connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
    try:
        async with aiohttp.ClientSession(
            connector=connector, timeout=TIMEOUT, headers=HEADERS
        ) as session:
            return await follow(session, url, rules)
    except WebToolFailure:
        raise
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        why = "a private or local address" if resolver.refused else type(exc).__name__
        raise WebToolFailure("url_not_accessible", why) from exc


async def follow(session: aiohttp.ClientSession, url: str, rules: FetchRules) -> FetchedPage:
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, rules)
        async with session.get(url, allow_redirects=False) as response:
            if response.status in REDIRECTS and "Location" in response.headers:
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status >= 400:
                raise WebToolFailure("url_not_accessible", f"HTTP {response.status}")
            kind = response.content_type or "application/octet-stream"
            if not kind.startswith(TEXT_TYPES):
                raise WebToolFailure("unsupported_content_type", kind)
            body = await response.content.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise WebToolFailure("content_too_large", f"more than {MAX_BYTES} bytes")
            text = decoded(body, response.charset)
            return page_of(url, kind, text, rules.max_chars)
    raise WebToolFailure("url_not_accessible", f"more than {MAX_REDIRECTS} redirects")


def decoded(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", "replace")


def page_of(url: str, kind: str, text: str, max_chars: int | None) -> FetchedPage:
    title = None
    if "html" in kind:
        title = html_title(text)
        text = html_to_text(text)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return FetchedPage(url=url, text=text, title=title, retrieved_at=now.replace("+00:00", "Z"))
