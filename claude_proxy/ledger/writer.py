"""The ledger's writer: rows are queued on the request path and written in batches, in a
thread, by one task, so no request waits on SQLite.

    request path ── add(row) ──▶ asyncio.Queue ──▶ task: drain ─▶ to_thread(insert batch)
                                                         └─ now and then: prune old rows

A ledger that cannot be written (a read-only disk, a locked file past the busy timeout) costs
the rows of that batch and one warning, never a request.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

from claude_proxy.ledger.store import Row, insert, open_for_writing, prune

logger = logging.getLogger(__name__)

BATCH = 500
MAX_QUEUED = 10_000
"""Rows waiting beyond this are dropped (and counted) rather than held in memory."""
PRUNE_EVERY = 3600.0
DAY = 86400.0


class LedgerWriter:
    def __init__(self, path: Path, retention_days: float) -> None:
        self.path = path
        self.retention = retention_days * DAY
        self.dropped = 0
        self._queue: asyncio.Queue[Row | None] = asyncio.Queue(MAX_QUEUED)
        self._connection: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self.pruned = 0

    async def start(self) -> None:
        """Open the file (in a thread) and start the task; a ledger that cannot be opened is
        logged and left off."""
        try:
            self._connection = await asyncio.to_thread(open_for_writing, self.path)
        except (OSError, sqlite3.Error) as exc:
            logger.warning("usage ledger off: cannot open %s: %s", self.path, exc)
            return
        self._task = asyncio.create_task(self._run(), name="usage-ledger")

    @property
    def pending(self) -> int:
        """Rows queued and not yet taken by the writer."""
        return self._queue.qsize()

    def add(self, row: Row) -> None:
        """Queue a row; never blocks."""
        if self._task is None:
            return
        try:
            self._queue.put_nowait(row)
        except asyncio.QueueFull:
            if not self.dropped:
                logger.warning("usage ledger: writes fall behind; rows are being dropped")
            self.dropped += 1

    async def close(self) -> None:
        """Write what is queued, then close the file."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        if self._connection is not None:
            await asyncio.to_thread(self._connection.close)
            self._connection = None

    async def _run(self) -> None:
        assert self._connection is not None
        connection = self._connection
        await self._prune(connection)
        while True:
            item = await self._queue.get()
            closing = item is None
            rows = [item] if item is not None else []
            while not closing and len(rows) < BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                closing = item is None
                rows += [item] if item is not None else []
            if rows:
                await self._write(connection, rows)
            # The batch is not kept while the queue waits: after a burst its rows (and the
            # request ids and model names in them) would pin CPython's memory arenas.
            del rows, item
            if closing:
                return
            if time.monotonic() - self._pruned_at > PRUNE_EVERY:
                await self._prune(connection)

    async def _write(self, connection: sqlite3.Connection, rows: list[Row]) -> None:
        try:
            await asyncio.to_thread(insert, connection, rows)
        except sqlite3.Error as exc:
            logger.warning("usage ledger: %d row(s) not written: %s", len(rows), exc)

    async def _prune(self, connection: sqlite3.Connection) -> None:
        self._pruned_at = time.monotonic()
        try:
            gone = await asyncio.to_thread(prune, connection, time.time() - self.retention)
        except sqlite3.Error as exc:
            logger.warning("usage ledger: old rows not pruned: %s", exc)
            return
        self.pruned += gone
        if gone:
            logger.info("usage ledger: pruned %d row(s) older than the retention", gone)
