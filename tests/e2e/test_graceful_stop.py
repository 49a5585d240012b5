"""SIGTERM stops `claude-proxy serve` gracefully: the port closes at once, running streams get
SHUTDOWN_GRACE seconds to finish, the rest end with an error clients retry. A real process,
to the fake OpenAI server; the fake is far slower than each grace, so timing decides nothing."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.ports import free_port
from tests.helpers.serve_process import serve_env, start_serve, wait_for_health

BODY = {
    "model": "claude-opus-5-5",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


async def serving(
    fake: FakeOpenAI, tmp_path: Path, grace: str
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = serve_env(OPENAI_API_KEY="sk-test", OPENAI_API_BASE=fake.base_url, SHUTDOWN_GRACE=grace)
    process = await start_serve(tmp_path, env, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        await wait_for_health(session, f"{url}/health")
    return process, url


async def refused(url: str) -> bool:
    """Whether new connections are refused, polling (bounded) while the signal is handled."""
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"{url}/health") as response:
                    await response.read()
            except aiohttp.ClientConnectionError:
                return True
            await asyncio.sleep(0.05)
    return False


async def test_a_running_stream_finishes_after_sigterm(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    process, url = await serving(fake_openai, tmp_path, grace="60")
    fake_openai.enqueue(Answer(text="one two three four five", text_pieces=5, delay=0.3))
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=BODY) as response:
            await response.content.readuntil(b"text_delta")
            process.send_signal(signal.SIGTERM)
            assert await refused(url)
            rest = (await response.read()).decode()
    assert "event: message_stop" in rest and "event: error" not in rest
    assert await asyncio.wait_for(process.wait(), timeout=30) == 0


async def test_a_stream_past_the_grace_ends_with_a_retryable_error(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    process, url = await serving(fake_openai, tmp_path, grace="0.2")
    fake_openai.enqueue(Answer(text="one two three", text_pieces=3, delay=5))
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=BODY) as response:
            await response.content.readuntil(b"text_delta")
            process.send_signal(signal.SIGTERM)
            rest = (await response.read()).decode()
    assert "event: error" in rest and "overloaded_error" in rest and "shutting down" in rest
    assert "message_stop" not in rest
    assert await asyncio.wait_for(process.wait(), timeout=30) == 0
