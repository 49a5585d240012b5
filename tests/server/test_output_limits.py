from __future__ import annotations

import logging

import pytest

from claude_proxy.server.output_limits import OutputLimits
from claude_proxy.translate.target import Target

GPT = Target(model="openai/gpt-4.1", provider="openai", max_output_tokens=32768)
LOCAL = Target(model="openai/local", provider="openai")


def test_a_learned_limit_lowers_the_targets(caplog: pytest.LogCaptureFixture) -> None:
    limits = OutputLimits()
    assert limits.applied(GPT) is GPT
    with caplog.at_level(logging.INFO, logger="claude_proxy.server.output_limits"):
        limits.learn("openai/gpt-4.1", 4096)
    assert [r.getMessage() for r in caplog.records] == [
        "openai/gpt-4.1 takes at most 4096 output tokens (the upstream said so)"
    ]
    assert limits.applied(GPT).max_output_tokens == 4096
    assert limits.applied(LOCAL) is LOCAL
    limits.learn("openai/local", 2048)
    assert limits.applied(LOCAL).max_output_tokens == 2048


def test_a_learned_limit_never_raises_the_known_one() -> None:
    limits = OutputLimits()
    limits.learn("openai/gpt-4.1", 100_000)
    assert limits.applied(GPT) is GPT


def test_the_table_is_bounded_and_forgets_the_oldest() -> None:
    limits = OutputLimits(max_models=2)
    limits.learn("a", 1)
    limits.learn("b", 2)
    limits.learn("a", 3)  # learned again: now the newest
    limits.learn("c", 4)
    assert [limits.limit(model) for model in ("a", "b", "c")] == [3, None, 4]
