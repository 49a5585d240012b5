"""Which models may answer, in order, and which are cooling down after a retry-after."""

from __future__ import annotations

import pytest

from claude_proxy import errors
from claude_proxy.model_map import map_model
from claude_proxy.server.fallbacks import (
    Cooldowns,
    candidates,
    fallback_names,
    may_fall_back,
    retry_after_seconds,
)
from claude_proxy.settings import load_settings

REGISTRY = type(
    "Registry",
    (),
    {
        "provider_of": lambda self, model: "gemini" if model.startswith("gemini") else None,
        "is_provider": lambda self, prefix: prefix in ("openai", "gemini", "together_ai"),
    },
)()


def settings(*fallbacks: str) -> object:
    return load_settings({"fallback_models": list(fallbacks)}, env_file=None)


def test_an_alias_gets_its_own_fallbacks_then_the_shared_ones() -> None:
    chosen = settings("opus:gemini-2.5-pro", "haiku:gpt-4o-mini", "gpt-4o")
    assert fallback_names(chosen, "claude-opus-5-5") == ["gemini-2.5-pro", "gpt-4o"]  # type: ignore[arg-type]
    assert fallback_names(chosen, "claude-haiku-5-5") == ["gpt-4o-mini", "gpt-4o"]  # type: ignore[arg-type]
    assert fallback_names(chosen, "gpt-4.1") == ["gpt-4o"]  # type: ignore[arg-type]


def test_the_environment_writes_them_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FALLBACK_MODELS", "gemini-2.5-pro, opus:gpt-4o")
    assert load_settings(env_file=None).fallback_models == ["gemini-2.5-pro", "opus:gpt-4o"]


def test_candidates_are_mapped_once_each_and_keep_the_requested_name() -> None:
    chosen = settings("gpt-4.1", "gemini-2.5-pro")
    first = map_model("claude-opus-5-5", chosen, REGISTRY)  # type: ignore[arg-type]
    chain = candidates(first, chosen, REGISTRY, Cooldowns())  # type: ignore[arg-type]
    assert [c.model for c in chain] == ["openai/gpt-4.1", "gemini/gemini-2.5-pro"]
    assert chain[1].requested == "claude-opus-5-5" and chain[1].reason.startswith("fallback:")


def test_a_model_that_said_when_to_retry_is_skipped_until_then() -> None:
    now = [1000.0]
    cooldowns = Cooldowns(clock=lambda: now[0])
    cooldowns.note("openai/gpt-4.1", errors.RateLimitError("slow", headers={"retry-after": "30"}))
    cooldowns.note("openai/gpt-4o", errors.ApiError("down"))  # no retry-after: no cooldown
    assert cooldowns.cooling("openai/gpt-4.1") and not cooldowns.cooling("openai/gpt-4o")
    chosen = settings("gemini-2.5-pro")
    first = map_model("claude-opus-5-5", chosen, REGISTRY)  # type: ignore[arg-type]
    assert [c.model for c in candidates(first, chosen, REGISTRY, cooldowns)] == [  # type: ignore[arg-type]
        "gemini/gemini-2.5-pro"
    ]
    now[0] += 31
    assert not cooldowns.cooling("openai/gpt-4.1")


def test_when_every_model_cools_down_the_first_is_tried_anyway() -> None:
    cooldowns = Cooldowns(clock=lambda: 0.0)
    cooldowns.note("openai/gpt-4.1", errors.RateLimitError("x", headers={"retry-after-ms": "5000"}))
    chosen = settings()
    first = map_model("claude-opus-5-5", chosen, REGISTRY)  # type: ignore[arg-type]
    assert candidates(first, chosen, REGISTRY, cooldowns) == [first]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "falls_back"),
    [
        (errors.RateLimitError("x"), True),
        (errors.OverloadedError("x"), True),
        (errors.UpstreamTimeoutError("x"), True),
        (errors.ApiError("x"), True),
        (errors.IncompleteAnswerError("x"), True),
        (errors.InvalidRequestError("x"), False),
        (errors.AuthenticationError("x"), False),
        (errors.ContextWindowExceededError(10, 5), False),
        (errors.NotFoundError("x"), False),
    ],
)
def test_only_the_upstreams_failures_fall_back(error: errors.ProxyError, falls_back: bool) -> None:
    assert may_fall_back(error) is falls_back


def test_retry_after_seconds() -> None:
    assert retry_after_seconds(errors.RateLimitError("x", headers={"Retry-After": "2"})) == 2
    assert retry_after_seconds(errors.RateLimitError("x", headers={"retry-after": "soon"})) is None
    assert retry_after_seconds(errors.RateLimitError("x")) is None
