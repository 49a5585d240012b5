"""The provider table: one row per provider, every fact about it in that row. The rows name
settings by field, so these tests hold the table and the settings together."""

from __future__ import annotations

import re
import typing

import pytest

from claude_proxy.providers.base import ProviderOptions, Quirks
from claude_proxy.providers.gemini import GeminiQuirks
from claude_proxy.providers.openai import OpenAIQuirks
from claude_proxy.providers.table import (
    PROVIDERS,
    ProviderInfo,
    provider_for,
    provider_named,
    quirks_for,
    registry_provider,
)
from claude_proxy.providers.together import TogetherQuirks
from claude_proxy.settings import Provider, Settings
from claude_proxy.settings.sources import is_secret
from claude_proxy.translate.target import Target

ROWS = {info.name: info for info in PROVIDERS}


def test_every_settings_provider_has_exactly_one_row() -> None:
    assert sorted(ROWS) == sorted(typing.get_args(Provider))
    assert len(ROWS) == len(PROVIDERS)


def test_names_and_litellm_prefixes_are_unique() -> None:
    names = [info.name for info in PROVIDERS]
    prefixes = [info.litellm for info in PROVIDERS]
    labels = [info.label for info in PROVIDERS]
    assert len(set(names)) == len(names)
    assert len(set(prefixes)) == len(prefixes)
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("info", PROVIDERS, ids=lambda info: info.name)
def test_the_key_and_base_fields_are_settings_fields(info: ProviderInfo) -> None:
    assert info.key_field in Settings.model_fields
    assert info.base_field in Settings.model_fields
    assert is_secret(info.key_field) and not is_secret(info.base_field)
    assert info.key_env == info.key_field.upper()
    assert info.missing_key() == f"No key for {info.label}: set {info.key_env} (or put it in .env)."


@pytest.mark.parametrize("info", PROVIDERS, ids=lambda info: info.name)
def test_the_key_pattern_is_a_regular_expression_described_in_words(info: ProviderInfo) -> None:
    re.compile(info.key_pattern)
    assert info.key_shape.startswith(f"{info.label} keys ")


def test_key_patterns_tell_the_providers_apart() -> None:
    keys = {
        "openai": "sk-proj-" + "a1" * 20,
        "google": "AIza" + "B" * 35,
        "together": "tgp_v1_" + "c" * 40,
        "anthropic": "sk-ant-api03-" + "x" * 30,
    }
    for name, key in keys.items():
        matching = [info.name for info in PROVIDERS if re.fullmatch(info.key_pattern, key)]
        assert matching == [name], (name, matching)


def test_bare_models_belong_to_one_provider_and_default_models_are_among_them() -> None:
    seen: dict[str, str] = {}
    for info in PROVIDERS:
        for model in info.bare_models:
            assert model not in seen, f"{model} is bare for {seen.get(model)} and {info.name}"
            seen[model] = info.name
        if info.models is not None:
            assert set(info.models) <= info.bare_models, info.name


def test_lookups() -> None:
    assert provider_named("google").litellm == "gemini"
    assert provider_for("gemini") is provider_named("google")
    assert provider_for("together_ai") is provider_named("together")
    assert provider_for("ollama") is None
    with pytest.raises(KeyError):
        provider_named("azure")


@pytest.mark.parametrize(
    ("label", "provider"),
    [
        ("openai", "openai"),
        ("gemini", "gemini"),
        ("vertex_ai-language-models", "gemini"),
        ("vertex_ai", "gemini"),
        ("together_ai", "together_ai"),
        ("anthropic", "anthropic"),
        ("ollama", "ollama"),  # no row: the label as it is
    ],
)
def test_registry_provider(label: str, provider: str) -> None:
    assert registry_provider(label) == provider


@pytest.mark.parametrize(
    ("provider", "quirks"),
    [
        ("openai", OpenAIQuirks),
        ("gemini", GeminiQuirks),
        ("together_ai", TogetherQuirks),
        ("anthropic", Quirks),
        ("openrouter", Quirks),
    ],
)
def test_quirks_for(provider: str, quirks: type[Quirks]) -> None:
    target = Target(model=f"{provider}/m", provider=provider)
    options = ProviderOptions(process_newlines=False)
    chosen = quirks_for(target, options)
    assert type(chosen) is quirks
    assert chosen.target is target and chosen.options is options
