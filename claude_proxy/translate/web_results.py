"""What the proxy's web tools hand back: search hits, fetched pages, and failures carrying
Anthropic's error codes. Plain values, shared by the network side (`web_tools/`) and the
blocks the client sees (`server_tool_blocks.py`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str
    text: str
    """The snippet or page text the backend returned: what the model reads."""
    page_age: str | None = None


@dataclass(frozen=True)
class FetchedPage:
    url: str
    """Where the page was found, after redirects."""
    text: str
    title: str | None
    retrieved_at: str
    """ISO 8601, UTC."""


class WebToolFailure(Exception):
    """A search or fetch that failed, with the `error_code` Anthropic's API would give
    (`unavailable`, `too_many_requests`, `url_not_accessible`, ...) and, for the model and
    the log, what happened."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
