"""The `claude-proxy` command line.

Importing this module stays cheap: litellm is imported only inside commands that call a model.
"""

from __future__ import annotations

import asyncio
import ipaddress
import tomllib
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from claude_proxy import __version__
from claude_proxy.settings import Settings, config_file_path, load_settings

app = typer.Typer(
    name="claude-proxy",
    help="Serve the Anthropic Messages API (Claude Code, the Anthropic SDKs) from other models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"claude-proxy {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Serve the Anthropic Messages API (Claude Code, the Anthropic SDKs) from other models."""


def settings_from(overrides: dict[str, Any]) -> Settings:
    """Load the settings, turning a bad config into a message and exit status 2."""
    from claude_proxy.console import print_error

    try:
        return load_settings(overrides)
    except tomllib.TOMLDecodeError as exc:
        print_error(
            f"the config file {config_file_path()} is not valid TOML: {exc}", "Fix or remove it."
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        print_error(
            f"invalid settings: {problems}",
            "Check the flags, the environment, .env and the config file.",
        )
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default 8082).")] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            help="Provider for the Claude aliases: openai, google, together or anthropic."
        ),
    ] = None,
    big_model: Annotated[
        str | None, typer.Option(help="Model for sonnet and opus requests.")
    ] = None,
    small_model: Annotated[str | None, typer.Option(help="Model for haiku requests.")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error.")] = None,
    process_newlines: Annotated[
        bool | None,
        typer.Option(
            "--process-newlines/--no-process-newlines",
            help="Together: turn literal backslash-n in answers into newlines (default on).",
        ),
    ] = None,
    preserve_openai_newlines: Annotated[
        bool | None,
        typer.Option(
            "--preserve-openai-newlines/--no-preserve-openai-newlines",
            help="OpenAI: keep real newlines in answers (default on).",
        ),
    ] = None,
) -> None:
    """Run the proxy in the foreground."""
    settings = settings_from(
        {
            "host": host,
            "port": port,
            "preferred_provider": provider,
            "big_model": big_model,
            "small_model": small_model,
            "log_level": log_level,
            "process_newlines": process_newlines,
            "preserve_openai_newlines": preserve_openai_newlines,
        }
    )
    try:
        asyncio.run(_serve(settings))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        from claude_proxy.console import print_error

        print_error(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            "Is another claude-proxy running there? Pick another port with --port or PORT.",
        )
        raise typer.Exit(1) from None


async def _serve(settings: Settings) -> None:
    from claude_proxy.console import print_banner, setup_logging
    from claude_proxy.model_map import ALIASES, map_model
    from claude_proxy.server import create_app, run_server
    from claude_proxy.upstream.litellm_client import PROVIDER_CREDENTIALS, LiteLLMUpstream

    setup_logging(settings.log_level)
    upstream = LiteLLMUpstream(settings)
    await upstream.warm_up()
    choices = {alias: map_model(alias, settings, upstream) for alias in ALIASES}
    warnings = []
    if not _is_loopback(settings.host):
        warnings.append(
            f"binding {settings.host} exposes this proxy, and the keys behind it, to your network."
        )
    for choice in choices.values():
        credentials = PROVIDER_CREDENTIALS.get(choice.provider)
        if (
            credentials
            and getattr(settings, credentials[0]) is None
            and getattr(settings, credentials[1]) is None
        ):
            warnings.append(
                f"no key for {credentials[3]}: set {credentials[2]} (or put it in .env)."
            )
    url = f"http://{_url_host(settings.host)}:{settings.port}"
    mapping: dict[str, tuple[str, str]] = {a: (c.model, c.reason) for a, c in choices.items()}
    print_banner(url, settings.preferred_provider, mapping, sorted(set(warnings)))
    await run_server(settings, create_app(settings, upstream=upstream, catalog=upstream))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def main() -> None:
    app()
