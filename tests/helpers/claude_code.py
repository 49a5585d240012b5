"""The real Claude Code CLI: the copy `.ci/run` installs into `.tools/claude-code`."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repo import REPO

PINNED = REPO / ".tools" / "claude-code" / "node_modules" / ".bin" / "claude"


def claude_binary() -> str | None:
    if PINNED.exists():
        return str(PINNED)
    return shutil.which("claude")


def pinned_claude() -> str:
    binary = claude_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Claude Code is not installed: .ci/run should have installed it into .tools/claude-code"
            )
        pytest.skip(
            "Claude Code is not installed: run `bash .ci/run` once, or npm install @anthropic-ai/claude-code@2.1.330"
        )
    return binary


async def run_claude(claude: str, proxy_url: str, workdir: Path, prompt: str) -> dict[str, Any]:
    """`claude -p PROMPT --output-format json` headless against the proxy; its JSON result."""
    home = workdir.parent / "claude-home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": proxy_url,
        "ANTHROPIC_API_KEY": "test-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    process = await asyncio.create_subprocess_exec(
        claude,
        "-p",
        prompt,
        "--output-format",
        "json",
        "--allowedTools",
        "Bash",
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=180)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, (
        f"claude exited {process.returncode}: {stdout.decode()[-2000:]} {stderr.decode()[-2000:]}"
    )
    result: dict[str, Any] = json.loads(stdout)
    return result
