"""Side by side in one run: a floor translator, claude-proxy on each engine, `--workers 2`, Gemini.

Every process listens on 127.0.0.1. One fake upstream (fake_upstream.py) serves every stream;
it and this client run on one core, each server under test on the other (`taskset`), except
`--workers 2`, which gets both. For each server, in turn:

1. exec to the first 200 from /health, several starts (the last one stays up); RSS then;
2. one stream of each reply parsed whole and checked (workloads.py), then a warm-up;
3. per reply (text: 50 deltas; tools: text + 2 tool calls), batches at concurrency 1, 16, 64
   and 50 on the unpaced stream (chunks back to back: the server's cost, and TTFB when it is
   the bottleneck), and at 16 and 64 on a paced stream (chunks `--pace-ms` apart, as a model
   sends them: TTFB while it is not);
4. streams at c=50 until it has served `--streams`; RSS and open fds then.

The fake's own routes are measured the same way first (`direct`), so "added TTFB" is the
server's TTFB minus the direct one at the same concurrency and pace. CPU is utime+stime from
/proc over a batch (all threads and worker processes) divided by its streams.

    uv run python -m bench.stream_bench                 # everything, about 8 minutes
    uv run python -m bench.stream_bench --quick         # a smoke run, about 2 minutes
    uv run python -m bench.stream_bench --only floor,native --json out.json
    uv run python -m bench.stream_bench --only floor,native,before --streams 0   # 18ae38e too

See docs/performance.md for the results and how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import report
from bench.client import (
    Batch,
    Route,
    anthropic_route,
    check_stream,
    gemini_route,
    openai_route,
    run_batch,
)
from bench.processes import (
    BIN,
    Child,
    clean_env,
    free_port,
    machine,
    open_fds,
    pinned,
    rss_mb,
    start,
    stop,
    wait_healthy,
)
from bench.servers import DEFAULT, LOADS_LITELLM, SERVERS, launch
from bench.workloads import WORKLOADS

UNPACED = (1, 16, 64, 50)
PACED = (16, 64)


@dataclass
class Served:
    """What one server did in the run."""

    name: str
    starts: list[float] = field(default_factory=list)
    rss_start: list[float] = field(default_factory=list)
    """MB per process (gunicorn: the arbiter, then each worker) once /health said 200."""
    fds_start: int = 0
    batches: list[Batch] = field(default_factory=list)
    streams: int = 0
    rss_after: list[float] = field(default_factory=list)
    fds_after: int = 0
    problems: list[str] = field(default_factory=list)


async def start_up(
    name: str, fake: str, home: Path, args: argparse.Namespace
) -> tuple[Child, str, Served]:
    """Several starts, exec to /health 200 each; the last one is left running."""
    served = Served(name)
    starts = max(2, args.starts // 2 + 1) if name in LOADS_LITELLM else args.starts
    for attempt in range(starts):
        port = free_port()
        cores = (args.client_core, args.server_core)
        child = launch(name, port, fake, home, cores, args.proxy_log_level)
        url = f"http://127.0.0.1:{port}"
        try:
            served.starts.append(await wait_healthy(f"{url}/health", child, 120))
        except BaseException:
            stop(child)
            raise
        if attempt == starts - 1:
            served.rss_start = rss_mb(child.pid)
            served.fds_start = open_fds(child.pid)
            return child, url, served
        stop(child)
    raise AssertionError("unreachable")


def direct_routes(fake: str, dialect: str, pace_ms: float) -> list[Route]:
    make = openai_route if dialect == "openai" else gemini_route
    return [make(fake, w, pace_ms) for w in WORKLOADS.values()]


def limits(args: argparse.Namespace, route: Route, concurrency: int) -> dict[str, int | float]:
    """How long a batch runs: unpaced, `--seconds` (and at least `--waves` x c streams, so a
    slow server gets past the first burst); paced, until `--paced-streams` or `--paced-seconds`."""
    if route.pace_ms:
        return {"requests": args.paced_streams, "seconds": args.paced_seconds}
    return {
        "requests": args.max_requests,
        "seconds": args.seconds,
        "min_requests": args.waves * concurrency,
    }


async def measure_direct(fake: Child, fake_url: str, args: argparse.Namespace) -> list[Batch]:
    batches = []
    for dialect in ("openai", "gemini"):
        for pace in (0, args.pace_ms):
            for route in direct_routes(fake_url, dialect, pace):
                await run_batch(route, 16, requests=200, seconds=1)  # warm-up
                for concurrency in (1, 16, 64) if not pace else PACED:
                    batch = await run_batch(
                        route, concurrency, **limits(args, route, concurrency), pid=fake.pid
                    )
                    batches.append(batch)
                    report.progress(batch)
    return batches


async def measure(name: str, fake_url: str, home: Path, args: argparse.Namespace) -> Served:
    child, url, served = await start_up(name, fake_url, home, args)
    try:
        for workload in WORKLOADS.values():
            await check_stream(url, workload)
            warm = await run_batch(
                anthropic_route(name, url, workload), 16, requests=100, seconds=2
            )
            served.streams += 1 + warm.requests
            if warm.failures:
                raise RuntimeError(f"warm-up of {name} failed: {dict(warm.failures)}")
        for workload in WORKLOADS.values():
            for pace, levels in ((0, UNPACED), (args.pace_ms, PACED)):
                route = anthropic_route(name, url, workload, pace)
                for concurrency in levels:
                    batch = await run_batch(
                        route, concurrency, **limits(args, route, concurrency), pid=child.pid
                    )
                    served.batches.append(batch)
                    served.streams += batch.requests
                    report.progress(batch)
        remaining = args.streams - served.streams
        if remaining > 0:
            route = anthropic_route(name, url, WORKLOADS["text"])
            batch = await run_batch(route, 50, requests=remaining, seconds=900, pid=child.pid)
            batch.workload = "text, to reach --streams"
            served.batches.append(batch)
            served.streams += batch.requests
            report.progress(batch)
        served.rss_after = rss_mb(child.pid)
        served.fds_after = open_fds(child.pid)
    finally:
        stop(child)
    served.problems = child.problems()
    return served


def time_commands(runs: int) -> dict[str, list[float]]:
    """Wall seconds of `claude-proxy --help`, with `python -c pass` as its floor."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "claude-proxy --help": [str(BIN / "claude-proxy"), "--help"],
        "claude-proxy serve --help": [str(BIN / "claude-proxy"), "serve", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, timeout=30)
            times[name].append(time.perf_counter() - started)
    return times


