"""The real Claude Code CLI, headless, through the proxy to a fake OpenAI upstream.

Only the pinned CLI runs (.ci/run installs it into .tools/claude-code; tests/helpers/claude_code.py).
Outside CI the test skips, saying why, when it is absent; in CI its absence is a failure.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.claude_code import PINNED, pinned_claude, run_claude


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


@pytest.fixture
def claude_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `claude` on PATH that is not the pinned one."""
    directory = tmp_path / "bin"
    directory.mkdir()
    impostor = directory / "claude"
    impostor.write_text("#!/bin/sh\necho '0.0.1 (not the pinned Claude Code)'\n")
    impostor.chmod(impostor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(directory))
    return impostor


def test_the_claude_code_tests_run_the_pinned_binary() -> None:
    assert PINNED.parts[-5:] == (".tools", "claude-code", "node_modules", ".bin", "claude")
    ci = (PINNED.parents[4] / ".ci" / "run").read_text()
    assert ".tools/claude-code" in ci and "@anthropic-ai/claude-code@" in ci


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_pinned_binary_fails_under_ci_whatever_is_on_path(
    claude_on_path: Path, tmp_path: Path, ci: str
) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        pinned_claude(
            tmp_path / "missing" / "claude", {"CI": ci, "PATH": str(claude_on_path.parent)}
        )
    assert "bash .ci/run" in str(failed.value)


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_a_missing_pinned_binary_skips_outside_ci_whatever_is_on_path(
    claude_on_path: Path, tmp_path: Path, ci: str | None
) -> None:
    env = {"PATH": str(claude_on_path.parent)} | ({"CI": ci} if ci is not None else {})
    with pytest.raises(pytest.skip.Exception) as skipped:
        pinned_claude(tmp_path / "missing" / "claude", env)
    assert "bash .ci/run" in str(skipped.value)


def test_a_pinned_binary_is_used_even_with_another_claude_on_path(
    claude_on_path: Path, tmp_path: Path
) -> None:
    pinned = tmp_path / "pinned" / "claude"
    pinned.parent.mkdir()
    pinned.write_text("#!/bin/sh\n")
    pinned.chmod(0o755)
    assert pinned_claude(pinned, {"CI": "true"}) == str(pinned)
