"""The ledger's file: created private, in WAL mode, read-only for readers, pruned by time."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from claude_proxy.ledger.store import (
    COLUMNS,
    Row,
    insert,
    ledger_path,
    open_for_reading,
    open_for_writing,
    prune,
)


def row(time: float = 1000.0, **fields: object) -> Row:
    values: dict[str, object] = {
        "time": time,
        "request_id": f"req_{time}",
        "endpoint": "messages",
        "session": "s-1",
        "requested_model": "claude-sonnet-4-5",
        "upstream_model": "openai/gpt-4.1",
        "provider": "openai",
        **fields,
    }
    return Row(**values)  # type: ignore[arg-type]


def test_the_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = ledger_path(tmp_path / "data")
    connection = open_for_writing(path)
    insert(connection, [row()])
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_rows_round_trip_every_column(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    written = row(
        input_tokens=10,
        output_tokens=2,
        cache_read_tokens=30,
        cache_write_tokens=4,
        cost=0.00125,
        latency_ms=12.5,
        status=429,
        error_type="rate_limit_error",
    )
    writer = open_for_writing(path)
    insert(writer, [written])
    writer.close()
    reader = open_for_reading(path)
    assert reader is not None
    stored = reader.execute(f"SELECT {', '.join(COLUMNS)} FROM requests").fetchall()
    assert [Row(*values) for values in stored] == [written]


def test_a_reader_cannot_write(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    open_for_writing(path).close()
    reader = open_for_reading(path)
    assert reader is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("DELETE FROM requests")


def test_reading_a_missing_ledger_gives_none_and_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert open_for_reading(ledger_path(data)) is None
    assert not data.exists()


def test_a_reader_sees_rows_a_writer_still_holding_the_file_committed(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    writer = open_for_writing(path)
    reader = open_for_reading(path)
    assert reader is not None
    insert(writer, [row(1.0), row(2.0)])
    assert reader.execute("SELECT count(*) FROM requests").fetchone()[0] == 2
    writer.close()


def test_reopening_keeps_the_rows(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    first = open_for_writing(path)
    insert(first, [row(1.0)])
    first.close()
    second = open_for_writing(path)
    insert(second, [row(2.0)])
    assert second.execute("SELECT count(*) FROM requests").fetchone()[0] == 2
    second.close()


def test_prune_deletes_only_older_rows(tmp_path: Path) -> None:
    connection = open_for_writing(ledger_path(tmp_path))
    insert(connection, [row(10.0), row(20.0), row(30.0)])
    assert prune(connection, before=20.0) == 1
    times = [t for (t,) in connection.execute("SELECT time FROM requests ORDER BY time")]
    assert times == [20.0, 30.0]
    connection.close()


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    connection = open_for_writing(ledger_path(tmp_path))
    with pytest.raises(sqlite3.IntegrityError):
        insert(connection, [row(1.0), row(2.0, request_id=None)])
    assert connection.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    connection.close()
