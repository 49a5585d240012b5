"""The `claude-proxy` command line.

Importing this module stays cheap (`--help` answers in a fraction of a second): litellm,
aiohttp.web, tomlkit and watchfiles are imported inside the commands that need them. Every
error of the tree in claude_proxy/errors.py is caught in one place, `CliGroup.invoke`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from claude_proxy import __version__, config_cmd, models_cmd
from claude_proxy.cli_options import (
    BigModel,
    Json,
    Port,
    Provider,
    SmallModel,
    serve_args,
    settings_from,
    shared_overrides,
)
from claude_proxy.errors import CommandError, ProxyError

if TYPE_CHECKING:
    from claude_proxy.settings import Settings


class CliGroup(TyperGroup):
    """Errors of the tree become a message, what to do next, and an exit status."""

    def invoke(self, ctx: Any) -> Any:  # typer.Context's base is private to typer
        try:
            return super().invoke(ctx)
        except ProxyError as exc:
            from claude_proxy.console import print_error

            print_error(exc.message, getattr(exc, "hint", None))
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


app = typer.Typer(
    name="claude-proxy",
    cls=CliGroup,
    help="Serve the Anthropic Messages API (Claude Code, the Anthropic SDKs) from other models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(models_cmd.app, name="models")


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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default 8082).")] = None,
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
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
    reload: Annotated[
        bool, typer.Option("--reload", help="Restart when the package's source changes.")
    ] = False,
    debug_rich: Annotated[
        bool,
        typer.Option(
            "--debug-rich", help="One rich line per request: models, tokens, cost, latency."
        ),
    ] = False,
) -> None:
    """Run the proxy in the foreground."""
    overrides = {
        "host": host,
        "port": port,
        "preferred_provider": provider,
        "big_model": big_model,
        "small_model": small_model,
        "log_level": log_level,
        "process_newlines": process_newlines,
        "preserve_openai_newlines": preserve_openai_newlines,
    }
    settings = settings_from(overrides)
    try:
        from claude_proxy.launcher import check_bindable

        check_bindable(settings.host, settings.port)  # before the banner says "listening"
        if reload:
            from claude_proxy.reload import serve_with_reload

            serve_with_reload(serve_args(overrides) + (["--debug-rich"] if debug_rich else []))
            return
        from claude_proxy.reload import in_reloaded_child, restore_interrupt

        if in_reloaded_child():
            restore_interrupt()
        asyncio.run(_serve(settings, debug_rich=debug_rich))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            "Is another claude-proxy running there (`claude-proxy doctor` says)? "
            "Pick another port with --port or PORT.",
        ) from None


async def _serve(settings: Settings, *, debug_rich: bool) -> None:
    from claude_proxy.console import print_banner, print_request, setup_logging
    from claude_proxy.launcher import base_url, loopback
    from claude_proxy.models_cmd import alias_rows
    from claude_proxy.request_record import RequestRecord
    from claude_proxy.server import create_app, run_server
    from claude_proxy.upstream.litellm_client import LiteLLMUpstream

    upstream = LiteLLMUpstream(settings)

    def report(record: RequestRecord) -> None:
        cost = None
        if record.usage and record.upstream_model:
            cost = upstream.cost(record.upstream_model, record.usage)
        print_request(record, cost)

    setup_logging(settings.log_level, report if debug_rich else None)
    await upstream.warm_up()
    rows = alias_rows(settings, upstream)
    warnings = startup_warnings(settings, {row.provider for row in rows})
    url = base_url(loopback(settings.host), settings.port)
    print_banner(url, settings.preferred_provider, rows, warnings, __version__)
    await run_server(settings, create_app(settings, upstream=upstream, catalog=upstream))


def startup_warnings(settings: Settings, providers: set[str]) -> list[str]:
    """What the banner warns about: an exposed address, providers without a key."""
    from claude_proxy.upstream.litellm_client import PROVIDER_CREDENTIALS

    warnings = []
    if not _is_loopback(settings.host):
        warnings.append(
            f"binding {settings.host} exposes this proxy, and the keys behind it, to your network."
        )
    for provider in sorted(providers):
        credentials = PROVIDER_CREDENTIALS.get(provider)
        if (
            credentials
            and getattr(settings, credentials[0]) is None
            and getattr(settings, credentials[1]) is None
        ):
            warnings.append(
                f"no key for {credentials[3]}: set {credentials[2]} (or put it in .env)."
            )
    return warnings


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def doctor(
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    port: Port = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online", help="Also make one small real request per configured model (costs a cent)."
        ),
    ] = False,
    json_output: Json = False,
) -> None:
    """Check the setup: config, keys, models, port and Claude Code; each problem with a fix."""
    from claude_proxy.console import print_checks, print_json
    from claude_proxy.doctor import run_checks

    overrides = shared_overrides(provider, big_model, small_model, port)
    checks = run_checks(overrides, online=online)
    failed = any(check.status == "fail" for check in checks)
    if json_output:
        print_json({"ok": not failed, "checks": [check.to_json() for check in checks]})
    else:
        print_checks(checks)
    if failed:
        raise typer.Exit(1)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="`claude` and its arguments, or `-- COMMAND ...` for any Anthropic client.",
            metavar="COMMAND",
            show_default=False,
        ),
    ] = None,
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    port: Port = None,
) -> None:
    """Run Claude Code (or any Anthropic client) through the proxy, starting one if needed."""
    from claude_proxy.launcher import launch

    overrides = shared_overrides(provider, big_model, small_model, port)
    raise typer.Exit(launch(command or [], settings_from(overrides), overrides))


def main() -> None:
    app()
