"""`serve --workers 2`: two processes answer on one port, and SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.ledger import ledger_rows
from tests.helpers.ports import free_port
from tests.helpers.serve_process import (
    connection_per_request,
    read_log_until,
    serve_env,
    start_serve,
    wait_for_health,
)

BODY = {
    "model": "claude-opus-5-5",
    "max_tokens": 20,
    "messages": [{"role": "user", "content": "hi"}],
}


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


async def both_booted(process: asyncio.subprocess.Process) -> set[int]:
    for _ in range(300):  # bounded: ~30 s
        if len(children(process.pid)) == 2:
            break
        await asyncio.sleep(0.1)
    workers = children(process.pid)
    assert len(workers) == 2
    return workers


async def test_two_workers_serve_one_port(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    port = free_port()
    env = serve_env(
        OPENAI_API_KEY="sk-test",
        OPENAI_API_BASE=fake_openai.base_url,
        DATA_DIR=str(tmp_path / "data"),
    )
    process = await start_serve(tmp_path, env, "--port", str(port), "--workers", "2")
    try:
        url = f"http://127.0.0.1:{port}"
        fake_openai.enqueue(*[Answer(text=f"answer {n}") for n in range(8)])
        async with aiohttp.ClientSession() as session:
            await wait_for_health(session, f"{url}/health")
            await both_booted(process)
            answers = []
            for _ in range(8):
                async with session.post(f"{url}/v1/messages", json=BODY) as response:
                    assert response.status == 200
                    answers.append((await response.json())["content"][0]["text"])
        assert sorted(answers) == sorted(f"answer {n}" for n in range(8))
        workers = children(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "Booting worker" in stderr.decode()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    # both workers wrote the one ledger; each flushed its rows as it stopped
    assert len({row["request_id"] for row in ledger_rows(tmp_path / "data")}) == 8


async def test_a_worker_that_idles_above_its_start_is_replaced(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Under gunicorn a worker retires instead of restarting in place; the arbiter forks a
    fresh one and the port never closes."""
    port = free_port()
    env = serve_env(
        OPENAI_API_KEY="sk-test",
        OPENAI_API_BASE=fake_openai.base_url,
        DATA_DIR=str(tmp_path / "data"),
        MEMORY_RESTART_GROWTH="0.001",
        MEMORY_RESTART_IDLE="0.2",
    )
    process = await start_serve(tmp_path, env, "--port", str(port), "--workers", "2")
    seen: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}"
        async with connection_per_request(port) as session:
            first = await both_booted(process)
            for _ in range(4):
                async with session.post(f"{url}/v1/messages", json=BODY) as response:
                    assert response.status == 200
            await read_log_until(process, "retiring this worker to give back memory", seen)
            await read_log_until(process, "Booting worker", seen)
            async with session.post(f"{url}/v1/messages", json=BODY) as response:
                assert response.status == 200
            assert children(process.pid) != first
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, "".join(seen)[-2000:] + stderr.decode()[-2000:]
