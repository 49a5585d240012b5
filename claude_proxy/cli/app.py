"""The `claude-proxy` command line.

Importing this module stays cheap (`--help` answers in a fraction of a second): litellm,
aiohttp.web, tomlkit and watchfiles are imported inside the commands that need them. Every
error of the tree in claude_proxy/errors.py is caught in one place, `CliGroup.invoke`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from claude_proxy import __version__
from claude_proxy.cli import config as config_cmd
from claude_proxy.cli import models as models_cmd
from claude_proxy.cli.doctor.command import doctor
from claude_proxy.cli.options import (
    option,
)
from claude_proxy.cli.replay import replay
from claude_proxy.cli.run import run
from claude_proxy.cli.serve import serve
from claude_proxy.cli.usage import usage
from claude_proxy.errors import Error


class CliGroup(TyperGroup):
    """Errors of the tree become a message, what to do next, and an exit status."""

    def invoke(self, ctx: Any) -> Any:  # typer.Context's base is private to typer
        try:
            return super().invoke(ctx)
        except Error as exc:
            from claude_proxy.cli.console import print_error

            print_error(exc.message, exc.hint)
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


app = typer.Typer(
    name="claude-proxy",
    cls=CliGroup,
    help="Serve the Anthropic Messages API (Claude Code, the Anthropic SDKs) from other models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Click's plain help: whole option names at 80 columns, and no rich import for --help.
    rich_markup_mode=None,
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
        option("--version", "Show the version.", callback=version_callback, is_eager=True),
    ] = False,
) -> None:
    """Serve the Anthropic Messages API (Claude Code, the Anthropic SDKs) from other models."""


app.command()(serve)


app.command()(doctor)
app.command(context_settings={"allow_interspersed_args": False})(run)
app.command()(replay)
app.command()(usage)


@app.command()
def statusline(
    data_dir: Annotated[
        Path | None,
        option("--data-dir", "The ledger's folder (default: DATA_DIR).", "DIR"),
    ] = None,
) -> None:
    """Claude Code's status line: model, tokens, cost.

    Reads Claude Code's statusLine JSON on stdin and prints one line: the upstream model
    of the session, its tokens, cache hit rate and cost, from the usage ledger. `run claude`
    installs it for the session.
    """
    from claude_proxy.cli.statusline import run as print_status_line

    raise typer.Exit(print_status_line(data_dir))


def main() -> None:
    app()
