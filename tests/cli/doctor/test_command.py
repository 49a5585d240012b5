"""The `doctor` command: its checks printed with marks and fixes, or as JSON; exit status 1
when a check fails."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from tests.helpers.doctor import OPENAI_KEY, doctor
from tests.helpers.ports import free_port


def test_a_missing_key_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["doctor", "--port", str(free_port())])
    assert result.exit_code == 1
    assert "✗" in result.output and "no key for OpenAI" in result.output
    assert "fix: Set OPENAI_API_KEY" in result.output
    assert "failed" in result.output

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    result, checks = doctor()
    assert result.exit_code == 0, result.output
    assert checks["OpenAI key"][0]["status"] == "pass"
    assert (
        "OPENAI_API_KEY from environment (****a1a1) looks like an OpenAI key"
        in (checks["OpenAI key"][0]["message"])
    )
    assert OPENAI_KEY not in result.output
