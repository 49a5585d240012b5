"""The real Claude Code CLI, headless, through the proxy to a fake OpenAI upstream.

The CLI is installed (pinned) by .ci/run into .tools/claude-code. Outside CI the test skips,
saying why, when the binary is absent; in CI its absence is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall

REPO = Path(__file__).resolve().parents[1]
PINNED = REPO / ".tools" / "claude-code" / "node_modules" / ".bin" / "claude"


def claude_binary() -> str | None:
    if PINNED.exists():
        return str(PINNED)
    return shutil.which("claude")


@pytest.fixture
def claude() -> str:
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


async def run_claude(claude: str, proxy_url: str, workdir: Path, prompt: str) -> dict:
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
    return json.loads(stdout)


@pytest.mark.claude_code
async def test_claude_code_runs_a_bash_tool_through_the_proxy(
    claude: str, proxy_url: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    command = {
        "command": "echo written-through-the-proxy > proof.txt",
        "description": "Write the proof file",
    }
    fake_openai.enqueue(
        Answer(
            text="I'll write the file.",
            tool_calls=[ToolCall("call_bash_1", "Bash", json.dumps(command))],
        ),
        Answer(text="Done: proof.txt holds the line."),
    )
    result = await run_claude(claude, proxy_url, workdir, "Write proof.txt with a shell command.")

    assert (workdir / "proof.txt").read_text().strip() == "written-through-the-proxy"
    assert result["is_error"] is False
    assert result["result"] == "Done: proof.txt holds the line."
    assert len(fake_openai.requests) == 2
    second = fake_openai.requests[1]["messages"]
    tool_messages = [m for m in second if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_bash_1"]
    assert all(m.get("stream") is True for m in fake_openai.requests)
