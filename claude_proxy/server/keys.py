"""Typed keys of what the application and each request hold."""

from __future__ import annotations

from aiohttp import web

from claude_proxy.ledger.writer import LedgerWriter
from claude_proxy.server.fallbacks import Cooldowns
from claude_proxy.server.memory_watch import Activity
from claude_proxy.server.output_limits import OutputLimits
from claude_proxy.server.request_log import RequestLog
from claude_proxy.server.running_streams import RunningStreams
from claude_proxy.server.thread_store import ThreadStore
from claude_proxy.settings import Settings
from claude_proxy.upstream.anthropic_passthrough import AnthropicPassthrough
from claude_proxy.upstream.base import Upstream

SETTINGS = web.AppKey("settings", Settings)
UPSTREAM = web.AppKey("upstream", Upstream)
ANTHROPIC = web.AppKey("anthropic", AnthropicPassthrough)
STREAMS = web.AppKey("streams", RunningStreams)
COOLDOWNS = web.AppKey("cooldowns", Cooldowns)
"""Models that answered 429 with retry-after, skipped by fallbacks until then."""
"""The streams being written; a shutdown drains them."""
THREADS = web.AppKey("threads", ThreadStore)
"""Where message threads are kept between turns (opened on the first threaded request)."""
OUTPUT_LIMITS = web.AppKey("output_limits", OutputLimits)
"""Models' output limits learned from upstream refusals, for the process lifetime."""
ACTIVITY = web.AppKey("activity", Activity)
"""API requests in flight and when the last ended: when the proxy idles (memory_watch.py)."""
LEDGER = web.AppKey("ledger", LedgerWriter)
"""The usage ledger's writer; absent with USAGE_LEDGER=false."""

LOG = web.RequestKey("log", RequestLog)
"""What the request did so far; the error middleware logs it when the answer is complete."""
