"""The settings flags every command shares: declared once, turned back into a `serve` command
line (for `--reload` and the proxy `run` starts), and settings errors as CommandErrors."""

from __future__ import annotations

import typing

import pytest

from claude_proxy.cli.options import (
    SERVE_OPTIONS,
    flag_of,
    serve_args,
    settings_from,
    shared_overrides,
)
from claude_proxy.errors import CommandError
from claude_proxy.settings import Settings, config_file_path


def test_every_serve_option_sets_a_setting_of_the_same_name() -> None:
    assert set(SERVE_OPTIONS) <= set(Settings.model_fields)
    flags = {field: flag_of(option) for field, option in SERVE_OPTIONS.items()}
    assert flags == {
        "host": "--host",
        "port": "--port",
        "workers": "--workers",
        "preferred_provider": "--provider",
        "big_model": "--big-model",
        "small_model": "--small-model",
        "log_level": "--log-level",
        "process_newlines": "--process-newlines",
        "preserve_openai_newlines": "--preserve-openai-newlines",
        "record_dir": "--record",
    }


def test_serve_args_reproduce_the_given_flags_only() -> None:
    overrides = {
        "host": "127.0.0.1",
        "port": 9000,
        "preferred_provider": "google",
        "big_model": None,
        "process_newlines": False,
        "preserve_openai_newlines": True,
    }
    assert serve_args(overrides) == [
        "--host",
        "127.0.0.1",
        "--port",
        "9000",
        "--provider",
        "google",
        "--no-process-newlines",
        "--preserve-openai-newlines",
    ]
    assert serve_args({}) == []


def test_serve_args_round_trip_through_serve() -> None:
    """The flags `serve_args` writes are flags `serve` takes, giving the same settings."""
    from typer.main import get_command

    from claude_proxy.cli.app import app

    overrides = {"port": 9001, "small_model": "gpt-4o-mini", "process_newlines": False}
    serve = get_command(app).commands["serve"]  # type: ignore[attr-defined]
    context = serve.make_context("serve", serve_args(overrides))
    given = {field: context.params[field] for field in SERVE_OPTIONS}
    assert {k: v for k, v in given.items() if v is not None} == overrides


def test_shared_overrides() -> None:
    assert shared_overrides("google", None, "m", 1) == {
        "preferred_provider": "google",
        "big_model": None,
        "small_model": "m",
        "port": 1,
    }


def test_settings_from_applies_the_flags() -> None:
    settings = settings_from({"port": 9002, "big_model": None})
    assert settings.port == 9002 and settings.big_model is None


def test_a_broken_config_file_is_a_command_error() -> None:
    config_file_path().write_text("port = = 1\n")
    with pytest.raises(CommandError) as caught:
        settings_from({})
    assert caught.value.exit_code == 2
    assert "is not valid TOML" in caught.value.message
    assert "config path" in (caught.value.hint or "")


def test_invalid_settings_are_a_command_error_naming_each_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFERRED_PROVIDER", "azure")
    with pytest.raises(CommandError) as caught:
        settings_from({"port": 70000})
    message = caught.value.message
    assert message.startswith("invalid settings: ")
    assert "PREFERRED_PROVIDER in the environment: 'azure' is not a provider" in message
    assert "--port: Input should be less than or equal to 65535" in message
    assert caught.value.exit_code == 2
    # `config show` would fail the same way, so the hint does not send the user there
    assert "config show" not in (caught.value.hint or "")
    assert "Value error" not in message


@pytest.mark.parametrize("command", [["serve"], ["models"], ["doctor"], ["config", "show"]])
def test_the_provider_flag_takes_the_names_users_write(command: list[str]) -> None:
    from typer.testing import CliRunner

    from claude_proxy.cli.app import app

    wrong = CliRunner().invoke(app, [*command, "--provider", "gemnii"])
    assert wrong.exit_code == 2
    assert "'gemnii' is not a provider: did you mean google?" in wrong.output
    assert "Value error" not in wrong.output and "is not one of" not in wrong.output


def test_provider_name_is_the_flags_callback() -> None:
    from claude_proxy.cli.options import provider_name

    assert provider_name("Gemini") == "google"
    assert provider_name("together_ai") == "together"
    assert provider_name(None) is None


def test_the_provider_flag_offers_the_settings_providers() -> None:
    from claude_proxy.cli.options import Provider
    from claude_proxy.settings import Provider as ProviderName

    info = typing.get_args(Provider)[1]
    assert info.metavar == "|".join(typing.get_args(ProviderName))
