"""The upstream interface the server talks to: calling models, and knowing about them.

The translation works on plain OpenAI chat-completions dicts, so any implementation that takes
and returns such dicts can feed it: LiteLLM's (`litellm_client.py`), a native client for
OpenAI-compatible endpoints, a scripted fake in the server's unit tests. It is also the model
registry `model_map.map_model` asks (`provider_of`, `is_provider`), by shape, so this module
needs nothing from above it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

from claude_proxy.translate.target import Target


class Upstream(Protocol):
    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """One chat completion; the OpenAI response as a dict. Raises `ProxyError`s."""

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The OpenAI stream chunks as dicts. Raises `ProxyError`s, before or between chunks.

        Closing the iterator (`aclose`) cancels the upstream request.
        """

    async def target(self, model: str, provider: str) -> Target:
        """The translation's view of a model string (limits, parameters, capabilities).
        Async because knowing a model may take loading LiteLLM, which is done off the loop."""

    async def count_tokens(self, request: dict[str, Any]) -> int:
        """Input tokens of an OpenAI-style request (messages and tools) for its model."""

    def provider_of(self, model: str) -> str | None:
        """The provider of a bare model name, or None when the registry does not know it."""

    def is_provider(self, prefix: str) -> bool:
        """Whether `prefix` (the part before the first "/") names a provider."""

    async def aclose(self) -> None:
        """Release connections; called once when the app shuts down."""


async def close_stream(chunks: AsyncIterator[Any]) -> None:
    """Close a chunk stream, which cancels its upstream request; never raises, because closing
    must not mask the outcome that made us close."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
