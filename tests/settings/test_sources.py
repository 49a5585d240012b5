"""Where each effective setting comes from: each layer loaded on its own with the sources
`Settings` uses, in its precedence order; the names a field is read from; secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from claude_proxy.settings import config_file_path, load_settings
from claude_proxy.settings.sources import (
    DEFAULT,
    display,
    field_names,
    is_secret,
    layers,
    mask,
    origins,
)


def test_field_names_primary_first() -> None:
    assert field_names("togetherai_api_key") == [
        "togetherai_api_key",
        "together_api_key",
        "together_ai_api_key",
    ]
    assert field_names("gemini_api_key") == ["gemini_api_key", "google_api_key"]
    assert field_names("openai_api_base") == ["openai_api_base", "openai_base_url"]
    assert field_names("port") == ["port"]


def test_is_secret() -> None:
    assert is_secret("openai_api_key") and is_secret("togetherai_api_key")
    assert not is_secret("openai_api_base") and not is_secret("port")


def test_layers_come_in_precedence_order_each_with_only_what_it_sets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_file_path().write_text('port = 1111\nbig_model = "from-file"\nsmall_model = "file"\n')
    (tmp_path / ".env").write_text("PORT=2222\nBIG_MODEL=from-dotenv\n")
    monkeypatch.delenv("MEMORY_RESTART_GROWTH")  # the test suite's own (conftest.py)
    monkeypatch.setenv("PORT", "3333")
    stack = layers({"port": 4444, "big_model": None})
    assert [layer.label for layer in stack] == ["flag", "environment", ".env", "config file"]
    flag, env, dotenv, file = stack
    assert flag.values == {"port": 4444}  # a flag left out (None) is not given
    assert env.values == {"port": "3333"}
    assert dotenv.values == {"port": "2222", "big_model": "from-dotenv"}
    assert file.values == {"port": 1111, "big_model": "from-file", "small_model": "file"}
    assert env.names == {"port": "PORT"} and env.raw["port"] == "3333"
    assert file.raw == {}  # only the environment and .env hold raw variables


def test_origins_name_the_layer_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TOGETHER_AI_API_KEY", "tgp_v1_" + "k" * 40)
    (tmp_path / ".env").write_text("GOOGLE_API_KEY=AIza-from-dotenv\nBIG_MODEL=gpt-4o\n")
    overrides = {"port": 9000}
    settings = load_settings(overrides)
    found = {origin.field: origin for origin in origins(settings, layers(overrides))}
    assert set(found) == set(type(settings).model_fields)
    together = found["togetherai_api_key"]
    assert (together.source, together.name, together.env_name) == (
        "environment",
        "TOGETHER_AI_API_KEY",
        "TOGETHERAI_API_KEY",
    )
    assert together.secret and isinstance(together.value, SecretStr)
    gemini = found["gemini_api_key"]
    assert (gemini.source, gemini.name) == (".env", "GOOGLE_API_KEY")
    big = found["big_model"]
    assert (big.source, big.name, big.value) == (".env", None, "gpt-4o")  # the primary name
    assert (found["port"].source, found["port"].value) == ("flag", 9000)
    assert (found["host"].source, found["host"].value) == (DEFAULT, "127.0.0.1")


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("sk-proj-0123456789abcdefWXYZ", "****WXYZ"),
        ("0123456789abcdef", "****cdef"),
        ("0123456789abcde", "****"),  # short keys show nothing of themselves
        ("", "****"),
    ],
)
def test_mask(secret: str, masked: str) -> None:
    assert mask(secret) == masked


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (8082, "8082"),
        (0.5, "0.5"),
        ("gpt-4o", "gpt-4o"),
        (SecretStr("sk-proj-0123456789abcdefWXYZ"), "****WXYZ"),
    ],
)
def test_display(value: object, shown: str) -> None:
    assert display(value) == shown
