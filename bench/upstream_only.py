"""The proxy's upstream layer alone: what an engine costs without the proxy's server around it.

Builds the OpenAI-style request the proxy builds for a workload's /v1/messages body (model
mapping, `to_openai_request`) and streams it through the engines (`upstream/engines.py`) in
this process, against the fake upstream (fake_upstream.py) run as a separate process on the
other core. This process's CPU per stream, next to stream_bench's CPU per stream of the whole
proxy, splits the proxy's cost into the engine's part and the rest (aiohttp server, request
checks and translation, the stream translator, writing events, the log line).

    uv run python -m bench.upstream_only [--engine native|litellm|gemini] [--reply text|tools]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import clean_env, cpu_seconds, free_port, pinned, start, stop, wait_healthy
from bench.workloads import WORKLOADS
from claude_proxy.model_map import map_model
from claude_proxy.settings import load_settings
from claude_proxy.translate.request import to_openai_request
from claude_proxy.upstream.engines import Engines


async def measure(engines: Engines, request: dict, streams: int, concurrency: int) -> int:
    """Stream `streams` answers over `concurrency` workers; return the chunks of the last one."""
    remaining = iter(range(streams))
    chunks = 0

    async def worker() -> None:
        nonlocal chunks
        for _ in remaining:
            chunks = sum([1 async for _ in engines.stream(request)])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return chunks


async def main(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {int(args.core)})
    home = Path(tempfile.mkdtemp(prefix="claude-proxy-bench-"))
    port = free_port()
    fake_url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "bench.fake_upstream", str(port)]
    fake = start("fake", pinned(args.fake_core, argv), clean_env(home), home)
    try:
        await wait_healthy(f"{fake_url}/health", fake, 30)
        os.environ["CLAUDE_PROXY_CONFIG"] = str(home / "absent.toml")
        overrides = {
            "preferred_provider": "openai",
            "openai_api_key": "sk-bench",
            "openai_api_base": f"{fake_url}/v1",
            "upstream_engine": "litellm" if args.engine == "litellm" else "native",
        }
        if args.engine == "gemini":
            overrides |= {
                "preferred_provider": "google",
                "gemini_api_key": "gemini-bench",
                "gemini_api_base": f"{fake_url}/v1beta",
            }
        settings = load_settings(overrides, env_file=None)
        engines = Engines(settings)
        body = WORKLOADS[args.reply].anthropic_body
        choice = map_model(body["model"], settings, engines)
        if engines.needs_litellm([choice.model]):
            await engines.load_litellm()
        request = to_openai_request(body, await engines.target(choice.model, choice.provider))
        await measure(engines, request, args.warmup, 1)
        cpu_before, fake_before = time.process_time(), cpu_seconds(fake.pid)
        started = time.perf_counter()
        chunks = await asyncio.wait_for(
            measure(engines, request, args.streams, args.concurrency), 600
        )
        seconds = time.perf_counter() - started
        cpu = (time.process_time() - cpu_before) / args.streams
        fake_cpu = (cpu_seconds(fake.pid) - fake_before) / args.streams
        await engines.aclose()
    finally:
        stop(fake)
    print(
        f"{args.engine} engine alone, {choice.model}, {args.reply} reply, c={args.concurrency}: "
        f"{args.streams} streams, {chunks} chunks each, {args.streams / seconds:.0f}/s, "
        f"{cpu * 1000:.2f} ms CPU/stream in this process (fake: {fake_cpu * 1000:.2f} ms)"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=("native", "litellm", "gemini"), default="native")
    parser.add_argument("--reply", choices=sorted(WORKLOADS), default="text")
    parser.add_argument("--streams", type=int, default=1000, help="measured streams")
    parser.add_argument("--concurrency", type=int, default=1, help="streams in flight")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured streams first")
    parser.add_argument("--core", default="1", help="core of this process")
    parser.add_argument("--fake-core", default="0", help="core of the fake upstream")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
