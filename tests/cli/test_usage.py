"""`claude-proxy usage`: the ledger's sums per day, model and session, read without a proxy."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.cli.usage import parse_since
from claude_proxy.errors import CommandError
from claude_proxy.ledger.store import Row, insert, ledger_path, open_for_writing
from claude_proxy.settings import load_settings

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "seconds_back"),
    [("30m", 1800), ("24h", 86400), ("7d", 7 * 86400), ("2w", 14 * 86400), ("1.5h", 5400)],
)
def test_since_as_a_span(text: str, seconds_back: float) -> None:
    assert parse_since(text, NOW) == NOW - seconds_back


def test_since_as_a_local_date_or_time() -> None:
    assert parse_since("2026-11-30", NOW) == dt.datetime(2026, 11, 30).timestamp()
    assert parse_since("2026-11-30T09:30", NOW) == dt.datetime(2026, 11, 30, 9, 30).timestamp()


@pytest.mark.parametrize("text", ["yesterday", "7", "7y", ""])
def test_since_that_cannot_be_read_says_how_to_write_it(text: str) -> None:
    with pytest.raises(CommandError) as raised:
        parse_since(text, NOW)
    assert raised.value.exit_code == 2
    assert raised.value.hint is not None and "7d" in raised.value.hint


@pytest.fixture
def data_dir(isolated_settings: Path) -> Path:
    path = load_settings(env_file=None).data_path()
    now = time.time()
    rows = [
        Row(now - 3 * 86400, "req_1", "messages", "old-session", "claude-opus-5-5",
            "openai/gpt-4.1", "openai", input_tokens=1000, output_tokens=100, cost=0.0028),
        Row(now - 60, "req_2", "messages", "new-session", "claude-haiku-4-5",
            "openai/gpt-4.1-mini", "openai", input_tokens=200, output_tokens=50,
            cache_read_tokens=800, cost=0.0004),
        Row(now - 30, "req_3", "messages", "new-session", "claude-opus-5-5", None, None,
            status=401, error_type="authentication_error"),
    ]  # fmt: skip
    connection = open_for_writing(ledger_path(path))
    insert(connection, rows)
    connection.close()
    return path


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, ["usage", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_tables_by_day_model_and_session(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = invoke().stdout
    assert out.startswith("3 requests all time: 2,000 tokens in (40% from the cache), 150 out")
    for title in ("By day", "By upstream model", "By Claude Code session"):
        assert title in out
    model_line = next(line for line in out.splitlines() if line.startswith("openai/gpt-4.1 "))
    assert model_line.split() == ["openai/gpt-4.1", "1", "0", "1,000", "100", "0", "0", "0%",
                                  "$0.0028"]  # fmt: skip
    session = next(line for line in out.splitlines() if line.startswith("new-session"))
    assert session.split()[1:3] == ["2", "1"]  # two requests, one error


def test_json_with_since(data_dir: Path) -> None:
    data = json.loads(invoke("--since", "1h", "--json").stdout)
    assert data["ledger"] == str(ledger_path(data_dir))
    assert data["total"]["requests"] == 2
    assert [s["key"] for s in data["sessions"]] == ["new-session"]
    assert {m["key"] for m in data["models"]} == {"openai/gpt-4.1-mini", "claude-opus-5-5"}
    assert data["total"]["cache_hit_rate"] == pytest.approx(0.8)
    assert data["since"] == pytest.approx(time.time() - 3600, abs=600)


def test_a_window_without_requests(data_dir: Path) -> None:
    assert "No requests since" in invoke("--since", "2099-01-01").stderr


def test_no_ledger_yet_says_where_it_will_be(isolated_settings: Path) -> None:
    result = invoke()
    assert "No usage recorded yet" in result.stderr
    assert "usage.sqlite3 does not exist" in result.stderr
    data = json.loads(invoke("--json").stdout)
    assert data["total"] is None and data["days"] == []


def test_no_ledger_with_the_ledger_off_says_how_to_turn_it_on(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USAGE_LEDGER", "false")
    assert "USAGE_LEDGER is false" in invoke().stderr


def test_a_bad_since_is_a_usage_error(isolated_settings: Path) -> None:
    result = CliRunner().invoke(app, ["usage", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "not a span or a date" in result.stderr


def test_an_unreadable_ledger_is_an_error_with_a_fix(isolated_settings: Path) -> None:
    path = ledger_path(load_settings(env_file=None).data_path())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(app, ["usage"])
    assert result.exit_code == 1
    assert "cannot be read" in result.stderr and "Move it aside" in result.stderr
