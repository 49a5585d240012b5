"""The translation's view of a model: safe defaults for a model the registry does not know."""

from __future__ import annotations

import dataclasses

import pytest

from claude_proxy.translate.target import Target


def test_an_unknown_model_gets_no_invented_limits() -> None:
    target = Target(model="together_ai/some/unlisted", provider="together_ai")
    assert target.max_output_tokens is None and target.max_input_tokens is None
    assert target.supported_params == frozenset()
    assert target.supports_vision is True  # an image is sent unless the registry says no
    assert target.supports_reasoning is False
    assert target.supports_minimal_reasoning is False


def test_a_target_is_a_value() -> None:
    a = Target(model="openai/gpt-4.1", provider="openai", supported_params=frozenset({"top_p"}))
    b = Target(model="openai/gpt-4.1", provider="openai", supported_params=frozenset({"top_p"}))
    assert a == b and hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.model = "other"  # type: ignore[misc]
    assert dataclasses.replace(a, supports_vision=False) != a
