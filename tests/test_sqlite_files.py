"""The proxy's SQLite files open private and in WAL mode, even when several processes open
the same new file at once (SQLite's busy timeout does not cover switching it to WAL)."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from claude_proxy.sqlite_files import open_wal

SCHEMA = "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS t (x INTEGER); COMMIT;"


def test_a_new_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "data" / "x.sqlite3"
    connection = open_wal(path, SCHEMA, busy_timeout=10)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        connection.execute("INSERT INTO t VALUES (1)")
    finally:
        connection.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_openers_racing_on_a_new_file_all_get_it(tmp_path: Path) -> None:
    """Without the retry, about one trial in a hundred had an opener fail at once with
    "database is locked"; two hundred trials of four openers find it."""
    failures: list[BaseException] = []

    def opener(path: Path) -> None:
        try:
            open_wal(path, SCHEMA, busy_timeout=10).close()
        except BaseException as exc:  # recorded for the assertion
            failures.append(exc)

    for trial in range(200):
        path = tmp_path / f"race-{trial}.sqlite3"
        threads = [threading.Thread(target=opener, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
