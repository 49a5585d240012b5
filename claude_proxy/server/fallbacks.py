"""Which models may answer a request, in order, and which of them are cooling down.

The requested model's mapping comes first, then FALLBACK_MODELS (those for the request's alias
only, then those for all). A model is left out while it cools down after a 429 that said when
to retry. A failure moves on to the next model only when the upstream failed before the first
byte reached the client and the failure is the upstream's (`may_fall_back`): a client's own
mistake would fail the same way anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from claude_proxy import errors
from claude_proxy.model_map import ModelChoice, ModelRegistry, alias_of, map_model
from claude_proxy.settings import Settings

FALLBACK_ERRORS = (
    errors.RateLimitError,
    errors.OverloadedError,
    errors.UpstreamTimeoutError,
    errors.ApiError,  # 5xx and connection failures; IncompleteAnswerError among them
)


def may_fall_back(exc: errors.ProxyError) -> bool:
    return isinstance(exc, FALLBACK_ERRORS)


def fallback_names(settings: Settings, requested: str) -> list[str]:
    """FALLBACK_MODELS for this request: `alias:model` entries of its alias, then the rest."""
    alias = alias_of(requested)
    own, shared = [], []
    for entry in settings.fallback_models:
        prefix, separator, model = entry.partition(":")
        if separator and prefix in ("opus", "sonnet", "haiku"):
            if prefix == alias:
                own.append(model)
        else:
            shared.append(entry)
    return own + shared


class Cooldowns:
    """Models that said when to retry (`retry-after`), and until when."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._until: dict[str, float] = {}
        self._clock = clock

    def note(self, model: str, exc: errors.ProxyError) -> None:
        seconds = retry_after_seconds(exc)
        if seconds:
            self._until[model] = self._clock() + seconds

    def cooling(self, model: str) -> bool:
        until = self._until.get(model)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[model]
            return False
        return True

    def items(self) -> dict[str, float]:
        """Model -> until when (the monotonic clock, which a restart in place keeps)."""
        return dict(self._until)

    def restore(self, items: dict[str, float]) -> None:
        self._until.update(items)


def retry_after_seconds(exc: errors.ProxyError) -> float | None:
    headers = {name.lower(): value for name, value in exc.headers.items()}
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


def candidates(
    first: ModelChoice, settings: Settings, registry: ModelRegistry, cooldowns: Cooldowns
) -> list[ModelChoice]:
    """The models to try, in order; the first one even when all are cooling down."""
    chain = [first]
    for name in fallback_names(settings, first.requested):
        mapped = map_model(name, settings, registry)
        choice = replace(mapped, requested=first.requested, reason=f"fallback: {mapped.reason}")
        if all(choice.model != seen.model for seen in chain):
            chain.append(choice)
    ready = [choice for choice in chain if not cooldowns.cooling(choice.model)]
    return ready or [first]
