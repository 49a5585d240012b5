"""`allowed_domains` / `blocked_domains` of Anthropic's web tools, applied to a URL.

A listed domain covers itself and its subdomains (`example.com` covers `docs.example.com`);
an entry with a path (`example.com/blog`) covers that path and below. Matching is on the host
as the URL names it, lower case, without a trailing dot or `www.` being special."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit


def url_allowed(url: str, allowed: Sequence[str] | None, blocked: Sequence[str] | None) -> bool:
    """Whether `url` passes both lists (an empty or missing `allowed` allows every domain)."""
    if blocked and any(covers(entry, url) for entry in blocked):
        return False
    return not allowed or any(covers(entry, url) for entry in allowed)


def covers(entry: str, url: str) -> bool:
    host, path = split_url(url)
    if not host:
        return False
    entry = entry.strip().lower()
    if "://" in entry:
        entry = entry.split("://", 1)[1]
    domain, _, prefix = entry.partition("/")
    domain = domain.rstrip(".")
    if not domain or not (host == domain or host.endswith("." + domain)):
        return False
    return not prefix or path.lstrip("/").startswith(prefix.rstrip("/"))


def split_url(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return "", ""
    return host, parts.path
