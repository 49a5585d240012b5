"""`claude-proxy statusline`: the command for Claude Code's `statusLine` setting.

Claude Code runs it after each turn with its session as JSON on stdin (`session_id`, `model`,
`workspace`, `cost`, ...) and shows the first line it prints. The line says which upstream
model answers the session, its tokens, cache hit rate and cost, from the usage ledger.

It runs often, so it imports little: the ledger's sqlite3 queries and nothing of typer, rich,
pydantic or litellm when the ledger's folder is given (`--data-dir`, which `run claude` passes;
otherwise the settings are loaded to find DATA_DIR). `run claude` installs it as
`python -m claude_proxy.cli.statusline`, which skips the CLI's other commands. It never fails
loudly: whatever goes wrong, Claude Code gets a short line and exit status 0.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, TextIO

from claude_proxy.ledger.queries import SessionUsage, session_usage
from claude_proxy.ledger.store import ledger_path, open_for_reading

MAX_STDIN = 1 << 20
NAME = "claude-proxy"


def status_line(usage: SessionUsage | None, *, ledger: bool = True) -> str:
    """The one line: `gpt-4.1 · 12.3k in, 1.2k out · cache 45% · $0.0123`."""
    if not ledger:
        return f"{NAME} · no usage ledger yet"
    if usage is None:
        return f"{NAME} · no requests yet this session"
    total = usage.total
    model = usage.upstream_model or usage.requested_model or "?"
    prompt = total.input_tokens + total.cache_read_tokens + total.cache_write_tokens
    parts = [
        model.split("/", 1)[1] if "/" in model else model,
        f"{compact(prompt)} in, {compact(total.output_tokens)} out",
    ]
    if total.cache_hit_rate is not None:
        parts.append(f"cache {total.cache_hit_rate:.0%}")
    parts.append(f"${total.cost:.4f}" if total.cost is not None else "unpriced")
    if total.errors:
        parts.append(f"{total.errors} error{'s' * (total.errors != 1)}")
    return " · ".join(parts)


def compact(count: int) -> str:
    """12345 -> 12.3k, 2500000 -> 2.5M."""
    for size, unit in ((1_000_000, "M"), (1000, "k")):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + unit
    return str(count)


def session_of(stdin: TextIO) -> str | None:
    """The `session_id` in Claude Code's JSON; None for anything else."""
    try:
        data: Any = json.loads(stdin.read(MAX_STDIN) or "null")
    except (ValueError, OSError):
        return None
    session = data.get("session_id") if isinstance(data, dict) else None
    return session if isinstance(session, str) and session else None


def data_dir_of(flag: Path | None) -> Path:
    if flag is not None:
        return flag
    from claude_proxy.settings import load_settings

    return load_settings().data_path()


def line_for(session: str | None, data_dir: Path) -> str:
    reader = open_for_reading(ledger_path(data_dir))
    if reader is None:
        return status_line(None, ledger=False)
    try:
        if session is None:
            return f"{NAME} · no session id from Claude Code"
        return status_line(session_usage(reader, session))
    finally:
        reader.close()


def run(data_dir: Path | None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Print the line for the session on `stdin`; always exit status 0."""
    session = session_of(stdin or sys.stdin)
    try:
        line = line_for(session, data_dir_of(data_dir))
    except (sqlite3.Error, OSError, ValueError) as exc:
        line = f"{NAME} · ledger unreadable ({type(exc).__name__})"
    except Exception as exc:  # a status line must not print a traceback into the UI
        line = f"{NAME} · {type(exc).__name__}"
    (stdout or sys.stdout).write(line + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m claude_proxy.cli.statusline [--data-dir DIR]`."""
    args = sys.argv[1:] if argv is None else argv
    data_dir = Path(args[1]) if len(args) >= 2 and args[0] == "--data-dir" else None
    return run(data_dir)


if __name__ == "__main__":
    raise SystemExit(main())
