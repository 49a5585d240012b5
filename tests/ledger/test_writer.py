"""The ledger's writer: rows queued without waiting, written in batches by one task, every row
landing when several writers (tasks or processes) share the file."""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_proxy.ledger import writer as writer_module
from claude_proxy.ledger.store import Row, insert, ledger_path, open_for_reading, open_for_writing
from claude_proxy.ledger.writer import DAY, MAX_QUEUED, LedgerWriter
from tests.helpers.repo import REPO


def row(index: int, *, at: float | None = None, writer: str = "a") -> Row:
    return Row(
        time=at if at is not None else time.time(),
        request_id=f"req_{writer}_{index}",
        endpoint="messages",
        session=f"session-{writer}",
        requested_model="claude-sonnet-4-5",
        upstream_model="openai/gpt-4.1",
        provider="openai",
        input_tokens=index,
    )


def stored_ids(path: Path) -> list[str]:
    reader = open_for_reading(path)
    assert reader is not None
    ids = [request_id for (request_id,) in reader.execute("SELECT request_id FROM requests")]
    reader.close()
    return ids


async def test_every_queued_row_is_written_by_close(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    ledger = LedgerWriter(path, retention_days=30)
    await ledger.start()
    for index in range(1234):  # more than a batch
        ledger.add(row(index))
    await ledger.close()
    assert sorted(stored_ids(path)) == sorted(f"req_a_{index}" for index in range(1234))


async def test_rows_are_written_while_the_writer_runs(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    ledger = LedgerWriter(path, retention_days=30)
    await ledger.start()
    ledger.add(row(1))
    for _ in range(2000):  # bounded: the batch lands in milliseconds
        if stored_ids(path):
            break
        await asyncio.sleep(0.01)
    assert stored_ids(path) == ["req_a_1"]
    await ledger.close()


async def test_a_written_batch_is_not_kept_while_the_writer_waits(tmp_path: Path) -> None:
    """After a burst the last batch's rows would otherwise live on until the next request,
    scattered over memory the burst took (docs/performance.md, "After a burst")."""
    path = ledger_path(tmp_path)
    ledger = LedgerWriter(path, retention_days=30)
    await ledger.start()
    for index in range(300):
        ledger.add(row(index))
    for _ in range(2000):  # bounded: the batch lands in milliseconds
        if len(stored_ids(path)) == 300:
            break
        await asyncio.sleep(0.01)
    assert len(stored_ids(path)) == 300

    def kept() -> int:
        gc.collect()
        return sum(isinstance(thing, Row) for thing in gc.get_objects())

    for _ in range(200):  # bounded: until the writer is back waiting on its queue
        if not kept():
            break
        await asyncio.sleep(0.01)
    assert kept() == 0
    await ledger.close()


async def test_adding_never_waits_and_drops_beyond_the_bound(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = ledger_path(tmp_path)
    ledger = LedgerWriter(path, retention_days=30)
    await ledger.start()
    for index in range(MAX_QUEUED + 5):  # no await: the task cannot drain meanwhile
        ledger.add(row(index))
    assert ledger.dropped == 5
    assert ledger.pending == MAX_QUEUED
    await ledger.close()
    assert ledger.pending == 0
    assert len(stored_ids(path)) == MAX_QUEUED
    assert caplog.text.count("rows are being dropped") == 1


async def test_rows_older_than_the_retention_are_pruned_at_start(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    connection = open_for_writing(path)
    now = time.time()
    insert(connection, [row(1, at=now - 10 * DAY), row(2, at=now - 2 * DAY)])
    connection.close()
    ledger = LedgerWriter(path, retention_days=7)
    await ledger.start()
    await ledger.close()
    assert stored_ids(path) == ["req_a_2"]


async def test_the_writer_prunes_again_as_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "PRUNE_EVERY", 0.0)
    path = ledger_path(tmp_path)
    ledger = LedgerWriter(path, retention_days=1)
    await ledger.start()
    ledger.add(row(1, at=time.time() - 3 * DAY))  # written, then pruned after the batch
    for _ in range(2000):  # bounded
        if ledger.pruned:
            break
        await asyncio.sleep(0.01)
    ledger.add(row(2))
    await ledger.close()
    assert ledger.pruned == 1
    assert stored_ids(path) == ["req_a_2"]


async def test_a_ledger_that_cannot_be_opened_is_off_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    ledger = LedgerWriter(ledger_path(blocker), retention_days=30)
    with caplog.at_level(logging.WARNING):
        await ledger.start()
    ledger.add(row(1))
    await ledger.close()
    assert "usage ledger off" in caplog.text


async def test_two_writers_in_one_loop_land_every_row(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    first, second = LedgerWriter(path, 30), LedgerWriter(path, 30)
    await asyncio.gather(first.start(), second.start())
    for index in range(2000):
        first.add(row(index, writer="a"))
        second.add(row(index, writer="b"))
        if index % 100 == 0:
            await asyncio.sleep(0)
    await asyncio.gather(first.close(), second.close())
    assert len(set(stored_ids(path))) == 4000


WRITE_ROWS = """
import asyncio, sys, time
from pathlib import Path
from claude_proxy.ledger.store import Row
from claude_proxy.ledger.writer import LedgerWriter

async def main(path, name, count):
    ledger = LedgerWriter(Path(path), 30)
    await ledger.start()
    for index in range(count):
        ledger.add(Row(time.time(), f"req_{name}_{index}", "messages", name, None, None, None))
        if index % 50 == 0:
            await asyncio.sleep(0)  # let the writer write while rows keep coming
    await ledger.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_two_processes_writing_at_once_land_every_row(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITE_ROWS, str(path), name, "3000"],
            cwd=REPO,
            stderr=subprocess.PIPE,
        )
        for name in ("p1", "p2")
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
        assert b"not written" not in stderr
    ids = stored_ids(path)
    assert len(ids) == len(set(ids)) == 6000
    assert {request_id.split("_")[1] for request_id in ids} == {"p1", "p2"}
