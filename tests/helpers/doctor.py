"""Running `claude-proxy doctor --json` and reading its checks; keys of each provider's shape."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from claude_proxy.cli.app import app
from tests.helpers.ports import free_port

OPENAI_KEY = "sk-proj-" + "a1" * 20
GEMINI_KEY = "AIza" + "B" * 35
TOGETHER_KEY = "tgp_v1_" + "c" * 40

Checks = dict[str, list[dict[str, Any]]]


def doctor(*args: str) -> tuple[Result, Checks]:
    """Run doctor --json on a free port; returns the result and the checks by name."""
    result = CliRunner().invoke(app, ["doctor", "--json", "--port", str(free_port()), *args])
    checks: Checks = {}
    for check in json.loads(result.stdout)["checks"]:
        checks.setdefault(check["name"], []).append(check)
    return result, checks
