"""Typed keys of what the application and each request hold."""

from __future__ import annotations

from aiohttp import web

from claude_proxy.settings import Settings
from claude_proxy.upstream.base import Catalog, Upstream

SETTINGS = web.AppKey("settings", Settings)
UPSTREAM = web.AppKey("upstream", Upstream)
CATALOG = web.AppKey("catalog", Catalog)

REQUEST_ID = web.RequestKey("request_id", str)
ROUTE = web.RequestKey("route", str)
"""`requested -> upstream model`, for the request log."""
STREAMED = web.RequestKey("streamed", bool)
