"""The settings flags every command shares, and loading the settings they override.

A flag left out is None, meaning "not given": the environment, `.env` and the config file
decide (claude_proxy/settings/model.py). `serve_args` turns the given flags back into a
`claude-proxy serve` command line, for `--reload` and for the proxy `run` starts.
"""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_proxy.errors import CommandError
from claude_proxy.settings.choices import Provider as ProviderName

if TYPE_CHECKING:
    from claude_proxy.settings import Settings


def option(flags: str, help: str, metavar: str | None = None, **extra: Any) -> Any:
    """A Typer option; its first flag (`--provider`, or `--x/--no-x` for a switch) is what
    `serve_args` writes back."""
    return typer.Option(flags, help=help, metavar=metavar, show_default=False, **extra)


Host = Annotated[str | None, option("--host", "Address to bind (default 127.0.0.1).", "ADDRESS")]
ServePort = Annotated[int | None, option("--port", "Port to bind (default 8082).", "PORT")]
Port = Annotated[int | None, option("--port", "Port of the proxy (default 8082).", "PORT")]


def provider_name(value: str | None) -> str | None:
    """`--provider` as users write it (gemini, Together_AI); a wrong name gets a did-you-mean."""
    from claude_proxy.provider_names import canonical_provider, unknown_provider

    if value is None:
        return None
    canonical = canonical_provider(value)
    if canonical is None:
        raise typer.BadParameter(unknown_provider(value))
    return canonical


Provider = Annotated[
    str | None,
    option(
        "--provider",
        "Provider for the Claude aliases (gemini = google, together_ai = together).",
        "|".join(typing.get_args(ProviderName)),
        callback=provider_name,
    ),
]
BigModel = Annotated[
    str | None, option("--big-model", "Model for sonnet and opus requests.", "MODEL")
]
SmallModel = Annotated[str | None, option("--small-model", "Model for haiku requests.", "MODEL")]
Workers = Annotated[int | None, option("--workers", "Processes serving the port (default 1).", "N")]
LogLevel = Annotated[str | None, option("--log-level", "debug, info, warning or error.", "LEVEL")]
ProcessNewlines = Annotated[
    bool | None,
    option(
        "--process-newlines/--no-process-newlines",
        "Together: turn literal backslash-n in answers into newlines (default on).",
    ),
]
PreserveOpenAINewlines = Annotated[
    bool | None,
    option(
        "--preserve-openai-newlines/--no-preserve-openai-newlines",
        "OpenAI: keep real newlines in answers (default on).",
    ),
]
RecordDir = Annotated[
    Path | None,
    option(
        "--record",
        "Write each exchange (prompts included, keys removed) to DIR, for `replay`.",
        "DIR",
    ),
]
Json = Annotated[bool, option("--json", "Print JSON, for scripts.")]

SERVE_OPTIONS: dict[str, Any] = {
    "host": Host,
    "port": ServePort,
    "workers": Workers,
    "preferred_provider": Provider,
    "big_model": BigModel,
    "small_model": SmallModel,
    "log_level": LogLevel,
    "process_newlines": ProcessNewlines,
    "preserve_openai_newlines": PreserveOpenAINewlines,
    "record_dir": RecordDir,
}
"""Settings field -> the `serve` option that sets it; `serve`'s parameters carry these names."""


def flag_of(option_type: Any) -> str:
    """The flag of an option type: `--provider`; a switch's positive flag."""
    info = typing.get_args(option_type)[1]
    # Inside `Annotated`, Typer keeps an option's first flag where a default would go.
    return str(info.default).split("/")[0]


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


def settings_from(overrides: dict[str, Any]) -> Settings:
    """The settings with the given flags applied; a bad config becomes a CommandError."""
    from pydantic import ValidationError

    from claude_proxy.settings import config_file_path, load_settings

    try:
        return load_settings(overrides)
    except tomllib.TOMLDecodeError as exc:
        raise CommandError(
            f"the config file {config_file_path()} is not valid TOML: {exc}",
            "Fix it, or see it with `claude-proxy config path` and remove it.",
            exit_code=2,
        ) from None
    except ValidationError as exc:
        from claude_proxy.settings import Settings
        from claude_proxy.settings.sources import layers, problem, where_set

        stack = layers(overrides)
        flags = {field: flag_of(option) for field, option in SERVE_OPTIONS.items()}
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            where = where_set(field, stack, flags) if field in Settings.model_fields else "settings"
            problems.append(f"{where}: {problem(error)}")
        raise CommandError(
            f"invalid settings: {'; '.join(problems)}",
            "Fix the value named (`claude-proxy config set KEY VALUE` for the config file, "
            "`claude-proxy config unset KEY` to drop it).",
            exit_code=2,
        ) from None


def serve_args(overrides: dict[str, Any]) -> list[str]:
    """`serve` flags that reproduce the given overrides."""
    args: list[str] = []
    from claude_proxy.settings import given

    for field, value in given(overrides).items():
        flag = flag_of(SERVE_OPTIONS[field])
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag.removeprefix("--"))
        else:
            args += [flag, str(value)]
    return args
