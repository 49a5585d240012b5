"""`claude-proxy serve` as a process, as a user runs it, and waiting for its `/health`."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers.repo import REPO


def serve_env(**extra: str) -> dict[str, str]:
    """This environment without provider variables, with the repository importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC"))}
    return {**env, "PYTHONPATH": str(REPO), "COLUMNS": "200", **extra}


async def start_serve(cwd: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "claude_proxy", "serve", *args),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop(process: asyncio.subprocess.Process) -> str:
    """Stop the process (if it still runs); its stderr, where the banner and log go."""
    if process.returncode is None:
        process.terminate()
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return stderr.decode()


async def read_log_until(
    process: asyncio.subprocess.Process, text: str, seen: list[str], timeout: float = 120
) -> str:
    """Read the process's stderr a line at a time into `seen` until a line holds `text`;
    that line. `stop` returns the rest."""
    assert process.stderr is not None
    async with asyncio.timeout(timeout):
        while line := (await process.stderr.readline()).decode():
            seen.append(line)
            if text in line:
                return line
    pytest.fail(f"the proxy ended without logging {text!r}:\n{''.join(seen)}")


@asynccontextmanager
async def connection_per_request(port: int) -> AsyncIterator[aiohttp.ClientSession]:
    """A session to the proxy on `port` that opens a connection per request (an idle
    keep-alive one would hold a restart in place back until CLIENT_HEADER_TIMEOUT closed it),
    once the proxy answers /health."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_for_health(session, f"http://127.0.0.1:{port}/health")
        yield session


async def fetch_health(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
    try:
        async with session.get(url) as response:
            if response.status == 200:
                health: dict[str, Any] = await response.json()
                return health
    except aiohttp.ClientConnectionError:
        pass
    return None


async def wait_for_health(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    for _ in range(600):  # LiteLLM's import takes a few seconds; give up after ~60 s
        health = await fetch_health(session, url)
        if health is not None:
            return health
        await asyncio.sleep(0.1)
    pytest.fail(f"the proxy never answered {url}")


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
