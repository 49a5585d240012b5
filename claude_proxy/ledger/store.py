"""The ledger's SQLite file: its schema, opening it to write or to read, inserting, pruning.

One row per API request, never a body or a key. The journal is WAL, so several writers (the
workers of `serve --workers N`, each with its own `LedgerWriter`) take turns under a busy
timeout while readers (`claude-proxy usage`, `statusline`) read without blocking them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from claude_proxy.sqlite_files import open_wal

FILE_NAME = "usage.sqlite3"
BUSY_TIMEOUT = 10.0
"""Seconds a writer waits for another one's transaction; batches take milliseconds."""
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Row:
    """One API request, as the ledger keeps it."""

    time: float
    """Unix time the answer was complete."""
    request_id: str
    endpoint: str
    """`messages` or `count_tokens`."""
    session: str | None
    """The Claude Code session id (from `metadata.user_id` or `x-claude-code-session-id`)."""
    requested_model: str | None
    upstream_model: str | None
    provider: str | None
    input_tokens: int = 0
    """Uncached input tokens, as Anthropic counts them."""
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None
    """USD from LiteLLM's prices; None when the model is not priced."""
    latency_ms: float = 0.0
    status: int = 0
    error_type: str | None = None


COLUMNS = tuple(field.name for field in fields(Row))
_TYPES = {
    "time": "REAL NOT NULL",
    "request_id": "TEXT NOT NULL",
    "endpoint": "TEXT NOT NULL",
    "input_tokens": "INTEGER NOT NULL",
    "output_tokens": "INTEGER NOT NULL",
    "cache_read_tokens": "INTEGER NOT NULL",
    "cache_write_tokens": "INTEGER NOT NULL",
    "cost": "REAL",
    "latency_ms": "REAL NOT NULL",
    "status": "INTEGER NOT NULL",
}
SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS requests (
    {", ".join(f"{name} {_TYPES.get(name, 'TEXT')}" for name in COLUMNS)}
);
CREATE INDEX IF NOT EXISTS requests_by_time ON requests (time);
CREATE INDEX IF NOT EXISTS requests_by_session ON requests (session, time);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""
_INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def ledger_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def open_for_writing(path: Path) -> sqlite3.Connection:
    """The ledger, created if missing, in WAL mode, usable from any one thread at a time."""
    return open_wal(path, SCHEMA, BUSY_TIMEOUT, any_thread=True)


def open_for_reading(path: Path) -> sqlite3.Connection | None:
    """The ledger read-only, or None when no proxy has written one yet."""
    if not path.is_file():
        return None
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError:
        connection.close()
        raise
    if version != SCHEMA_VERSION:  # an empty file a writer is still creating
        connection.close()
        return None
    return connection


class transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` (or `ROLLBACK`): the write lock is taken at the start,
    so a busy ledger makes the writer wait its turn instead of failing halfway."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind: object, *_: object) -> None:
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")


def insert(connection: sqlite3.Connection, rows: Iterable[Row]) -> None:
    with transaction(connection):
        # Not dataclasses.astuple: it deep-copies every field, half the cost of a batch.
        connection.executemany(_INSERT, ([getattr(row, c) for c in COLUMNS] for row in rows))


def prune(connection: sqlite3.Connection, before: float) -> int:
    """Delete the rows older than `before` (Unix time); how many went."""
    with transaction(connection):
        return connection.execute("DELETE FROM requests WHERE time < ?", (before,)).rowcount
