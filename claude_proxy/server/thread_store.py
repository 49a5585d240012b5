"""Where message threads are kept between turns: `threads.sqlite3` in DATA_DIR.

One row per reply a thread may continue from, keyed by the reply's message id, holding the
thread's system, tools and whole history (`translate/threads.py` decides what goes in).
SQLite in WAL mode, so the file survives a restart and every `serve --workers` process reads
and writes the same threads; a claim is one `BEGIN IMMEDIATE` transaction, so two processes
continuing the same reply cannot both win. A row's states:

    open ──claim──> in_flight ──the reply kept──> continued (its history dropped)
                       └──the turn failed──> open

The store is bounded by THREAD_STORE_MAX_BYTES (the oldest rows go first) and
THREAD_MAX_AGE. Losing a thread costs its client one replay of the conversation, never a
wrong answer, so a store that cannot be written logs and lets the answer through.

Every SQLite call runs on the store's one worker thread, which owns the connection: the event
loop never waits on the disk. Unthreaded requests never reach this module.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from claude_proxy import errors
from claude_proxy.settings import Settings
from claude_proxy.sqlite_files import open_wal
from claude_proxy.translate.threads import (
    Thread,
    continued_request,
    kept_conversation,
    without_thread,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

FILE_NAME = "threads.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    message_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    stored_at REAL NOT NULL,
    size INTEGER NOT NULL,
    conversation TEXT
);
CREATE INDEX IF NOT EXISTS threads_by_age ON threads (stored_at);
"""
BUSY_TIMEOUT = 10.0
"""Seconds a write waits for another process's write to end."""


@dataclass(frozen=True)
class Claimed:
    """The conversation a `continue` follows, now marked in flight."""

    conversation: dict[str, Any]
    size: int


