"""`claude-proxy statusline`: one short line from the ledger for the session on stdin, fast,
and never a failure Claude Code would show."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.cli.statusline import compact, run, session_of, status_line
from claude_proxy.ledger.queries import SessionUsage, Total
from claude_proxy.ledger.store import Row, insert, ledger_path, open_for_writing
from tests.helpers.repo import REPO

CLAUDE_JSON = {
    "session_id": "5d0e1e7c-aaaa-4bbb-8ccc-123456789abc",
    "transcript_path": "/home/me/.claude/projects/p/5d0e1e7c.jsonl",
    "cwd": "/home/me/p",
    "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
    "workspace": {"current_dir": "/home/me/p", "project_dir": "/home/me/p", "added_dirs": []},
    "version": "2.1.330",
    "cost": {"total_cost_usd": 0.0058, "total_duration_ms": 4000},
}


def total(**fields: object) -> Total:
    values: dict[str, object] = {
        "key": "s",
        "requests": 3,
        "errors": 0,
        "input_tokens": 2000,
        "output_tokens": 1234,
        "cache_read_tokens": 9000,
        "cache_write_tokens": 1000,
        "cost": 0.01234,
        "first": 0.0,
        "last": 0.0,
        **fields,
    }
    return Total(**values)  # type: ignore[arg-type]


def test_the_line_names_the_upstream_model_tokens_cache_and_cost() -> None:
    usage = SessionUsage(total(), "openai/gpt-4.1", "claude-opus-5-5")
    assert status_line(usage) == "gpt-4.1 · 12k in, 1.2k out · cache 75% · $0.0123"


@pytest.mark.parametrize(
    ("usage", "line"),
    [
        (
            SessionUsage(total(cost=None, errors=2), "together_ai/Qwen/QwQ-32B", None),
            "Qwen/QwQ-32B · 12k in, 1.2k out · cache 75% · unpriced · 2 errors",
        ),
        (
            SessionUsage(
                total(input_tokens=0, cache_read_tokens=0, cache_write_tokens=0, errors=1),
                None,
                "claude-opus-5-5",
            ),
            "claude-opus-5-5 · 0 in, 1.2k out · $0.0123 · 1 error",
        ),
    ],
)
def test_the_line_without_a_price_a_model_or_input(usage: SessionUsage, line: str) -> None:
    assert status_line(usage) == line


def test_the_lines_before_anything_is_known() -> None:
    assert status_line(None) == "claude-proxy · no requests yet this session"
    assert status_line(None, ledger=False) == "claude-proxy · no usage ledger yet"


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0"), (999, "999"), (1000, "1k"), (12345, "12.3k"), (2_500_000, "2.5M")],
)
def test_compact_counts(count: int, text: str) -> None:
    assert compact(count) == text


@pytest.mark.parametrize(
    ("stdin", "session"),
    [
        (json.dumps(CLAUDE_JSON), CLAUDE_JSON["session_id"]),
        ("", None),
        ("not json", None),
        ("[1]", None),
        ('{"session_id": 5}', None),
    ],
)
def test_session_of_claude_codes_json(stdin: str, session: str | None) -> None:
    assert session_of(io.StringIO(stdin)) == session


def write_rows(data_dir: Path, *rows: Row) -> None:
    connection = open_for_writing(ledger_path(data_dir))
    insert(connection, rows)
    connection.close()


def row(session: str, model: str, **fields: object) -> Row:
    values: dict[str, object] = {
        "time": time.time(),
        "request_id": "req_1",
        "endpoint": "messages",
        "session": session,
        "requested_model": "claude-opus-5-5",
        "upstream_model": model,
        "provider": "openai",
        "input_tokens": 100,
        "output_tokens": 20,
        "cost": 0.002,
        "status": 200,
        **fields,
    }
    return Row(**values)  # type: ignore[arg-type]


def status_of(data_dir: Path | None, stdin: str = json.dumps(CLAUDE_JSON)) -> str:
    out = io.StringIO()
    assert run(data_dir, io.StringIO(stdin), out) == 0
    return out.getvalue()


def test_the_sessions_line_from_the_ledger(tmp_path: Path) -> None:
    session = CLAUDE_JSON["session_id"]
    write_rows(
        tmp_path,
        row(session, "openai/gpt-4.1", cache_read_tokens=300),
        row("another-session", "openai/o3", input_tokens=99999, cost=9.0),
    )
    assert status_of(tmp_path) == "gpt-4.1 · 400 in, 20 out · cache 75% · $0.0020\n"


def test_short_lines_when_there_is_nothing_to_show(tmp_path: Path) -> None:
    assert status_of(tmp_path / "none") == "claude-proxy · no usage ledger yet\n"
    write_rows(tmp_path, row("another-session", "openai/gpt-4.1"))
    assert status_of(tmp_path) == "claude-proxy · no requests yet this session\n"
    assert status_of(tmp_path, "garbage") == "claude-proxy · no session id from Claude Code\n"


def test_an_unreadable_ledger_is_a_short_line_not_a_failure(tmp_path: Path) -> None:
    ledger_path(tmp_path).write_bytes(b"this is not a database" * 100)
    assert status_of(tmp_path) == "claude-proxy · ledger unreadable (DatabaseError)\n"


def test_without_a_data_dir_the_settings_say_where(isolated_settings: Path) -> None:
    from claude_proxy.settings import load_settings

    write_rows(load_settings(env_file=None).data_path(), row(CLAUDE_JSON["session_id"], "x/y"))
    assert status_of(None).startswith("y · 100 in, 20 out")


def test_the_command_reads_stdin(tmp_path: Path) -> None:
    write_rows(tmp_path, row(CLAUDE_JSON["session_id"], "openai/gpt-4.1"))
    result = CliRunner().invoke(
        app, ["statusline", "--data-dir", str(tmp_path)], input=json.dumps(CLAUDE_JSON)
    )
    assert result.exit_code == 0
    assert result.stdout == "gpt-4.1 · 100 in, 20 out · cache 0% · $0.0020\n"


HEAVY = ("typer", "click", "rich", "pydantic", "pydantic_settings", "litellm", "aiohttp")


def test_the_installed_command_imports_nothing_heavy(tmp_path: Path) -> None:
    """What `run claude` installs: `python -m claude_proxy.cli.statusline --data-dir DIR`."""
    write_rows(tmp_path, row(CLAUDE_JSON["session_id"], "openai/gpt-4.1"))
    probe = (
        "import runpy, sys, json\n"
        f"sys.argv = ['statusline', '--data-dir', {str(tmp_path)!r}]\n"
        "try:\n"
        "    runpy.run_module('claude_proxy.cli.statusline', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(json.dumps(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        input=json.dumps(CLAUDE_JSON),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    line, heavy = done.stdout.splitlines()
    assert line.startswith("gpt-4.1 · 100 in")
    assert json.loads(heavy) == []
