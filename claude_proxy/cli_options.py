"""The settings flags every command shares, and loading the settings they override.

A flag left out is None, meaning "not given": the environment, `.env` and the config file
decide (claude_proxy/settings.py). `serve_args` turns the given flags back into a
`claude-proxy serve` command line, for `--reload` and for the proxy `run` starts.
"""

from __future__ import annotations

import tomllib
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from claude_proxy.errors import CommandError
from claude_proxy.settings import Provider as ProviderName
from claude_proxy.settings import Settings, config_file_path, load_settings

Provider = Annotated[
    ProviderName | None,
    typer.Option(case_sensitive=False, help="Provider for the Claude aliases."),
]
BigModel = Annotated[str | None, typer.Option(help="Model for sonnet and opus requests.")]
SmallModel = Annotated[str | None, typer.Option(help="Model for haiku requests.")]
Port = Annotated[int | None, typer.Option(help="Port of the proxy (default 8082).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]

# settings field -> the `serve` flag that sets it
SERVE_FLAGS: dict[str, str] = {
    "host": "--host",
    "port": "--port",
    "preferred_provider": "--provider",
    "big_model": "--big-model",
    "small_model": "--small-model",
    "log_level": "--log-level",
    "process_newlines": "--process-newlines",
    "preserve_openai_newlines": "--preserve-openai-newlines",
}


def shared_overrides(
    provider: str | None, big_model: str | None, small_model: str | None, port: int | None = None
) -> dict[str, Any]:
    """The flags `config show`, `models`, `doctor` and `run` share, as settings overrides."""
    return {
        "preferred_provider": provider,
        "big_model": big_model,
        "small_model": small_model,
        "port": port,
    }


def given(overrides: dict[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in overrides.items() if value is not None}


def settings_from(overrides: dict[str, Any]) -> Settings:
    """The settings with the given flags applied; a bad config becomes a CommandError."""
    try:
        return load_settings(overrides)
    except tomllib.TOMLDecodeError as exc:
        raise CommandError(
            f"the config file {config_file_path()} is not valid TOML: {exc}",
            "Fix it, or see it with `claude-proxy config path` and remove it.",
            exit_code=2,
        ) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise CommandError(
            f"invalid settings: {problems}",
            "Check the flags, the environment, .env and the config file "
            "(`claude-proxy config show` says where each value comes from).",
            exit_code=2,
        ) from None


def serve_args(overrides: dict[str, Any]) -> list[str]:
    """`serve` flags that reproduce the given overrides."""
    args: list[str] = []
    for field, value in given(overrides).items():
        flag = SERVE_FLAGS[field]
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag.removeprefix("--"))
        else:
            args += [flag, str(value)]
    return args
