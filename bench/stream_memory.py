"""What N streams in flight at once hold in claude-proxy's memory, by allocation site.

Runs `claude-proxy serve` (native engine, one core) inside a small wrapper that, on SIGUSR1,
runs `gc.collect()` and writes `sys.getallocatedblocks()`, the pymalloc arena count
(`sys._debugmallocstats()`), RSS and, with `--tracemalloc`, a snapshot. Then:

1. a warm-up of 200 streams, and a look (the baseline);
2. `--streams` streams opened at once against the fake upstream, paced so that each stays in
   flight (`--pace-ms` between chunks, 53 chunks); once every one has its first text, a look
   (the peak: the baseline plus N streams mid-answer);
3. the client hangs up on all of them, the proxy idles `--idle` seconds, a last look.

It prints blocks and bytes per in-flight stream (peak minus baseline, over N) and, with
`--tracemalloc`, the allocation sites that grew most between baseline and peak, by line and
by traceback, and those of the blocks the streams allocated that are still alive at the
last look (what pins pymalloc's arenas after a burst). tracemalloc itself costs memory and CPU; read its sites, not the RSS of that run.

    uv run python -m bench.stream_memory --streams 200                 # counts only, ~1 min
    uv run python -m bench.stream_memory --streams 200 --tracemalloc   # sites too
    uv run python -m bench.stream_memory --body tests/data/claude-code/02-bash-roundtrip.json
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp

from bench.client import anthropic_route, check_stream, run_batch
from bench.processes import clean_env, free_port, pinned, rss_mb, start, stop, wait_healthy
from bench.workloads import WORKLOADS

WRAPPER = """
import gc, json, os, re, runpy, signal, sys, tempfile, tracemalloc
out, port, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.argv = ["claude-proxy", "serve", "--port", port]
if depth:
    tracemalloc.start(depth)
looks = [0]

def arenas():
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode()
    found = dict(re.findall(r"# (arenas allocated current|bytes in allocated blocks)\\s*=\\s*([\\d,]+)", text))
    return {k: int(v.replace(",", "")) for k, v in found.items()}

def look(*_):
    gc.collect()
    looks[0] += 1
    name = f"{out}.{looks[0]}"
    facts = {"blocks": sys.getallocatedblocks(), **arenas()}
    if depth:
        tracemalloc.take_snapshot().dump(name + ".snap")
        if looks[0] == 1:
            tracemalloc.clear_traces()  # from here on, only what the streams allocate
    with open(name + ".tmp", "w") as f:
        json.dump(facts, f)
    os.rename(name + ".tmp", name + ".json")