class ThreadStore:
    """The threads' SQLite file, opened on first use on the store's own thread."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int,
        max_age: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thread-store")
        self._db: sqlite3.Connection | None = None

    @classmethod
    def of(cls, settings: Settings) -> ThreadStore:
        return cls(
            settings.data_path() / FILE_NAME,
            max_bytes=settings.thread_store_max_bytes,
            max_age=settings.thread_max_age,
        )

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    async def open(self) -> None:
        """Open (and create) the file now: a thread that starts needs a store that works."""
        await self._run(self._connection)

    async def claim(self, message_id: str) -> Claimed:
        """The conversation kept under `message_id`, marked in flight; raises the thread
        error the SDKs recover from when there is none to continue."""
        return await self._run(self._claim, message_id)

    async def release(self, message_id: str) -> None:
        """A claimed turn that failed: its conversation may be continued again."""
        await self._run(self._release, message_id)

    async def keep(
        self, message_id: str, conversation: dict[str, Any], follows: str | None
    ) -> None:
        """Keep `conversation` under its reply's `message_id`; the reply it `follows`, if
        any, becomes continued. Then the oldest rows go until the store fits its bounds."""
        await self._run(self._keep, message_id, conversation, follows)

    async def aclose(self) -> None:
        if self._db is not None:
            await self._run(self._close)
        self._executor.shutdown(wait=True)

    # --- on the store's thread ---------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = open_wal(self.path, SCHEMA, BUSY_TIMEOUT)
            self._db = db
        return self._db

    def _claim(self, message_id: str) -> Claimed:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT state, stored_at, size, conversation FROM threads WHERE message_id = ?",
                (message_id,),
            ).fetchone()
            if row is None or row[1] < self._clock() - self.max_age:
                raise errors.ThreadNotFoundError(
                    f"no message thread continues from {message_id}: it was never kept, or "
                    "is older than THREAD_MAX_AGE or was dropped to fit THREAD_STORE_MAX_BYTES; "
                    'replay the conversation with thread: {"type": "create"}'
                )
            state, _, size, conversation = row
            if state == "continued":
                raise errors.ThreadRejectedError(
                    f"{message_id} was already continued; each reply can be continued once: "
                    "continue from the thread's latest reply",
                    "thread_already_continued",
                )
            if state == "in_flight":
                raise errors.ThreadRejectedError(
                    f"another request is continuing from {message_id}; wait for its reply and "
                    "continue from that, or replay the conversation under a new thread",
                    "thread_continue_in_flight",
                )
            db.execute("UPDATE threads SET state = 'in_flight' WHERE message_id = ?", (message_id,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return Claimed(json.loads(conversation), size)

    def _release(self, message_id: str) -> None:
        self._connection().execute(
            "UPDATE threads SET state = 'open' WHERE message_id = ? AND state = 'in_flight'",
            (message_id,),
        )

    def _keep(self, message_id: str, conversation: dict[str, Any], follows: str | None) -> None:
        text = json.dumps(conversation, ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode())
        db = self._connection()
        now = self._clock()
        db.execute("BEGIN IMMEDIATE")
        try:
            if follows is not None:
                db.execute(
                    "UPDATE threads SET state = 'continued', size = 0, conversation = NULL "
                    "WHERE message_id = ?",
                    (follows,),
                )
            db.execute(
                "INSERT OR REPLACE INTO threads VALUES (?, 'open', ?, ?, ?)",
                (message_id, now, size, text),
            )
            self._evict(db, now)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _evict(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM threads WHERE stored_at < ?", (now - self.max_age,))
        (total,) = db.execute("SELECT COALESCE(SUM(size), 0) FROM threads").fetchone()
        if total <= self.max_bytes:
            return
        dropped = []
        rows = db.execute("SELECT message_id, size FROM threads WHERE size > 0 ORDER BY stored_at")
        for message_id, size in rows:
            if total <= self.max_bytes:
                break
            dropped.append((message_id,))
            total -= size
        db.executemany("DELETE FROM threads WHERE message_id = ?", dropped)
        logger.info("dropped %d message thread(s) to fit THREAD_STORE_MAX_BYTES", len(dropped))

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def unsupported(message: str, *features: str) -> errors.ThreadRejectedError:
    return errors.ThreadRejectedError(
        message, "thread_unsupported_request", unsupported=list(features)
    )


class ThreadTurn:
    """One turn of a thread: the whole request to send (about `size` bytes), and `keep` for
    its reply."""

    def __init__(
        self, store: ThreadStore, request: dict[str, Any], size: int, follows: str | None
    ) -> None:
        self.request = request
        self.size = size
        self._store = store
        self._follows = follows
        self.kept = False

    async def keep(self, reply: dict[str, Any]) -> None:
        """Keep the conversation up to `reply` for the next turn. A store that fails is
        logged: the next turn then replays, and this answer goes out all the same."""
        try:
            await self._store.keep(
                reply["id"], kept_conversation(self.request, reply), self._follows
            )
        except Exception as exc:
            logger.warning("could not keep message thread %s: %s", reply.get("id"), exc)
            return
        self.kept = True


@asynccontextmanager
async def thread_turn(
    store: ThreadStore, body: dict[str, Any], thread: Thread, size: int
) -> AsyncIterator[ThreadTurn]:
    """The turn `body` (`size` bytes) asks for. A `continue` claims the reply it follows for
    the block; unless the block kept the next reply, the claim is released."""
    if store.max_bytes == 0:
        raise unsupported("message threads are off (THREAD_STORE_MAX_BYTES=0)", "threads_off")
    if thread.previous_message_id is None:
        if size > store.max_bytes:
            raise too_large(size, store.max_bytes)
        try:
            await store.open()
        except (OSError, sqlite3.Error) as exc:
            logger.warning("the message thread store cannot be opened: %s", exc)
            raise unsupported(
                f"the proxy's message thread store cannot be opened: {exc}", "thread_store"
            ) from None
        yield ThreadTurn(store, without_thread(body), size, None)
        return
    previous = thread.previous_message_id
    claimed = await claim(store, previous)
    turn: ThreadTurn | None = None
    try:
        whole = claimed.size + size
        if whole > store.max_bytes:
            raise too_large(whole, store.max_bytes)
        turn = ThreadTurn(store, continued_request(body, claimed.conversation), whole, previous)
        yield turn
    finally:
        if turn is None or not turn.kept:
            await release(store, previous)


async def claim(store: ThreadStore, message_id: str) -> Claimed:
    try:
        return await store.claim(message_id)
    except (OSError, sqlite3.Error) as exc:
        logger.warning("the message thread store cannot be read: %s", exc)
        raise errors.ThreadNotFoundError(
            f"the proxy's message thread store cannot be read ({exc}); replay the conversation"
        ) from None


async def release(store: ThreadStore, message_id: str) -> None:
    try:
        await asyncio.shield(store.release(message_id))
    except (OSError, sqlite3.Error) as exc:
        logger.warning("could not release message thread %s: %s", message_id, exc)


def too_large(size: int, limit: int) -> errors.ThreadRejectedError:
    return unsupported(
        f"the conversation ({size} bytes) is larger than the thread store holds "
        f"(THREAD_STORE_MAX_BYTES={limit}); send it whole, without a thread",
        "conversation_size",
    )
