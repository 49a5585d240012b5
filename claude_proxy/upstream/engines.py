"""The `Upstream` the server talks to: each request goes to the engine that serves it.

    request model        UPSTREAM_ENGINE=native            UPSTREAM_ENGINE=litellm
    openai/..., together_ai/...   native (openai_native.py)   LiteLLM
    anything else (gemini/...)    LiteLLM                     LiteLLM

The native engine also hands back the few requests it cannot send (OpenAI's Responses-API-only
cases, `NativeOpenAIUpstream.serves`). Model facts follow the same split: LiteLLM's bundled
map read without importing litellm (`model_facts.py`, `native_target.py`) for the native
providers and the registry questions; LiteLLM itself for the rest and for token counts.

LiteLLM costs seconds and ~250 MB to import, so it is imported only when something needs it:
at start-up when an alias maps to a provider it serves (`needs_litellm`), otherwise on first
use, off the event loop where the call is async.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from claude_proxy.settings import Settings
from claude_proxy.translate.target import Target
from claude_proxy.upstream.base import close_stream
from claude_proxy.upstream.endpoints import native_provider
from claude_proxy.upstream.litellm_client import LiteLLMUpstream, import_litellm
from claude_proxy.upstream.model_facts import (
    facts_for,
    provider_names,
    provider_of,
    registry_models,
)
from claude_proxy.upstream.native_target import limits_target, target_for
from claude_proxy.upstream.openai_native import NativeOpenAIUpstream

logger = logging.getLogger(__name__)


class Engines:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._native = (
            NativeOpenAIUpstream(settings) if settings.upstream_engine == "native" else None
        )
        self._litellm: LiteLLMUpstream | None = None
        self._loading = asyncio.Lock()

    def needs_litellm(self, models: Iterable[str]) -> bool:
        """Whether any of these model strings is LiteLLM's to serve (Anthropic's are the
        passthrough's)."""
        return any(
            not self._is_native(model) and not model.startswith("anthropic/") for model in models
        )

    async def load_litellm(self, *, warm_up: bool = True) -> LiteLLMUpstream:
        """LiteLLM's engine, created on first use; its import is done in a thread so the loop
        keeps serving, and requests that need it meanwhile wait for the one load."""
        async with self._loading:
            if self._litellm is None:
                logger.info("loading LiteLLM")
                await asyncio.to_thread(import_litellm)
                engine = LiteLLMUpstream(self._settings)
                if warm_up:
                    await engine.warm_up()
                self._litellm = engine
        return self._litellm

    def _is_native(self, model: str) -> bool:
        return self._native is not None and native_provider(model) is not None

    # --- calling models ------------------------------------------------------------------

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._native is not None and self._native.serves(request):
            return await self._native.complete(request)
        return await (await self.load_litellm()).complete(request)

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        if self._native is not None and self._native.serves(request):
            return self._native.stream(request)  # the hot path: no layer in between
        return self._litellm_stream(request)

    async def _litellm_stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        chunks = (await self.load_litellm()).stream(request)
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await close_stream(chunks)

    # --- knowing about models ------------------------------------------------------------

    async def target(self, model: str, provider: str) -> Target:
        if self._is_native(model):
            target = target_for(model)
            if target is not None:
                return target
        if provider == "anthropic":  # the passthrough translates nothing: limits are enough
            return limits_target(model, provider)
        # A client naming a model only LiteLLM serves must not stall every other stream
        # while LiteLLM is imported: load_litellm imports it in a thread.
        return await (await self.load_litellm()).target(model, provider)

    async def count_tokens(self, request: dict[str, Any]) -> int:
        return await (await self.load_litellm(warm_up=False)).count_tokens(request)

    def model_info(self, model: str) -> dict[str, Any]:
        """What the map says about a model string; {} when it does not know it."""
        return dict(facts_for(model).info)

    def registry_models(self, provider: str) -> list[dict[str, Any]]:
        return registry_models(provider)

    def provider_of(self, model: str) -> str | None:
        return provider_of(model)

    def is_provider(self, prefix: str) -> bool:
        return prefix in provider_names()

    async def aclose(self) -> None:
        if self._native is not None:
            await self._native.aclose()
        if self._litellm is not None:
            await self._litellm.aclose()
