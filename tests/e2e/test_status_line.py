"""The real Claude Code, interactive on a pseudo-terminal, launched by `claude-proxy run
claude`: its status line is `claude-proxy statusline`, and after a reply it names the upstream
model, the session's tokens and cost, from the ledger the proxy wrote."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.in_thread import serve_in_thread
from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.ledger import ledger_rows
from tests.helpers.ports import free_port
from tests.helpers.repo import REPO
from tests.helpers.terminal import Terminal


@pytest.mark.claude_code
def test_the_status_line_names_the_upstream_model_and_the_cost(claude: str, tmp_path: Path) -> None:
    work = tmp_path / "project"
    work.mkdir()
    home = tmp_path / "claude-home"
    home.mkdir()
    # A finished first-run setup and a trusted folder, so the prompt is the first screen.
    settled = {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
    (home / ".claude.json").write_text(
        json.dumps(
            {"hasCompletedOnboarding": True, "theme": "dark", "projects": {str(work): settled}}
        )
    )
    data = tmp_path / "data"
    fake = FakeOpenAI()
    fake.enqueue(*[Answer(text="Hello from the upstream.") for _ in range(5)])
    with serve_in_thread(fake.app()) as upstream:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC"))}
        env.pop("CLAUDECODE", None)
        env.update(
            HOME=str(home),
            PATH=f"{Path(claude).parent}{os.pathsep}{env.get('PATH', '')}",
            PYTHONPATH=str(REPO),
            OPENAI_API_KEY="sk-test-status-0001",
            OPENAI_API_BASE=f"{upstream}/v1",
            DATA_DIR=str(data),
            PORT=str(free_port()),
            TERM="xterm-256color",
            DISABLE_AUTOUPDATER="1",
            CLAUDE_CODE_MAX_RETRIES="1",
            COLUMNS="120",
        )
        terminal = Terminal([sys.executable, "-m", "claude_proxy", "run", "claude"], env, work)
        try:
            terminal.read_until("claude-proxy · no requests yet this session")
            # Typed, then Enter once it shows: text and Enter in one write read as a paste
            # (whose Enter does not submit) when the TUI is slow to read them.
            terminal.type(b"hello")
            terminal.read_until("hello")
            terminal.type(b"\r")
            terminal.read_until_match(r"gpt-4\.1·\d+in,\d+out·cache\d+%·\$\d\.\d{4}")
        finally:
            # SIGTERM first: the launcher stops Claude Code and its proxy
            terminal.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                terminal.process.wait(30)
            terminal.close()
    rows = [row for row in ledger_rows(data) if row["endpoint"] == "messages"]
    assert rows and rows[-1]["upstream_model"] == "openai/gpt-4.1" and rows[-1]["session"]
    assert len(fake.requests) >= 1
