"""`claude-proxy usage`: tokens and cost per day, per model and per session, read straight from
the usage ledger (read-only: no proxy needs to be running, and a running one is not slowed)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

from claude_proxy.cli.options import Json, option, settings_from
from claude_proxy.errors import CommandError

if TYPE_CHECKING:
    from claude_proxy.ledger.queries import Total

SESSIONS_SHOWN = 10
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

Since = Annotated[
    str | None,
    option(
        "--since",
        "Only requests since then: a span back from now (30m, 24h, 7d, 2w) or a local date "
        "or time (2026-11-30, 2026-11-30T09:00).",
        "WHEN",
    ),
]


def parse_since(text: str, now: float) -> float:
    """The Unix time `--since` names; a CommandError saying how to write it otherwise."""
    span = _SPAN.fullmatch(text.strip().lower())
    if span is not None:
        return now - float(span[1]) * _UNIT[span[2]]
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--since {text!r}: not a span or a date",
            "Write a span back from now (30m, 24h, 7d, 2w) or a date (2026-11-30).",
            exit_code=2,
        ) from None
    return moment.timestamp()  # a naive moment is local time


def usage(since: Since = None, json_output: Json = False) -> None:
    """Tokens and cost by day, model and session.

    From the usage ledger, DATA_DIR/usage.sqlite3, read directly: no proxy needs to run.
    """
    from claude_proxy.cli.console import print_json, print_note, print_usage
    from claude_proxy.ledger.queries import overall, totals
    from claude_proxy.ledger.store import ledger_path, open_for_reading

    settings = settings_from({})
    cutoff = parse_since(since, time.time()) if since is not None else None
    path = ledger_path(settings.data_path())
    try:
        reader = open_for_reading(path)
    except sqlite3.Error as exc:
        raise CommandError(
            f"the usage ledger {path} cannot be read: {exc}",
            "Move it aside; the proxy starts a new one.",
        ) from None
    if reader is None:
        if json_output:
            print_json({"ledger": str(path), "since": cutoff, "total": None, **_empty()})
        else:
            hint = (
                "Requests through `claude-proxy serve` or `run` are recorded there."
                if settings.usage_ledger
                else "USAGE_LEDGER is false: set it to true to record requests."
            )
            print_note(f"No usage recorded yet: {path} does not exist. {hint}")
        return
    with reader:
        total = overall(reader, cutoff)
        days = totals(reader, "day", cutoff)
        models = totals(reader, "model", cutoff)
        sessions = totals(reader, "session", cutoff)
    reader.close()
    if json_output:
        print_json(
            {
                "ledger": str(path),
                "since": cutoff,
                "total": _json(total) if total is not None else None,
                "days": [_json(t) for t in days],
                "models": [_json(t) for t in models],
                "sessions": [_json(t) for t in sessions],
            }
        )
        return
    window = f"since {_moment(cutoff)}" if cutoff is not None else "all time"
    if total is None:
        print_note(f"No requests {window} in {path}.")
        return
    print_usage(total, days, models, sessions[:SESSIONS_SHOWN], window, len(sessions))


def _empty() -> dict[str, list[Any]]:
    return {"days": [], "models": [], "sessions": []}


def _json(total: Total) -> dict[str, Any]:
    return {**asdict(total), "cache_hit_rate": total.cache_hit_rate}


def _moment(unix: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(unix))
