"""`serve --workers 2`: two processes answer on one port, and SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.ledger import ledger_rows
from tests.helpers.ports import free_port
from tests.helpers.raw_http import exchange, read_response, request_bytes
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


async def test_workers_keep_the_listening_side_s_limits(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Each worker serves through the same site as a single process: a framing error is
    Anthropic's error JSON with no traceback in the log, and connections beyond a worker's
    MAX_CONNECTIONS get 529."""
    port = free_port()
    env = serve_env(OPENAI_API_KEY="sk-test", MAX_CONNECTIONS="1")
    process = await start_serve(tmp_path, env, "--port", str(port), "--workers", "2")
    held: list[asyncio.StreamWriter] = []
    try:
        async with connection_per_request(port):
            await both_booted(process)
        response = await exchange(
            port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
        )
        assert response.status == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        refused = []
        for _ in range(3):  # each worker holds one at most: of three held, one is refused
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            held.append(writer)
            writer.write(request_bytes("GET", "/health", close=False))
            answer = await read_response(reader)
            if answer.status == 529:
                refused.append(answer.json()["error"]["message"])
        assert refused and all("MAX_CONNECTIONS" in message for message in refused)
    finally:
        for writer in held:
            writer.close()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    log = stderr.decode()
    assert "Traceback" not in log and "Error handling request" not in log
