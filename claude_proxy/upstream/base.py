"""The upstream interface the server talks to.

The translation works on plain OpenAI chat-completions dicts, so any implementation that takes
and returns such dicts can feed it: LiteLLM's (`litellm_client.py`) today, a native aiohttp
client for OpenAI-compatible endpoints later, a scripted fake in the server's unit tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from claude_proxy.model_map import ModelRegistry
from claude_proxy.translate.target import Target


class Upstream(Protocol):
    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """One chat completion; the OpenAI response as a dict. Raises `ProxyError`s."""

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The OpenAI stream chunks as dicts. Raises `ProxyError`s, before or between chunks.

        Closing the iterator (`aclose`) cancels the upstream request.
        """

    async def aclose(self) -> None:
        """Release connections; called once when the app shuts down."""


class Catalog(ModelRegistry, Protocol):
    """What the server needs to know about models, besides calling them."""

    def target(self, model: str, provider: str) -> Target:
        """The translation's view of a LiteLLM model string."""

    async def count_tokens(self, request: dict[str, Any]) -> int:
        """Input tokens of an OpenAI-style request (messages and tools) for its model."""
