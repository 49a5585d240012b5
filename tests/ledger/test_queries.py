"""The sums `claude-proxy usage` and `statusline` show, read from a ledger built by hand."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from claude_proxy.ledger.queries import overall, session_usage, totals
from claude_proxy.ledger.store import Row, insert, ledger_path, open_for_reading, open_for_writing

DAY = 86400.0
NOON = time.mktime((2026, 11, 30, 12, 0, 0, 0, 0, -1))


def row(at: float, session: str | None, model: str | None, **fields: object) -> Row:
    values: dict[str, object] = {
        "time": at,
        "request_id": f"req_{at}",
        "endpoint": "messages",
        "session": session,
        "requested_model": "claude-sonnet-4-5",
        "upstream_model": model,
        "provider": "openai",
        "status": 200,
        **fields,
    }
    return Row(**values)  # type: ignore[arg-type]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = ledger_path(tmp_path)
    connection = open_for_writing(path)
    insert(
        connection,
        [
            row(NOON - DAY, "s1", "openai/gpt-4.1", input_tokens=100, output_tokens=10, cost=0.5),
            row(
                NOON, "s1", "openai/gpt-4.1-mini", input_tokens=50, cache_read_tokens=150, cost=0.25
            ),
            row(NOON + 60, "s2", "openai/gpt-4.1", output_tokens=5, cost=1.0),
            row(NOON + 120, None, None, status=401, error_type="authentication_error"),
            row(NOON + 180, "s2", "openai/gpt-4.1", endpoint="count_tokens", upstream_model="x"),
        ],
    )
    connection.close()
    return path


def test_totals_by_day_latest_first(ledger: Path) -> None:
    reader = open_for_reading(ledger)
    assert reader is not None
    days = totals(reader, "day")
    assert [(t.key, t.requests) for t in days] == [("2026-11-30", 4), ("2026-11-29", 1)]
    assert days[0].errors == 1
    assert days[0].cost == pytest.approx(1.25)


def test_totals_by_model_most_expensive_first(ledger: Path) -> None:
    reader = open_for_reading(ledger)
    assert reader is not None
    models = {t.key: t for t in totals(reader, "model")}
    assert next(iter(models)) == "openai/gpt-4.1"
    assert models["openai/gpt-4.1"].cost == pytest.approx(1.5)
    assert models["openai/gpt-4.1"].output_tokens == 15
    assert models["claude-sonnet-4-5"].cost is None  # the 401 never reached a model


def test_totals_by_session_and_since(ledger: Path) -> None:
    reader = open_for_reading(ledger)
    assert reader is not None
    sessions = [(t.key, t.requests) for t in totals(reader, "session", since=NOON)]
    assert sessions == [("s2", 2), ("(none)", 1), ("s1", 1)]


def test_overall_and_an_empty_window(ledger: Path) -> None:
    reader = open_for_reading(ledger)
    assert reader is not None
    everything = overall(reader)
    assert everything is not None and everything.requests == 5
    assert overall(reader, since=NOON + DAY) is None
    assert totals(reader, "day", since=NOON + DAY) == []


def test_a_sessions_usage_names_its_last_answering_model(ledger: Path) -> None:
    reader = open_for_reading(ledger)
    assert reader is not None
    usage = session_usage(reader, "s1")
    assert usage is not None
    assert usage.upstream_model == "openai/gpt-4.1-mini"
    assert (usage.total.input_tokens, usage.total.cache_read_tokens) == (150, 150)
    assert usage.total.cache_hit_rate == pytest.approx(0.5)
    s2 = session_usage(reader, "s2")
    assert s2 is not None and s2.upstream_model == "openai/gpt-4.1"  # count_tokens skipped
    assert session_usage(reader, "never-seen") is None


def test_no_input_has_no_cache_hit_rate(ledger: Path) -> None:
    reader = open_for_reading(ledger)
    assert reader is not None
    s2 = session_usage(reader, "s2")
    assert s2 is not None and s2.total.cache_hit_rate is None
