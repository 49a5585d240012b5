from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

from claude_proxy.cli import app
from claude_proxy.settings import config_file_path
from tests.fakes.openai_upstream import Answer, FakeOpenAI

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_does_not_import_litellm_or_the_server() -> None:
    script = (
        "import sys; from typer.testing import CliRunner; from claude_proxy.cli import app\n"
        "for args in (['--help'], ['serve', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0\n"
        "heavy = [m for m in ('litellm', 'aiohttp.web') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("claude-proxy ")


def test_serve_rejects_an_unknown_provider() -> None:
    result = CliRunner().invoke(app, ["serve", "--provider", "azure"])
    assert result.exit_code == 2
    assert "preferred_provider" in result.output


def test_serve_reports_a_broken_config_file() -> None:
    config_file_path().write_text("port = = 3\n")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output


async def test_serve_runs_the_proxy(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    """`claude-proxy serve` as a user runs it: a process, keys from .env, a banner, real answers."""
    port = free_port()
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY=sk-from-dotenv-77\nOPENAI_API_BASE={fake_openai.base_url}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "claude_proxy",
        "serve",
        "--port",
        str(port),
        "--big-model",
        "gpt-4o",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    fake_openai.enqueue(Answer(text="served"))
    try:
        async with aiohttp.ClientSession() as session:
            health = await wait_for_health(session, f"http://127.0.0.1:{port}/health")
            assert health["models"]["opus"] == "openai/gpt-4o"
            response = await session.post(
                f"http://127.0.0.1:{port}/v1/messages",
                json={
                    "model": "claude-opus-5-5",
                    "max_tokens": 5,
                    "messages": [{"role": "user", "content": "hi"}],
                },
            )
            assert (await response.json())["content"][0]["text"] == "served"
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    log = stderr.decode()
    assert f"http://127.0.0.1:{port}" in log
    assert f"ANTHROPIC_BASE_URL=http://127.0.0.1:{port} claude" in log
    assert "openai/gpt-4o" in log
    assert "sk-from-dotenv-77" not in log
    assert fake_openai.headers[0]["Authorization"] == "Bearer sk-from-dotenv-77"


async def wait_for_health(session: aiohttp.ClientSession, url: str) -> dict:
    for _ in range(300):  # LiteLLM's import takes a few seconds; give up after ~30 s
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return await response.json()
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail(f"the proxy never answered {url}")


def test_serve_says_when_the_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
