"""The real Claude Code, interactive on a pseudo-terminal, launched by `claude-proxy run
claude`: its status line is `claude-proxy statusline`, and after a reply it names the upstream
model, the session's tokens and cost, from the ledger the proxy wrote."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.fakes.in_thread import serve_in_thread
from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.ledger import ledger_rows
from tests.helpers.ports import free_port
from tests.helpers.repo import REPO

ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)"
)


class Screen:
    """What a child wrote to its terminal, escapes removed, read until a pattern shows."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.raw = b""

    def text(self) -> str:
        return ESCAPES.sub(b"", self.raw).decode("utf-8", "replace")

    def wait_for(self, pattern: str, bound: float = 90.0) -> re.Match[str] | None:
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found is not None:
                return found
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.raw += os.read(self.fd, 65536)
                except OSError:  # the child is gone
                    return re.search(pattern, self.text())
        return None


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
        )
        leader, follower = os.openpty()
        os.set_blocking(leader, True)
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        launcher = subprocess.Popen(
            [sys.executable, "-m", "claude_proxy", "run", "claude"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            cwd=work,
            env=env,
            start_new_session=True,
        )
        os.close(follower)
        screen = Screen(leader)
        try:
            # Spaces may come as cursor moves, which the screen text drops: \s* for each.
            before = screen.wait_for(r"claude-proxy\s*·\s*no\s*requests\s*yet\s*this\s*session")
            assert before is not None, screen.text()[-3000:]
            # Typed, then Enter once it shows: text and Enter in one write read as a paste
            # (whose Enter does not submit) when the TUI is slow to read them.
            for _ in range(3):  # a TUI still starting up may drop what is typed: again
                os.write(leader, b"hello")
                if screen.wait_for(r"hello", bound=20) is not None:
                    break
            else:
                pytest.fail(f"what was typed never showed: {screen.text()[-3000:]}")
            os.write(leader, b"\r")
            after = screen.wait_for(
                r"gpt-4\.1\s*·\s*\d+\s*in,\s*\d+\s*out\s*·\s*cache\s*\d+%\s*·\s*\$\d\.\d{4}"
            )
            assert after is not None, screen.text()[-3000:]
        finally:
            launcher.send_signal(signal.SIGTERM)  # the launcher stops Claude Code and its proxy
            try:
                launcher.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
            os.close(leader)
    rows = [row for row in ledger_rows(data) if row["endpoint"] == "messages"]
    assert rows and rows[-1]["upstream_model"] == "openai/gpt-4.1" and rows[-1]["session"]
    assert len(fake.requests) >= 1
