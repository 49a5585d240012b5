"""Streamed-request benchmark: the fake OpenAI upstream direct vs through claude-proxy.

Starts two processes on 127.0.0.1, a fake upstream (bench/fake_upstream.py, ~20 text chunks per
answer) and the proxy (`python -m claude_proxy serve`, pointed at the fake), then streams the
same answer (a) straight from the fake's /v1/chat/completions and (b) through the proxy's
/v1/messages, at each concurrency. Reports time to the first text chunk, total time, and the
CPU the proxy and the fake spent per request (utime+stime from /proc/<pid>/stat, all threads).

    uv run python bench/stream_bench.py [--c1-requests 200] [--c50-requests 1000]

See docs/performance.md for the results and how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
PROMPT = [{"role": "user", "content": "Say sixty words."}]
PROXY_BODY = {"model": "claude-opus-5-5", "max_tokens": 1024, "stream": True, "messages": PROMPT}
DIRECT_BODY = {
    "model": "gpt-4.1",
    "max_tokens": 1024,
    "stream": True,
    "stream_options": {"include_usage": True},
    "messages": PROMPT,
}
LOG_PROBLEM = re.compile(r"\b(ERROR|WARNING|CRITICAL)\b|Traceback")


@dataclass
class Route:
    """One way of asking for the stream: where, what, and how to recognise text and the end."""

    name: str
    url: str
    body: dict[str, Any]
    is_text: Callable[[bytes], bool]
    """Whether this SSE line carries the first text."""
    end: bytes
    """The line that ends a complete stream."""


@dataclass
class Run:
    """One measured batch: latencies of the successful requests, failures by reason."""

    route: str
    concurrency: int
    requests: int
    seconds: float = 0.0
    ttfb: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    proxy_cpu: float | None = None
    fake_cpu: float = 0.0


def direct_is_text(line: bytes) -> bool:
    """An OpenAI chunk with non-empty `delta.content`."""
    if not line.startswith(b"data: {"):
        return False
    choices = json.loads(line[6:])["choices"]
    return bool(choices and choices[0]["delta"].get("content"))


def proxy_is_text(line: bytes) -> bool:
    """The first Anthropic `content_block_delta` event."""
    return line.startswith(b"event: content_block_delta")


def free_port() -> int:
    """A port the kernel just handed out on loopback (closed again, so a tiny race remains)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds (nan when there are no values)."""
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def machine() -> str:
    """nproc, CPU model, Python and LiteLLM versions, as a markdown list."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    return "\n".join(
        [
            f"- nproc: {len(os.sched_getaffinity(0))}",
            f"- CPU: {model.group(1) if model else 'unknown'}",
            f"- Python: {platform.python_version()} ({platform.system()} {platform.release()})",
            f"- litellm: {version('litellm')}, aiohttp: {version('aiohttp')}",
        ]
    )


async def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll GET url until 200; fail if the process exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{url} exited with {process.returncode}:\n{log.read_text()[-2000:]}"
                )
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(
        f"{url} did not answer 200 within {timeout:.0f}s:\n{log.read_text()[-2000:]}"
    )


async def one_request(session: aiohttp.ClientSession, route: Route, run: Run) -> None:
    """Stream one answer; record TTFB and total time, or the reason it failed."""
    started = time.perf_counter()
    first = None
    try:
        async with session.post(route.url, json=route.body) as response:
            if response.status != 200:
                run.failures[f"HTTP {response.status}"] += 1
                await response.read()
                return
            ended = False
            async for line in response.content:
                if first is None and route.is_text(line):
                    first = time.perf_counter()
                elif line.startswith(b"event: error"):
                    run.failures["SSE error event"] += 1
                    return
                ended = ended or line.startswith(route.end)
    except (TimeoutError, aiohttp.ClientError) as exc:
        run.failures[type(exc).__name__] += 1
        return
    if first is None or not ended:
        run.failures["incomplete stream"] += 1
        return
    run.ttfb.append(first - started)
    run.total.append(time.perf_counter() - started)


