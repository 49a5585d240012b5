"""`claude-proxy config`: the effective settings, and the config file that holds some of them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_proxy.cli.options import (
    BigModel,
    Json,
    Port,
    Provider,
    SmallModel,
    settings_from,
    shared_overrides,
)
from claude_proxy.errors import CommandError

if TYPE_CHECKING:
    from claude_proxy.settings import Settings

# layer label -> where, in a sentence
WHERE = {"flag": "a flag", "environment": "the environment", ".env": ".env"}

app = typer.Typer(
    rich_markup_mode=None,
    help="Show the effective settings; write and edit the config file.",
    no_args_is_help=True,
)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@app.command()
def show(
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    port: Port = None,
    json_output: Json = False,
) -> None:
    """Show the effective settings and where each comes from; keys are masked."""
    from claude_proxy.cli.console import print_json, print_note, print_settings, print_warning
    from claude_proxy.settings.sources import config_file_warnings, display, layers, origins

    overrides = shared_overrides(provider, big_model, small_model, port)
    settings = settings_from(overrides)
    found = origins(settings, layers(overrides))
    if json_output:
        print_json(
            {
                origin.field: {
                    "env": origin.env_name,
                    "value": _json_value(origin.value),
                    "source": origin.source,
                    "name": origin.name,
                }
                for origin in found
            }
        )
        return
    print_settings(found, display, unset_meaning(settings))
    for warning in config_file_warnings():
        print_warning(warning)
    print_note(sources_line())


def unset_meaning(settings: Settings) -> dict[str, str]:
    """What a setting left unset means in effect: BIG_MODEL is gpt-4.1, the default for openai."""
    from claude_proxy.providers import provider_named

    provider = settings.preferred_provider
    models = provider_named(provider).models
    meaning: dict[str, str] = {}
    for field, alias in (("big_model", "sonnet/opus"), ("small_model", "haiku")):
        if provider == "together":
            meaning[field] = f"{settings.together_model} (TOGETHER_MODEL, for together)"
        elif models is None:
            meaning[field] = f"(not set: {alias} requests go to Anthropic as they are)"
        else:
            default = models[0] if field == "big_model" else models[1]
            meaning[field] = f"{default} (default for {provider})"
    for alias, size in (("opus", "BIG_MODEL"), ("sonnet", "BIG_MODEL"), ("haiku", "SMALL_MODEL")):
        meaning[f"{alias}_model"] = f"(not set: {size} serves {alias})"
    meaning["data_dir"] = f"{settings.data_path()} (default)"
    return meaning


def sources_line() -> str:
    """Every place settings are read from, in precedence order, and whether each exists."""
    from claude_proxy.settings import config_file_path
    from claude_proxy.settings.sources import dotenv_path

    def state(path: Path) -> str:
        return f"{path}" + ("" if path.is_file() else " (none)")

    return (
        "sources, highest first: flags > environment > "
        f".env in the working directory: {state(dotenv_path())} > "
        f"config file: {state(config_file_path())} > defaults"
    )


def _json_value(value: Any) -> Any:
    from pydantic import SecretStr

    from claude_proxy.settings.sources import display

    return display(value) if isinstance(value, SecretStr) else value


@app.command()
def path() -> None:
    """Print where the config file is (it may not exist yet)."""
    from claude_proxy.cli.console import print_path
    from claude_proxy.settings import config_file_path

    print_path(str(config_file_path()))


@app.command()
def init(
    provider: Provider = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented config file; in a terminal, ask for the provider and its key."""
    from claude_proxy.cli.console import ask, ask_secret, print_note
    from claude_proxy.providers import PROVIDERS, provider_named
    from claude_proxy.settings import config_file_path
    from claude_proxy.settings.config_file import parse_value, template, write_text
    from claude_proxy.settings.sources import is_secret

    target = config_file_path()
    if target.exists() and not force:
        raise CommandError(
            f"{target} already exists",
            "Add --force to overwrite it, or change one value with "
            "`claude-proxy config set KEY VALUE`.",
        )
    interactive = stdin_is_terminal()
    chosen: str | None = provider
    if chosen is None and interactive:
        chosen = ask("Provider", [info.name for info in PROVIDERS], "openai")
    values: dict[str, Any] = {}
    if chosen is not None:
        values["preferred_provider"] = parse_value("preferred_provider", chosen)
        if interactive:
            key_field = provider_named(values["preferred_provider"]).key_field
            key = ask_secret(f"{key_field.upper()}").strip()
            if key:
                values[key_field] = key
    write_text(target, template(values))
    print_note(f"wrote {target} (readable by you only)")
    if any(is_secret(field) for field in values):
        print_note(
            "Next: `claude-proxy doctor` checks the setup; `claude-proxy run claude` starts."
        )
        return
    key_field = provider_named(values.get("preferred_provider", "openai")).key_field
    print_note(
        f"Next: set {key_field.upper()} in the environment, or "
        f"`claude-proxy config set {key_field}`; then `claude-proxy doctor`."
    )


@app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="A setting: big_model, BIG_MODEL, port, ...")],
    value: Annotated[
        str | None, typer.Argument(help="Its value; leave it out for a key to type it hidden.")
    ] = None,
) -> None:
    """Set one setting in the config file."""
    from pydantic import SecretStr

    from claude_proxy.cli.console import print_note, print_warning
    from claude_proxy.settings import config_file_path
    from claude_proxy.settings.config_file import canonical_field, parse_value, set_value
    from claude_proxy.settings.sources import display, is_secret, layers

    field = canonical_field(key)
    if value is None:
        if not is_secret(field):
            raise CommandError(
                f"no value for {field}", f"Give one: claude-proxy config set {field} VALUE"
            )
        value = read_secret(field)
    parsed = parse_value(field, value)
    target = config_file_path()
    set_value(target, field, parsed)
    shown = display(SecretStr(parsed)) if is_secret(field) else display(parsed)
    print_note(f"{field} = {shown} in {target}")
    for layer in layers({}):
        if layer.label == "config file":
            break
        if field in layer.values:
            name = layer.names.get(field, field.upper())
            print_warning(f"{name} in {WHERE[layer.label]} takes precedence over the config file.")
            break


def read_secret(field: str) -> str:
    """A key typed hidden in a terminal, else the first line of stdin (`... | config set`)."""
    from claude_proxy.cli.console import ask_secret

    piped = not stdin_is_terminal()
    value = (sys.stdin.readline() if piped else ask_secret(field.upper())).strip()
    if value:
        return value
    if piped:
        raise CommandError(
            f"no value for {field} on stdin, and no terminal to type it in",
            f'Pipe it in: printf %s "$KEY" | claude-proxy config set {field}; '
            "or run this in a terminal to type it hidden.",
            exit_code=2,
        )
    raise CommandError(f"no value for {field}", "Type the key, or press Ctrl-C.")


@app.command()
def unset(
    key: Annotated[str, typer.Argument(help="A setting: big_model, BIG_MODEL, port, ...")],
) -> None:
    """Remove one setting from the config file."""
    from claude_proxy.cli.console import print_note
    from claude_proxy.settings import config_file_path
    from claude_proxy.settings.config_file import canonical_field, unset_value

    field = canonical_field(key)
    target = config_file_path()
    if unset_value(target, field):
        print_note(f"removed {field} from {target}")
    else:
        print_note(f"{target} does not set {field}; nothing to do")
