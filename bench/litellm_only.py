"""The proxy's upstream layer alone: what LiteLLM costs without the proxy's server and translation.

Builds the same OpenAI request the proxy builds for stream_bench's /v1/messages body (model
mapping, `to_openai_request`) and streams it through `LiteLLMUpstream.stream` in this process,
against the same fake upstream, run as a separate process. The CPU of this process per request,
next to stream_bench's proxy CPU per request, splits the proxy's cost into LiteLLM's part and the
rest (aiohttp server, request and SSE translation, writing events, logging).

    uv run python -m bench.litellm_only [--requests 200] [--concurrency 1]   (from the repo root)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.stream_bench import PROXY_BODY, REPO, cpu_seconds, free_port, start, stop, wait_healthy
from claude_proxy.model_map import map_model
from claude_proxy.settings import load_settings
from claude_proxy.translate.request import to_openai_request
from claude_proxy.upstream.litellm_client import LiteLLMUpstream


async def measure(upstream: LiteLLMUpstream, request: dict, requests: int, concurrency: int) -> int:
    """Stream `requests` answers over `concurrency` workers; return the chunks of the last one."""
    remaining = iter(range(requests))
    chunks = 0

    async def worker() -> None:
        nonlocal chunks
        for _ in remaining:
            chunks = sum([1 async for _ in upstream.stream(request)])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return chunks


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="claude-proxy-bench-"))
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir)}
    log = workdir / "fake.log"
    fake = start(
        [sys.executable, "-m", "bench.fake_upstream", str(port), str(args.text_pieces)],
        REPO,
        env,
        log,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}/health", fake, log, 30)
        os.environ["CLAUDE_PROXY_CONFIG"] = str(workdir / "absent.toml")
        overrides = {
            "preferred_provider": "openai",
            "openai_api_key": "sk-bench",
            "openai_api_base": f"http://127.0.0.1:{port}/v1",
        }
        settings = load_settings(overrides, env_file=None)
        upstream = LiteLLMUpstream(settings)
        await upstream.warm_up()
        choice = map_model(PROXY_BODY["model"], settings, upstream)
        request = to_openai_request(PROXY_BODY, upstream.target(choice.model, choice.provider))
        await measure(upstream, request, args.warmup, 1)
        cpu_before, fake_before = time.process_time(), cpu_seconds(fake.pid)
        started = time.perf_counter()
        chunks = await asyncio.wait_for(
            measure(upstream, request, args.requests, args.concurrency), 600
        )
        seconds = time.perf_counter() - started
        cpu = (time.process_time() - cpu_before) / args.requests
        fake_cpu = (cpu_seconds(fake.pid) - fake_before) / args.requests
    finally:
        stop(fake)
    print(
        f"LiteLLMUpstream.stream, {choice.model}, c={args.concurrency}: {args.requests} requests, "
        f"{chunks} chunks each, {args.requests / seconds:.0f} req/s, "
        f"{cpu * 1000:.1f} ms CPU/request in this process (fake: {fake_cpu * 1000:.2f} ms)"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="measured requests")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight")
    parser.add_argument(
        "--text-pieces", type=int, default=20, help="text pieces per answer (Answer.text_pieces)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
