"""The benchmarks' client: streams on one keep-alive pool, timed as a user's client feels them.

A `Route` says where to POST and which bytes mark the first text and the end. The body is read
as it arrives (`iter_any`) and only searched for those markers, so the client spends little
CPU per stream next to what it measures; `check_stream` parses one whole stream properly.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.processes import cpu_seconds
from bench.workloads import Workload, paced, read_anthropic_stream

ANTHROPIC_TEXT = re.compile(rb"event: content_block_delta")
OPENAI_TEXT = re.compile(rb'"content": ?"[^"]')
GEMINI_TEXT = re.compile(rb'"text": ?"[^"]')


@dataclass(frozen=True)
class Route:
    name: str
    url: str
    body: dict[str, Any]
    first_text: re.Pattern[bytes]
    end: bytes
    """Bytes that only a complete stream carries."""
    workload: str
    pace_ms: float


def _pace(body: dict[str, Any], pace_ms: float) -> dict[str, Any]:
    return paced(body, pace_ms) if pace_ms else body


def anthropic_route(name: str, base: str, workload: Workload, pace_ms: float = 0) -> Route:
    body = _pace(workload.anthropic_body, pace_ms)
    url = f"{base}/v1/messages"
    end = b"event: message_stop"
    return Route(name, url, body, ANTHROPIC_TEXT, end, workload.name, pace_ms)


def openai_route(base: str, workload: Workload, pace_ms: float = 0) -> Route:
    body = _pace(workload.openai_body("gpt-4.1"), pace_ms)
    url = f"{base}/v1/chat/completions"
    return Route("direct", url, body, OPENAI_TEXT, b"data: [DONE]", workload.name, pace_ms)


def gemini_route(base: str, workload: Workload, pace_ms: float = 0) -> Route:
    url = f"{base}/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    body = _pace(workload.gemini_body(), pace_ms)
    end = b'"finishReason"'
    return Route("direct gemini", url, body, GEMINI_TEXT, end, workload.name, pace_ms)


@dataclass
class Batch:
    """One measured batch: latencies of the successful streams, failures by reason."""

    route: str
    concurrency: int
    workload: str = ""
    pace_ms: float = 0
    requests: int = 0
    seconds: float = 0.0
    ttfb: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    """CPU seconds of the measured process over the batch."""
    client_cpu: float = 0.0
    """CPU seconds of this process (the client) over the batch."""

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / max(1, self.requests)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds (nan when there are no values)."""
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 10) - 1] * 1000


async def stream_once(session: aiohttp.ClientSession, route: Route, batch: Batch) -> None:
    """Stream one answer; record its TTFB and total time, or why it failed."""
    started = time.perf_counter()
    first = None
    ended = False
    tail = b""
    try:
        async with session.post(route.url, json=route.body) as response:
            if response.status != 200:
                batch.failures[f"HTTP {response.status}"] += 1
                await response.read()
                return
            async for data in response.content.iter_any():
                seen = tail + data
                if first is None and route.first_text.search(seen):
                    first = time.perf_counter()
                if b"event: error" in seen:
                    batch.failures["SSE error event"] += 1
                    return
                ended = ended or route.end in seen
                tail = seen[-64:]
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        batch.failures[type(exc).__name__] += 1
        return
    if first is None or not ended:
        batch.failures["incomplete stream"] += 1
        return
    batch.ttfb.append(first - started)
    batch.total.append(time.perf_counter() - started)


async def run_batch(
    route: Route,
    concurrency: int,
    *,
    requests: int,
    seconds: float,
    min_requests: int = 0,
    pid: int | None = None,
    timeout: float = 60,
) -> Batch:
    """Up to `requests` streams over `concurrency` workers, for about `seconds` (no new stream
    starts after that unless fewer than `min_requests` have); each stream may take `timeout`
    seconds. CPU of `pid` is read before and after."""
    batch = Batch(route.name, concurrency, route.workload, route.pace_ms)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        cpu_before = cpu_seconds(pid) if pid else 0.0
        client_before = time.process_time()
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while batch.requests < requests and (
                batch.requests < min_requests or time.perf_counter() < deadline
            ):
                batch.requests += 1
                await stream_once(session, route, batch)

        async with asyncio.timeout(seconds + (min_requests / concurrency + 2) * timeout):
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        batch.seconds = time.perf_counter() - started
        batch.cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
        batch.client_cpu = time.process_time() - client_before
    return batch


async def check_stream(base: str, workload: Workload) -> None:
    """One stream of `workload` through an Anthropic route, parsed whole and compared."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/v1/messages", json=workload.anthropic_body) as response,
    ):
        raw = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{base}: HTTP {response.status}: {raw[:500]!r}")
    got = read_anthropic_stream(raw)
    if got != workload.expected:
        raise RuntimeError(f"{base}, {workload.name}: got {got}, expected {workload.expected}")