async def batch(
    route: Route, concurrency: int, requests: int, pids: tuple[int, int], timeout: float
) -> Run:
    """`requests` streams over `concurrency` workers sharing one keep-alive pool.

    Each request may take `timeout` seconds, the whole batch 10 times that.
    """
    batch_timeout = 10 * timeout
    run = Run(route.name, concurrency, requests)
    remaining = iter(range(requests))

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in remaining:
            await one_request(session, route, run)

    connector = aiohttp.TCPConnector(limit=concurrency)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        proxy_before, fake_before = cpu_seconds(pids[0]), cpu_seconds(pids[1])
        started = time.perf_counter()
        async with asyncio.timeout(batch_timeout):
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        run.seconds = time.perf_counter() - started
        if route.name == "proxy":
            run.proxy_cpu = (cpu_seconds(pids[0]) - proxy_before) / requests
        run.fake_cpu = (cpu_seconds(pids[1]) - fake_before) / requests
    return run


def table(runs: list[Run]) -> str:
    """The results as a markdown table."""
    lines = [
        "| path | concurrency | requests | failures | req/s | TTFB p50 ms | TTFB p95 ms "
        "| total p50 ms | total p95 ms | proxy CPU ms/req | fake CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        proxy_cpu = f"{r.proxy_cpu * 1000:.1f}" if r.proxy_cpu is not None else "n/a"
        lines.append(
            f"| {r.route} | {r.concurrency} | {r.requests} | {sum(r.failures.values())} "
            f"| {r.requests / r.seconds:.0f} | {percentile(r.ttfb, 50):.2f} | {percentile(r.ttfb, 95):.2f} "
            f"| {percentile(r.total, 50):.2f} | {percentile(r.total, 95):.2f} | {proxy_cpu} "
            f"| {r.fake_cpu * 1000:.2f} |"
        )
    return "\n".join(lines)


def start(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A child process with stdout and stderr going to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="claude-proxy-bench-"))
    fake_port, proxy_port = free_port(), free_port()
    fake_url, proxy_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{proxy_port}"
    # A clean environment and working directory: no .env, config file or model overrides leak in.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workdir),
        "CLAUDE_PROXY_CONFIG": str(workdir / "absent.toml"),
        "PREFERRED_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_API_BASE": f"{fake_url}/v1",
        "LOG_LEVEL": args.proxy_log_level,
        "NO_COLOR": "1",
    }
    fake_log, proxy_log = workdir / "fake.log", workdir / "proxy.log"
    fake = start(
        [sys.executable, "-m", "bench.fake_upstream", str(fake_port), str(args.text_pieces)],
        REPO,
        env,
        fake_log,
    )
    proxy = None
    try:
        proxy = start(
            [sys.executable, "-m", "claude_proxy", "serve", "--port", str(proxy_port)],
            workdir,
            env,
            proxy_log,
        )
        await wait_healthy(f"{fake_url}/health", fake, fake_log, 30)
        await wait_healthy(f"{proxy_url}/health", proxy, proxy_log, 90)
        routes = [
            Route(
                "direct",
                f"{fake_url}/v1/chat/completions",
                DIRECT_BODY,
                direct_is_text,
                b"data: [DONE]",
            ),
            Route(
                "proxy",
                f"{proxy_url}/v1/messages",
                PROXY_BODY,
                proxy_is_text,
                b"event: message_stop",
            ),
        ]
        pids = (proxy.pid, fake.pid)
        runs = []
        for route in routes:
            warm = await batch(route, 1, args.warmup, pids, args.timeout)
            if warm.failures:
                raise RuntimeError(f"warm-up of {route.name} failed: {dict(warm.failures)}")
            for concurrency, requests in ((1, args.c1_requests), (50, args.c50_requests)):
                runs.append(await batch(route, concurrency, requests, pids, args.timeout))
                print(f"{route.name} c={concurrency}: done", file=sys.stderr)
    finally:
        for process in (proxy, fake):
            if process is not None:
                stop(process)

    print(f"## Machine\n\n{machine()}\n\n## Results\n\n{table(runs)}\n")
    for r in runs:
        if r.failures:
            print(f"- failures, {r.route} c={r.concurrency}: {dict(r.failures)}")
    problems = [line for line in proxy_log.read_text().splitlines() if LOG_PROBLEM.search(line)]
    print(f"- proxy log: {proxy_log} ({len(problems)} warning/error lines)")
    for line in problems[:10]:
        print(f"    {line}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--c1-requests", type=int, default=200, help="requests at concurrency 1")
    parser.add_argument("--c50-requests", type=int, default=1000, help="requests at concurrency 50")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per path first")
    parser.add_argument(
        "--text-pieces", type=int, default=20, help="text pieces per answer (Answer.text_pieces)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30, help="seconds one request may take (a batch: 10x)"
    )
    parser.add_argument("--proxy-log-level", default="info", help="the proxy's LOG_LEVEL")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
