"""The provider names users write, and the message for one that means none."""

from __future__ import annotations

import pytest

from claude_proxy.provider_names import PROVIDER_NAMES, canonical_provider, unknown_provider
from claude_proxy.providers import PROVIDERS
from claude_proxy.settings import Provider


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("gemini", "google"),
        ("Google", "google"),
        ("together_ai", "together"),
        ("Together-AI", "together"),
        ("TOGETHERAI", "together"),
        (" anthropic ", "anthropic"),
        ("OpenAI", "openai"),
        ("azure", None),
        ("gem", None),
    ],
)
def test_canonical_provider(written: str, meant: str | None) -> None:
    assert canonical_provider(written) == meant


def test_every_settings_provider_has_its_names_and_its_row() -> None:
    import typing

    assert set(PROVIDER_NAMES) == set(typing.get_args(Provider))
    assert {info.name: info.aliases for info in PROVIDERS} == PROVIDER_NAMES
    for canon, names in PROVIDER_NAMES.items():
        assert names[0] == canon


@pytest.mark.parametrize(
    ("written", "guess"),
    [("gemnii", "google"), ("togther", "together"), ("opneai", "openai"), ("geminy", "google")],
)
def test_a_wrong_name_gets_a_did_you_mean_and_the_choices(written: str, guess: str) -> None:
    message = unknown_provider(written)
    assert message.startswith(f"{written!r} is not a provider: did you mean {guess}? ")
    assert "openai, google (gemini), together (together_ai, togetherai), anthropic" in message


def test_a_name_far_from_all_gets_the_choices_alone() -> None:
    message = unknown_provider("azure")
    assert "did you mean" not in message and "Choose one of openai" in message
