"""Typed keys of what the application and each request hold."""

from __future__ import annotations

from aiohttp import web

from claude_proxy.settings import Settings
from claude_proxy.upstream.anthropic_passthrough import AnthropicPassthrough
from claude_proxy.upstream.base import Catalog, Upstream

SETTINGS = web.AppKey("settings", Settings)
UPSTREAM = web.AppKey("upstream", Upstream)
CATALOG = web.AppKey("catalog", Catalog)
ANTHROPIC = web.AppKey("anthropic", AnthropicPassthrough)

REQUEST_ID = web.RequestKey("request_id", str)
ROUTE = web.RequestKey("route", str)
"""`requested -> upstream model`, for the request log."""
STREAMED = web.RequestKey("streamed", bool)
MESSAGE_COUNT = web.RequestKey("message_count", int)
TOOL_COUNT = web.RequestKey("tool_count", int)
USAGE = web.RequestKey("usage", dict[str, int])
"""The answer's Anthropic usage, for `serve --debug-rich`."""
