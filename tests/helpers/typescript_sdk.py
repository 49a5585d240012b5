"""The official TypeScript SDK, pinned: only the copy `.ci/run` installs into
`.tools/anthropic-sdk-ts` is used, run by node on a script in tests/data/typescript/."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.claude_code import in_ci
from tests.helpers.repo import DATA, REPO

MODULES = REPO / ".tools" / "anthropic-sdk-ts" / "node_modules"
PACKAGE = MODULES / "@anthropic-ai" / "sdk" / "package.json"
TOOL_RUNNER = DATA / "typescript" / "tool_runner.cjs"
MISSING = (
    "the TypeScript SDK is not installed at {path}: run `bash .ci/run` once "
    "(it installs the pinned @anthropic-ai/sdk into .tools/anthropic-sdk-ts)"
)


def pinned_typescript_sdk(package: Path = PACKAGE, env: Mapping[str, str] = os.environ) -> str:
    """The node binary that runs the pinned SDK. Without node the test skips (CI has it);
    without the SDK it fails under CI and skips elsewhere, saying how to install it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the TypeScript SDK's tests need it")
    if not package.is_file():
        message = MISSING.format(path=package.parent)
        if in_ci(env):
            pytest.fail(message)
        pytest.skip(message)
    return node


def sdk_version() -> str:
    version: str = json.loads(PACKAGE.read_text())["version"]
    return version


async def run_tool_runner(node: str, proxy_url: str, *, stream: bool) -> dict[str, Any]:
    """tests/data/typescript/tool_runner.cjs against the proxy: the final text and every
    request body the SDK sent."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NODE_PATH": str(MODULES)}
    process = await asyncio.create_subprocess_exec(
        node,
        str(TOOL_RUNNER),
        proxy_url,
        "stream" if stream else "json",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, f"node exited {process.returncode}: {stderr.decode()[-3000:]}"
    result: dict[str, Any] = json.loads(stdout)
    return result
