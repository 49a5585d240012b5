"""What the usage ledger costs per request, measured in-process, where the noise of a shared
machine cannot hide it the way it hides a few microseconds in a whole stream.

For N requests it times, in CPU seconds of this process (all threads): the request path's
part (`RequestLog.row()`, with the cost from LiteLLM's prices, and `LedgerWriter.add`), then
the writer's part (the rest of the process's CPU over the run: its task and the batches it
writes in a thread, through `close()`).

    uv run python -m bench.ledger_cost [--rows 20000]

See docs/performance.md for the results.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from claude_proxy.ledger.store import ledger_path
from claude_proxy.ledger.writer import MAX_QUEUED, LedgerWriter
from claude_proxy.model_map import ModelChoice
from claude_proxy.server.request_log import RequestLog

CHOICE = ModelChoice("claude-opus-5-5", "openai/gpt-4.1", "openai", "opus -> big_model")
USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_read_input_tokens": 40000,
    "cache_creation_input_tokens": 0,
}


def finished_log(index: int) -> RequestLog:
    log = RequestLog(f"req_{index}", "POST", "/v1/messages", choice=CHOICE, session="s-1")
    log.usage = USAGE
    log.finish(200, None)
    return log


async def measure(rows: int, folder: Path) -> tuple[float, float]:
    """CPU microseconds per request: on the request path, and in the writer."""
    ledger = LedgerWriter(ledger_path(folder), retention_days=90)
    await ledger.start()
    logs = [finished_log(index) for index in range(rows)]
    path = 0.0
    everything = time.process_time()  # sleeping costs no CPU; the writer's thread does
    for start in range(0, rows, MAX_QUEUED // 2):  # let the writer drain between waves
        began = time.process_time()
        for log in logs[start : start + MAX_QUEUED // 2]:
            row = log.row()
            assert row is not None
            ledger.add(row)
        path += time.process_time() - began
        while ledger.pending:
            await asyncio.sleep(0.01)
    await ledger.close()
    assert ledger.dropped == 0
    writer = time.process_time() - everything - path
    return path / rows * 1e6, writer / rows * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    finished_log(0).row()  # LiteLLM's price map loaded once, as at start-up
    with tempfile.TemporaryDirectory() as folder:
        on_path, in_writer = asyncio.run(measure(args.rows, Path(folder)))
    print(f"{args.rows} rows: request path {on_path:.1f} us/request (row + cost + queue)")
    print(f"writer (task + thread, batches of up to 500): about {in_writer:.1f} us/request")


if __name__ == "__main__":
    main()
