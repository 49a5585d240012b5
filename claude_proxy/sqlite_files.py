"""Opening the proxy's SQLite files (the usage ledger, message threads): one rule for both.

Each is created private (its folder 0700, the file 0600: they say what was asked of which
model, and when) and put in WAL mode, so that the workers of `serve --workers N` write it
together while `claude-proxy usage` reads it. Switching a new file to WAL takes a lock that
SQLite's busy timeout does not wait for: two processes opening the same new file at once
(the workers of one `serve`, starting together) can get "database is locked" at once. Opening
is therefore retried until the busy timeout has passed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

RETRY_PAUSE = 0.05


def open_wal(
    path: Path, schema: str, busy_timeout: float, *, any_thread: bool = False
) -> sqlite3.Connection:
    """`path` open for writing in WAL mode with `schema` applied (a script that must be safe
    to run again: CREATE ... IF NOT EXISTS). The connection is for the thread that opened it,
    or with `any_thread` for any one thread at a time."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # SQLite creates the -wal and -shm files with the database file's mode.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    deadline = time.monotonic() + busy_timeout
    while True:
        connection = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=not any_thread
        )
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.executescript(schema)
        except sqlite3.OperationalError as exc:
            connection.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(RETRY_PAUSE)
            continue
        except BaseException:
            connection.close()
            raise
        return connection
