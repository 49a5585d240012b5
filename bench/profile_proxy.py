"""Where claude-proxy's CPU per stream goes, and how long its garbage collections pause it.

Runs `claude-proxy serve` (the native engine unless `--engine litellm`) on one core inside a
small wrapper, drives `--streams` streams of one reply from the fake upstream on the other
core, stops the proxy with SIGTERM and reads what the wrapper wrote:

    --mode profile   cProfile's self time, summed by area (claude_proxy's folders, aiohttp,
                     asyncio, json, logging, ...), and the top functions. cProfile slows
                     everything down several times; read the shares, not the milliseconds.
    --mode gc        every collection's generation and pause (gc.callbacks); no profiler.

    uv run python -m bench.profile_proxy --mode profile [--reply text --streams 3000 -c 16]
    uv run python -m bench.profile_proxy --mode gc [--pace-ms 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.client import anthropic_route, check_stream, run_batch
from bench.processes import clean_env, free_port, pinned, start, stop, wait_healthy
from bench.workloads import WORKLOADS

WRAPPER = """
import atexit, gc, json, runpy, sys, time
mode, out, port = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = ["claude-proxy", "serve", "--port", port]
if mode == "gc":
    pauses, began = [], {}
    def watch(phase, info):
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - began[0]))
    gc.callbacks.append(watch)
    atexit.register(lambda: open(out, "w").write(json.dumps(pauses)))
    runpy.run_module("claude_proxy", run_name="__main__", alter_sys=True)
else:
    import cProfile
    profile = cProfile.Profile()
    atexit.register(lambda: profile.dump_stats(out))
    profile.enable()
    try:
        runpy.run_module("claude_proxy", run_name="__main__", alter_sys=True)
    finally:
        profile.disable()
"""

AREAS = (
    ("claude_proxy/", None),
    ("aiohttp/", "aiohttp"),
    ("multidict/", "aiohttp"),
    ("yarl/", "aiohttp"),
    ("asyncio/", "asyncio"),
    ("json/", "json"),
    ("logging/", "logging"),
    ("rich/", "rich"),
    ("litellm/", "litellm"),
    ("openai/", "litellm"),
    ("pydantic", "litellm"),
    ("httpx/", "litellm"),
)


def area(filename: str, function: str) -> str:
    for marker, name in AREAS:
        if marker in filename:
            if name is None:  # claude_proxy/<folder>/...: the folder is the layer
                rest = filename.split(marker, 1)[1].split("/")
                return f"claude_proxy/{rest[0]}" if len(rest) > 1 else "claude_proxy"
            return name
    if filename == "~":
        return f"builtins ({function.split(' of ')[0].strip('<>')[:40]})"
    return "other Python"


def read_profile(path: Path, streams: int) -> str:
    stats = pstats.Stats(str(path))
    by_area: dict[str, float] = defaultdict(float)
    rows = []
    for (filename, line, function), (_, calls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area(filename, function)] += tottime
        rows.append((tottime, calls, f"{Path(filename).name}:{line} {function}"))
    total = sum(by_area.values())
    lines = [
        f"self time under cProfile: {total:.2f} s for {streams} streams\n",
        "| area | share |",
        "|---|---:|",
    ]
    grouped: dict[str, float] = defaultdict(float)
    for name, seconds in by_area.items():
        grouped[name if seconds / total >= 0.01 else "(areas under 1% each)"] += seconds
    for name, seconds in sorted(grouped.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {100 * seconds / total:.1f}% |")
    lines += ["", "| function | self share | calls per stream |", "|---|---:|---:|"]
    for tottime, calls, where in sorted(rows, reverse=True)[:20]:
        lines.append(f"| `{where}` | {100 * tottime / total:.1f}% | {calls / streams:.1f} |")
    return "\n".join(lines)


def read_gc(path: Path, seconds: float) -> str:
    pauses = json.loads(path.read_text())
    lines = [
        "| generation | collections | per second | total ms | median ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for generation in (0, 1, 2):
        own = [p * 1000 for g, p in pauses if g == generation]
        if own:
            lines.append(
                f"| {generation} | {len(own)} | {len(own) / seconds:.1f} | {sum(own):.0f} "
                f"| {statistics.median(own):.2f} | {max(own):.2f} |"
            )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {int(args.client_core)})
    home = Path(tempfile.mkdtemp(prefix="claude-proxy-profile-"))
    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    fake = start(
        "fake",
        pinned(args.client_core, [sys.executable, "-m", "bench.fake_upstream", str(fake_port)]),
        clean_env(home),
        home,
    )
    out = home / f"{args.mode}.out"
    settings = {
        "PREFERRED_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_API_BASE": f"{fake_url}/v1",
        "UPSTREAM_ENGINE": args.engine,
    }
    argv = [sys.executable, "-c", WRAPPER, args.mode, str(out), str(port)]
    proxy = start("proxy", pinned(args.server_core, argv), clean_env(home, **settings), home)
    try:
        await wait_healthy(f"{fake_url}/health", fake, 30)
        await wait_healthy(f"{url}/health", proxy, 120)
        workload = WORKLOADS[args.reply]
        await check_stream(url, workload)
        route = anthropic_route("proxy", url, workload, args.pace_ms)
        batch = await run_batch(
            route, args.concurrency, requests=args.streams, seconds=3600, timeout=600
        )
    finally:
        stop(proxy)
        stop(fake)
    if batch.failures:
        print(f"failures: {dict(batch.failures)}")
    pace = f", paced {args.pace_ms:g} ms" if args.pace_ms else ""
    print(
        f"{args.engine} engine, {args.reply} reply{pace}, c={args.concurrency}: "
        f"{batch.requests} streams in {batch.seconds:.1f} s\n"
    )
    if args.mode == "profile":
        print(read_profile(out, batch.requests + 1))
    else:
        print(read_gc(out, batch.seconds))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("profile", "gc"), default="profile")
    parser.add_argument("--engine", choices=("native", "litellm"), default="native")
    parser.add_argument("--reply", choices=sorted(WORKLOADS), default="text")
    parser.add_argument("--streams", type=int, default=3000)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--pace-ms", type=float, default=0, help="ms between chunks (0: none)")
    parser.add_argument("--client-core", default="0")
    parser.add_argument("--server-core", default="1")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
