"""`claude-proxy models` and `models resolve`, on LiteLLM's real model registry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from tests.helpers.repo import REPO


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_alias_table_and_the_providers_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    opus = next(line for line in lines if line.startswith("opus "))
    assert opus.split()[:4] == ["opus", "openai/gpt-4.1", "1,047,576", "32,768"]
    assert "opus -> default big_model for openai" in opus
    assert any(
        line.startswith("openai: ") and "chat models in LiteLLM's registry" in line
        for line in lines
    )
    gpt4o = next(line for line in lines if line.startswith("openai/gpt-4o "))
    assert gpt4o.split()[1:] == ["128,000", "16,384", "yes", "yes", "-"]


def test_models_json_for_another_provider() -> None:
    data = run_json("models", "--provider", "google")
    assert data["provider"] == "google"
    assert [(a["alias"], a["model"]) for a in data["aliases"]] == [
        ("opus", "gemini/gemini-2.5-pro"),
        ("sonnet", "gemini/gemini-2.5-pro"),
        ("haiku", "gemini/gemini-2.5-flash"),
    ]
    assert list(data["models"]) == ["gemini"]
    pro = next(m for m in data["models"]["gemini"] if m["model"] == "gemini/gemini-2.5-pro")
    assert pro == {
        "model": "gemini/gemini-2.5-pro",
        "max_input_tokens": 1_048_576,
        "max_output_tokens": 65_536,
        "supports_tools": True,
        "supports_images": True,
        "supports_reasoning": True,
    }
    names = [m["model"] for m in data["models"]["gemini"]]
    assert len(names) == len(set(names))


def test_models_all_providers_filtered() -> None:
    data = run_json("models", "--all", "-q", "llama")
    assert list(data["models"]) == ["openai", "gemini", "together_ai", "anthropic"]
    together = [m["model"] for m in data["models"]["together_ai"]]
    assert together and all(m.startswith("together_ai/") and "llama" in m.lower() for m in together)
    assert data["models"]["anthropic"] == []


@pytest.mark.parametrize(
    ("args", "model", "rule"),
    [
        (
            ["claude-3-5-haiku-20241022"],
            "openai/gpt-4.1-mini",
            "haiku -> default small_model for openai",
        ),
        (["claude-opus-5-5", "--big-model", "gpt-4o"], "openai/gpt-4o", "opus -> BIG_MODEL"),
        (["ollama/qwen3"], "ollama/qwen3", "carries a provider prefix: used as it is"),
        (["gemini-2.5-flash"], "gemini/gemini-2.5-flash", "not a Claude name: used as it is"),
        (
            ["sonnet", "--provider", "google", "--big-model", "gpt-4o"],
            "openai/gpt-4o",
            "sonnet -> BIG_MODEL (not a Gemini model: falls back to the OpenAI mapping)",
        ),
    ],
)
def test_resolve_says_which_rule_applied(args: list[str], model: str, rule: str) -> None:
    data = run_json("models", "resolve", *args)
    assert (data["model"], data["rule"]) == (model, rule)


def test_resolve_as_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["models", "resolve", "opus"])
    assert result.exit_code == 0
    rows = dict(
        re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in result.stdout.splitlines()
    )
    assert rows == {
        "requested": "opus",
        "model": "openai/gpt-4.1",
        "provider": "openai",
        "rule": "opus -> default big_model for openai",
        "window": "1,047,576",
        "max output": "32,768",
        "takes": "tools, images",
    }
    unknown = CliRunner().invoke(app, ["models", "resolve", "my-local-model"])
    assert "not in LiteLLM's registry" in unknown.stdout


def test_resolve_names_the_provider_as_the_user_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["models", "resolve", "opus", "--provider", "gemini"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^provider\s+google \(LiteLLM: gemini\)\s*$", result.stdout, re.MULTILINE)
    data = run_json("models", "resolve", "opus", "--provider", "gemini")
    assert (data["provider"], data["litellm_provider"]) == ("google", "gemini")


def test_doctor_and_models_do_not_import_litellm(tmp_path: Path) -> None:
    """They need no model facts LiteLLM's bundled JSON map does not hold (`python -X
    importtime` shows the seconds it would cost)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "sk-" + "x" * 30}
    code = (
        "import sys\nfrom claude_proxy.cli.app import app\n"
        "for args in (['doctor', '--json'], ['models', '--json'], ['models', 'resolve', 'opus'],\n"
        "             ['models', '--provider', 'google'], ['doctor', '--provider', 'google']):\n"
        "    try:\n        app(args)\n    except SystemExit:\n        pass\n"
        "print('litellm' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
