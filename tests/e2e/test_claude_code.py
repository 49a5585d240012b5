"""The real Claude Code CLI, headless, through the proxy to a fake OpenAI upstream.

The CLI is installed (pinned) by .ci/run into .tools/claude-code. Outside CI the test skips, saying why, when it is absent; in CI its absence is a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.claude_code import run_claude


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
