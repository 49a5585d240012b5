"""The TOML config file: the names a user may give a setting, values validated by the settings
model, the commented template, and edits that keep the user's comments and write atomically
with mode 0600."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from claude_proxy.errors import CommandError
from claude_proxy.settings import Settings
from claude_proxy.settings.config_file import (
    HEADER,
    canonical_field,
    parse_value,
    set_value,
    template,
    unset_value,
    write_text,
)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("big_model", "big_model"),
        ("BIG_MODEL", "big_model"),
        ("big-model", "big_model"),
        (" Port ", "port"),
        ("TOGETHER_API_KEY", "togetherai_api_key"),
        ("together_ai_api_key", "togetherai_api_key"),
        ("GOOGLE_API_KEY", "gemini_api_key"),
        ("openai_base_url", "openai_api_base"),
    ],
)
def test_canonical_field(name: str, field: str) -> None:
    assert canonical_field(name) == field


def test_an_unknown_name_suggests_near_ones() -> None:
    with pytest.raises(CommandError) as caught:
        canonical_field("big_modle")
    assert caught.value.exit_code == 2
    assert caught.value.message == "big_modle is not a setting of claude-proxy"
    assert (caught.value.hint or "").startswith("Did you mean big_model")
    with pytest.raises(CommandError) as nothing_near:
        canonical_field("zzzz")
    assert "config show" in (nothing_near.value.hint or "")


def test_parse_value_validates_with_the_settings_model() -> None:
    assert parse_value("port", "9000") == 9000
    assert parse_value("process_newlines", "false") is False
    assert parse_value("preferred_provider", "Google") == "google"
    assert parse_value("openai_api_key", "sk-x") == "sk-x"  # the secret's value, for the file
    with pytest.raises(CommandError) as caught:
        parse_value("port", "eighty")
    assert caught.value.message.startswith("port: ")
    assert caught.value.hint == f"Expected: {Settings.model_fields['port'].description}"


def test_the_template_sets_the_given_values_and_lists_every_other_setting() -> None:
    text = template({"preferred_provider": "google"})
    assert text.startswith(HEADER)
    assert tomllib.loads(text) == {"preferred_provider": "google"}
    for field, info in Settings.model_fields.items():
        if field != "preferred_provider":
            assert f"# {field} = " in text
            assert f"# {info.description}" in text


def test_set_value_creates_the_file_privately(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    set_value(path, "port", 9000)
    assert tomllib.loads(path.read_text()) == {"port": 9000}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_set_value_uncomments_the_template_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(template({}))
    set_value(path, "big_model", "gpt-4o")
    text = path.read_text()
    assert 'big_model = "gpt-4o"' in text and "# big_model = " not in text
    assert text.index('big_model = "gpt-4o"') > text.index("Model for sonnet and opus")


def test_set_value_keeps_comments_and_replaces_an_alias(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# my notes\ntogether_api_key = "old"\nport = 1 # inline\n')
    set_value(path, "togetherai_api_key", "new")
    text = path.read_text()
    assert "# my notes" in text and "# inline" in text
    assert tomllib.loads(text) == {"port": 1, "togetherai_api_key": "new"}


def test_unset_value_removes_every_name_of_the_field(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('togetherai_api_key = "a"\ntogether_api_key = "b"\nport = 1\n')
    assert unset_value(path, "togetherai_api_key") is True
    assert tomllib.loads(path.read_text()) == {"port": 1}
    assert unset_value(path, "togetherai_api_key") is False
    assert unset_value(tmp_path / "missing.toml", "port") is False


def test_a_broken_file_is_never_edited(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("port = = 1\n")
    with pytest.raises(CommandError, match="is not valid TOML"):
        set_value(path, "port", 2)
    assert path.read_text() == "port = = 1\n"


def test_write_text_refuses_what_the_settings_cannot_read_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dir" / "config.toml"
    path.parent.mkdir()
    path.write_text("port = 1\n")
    with pytest.raises(tomllib.TOMLDecodeError):
        write_text(path, "not = = toml\n")
    assert path.read_text() == "port = 1\n"
    write_text(path, "port = 2\n")
    assert os.listdir(path.parent) == ["config.toml"]
