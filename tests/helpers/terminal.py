"""A program on a pseudo-terminal, read as a person reads the screen: for Claude Code's TUI."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

ESCAPES = re.compile(
    rb"\x1b\[[0-9;?<>=]*[a-zA-Z~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]"
)


T = TypeVar("T")


class Terminal:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        leader, follower = pty.openpty()
        os.set_blocking(leader, False)
        self.process = subprocess.Popen(
            list(argv),
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        os.close(follower)
        self.leader = leader
        self.seen = b""

    @property
    def text(self) -> str:
        """Everything shown so far, without escape sequences and with spaces squeezed."""
        plain = ESCAPES.sub(b"", self.seen).decode("utf-8", "replace")
        return re.sub(r"\s+", " ", plain)

    def shows(self, text: str) -> bool:
        """Whether `text` was shown, spaces aside: a TUI draws some spaces as cursor moves."""
        return re.sub(r"\s+", "", text) in re.sub(r"\s+", "", self.text)

    def read_until(self, text: str, rounds: int = 1200) -> str:
        """Read until `text` is shown; fail after `rounds` reads of at most a tenth of a
        second (a bound against a hang, not a time limit)."""
        self._read_until(lambda: self.shows(text) or None, repr(text), rounds)
        return self.text

    def read_until_match(self, pattern: str, rounds: int = 1200) -> re.Match[str]:
        """Read until `pattern` matches the screen with its spaces removed (write it without
        spaces); the match. Bounded like `read_until`."""
        return self._read_until(
            lambda: re.search(pattern, re.sub(r"\s+", "", self.text)), f"/{pattern}/", rounds
        )

    def _read_until(self, found: Callable[[], T | None], what: str, rounds: int) -> T:
        for _ in range(rounds):
            if (result := found()) is not None:
                return result
            if select.select([self.leader], [], [], 0.1)[0]:
                try:
                    self.seen += os.read(self.leader, 65536)
                except OSError:  # the program closed the terminal
                    break
        if (result := found()) is None:
            pytest.fail(f"never saw {what}; the screen so far: {self.text[-3000:]!r}")
        return result

    def type(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        os.close(self.leader)
