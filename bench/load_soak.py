"""Load and soak: 500 concurrent streams for 60 s against a fast fake, then 5,000 one at a time.

One server (default: claude-proxy on the native engine, one worker) on one core; the fake
upstream (fake_upstream.py, the 50-delta text reply, chunks back to back unless `--pace-ms`)
and this client on the other. While the load runs, a second client asks GET /health every 250 ms on its own
connection, and the server's RSS, open fds and TCP sockets (to the upstream / all others)
are read from /proc every 500 ms. After the sequential phase the server idles for a while,
so that idle keep-alive connections get the chance to close and the proxy, its memory still
MEMORY_RESTART_GROWTH above its start, restarts in place to give it back.

    uv run python -m bench.load_soak                         # about 2 minutes
    uv run python -m bench.load_soak --server litellm --concurrency 500 --seconds 60
    uv run python -m bench.load_soak --quick                 # 100 concurrent for 10 s, 500 after

Nothing here fails on a figure: the targets (issue 8: 0 failed streams at 500 concurrent, RSS
within 20% of its start after the soak) are printed with the measured values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.client import Batch, anthropic_route, check_stream, percentile, run_batch
from bench.processes import (
    clean_env,
    free_port,
    machine,
    open_fds,
    pinned,
    rss_mb,
    sockets,
    start,
    stop,
    tree,
    wait_healthy,
)
from bench.servers import PROCESSES, SERVERS, launch
from bench.workloads import WORKLOADS


@dataclass
class Snapshot:
    when: str
    rss: float
    fds: int
    upstream_sockets: int
    other_sockets: int | None
    """None for the peak row: the sampler keeps only the peaks it needs."""


@dataclass
class Watch:
    """What the /health prober and the /proc sampler saw during one phase."""

    health: list[float] = field(default_factory=list)
    health_failures: int = 0
    peak_rss: float = 0.0
    peak_fds: int = 0
    peak_upstream: int = 0


def snapshot(when: str, pid: int, upstream_port: int) -> Snapshot:
    upstream, other = sockets(pid, upstream_port)
    return Snapshot(when, sum(rss_mb(pid)), open_fds(pid), upstream, other)


async def watch(url: str, pid: int, upstream_port: int, watch: Watch, done: asyncio.Event) -> None:
    async def probe() -> None:
        connector = aiohttp.TCPConnector(limit=1)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            while not done.is_set():
                started = time.perf_counter()
                try:
                    async with session.get(f"{url}/health") as response:
                        await response.read()
                        ok = response.status == 200
                except (aiohttp.ClientError, TimeoutError, OSError):
                    ok = False
                if ok:
                    watch.health.append(time.perf_counter() - started)
                else:
                    watch.health_failures += 1
                await asyncio.sleep(0.25)

    async def sample() -> None:
        while not done.is_set():
            now = snapshot("", pid, upstream_port)
            watch.peak_rss = max(watch.peak_rss, now.rss)
            watch.peak_fds = max(watch.peak_fds, now.fds)
            watch.peak_upstream = max(watch.peak_upstream, now.upstream_sockets)
            await asyncio.sleep(0.5)

    await asyncio.gather(probe(), sample())


async def phase(
    name: str,
    route_url: str,
    server: str,
    pid: int,
    upstream_port: int,
    concurrency: int,
    *,
    requests: int,
    seconds: float,
    timeout: float,
    pace_ms: float = 0,
) -> tuple[Batch, Watch]:
    seen = Watch()
    done = asyncio.Event()
    watcher = asyncio.create_task(watch(route_url, pid, upstream_port, seen, done))
    route = anthropic_route(server, route_url, WORKLOADS["text"], pace_ms)
    try:
        batch = await run_batch(
            route, concurrency, requests=requests, seconds=seconds, pid=pid, timeout=timeout
        )
    finally:
        done.set()
        await watcher
    batch.workload = name
    print(
        f"{name}: {batch.requests} streams, {batch.rate:.0f}/s, failures {dict(batch.failures) or 0}",
        file=sys.stderr,
    )
    return batch, seen


def raise_file_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def render(
    args: argparse.Namespace,
    phases: list[tuple[Batch, Watch]],
    snaps: list[Snapshot],
    problems: list[str],
    restarts: int,
    limit: int,
) -> str:
    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q):.1f}" if values else "n/a"

    lines = [
        f"## Machine\n\n{machine()}\n- client open-file limit: {limit}\n",
        f"## Load: {SERVERS[args.server]}\n",
        "| phase | streams | failed | streams/s | TTFB p50 ms | TTFB p99 ms | total p50 ms "
        "| total p99 ms | CPU ms/stream | /health p50 ms | /health p99 ms | /health max ms "
        "| /health failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for batch, seen in phases:
        failed = sum(batch.failures.values())
        worst = f"{max(seen.health) * 1000:.1f}" if seen.health else "n/a"
        lines.append(
            f"| {batch.workload} | {batch.requests} | {failed} | {batch.rate:.0f} "
            f"| {ms(batch.ttfb, 50)} | {ms(batch.ttfb, 99)} | {ms(batch.total, 50)} "
            f"| {ms(batch.total, 99)} | {batch.cpu_ms:.2f} | {ms(seen.health, 50)} "
            f"| {ms(seen.health, 99)} | {worst} | {seen.health_failures} |"
        )
    lines += [
        "\n## Memory and descriptors\n",
        "| when | RSS MB | open fds | sockets to the upstream | other TCP sockets |",
        "|---|---:|---:|---:|---:|",
    ]
    for snap in snaps:
        lines.append(
            f"| {snap.when} | {snap.rss:.0f} | {snap.fds} | {snap.upstream_sockets} "
            f"| {'n/a' if snap.other_sockets is None else snap.other_sockets} |"
        )
    load, _ = phases[0]
    start, settled = snaps[0].rss, snaps[-1].rss
    right_after = next(s.rss for s in snaps if "(the soak)" in s.when)
    failed = sum(load.failures.values())
    growth = (settled - start) / start * 100
    lines += [
        "\n## Targets (issue 8)\n",
        f"- 0 failed streams at {args.concurrency} concurrent: "
        f"**{'met' if failed == 0 else 'NOT met'}**, {failed} of {load.requests} failed"
        + (f" ({dict(load.failures)})" if failed else ""),
        f"- RSS within 20% of its start after the soak: **{'met' if growth <= 20 else 'NOT met'}**, "
        f"{start:.0f} MB at start, {settled:.0f} MB after the idle time ({growth:+.0f}%); "
        f"{right_after:.0f} MB right after the last request "
        f"({(right_after - start) / start * 100:+.0f}%)",
        f"- restarts in place (MEMORY_RESTART_GROWTH): {restarts}",
        f"- server log: {len(problems)} warning/error lines",
        *(f"    - {line[:300]}" for line in problems[:10]),
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {int(args.client_core)})
    limit = raise_file_limit(4 * args.concurrency + 256)
    home = Path(tempfile.mkdtemp(prefix="claude-proxy-soak-"))
    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "bench.fake_upstream", str(fake_port)]
    fake = start("fake", pinned(args.client_core, argv), clean_env(home), home)
    server = None
    try:
        await wait_healthy(f"{fake_url}/health", fake, 30)
        cores = (args.client_core, args.server_core)
        server = launch(args.server, port, fake_url, home, cores, args.proxy_log_level)
        await wait_healthy(f"{url}/health", server, 120)
        pid = server.pid
        # /health answers once one gunicorn worker is up; the start is when all of them are.
        expected = PROCESSES.get(args.server, 1)
        for _ in range(100):
            if len(tree(pid)) >= expected:
                break
            await asyncio.sleep(0.1)
        snaps = [snapshot("at start (/health 200, every process up)", pid, fake_port)]
        await check_stream(url, WORKLOADS["text"])
        await run_batch(
            anthropic_route(args.server, url, WORKLOADS["text"]), 16, requests=200, seconds=10
        )
        snaps.append(snapshot("after a 200-stream warm-up", pid, fake_port))
        load = await phase(
            f"{args.concurrency} concurrent, {args.seconds:g} s"
            + (f", paced {args.pace_ms:g} ms" if args.pace_ms else ""),
            url,
            args.server,
            pid,
            fake_port,
            args.concurrency,
            requests=10**9,
            seconds=args.seconds,
            timeout=args.timeout,
            pace_ms=args.pace_ms,
        )
        seen = load[1]
        peak = f"peak during {args.concurrency} concurrent"
        snaps.append(Snapshot(peak, seen.peak_rss, seen.peak_fds, seen.peak_upstream, None))
        snaps.append(snapshot(f"right after {args.concurrency} concurrent", pid, fake_port))
        sequential = await phase(
            f"{args.sequential} sequential",
            url,
            args.server,
            pid,
            fake_port,
            1,
            requests=args.sequential,
            seconds=3600,
            timeout=args.timeout,
        )
        snaps.append(snapshot(f"after {args.sequential} sequential (the soak)", pid, fake_port))
        await asyncio.sleep(args.idle)
        snaps.append(snapshot(f"after {args.idle:g} s idle", pid, fake_port))
    finally:
        stop(server)
        stop(fake)
    problems = server.problems() if server else []
    restarts = server.log.read_text().count("restarting in place:") if server else 0
    out = render(args, [load, sequential], snaps, problems, restarts, limit)
    print(out)
    print(f"\nlogs: {home}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "report": out}, indent=1))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=sorted(SERVERS), default="native")
    parser.add_argument("--concurrency", type=int, default=500, help="streams in flight")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load phase")
    parser.add_argument("--sequential", type=int, default=5000, help="streams one at a time after")
    parser.add_argument(
        "--idle",
        type=float,
        default=45,
        help="seconds idle before the last look (the proxy restarts in place after "
        "MEMORY_RESTART_IDLE, 30 s, once its connections have closed)",
    )
    parser.add_argument(
        "--pace-ms", type=float, default=0, help="ms between chunks in the load phase (0: none)"
    )
    parser.add_argument("--timeout", type=float, default=120, help="seconds one stream may take")
    parser.add_argument("--client-core", default="0", help="core of this client and the fake")
    parser.add_argument("--server-core", default="1", help="core of the server")
    parser.add_argument("--proxy-log-level", default="info", help="the proxy's LOG_LEVEL")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--quick", action="store_true", help="100 concurrent for 10 s, 500 after")
    args = parser.parse_args()
    if args.quick:
        args.concurrency, args.seconds, args.sequential, args.idle = 100, 10, 500, 5
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
