"""The real Claude Code CLI, pinned: only the copy `.ci/run` installs into `.tools/claude-code`
is ever run, never a `claude` found on PATH (whose version nobody chose)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.repo import REPO

PINNED = REPO / ".tools" / "claude-code" / "node_modules" / ".bin" / "claude"
MISSING = (
    "Claude Code is not installed at {path}: run `bash .ci/run` once "
    "(it installs the pinned @anthropic-ai/claude-code into .tools/claude-code)"
)


def in_ci(env: Mapping[str, str]) -> bool:
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pinned_claude(binary: Path = PINNED, env: Mapping[str, str] = os.environ) -> str:
    """The pinned CLI's path. When it is missing the test fails under CI and skips elsewhere,
    saying how to install it."""
    if binary.is_file() and os.access(binary, os.X_OK):
        return str(binary)
    message = MISSING.format(path=binary)
    if in_ci(env):
        pytest.fail(message)
    pytest.skip(message)


async def run_claude(
    claude: str,
    proxy_url: str,
    workdir: Path,
    prompt: str,
    allowed_tools: str = "Bash",
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
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
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        claude,
        "-p",
        prompt,
        "--output-format",
        "json",
        "--allowedTools",
        allowed_tools,
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