async def main(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {int(args.client_core)})
    began = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="claude-proxy-bench-"))
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    argv = [sys.executable, "-m", "bench.fake_upstream", str(fake_port)]
    fake = start("fake", pinned(args.client_core, argv), clean_env(home), home)
    results: list[Served] = []
    try:
        await wait_healthy(f"{fake_url}/health", fake, 30)
        commands = time_commands(args.help_runs)
        direct = await measure_direct(fake, fake_url, args)
        for name in args.only:
            results.append(await measure(name, fake_url, home, args))
    finally:
        stop(fake)
    minutes = (time.monotonic() - began) / 60
    print(report.render(machine(), args, commands, direct, results, minutes))
    print(f"\nlogs: {home}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "commands": commands,
                    "direct": [report.batch_dict(b) for b in direct],
                    "servers": [
                        {**asdict(s), "batches": [report.batch_dict(b) for b in s.batches]}
                        for s in results
                    ],
                },
                indent=1,
            )
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT),
        help=f"servers, comma-separated, from {', '.join(SERVERS)} (default: all but before)",
    )
    parser.add_argument("--seconds", type=float, default=2.5, help="length of an unpaced batch")
    parser.add_argument(
        "--paced-streams", type=int, default=800, help="streams in a paced batch at most"
    )
    parser.add_argument(
        "--paced-seconds", type=float, default=12, help="length of a paced batch at most"
    )
    parser.add_argument("--max-requests", type=int, default=5000, help="streams per batch at most")
    parser.add_argument(
        "--waves", type=int, default=3, help="a batch runs for at least this many x c streams"
    )
    parser.add_argument("--pace-ms", type=float, default=5, help="ms between chunks when paced")
    parser.add_argument("--streams", type=int, default=5000, help="streams served before RSS")
    parser.add_argument("--starts", type=int, default=5, help="starts timed (LiteLLM ones: 3)")
    parser.add_argument("--help-runs", type=int, default=7, help="runs of each command timed")
    parser.add_argument("--client-core", default="0", help="core of this client and the fake")
    parser.add_argument("--server-core", default="1", help="core of the server under test")
    parser.add_argument("--proxy-log-level", default="info", help="the proxy's LOG_LEVEL")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 1 s batches, 3 s paced, 500 streams, 2 starts, 3 --help runs",
    )
    args = parser.parse_args(argv)
    args.only = [name for name in args.only.split(",") if name]
    unknown = set(args.only) - set(SERVERS)
    if unknown:
        parser.error(f"unknown server(s) {sorted(unknown)}; pick from {', '.join(SERVERS)}")
    if args.quick:
        args.seconds, args.paced_seconds, args.paced_streams, args.streams = 1.0, 3.0, 200, 500
        args.starts, args.help_runs = 2, 3
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
