"""The threads' SQLite store on real files: states, bounds, two stores on one file (what two
worker processes are), and the turn around a request."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from claude_proxy import errors
from claude_proxy.server.thread_store import Claimed, ThreadStore, thread_turn
from claude_proxy.settings import load_settings
from claude_proxy.translate.threads import Thread

QUESTION = {"role": "user", "content": "2 + 3?"}
ANSWER = {"role": "assistant", "content": [{"type": "text", "text": "5"}]}
CONVERSATION = {"system": "Be exact.", "messages": [QUESTION, ANSWER]}
MAX_AGE = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[ThreadStore]:
    store = ThreadStore(
        tmp_path / "data" / "threads.sqlite3", max_bytes=10_000, max_age=MAX_AGE, clock=clock
    )
    yield store
    await store.aclose()


async def error_code(claim: Any) -> tuple[int, str]:
    with pytest.raises(errors.ProxyError) as raised:
        await claim
    assert raised.value.details is not None
    return raised.value.status, raised.value.details["error_code"]


async def test_a_kept_conversation_is_claimed_once_and_continued_once(store: ThreadStore) -> None:
    await store.keep("msg_1", CONVERSATION, None)

    claimed = await store.claim("msg_1")
    assert claimed == Claimed(CONVERSATION, len(json.dumps(CONVERSATION, separators=(",", ":"))))
    assert await error_code(store.claim("msg_1")) == (400, "thread_continue_in_flight")

    await store.keep("msg_2", {"messages": [*CONVERSATION["messages"], QUESTION]}, "msg_1")
    assert await error_code(store.claim("msg_1")) == (400, "thread_already_continued")
    assert (await store.claim("msg_2")).conversation["messages"][-1] == QUESTION


async def test_a_released_claim_may_be_claimed_again(store: ThreadStore) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    await store.claim("msg_1")
    await store.release("msg_1")
    assert (await store.claim("msg_1")).conversation == CONVERSATION


async def test_an_unknown_id_is_thread_not_found_404(store: ThreadStore) -> None:
    assert await error_code(store.claim("msg_never")) == (404, "thread_not_found")
    with pytest.raises(errors.ThreadNotFoundError) as raised:
        await store.claim("msg_never")
    assert raised.value.to_body()["error"] == {
        "type": "not_found_error",
        "message": raised.value.message,
        "details": {"error_code": "thread_not_found"},
    }


async def test_a_thread_older_than_the_age_limit_is_gone(store: ThreadStore, clock: Clock) -> None:
    await store.keep("msg_old", CONVERSATION, None)
    clock.now += MAX_AGE / 2
    await store.keep("msg_young", CONVERSATION, None)
    clock.now += MAX_AGE / 2 + 1

    assert await error_code(store.claim("msg_old")) == (404, "thread_not_found")
    assert (await store.claim("msg_young")).conversation == CONVERSATION
    await store.keep("msg_new", CONVERSATION, None)  # a keep also deletes what is too old
    assert rows(store.path) == {"msg_young", "msg_new"}


async def test_the_oldest_threads_go_first_to_fit_the_size_limit(
    tmp_path: Path, clock: Clock
) -> None:
    big = {"messages": [{"role": "user", "content": "x" * 3000}]}
    store = ThreadStore(tmp_path / "t.sqlite3", max_bytes=10_000, max_age=MAX_AGE, clock=clock)
    try:
        for number in range(1, 5):
            clock.now += 1
            await store.keep(f"msg_{number}", big, None)
        assert rows(store.path) == {"msg_2", "msg_3", "msg_4"}
        assert await error_code(store.claim("msg_1")) == (404, "thread_not_found")
        # A continued reply keeps no history, so it costs nothing and nothing goes for it.
        await store.claim("msg_4")
        clock.now += 1
        await store.keep("msg_5", {"messages": []}, "msg_4")
        assert rows(store.path) == {"msg_2", "msg_3", "msg_4", "msg_5"}
    finally:
        await store.aclose()


async def test_the_file_is_private_in_wal_mode_and_outlives_its_store(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "data" / "threads.sqlite3"
    first = ThreadStore(path, max_bytes=10_000, max_age=MAX_AGE, clock=clock)
    await first.keep("msg_1", CONVERSATION, None)
    side_files = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    assert {stat.S_IMODE(side.stat().st_mode) for side in side_files} == {0o600}
    await first.aclose()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    second = ThreadStore(path, max_bytes=10_000, max_age=MAX_AGE, clock=clock)
    try:
        assert (await second.claim("msg_1")).conversation == CONVERSATION
    finally:
        await second.aclose()


async def test_two_stores_on_one_file_let_one_claim_win(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "threads.sqlite3"
    stores = [ThreadStore(path, max_bytes=10_000, max_age=MAX_AGE, clock=clock) for _ in range(2)]
    try:
        await stores[0].keep("msg_1", CONVERSATION, None)
        outcomes = await asyncio.gather(
            *(stores[i % 2].claim("msg_1") for i in range(10)), return_exceptions=True
        )
        won = [o for o in outcomes if isinstance(o, Claimed)]
        lost = [o for o in outcomes if isinstance(o, errors.ThreadRejectedError)]
        assert len(won) == 1 and len(lost) == 9
        assert {o.details["error_code"] for o in lost if o.details} == {"thread_continue_in_flight"}
    finally:
        for store in stores:
            await store.aclose()


async def test_sqlite_runs_on_the_stores_own_thread(store: ThreadStore) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    assert store._db is not None
    with pytest.raises(sqlite3.ProgrammingError, match="thread"):
        store._db.execute("SELECT 1")  # the connection belongs to the store's thread


def test_of_settings_puts_the_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(
        {"data_dir": tmp_path, "thread_store_max_bytes": 5, "thread_max_age": 7.0}, env_file=None
    )
    store = ThreadStore.of(settings)
    assert (store.path, store.max_bytes, store.max_age) == (tmp_path / "threads.sqlite3", 5, 7.0)


def rows(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT message_id FROM threads")}


# --- the turn --------------------------------------------------------------------------------

BODY = {"model": "m", "max_tokens": 9, "messages": [QUESTION]}
CREATE = Thread("create")
CONTINUE = Thread("continue", "msg_1")
REPLY = {"id": "msg_2", "content": [{"type": "text", "text": "6"}]}


async def test_a_create_sends_the_body_without_thread_and_keeps_the_reply(
    store: ThreadStore,
) -> None:
    body = {**BODY, "system": "Be exact.", "thread": {"type": "create"}}
    async with thread_turn(store, body, CREATE, 100) as turn:
        assert turn.request == {**BODY, "system": "Be exact."}
        await turn.keep({**REPLY, "id": "msg_1"})
    claimed = await store.claim("msg_1")
    assert claimed.conversation["messages"] == [
        QUESTION,
        {"role": "assistant", "content": REPLY["content"]},
    ]


async def test_a_continue_claims_rebuilds_and_keeps_the_next_reply(store: ThreadStore) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    body = {**BODY, "thread": {"type": "continue", "previous_message_id": "msg_1"}}
    async with thread_turn(store, body, CONTINUE, 100) as turn:
        assert turn.request == {
            **BODY,
            "system": "Be exact.",
            "messages": [QUESTION, ANSWER, QUESTION],
        }
        assert await error_code(store.claim("msg_1")) == (400, "thread_continue_in_flight")
        await turn.keep(REPLY)
    assert await error_code(store.claim("msg_1")) == (400, "thread_already_continued")
    assert len((await store.claim("msg_2")).conversation["messages"]) == 4


@pytest.mark.parametrize("failure", [errors.OverloadedError("busy"), asyncio.CancelledError()])
async def test_a_continue_that_fails_releases_its_claim(
    store: ThreadStore, failure: BaseException
) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    with pytest.raises(type(failure)):
        async with thread_turn(store, {**BODY}, CONTINUE, 100):
            raise failure
    assert (await store.claim("msg_1")).conversation == CONVERSATION


async def test_a_continue_that_repeats_system_is_a_400_and_releases(store: ThreadStore) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    with pytest.raises(errors.InvalidRequestError, match="`system`"):
        async with thread_turn(store, {**BODY, "system": "again"}, CONTINUE, 100):
            pass
    await store.claim("msg_1")


async def test_a_conversation_too_large_for_the_store_is_unsupported(store: ThreadStore) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    for thread, size in [(CREATE, 10_001), (CONTINUE, 9_950)]:
        with pytest.raises(errors.ThreadRejectedError) as raised:
            async with thread_turn(store, BODY, thread, size):
                pass
        assert raised.value.details == {
            "error_code": "thread_unsupported_request",
            "unsupported": ["conversation_size"],
        }
        assert "THREAD_STORE_MAX_BYTES" in raised.value.message
    await store.claim("msg_1")  # released


async def test_threads_off_are_unsupported_without_touching_the_store(tmp_path: Path) -> None:
    store = ThreadStore(tmp_path / "threads.sqlite3", max_bytes=0, max_age=MAX_AGE)
    for thread in (CREATE, CONTINUE):
        with pytest.raises(errors.ThreadRejectedError) as raised:
            async with thread_turn(store, BODY, thread, 10):
                pass
        assert raised.value.details == {
            "error_code": "thread_unsupported_request",
            "unsupported": ["threads_off"],
        }
    await store.aclose()
    assert not (tmp_path / "threads.sqlite3").exists()


async def test_a_store_that_cannot_open_makes_threads_unsupported_and_continues_not_found(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "not-a-dir").write_text("")
    store = ThreadStore(tmp_path / "not-a-dir" / "threads.sqlite3", max_bytes=10, max_age=MAX_AGE)
    try:
        with pytest.raises(errors.ThreadRejectedError) as raised:
            async with thread_turn(store, BODY, CREATE, 1):
                pass
        assert raised.value.details == {
            "error_code": "thread_unsupported_request",
            "unsupported": ["thread_store"],
        }
        with pytest.raises(errors.ThreadNotFoundError):
            async with thread_turn(store, BODY, CONTINUE, 1):
                pass
        assert "thread store cannot be" in caplog.text
    finally:
        await store.aclose()


async def test_a_reply_the_store_cannot_keep_still_goes_out(
    store: ThreadStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.keep("msg_1", CONVERSATION, None)
    with caplog.at_level(logging.WARNING):
        async with thread_turn(store, BODY, CONTINUE, 100) as turn:
            await turn.keep({"id": "msg_2", "content": [{"text": object()}]})
            assert not turn.kept
    assert "could not keep message thread msg_2" in caplog.text
    await store.claim("msg_1")  # released: the next turn may continue it again
