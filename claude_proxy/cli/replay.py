"""`claude-proxy replay DIR`: run a recording (`serve --record DIR`) through this version,
offline, and show what the client would get differently (claude_proxy/server/replay.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from claude_proxy import __version__
from claude_proxy.cli.options import Json

if TYPE_CHECKING:
    from claude_proxy.server.replay import Outcome, Recording

DIFFERS_EXIT = 1

_COLOURS = {"same": "green", "differs": "red", "skipped": "yellow"}


def replay(
    directory: Annotated[
        Path,
        typer.Argument(
            help="The directory `serve --record` wrote.", metavar="DIR", show_default=False
        ),
    ],
    json_output: Json = False,
) -> None:
    """Replay a recording offline and show what differs.

    Each recorded request runs through this version against the recorded upstream answers;
    the exit status is 1 when any client answer or upstream request differs.
    """
    from claude_proxy.server.replay import load_recording, replay_recording

    recording = load_recording(directory)
    # The replayed requests' log lines (a recorded 429 logs a warning) are not the report.
    logger = logging.getLogger("claude_proxy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        outcomes = asyncio.run(replay_recording(recording))
    finally:
        logger.setLevel(level)
    if json_output:
        from claude_proxy.cli.console import print_json

        print_json(report(recording, outcomes))
    else:
        print_outcomes(recording, outcomes)
    if any(outcome.status == "differs" for outcome in outcomes):
        raise typer.Exit(DIFFERS_EXIT)


def report(recording: Recording, outcomes: list[Outcome]) -> dict[str, object]:
    counts = {status: 0 for status in _COLOURS}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return {
        "recorded_with": recording.manifest.get("proxy_version"),
        "replayed_with": __version__,
        "settings": recording.manifest.get("settings"),
        "exchanges": [outcome.to_json() for outcome in outcomes],
        **counts,
    }


def print_outcomes(recording: Recording, outcomes: list[Outcome]) -> None:
    settings = recording.manifest.get("settings") or {}
    typer.echo(
        f"replaying {len(outcomes)} exchange(s) of {recording.directory}, recorded by "
        f"claude-proxy {recording.manifest.get('proxy_version')} (provider "
        f"{settings.get('preferred_provider')}, engine {settings.get('upstream_engine')}), "
        f"with claude-proxy {__version__}"
    )
    width = max((len(outcome.name) for outcome in outcomes), default=0)
    for outcome in outcomes:
        status = typer.style(outcome.status, fg=_COLOURS[outcome.status])
        reason = f": {outcome.reason}" if outcome.reason else ""
        typer.echo(f"{outcome.name:<{width}}  {status}{reason}")
        for difference in outcome.differences:
            typer.echo(f"  {difference.part}:")
            for line in difference.diff.splitlines():
                colour = {"-": "red", "+": "green", "@": "cyan"}.get(line[:1])
                if line.startswith(("---", "+++")):
                    colour = None
                typer.echo("    " + (typer.style(line, fg=colour) if colour else line))
    counts = report(recording, outcomes)
    typer.echo(f"{counts['same']} same, {counts['differs']} differ, {counts['skipped']} skipped")
    if counts["differs"]:
        typer.echo(
            "The lines with - are what the recording's client got, + what this version gives it."
        )
    elif not outcomes:
        typer.echo("Nothing was recorded: run `claude-proxy serve --record DIR` and send requests.")
