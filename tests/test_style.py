"""The codebase's own rules, checked with the suite: ruff (lint, format, and the import bans
that keep litellm and rich in one module each) and mypy --strict on the package."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.repo import REPO


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_passes(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
