"""The upstream request of a client's body, and where it is worked out: a body over
OFF_LOOP_BYTES is parsed and translated in a thread, so that one large request (100,000
messages, 30 MB of text) never holds up the other sessions' streams. Every path that
translates a body (messages, count_tokens, each round of the web tools) goes through here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from claude_proxy.providers import Quirks
from claude_proxy.translate.request import to_openai_request
from claude_proxy.translate.target import Target

T = TypeVar("T")

OFF_LOOP_BYTES = 1 << 20
"""Bodies larger than this are parsed and translated in a thread."""


async def off_loop(size: int, work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, in a thread for a large body: the loop keeps serving other sessions
    meanwhile (the GIL is shared, but released every few milliseconds)."""
    if size > OFF_LOOP_BYTES:
        return await asyncio.to_thread(work, *args)
    return work(*args)


def translate(body: dict[str, Any], target: Target, quirks: Quirks) -> dict[str, Any]:
    """The upstream request for a validated body, the provider's quirks applied."""
    return quirks.prepare_request(to_openai_request(body, target), body)
