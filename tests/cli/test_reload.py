"""`claude-proxy serve --reload`: a temporary copy of the package is served, and an edit to it
restarts the server."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.helpers.ports import free_port
from tests.helpers.repo import REPO
from tests.helpers.serve_process import fetch_health, serve_env, start_serve, stop, wait_for_health


async def test_serve_reload_restarts_on_a_source_change(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A temporary copy of the package is served with --reload; editing it restarts the server."""
    source = tmp_path / "src"
    shutil.copytree(
        REPO / "claude_proxy",
        source / "claude_proxy",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    port = free_port()
    env = {
        **serve_env(),
        "PYTHONPATH": str(source),
        "OPENAI_API_KEY": "sk-test-reload-0001",
    }
    process = await start_serve(tmp_path, env, "--port", str(port), "--reload")
    try:
        async with aiohttp.ClientSession() as session:
            health = await wait_for_health(session, f"http://127.0.0.1:{port}/health")
            assert health["version"] == "0.1.0"
            init = source / "claude_proxy" / "__init__.py"
            init.write_text(init.read_text().replace('"0.1.0"', '"0.1.0+reloaded"'))
            for _ in range(600):  # the debounce, a restart and LiteLLM's import: < 60 s
                health = await fetch_health(session, f"http://127.0.0.1:{port}/health")
                if health is not None and health["version"] == "0.1.0+reloaded":
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the server was not restarted after its source changed")
    finally:
        process.send_signal(signal.SIGINT)
        log = await stop(process)
    assert f"watching {source / 'claude_proxy'}" in log
    assert "reloading: claude_proxy/__init__.py changed" in log
    async with aiohttp.ClientSession() as session:
        assert await fetch_health(session, f"http://127.0.0.1:{port}/health") is None