signal.signal(signal.SIGUSR1, look)
runpy.run_module("claude_proxy", run_name="__main__", alter_sys=True)
"""


async def take_look(pid: int, out: Path, number: int) -> dict[str, float]:
    os.kill(pid, signal.SIGUSR1)
    done = Path(f"{out}.{number}.json")
    for _ in range(1200):
        if done.exists():
            facts: dict[str, float] = json.loads(done.read_text())
            facts["rss"] = sum(rss_mb(pid))
            return facts
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the proxy wrote no look {number} within 60 s")


def claude_code_body(path: Path, pace_ms: float) -> dict[str, Any]:
    """A recorded Claude Code request (tests/data/claude-code/), streamed, with the pace
    note (`workloads.paced`) in its system prompt, where the fake finds it in the raw bytes."""
    body = {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}
    note = {"type": "text", "text": f" (pace={pace_ms:g}ms)"}
    system = body.get("system") or []
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    return {**body, "system": [*system, note], "stream": True}


async def hold(
    url: str, count: int, pace_ms: float, body: Path | None
) -> tuple[list[asyncio.Task[None]], aiohttp.ClientSession, int]:
    """`count` streams opened at once; returns once each has its first text (or failed)."""
    route = anthropic_route("proxy", url, WORKLOADS["text"], pace_ms)
    if body is not None:
        route = dataclasses.replace(route, body=claude_code_body(body, pace_ms))
    connector = aiohttp.TCPConnector(limit=count, limit_per_host=count)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600))
    started = [0]
    failed = [0]
    ready = asyncio.Event()

    async def one() -> None:
        try:
            async with session.post(route.url, json=route.body) as response:
                seen = b""
                counted = False
                async for data in response.content.iter_any():
                    seen = seen[-64:] + data
                    if not counted and route.first_text.search(seen):
                        counted = True
                        started[0] += 1
                        if started[0] + failed[0] >= count:
                            ready.set()
        except (aiohttp.ClientError, OSError, TimeoutError):
            failed[0] += 1
            if started[0] + failed[0] >= count:
                ready.set()

    streams = [asyncio.create_task(one()) for _ in range(count)]
    async with asyncio.timeout(120):
        await ready.wait()
    return streams, session, failed[0]


def sites(snap: Path, title: str, streams: int, top: int) -> str:
    """The allocation sites of a snapshot taken after the baseline's traces were cleared:
    only blocks allocated since the baseline, and still alive."""
    stats = tracemalloc.Snapshot.load(str(snap))
    total = stats.statistics("filename")
    count, size = sum(s.count for s in total), sum(s.size for s in total)
    lines = [
        f"\n## {title}: {count:,} blocks, {size:,} B ({count / streams:.1f} blocks, "
        f"{size / streams:.0f} B per stream), by line\n",
        "| site | blocks/stream | bytes/stream |",
        "|---|---:|---:|",
    ]
    for stat in stats.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        where = f"{_short(frame.filename)}:{frame.lineno}"
        lines.append(f"| `{where}` | {stat.count / streams:.1f} | {stat.size / streams:.0f} |")
    lines += [f"\n## {title}, the largest by traceback (innermost last)\n"]
    for stat in stats.statistics("traceback")[: top // 4]:
        lines.append(
            f"- {stat.count / streams:.1f} blocks, {stat.size / streams:.0f} B per stream:"
        )
        for frame in stat.traceback:
            lines.append(f"    - `{_short(frame.filename)}:{frame.lineno}`")
    return "\n".join(lines)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "claude_proxy/", "lib/python3"):
        if marker in filename:
            return (
                filename.split(marker, 1)[1]
                if marker != "claude_proxy/"
                else ("claude_proxy/" + filename.split(marker, 1)[1])
            )
    return filename


async def main(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {int(args.client_core)})
    home = Path(tempfile.mkdtemp(prefix="claude-proxy-memory-"))
    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "bench.fake_upstream", str(fake_port)]
    fake = start("fake", pinned(args.client_core, argv), clean_env(home), home)
    out = home / "look"
    settings = {
        "PREFERRED_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_API_BASE": f"{fake_url}/v1",
        "UPSTREAM_ENGINE": "native",
        "LOG_LEVEL": args.proxy_log_level,
    }
    depth = args.depth if args.tracemalloc else 0
    argv = [sys.executable, "-c", WRAPPER, str(out), str(port), str(depth)]
    proxy = start("proxy", pinned(args.server_core, argv), clean_env(home, **settings), home)
    looks: list[tuple[str, dict[str, float]]] = []
    try:
        await wait_healthy(f"{fake_url}/health", fake, 30)
        await wait_healthy(f"{url}/health", proxy, 120)
        await check_stream(url, WORKLOADS["text"])
        warm = anthropic_route("proxy", url, WORKLOADS["text"])
        await run_batch(warm, 16, requests=200, seconds=60)
        looks.append(("baseline, after 200 warm-up streams", await take_look(proxy.pid, out, 1)))
        tasks, session, failed = await hold(url, args.streams, args.pace_ms, args.body)
        if failed:
            print(f"{failed} of {args.streams} streams failed to start", file=sys.stderr)
        looks.append(
            (f"peak: {args.streams} streams in flight", await take_look(proxy.pid, out, 2))
        )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        await asyncio.sleep(args.idle)
        looks.append((f"after, {args.idle:g} s idle", await take_look(proxy.pid, out, 3)))
    finally:
        stop(proxy)
        stop(fake)
    base, peak = looks[0][1], looks[1][1]
    n = args.streams
    lines = [
        f"{n} streams of {args.body.name if args.body else 'the text workload'} held "
        f"(paced {args.pace_ms:g} ms), native engine, "
        f"tracemalloc {'on, depth ' + str(depth) if depth else 'off'}\n",
        "| look | RSS MB | blocks | bytes in blocks | pymalloc arenas |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, facts in looks:
        lines.append(
            f"| {name} | {facts['rss']:.0f} | {facts['blocks']:,} "
            f"| {facts.get('bytes in allocated blocks', 0):,} "
            f"| {facts.get('arenas allocated current', 0)} |"
        )
    blocks = (peak["blocks"] - base["blocks"]) / n
    size = (peak.get("bytes in allocated blocks", 0) - base.get("bytes in allocated blocks", 0)) / n
    lines.append(
        f"\nper in-flight stream: {blocks:.0f} blocks, {size / 1024:.1f} KB in pymalloc blocks, "
        f"{(peak['rss'] - base['rss']) * 1024 / n:.0f} KB of RSS"
    )
    if depth:
        lines.append(
            sites(
                Path(f"{out}.2.snap"),
                "Allocated since the baseline, alive at the peak",
                n,
                args.top,
            )
        )
        lines.append(
            sites(Path(f"{out}.3.snap"), "Allocated since the baseline, alive after", n, args.top)
        )
    print("\n".join(lines))
    print(f"\nlogs: {home} ({time.strftime('%H:%M:%S')})", file=sys.stderr)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=200, help="streams held in flight")
    parser.add_argument("--pace-ms", type=float, default=1000, help="ms between upstream chunks")
    parser.add_argument(
        "--body", type=Path, help="a Claude Code request to hold (tests/data/claude-code/*.json)"
    )
    parser.add_argument("--idle", type=float, default=5, help="seconds idle before the last look")
    parser.add_argument("--tracemalloc", action="store_true", help="allocation sites too")
    parser.add_argument("--depth", type=int, default=12, help="tracemalloc frames kept")
    parser.add_argument("--top", type=int, default=40, help="sites listed")
    parser.add_argument("--proxy-log-level", default="info")
    parser.add_argument("--client-core", default="0")
    parser.add_argument("--server-core", default="1")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
