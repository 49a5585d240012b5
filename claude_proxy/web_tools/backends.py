"""The search backend the settings pick: named by WEB_SEARCH_BACKEND, else the first whose
key or URL is set (Brave, Tavily, SearXNG)."""

from __future__ import annotations

from claude_proxy.settings import Settings
from claude_proxy.web_tools import brave, searxng, tavily
from claude_proxy.web_tools.search import Search

MISSING_HINT = (
    "no web search backend is configured on claude-proxy: set BRAVE_API_KEY, TAVILY_API_KEY "
    "or SEARXNG_URL (and optionally WEB_SEARCH_BACKEND); see docs/web-tools.md"
)


def backend_name(settings: Settings) -> str | None:
    """Which backend serves searches: the one named, else the first whose key or URL is set."""
    if settings.web_search_backend == "off":
        return None
    if settings.web_search_backend is not None:
        return settings.web_search_backend
    if settings.brave_api_key is not None:
        return "brave"
    if settings.tavily_api_key is not None:
        return "tavily"
    if settings.searxng_url:
        return "searxng"
    return None


def missing_setting(settings: Settings) -> str | None:
    """What is missing for the named backend to work, as a fix to apply; None when ready."""
    name = backend_name(settings)
    if name is None:
        return MISSING_HINT
    if name == "brave" and settings.brave_api_key is None:
        return "WEB_SEARCH_BACKEND=brave needs BRAVE_API_KEY"
    if name == "tavily" and settings.tavily_api_key is None:
        return "WEB_SEARCH_BACKEND=tavily needs TAVILY_API_KEY"
    if name == "searxng" and not settings.searxng_url:
        return "WEB_SEARCH_BACKEND=searxng needs SEARXNG_URL"
    return None


def search_backend(settings: Settings) -> Search | None:
    """The configured backend's search, bound to its settings; None when there is none."""
    if missing_setting(settings) is not None:
        return None
    name = backend_name(settings)
    if name == "brave":
        return lambda query: brave.search(settings, query)
    if name == "tavily":
        return lambda query: tavily.search(settings, query)
    return lambda query: searxng.search(settings, query)
