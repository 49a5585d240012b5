"""The doctor's checks (config file, keys, the Together variables, models, port, Claude Code),
through `doctor --json` with the settings isolated per test."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.server.app import create_app
from claude_proxy.settings import config_file_path, load_settings
from tests.fakes.in_thread import serve_in_thread
from tests.helpers.doctor import GEMINI_KEY, OPENAI_KEY, TOGETHER_KEY, doctor
from tests.helpers.ports import free_port


def test_keys_that_do_not_look_like_the_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ant-api03-" + "x" * 30)
    monkeypatch.setenv("GEMINI_API_KEY", "not-a-gemini-key")
    _, checks = doctor("--small-model", "gemini-2.5-flash")
    openai, gemini = checks["OpenAI key"][0], checks["Gemini key"][0]
    assert openai["status"] == "warn" and "looks like a key for Anthropic" in openai["message"]
    assert gemini["status"] == "warn" and "Gemini keys start with AIza" in gemini["message"]
    assert "GEMINI_API_KEY" in gemini["fix"]


def test_a_base_url_makes_the_key_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:11434/v1")
    result, checks = doctor("--big-model", "qwen3-coder")
    assert result.exit_code == 0
    assert checks["OpenAI key"][0]["message"].startswith("none needed: OPENAI_API_BASE")
    assert checks["opus model"][0]["status"] == "pass"
    assert "sent to the server at http://127.0.0.1:11434/v1" in checks["opus model"][0]["message"]


def test_together_variables_and_the_naming_trap(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
    _, checks = doctor("--provider", "together")
    found = checks["Together variables"]
    assert [c["status"] for c in found] == ["pass"]
    assert "found TOGETHER_API_KEY (environment)" in found[0]["message"]
    assert "LiteLLM's own tools read only TOGETHERAI_API_KEY" in found[0]["message"]
    assert checks["Together key"][0]["status"] == "pass"

    (tmp_path / ".env").write_text(f"TOGETHERAI_API_KEY={'d' * 64}\nTOGETHER_KEY=oops\n")
    _, checks = doctor("--provider", "together")
    messages = {c["status"] + ": " + c["message"] for c in checks["Together variables"]}
    assert any(
        m.startswith("warn: ")
        and "different values" in m
        and "TOGETHER_API_KEY (environment) wins" in m
        for m in messages
    ), messages
    assert "warn: TOGETHER_KEY (.env) is set, but nothing reads that name" in messages


def test_a_near_miss_alone_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("TOGETHERAI_KEY", "x")
    result, checks = doctor()
    assert result.exit_code == 0
    near = checks["Together variables"][0]
    assert near["status"] == "warn" and near["message"].startswith("TOGETHERAI_KEY (environment)")
    assert near["fix"].startswith("Rename it to TOGETHERAI_API_KEY")


def test_models_that_resolve_badly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    _, checks = doctor("--provider", "google", "--big-model", "gpt-4o")
    opus, haiku = checks["opus model"][0], checks["haiku model"][0]
    assert opus["status"] == "warn"
    assert "PREFERRED_PROVIDER=google, but gpt-4o is not a Gemini model" in opus["message"]
    assert haiku["status"] == "pass" and haiku["message"].startswith("gemini/gemini-2.5-flash")

    monkeypatch.setenv("OPUS_MODEL", "qwen3-coder")
    _, checks = doctor("--big-model", "openrouter/some/new-model", "--small-model", "nope/x")
    opus, sonnet, haiku = (checks[f"{a} model"][0] for a in ("opus", "sonnet", "haiku"))
    assert (
        opus["status"] == "warn" and "qwen3-coder is not in LiteLLM's registry" in opus["message"]
    )
    assert "prefix" in opus["fix"]
    assert sonnet["status"] == "pass" and "prefixed for openrouter" in sonnet["message"]
    assert haiku["status"] == "warn"
    assert "nope is not a provider LiteLLM knows" in haiku["message"]


def test_a_broken_config_file_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    config_file_path().write_text("port = = 1\n")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    checks = json.loads(result.stdout)["checks"]
    assert checks[0]["name"] == "config file" and checks[0]["status"] == "fail"
    assert "config init --force" in checks[0]["fix"]


def test_unknown_config_keys_are_a_warning_not_a_file_that_parses() -> None:
    config_file_path().write_text('big_modle = "gpt-4o"\nsmall_model = "gpt-4o-mini"\n')
    _, checks = doctor()
    check = checks["config file"][0]
    assert check["status"] == "warn"
    assert "big_modle is not a setting and is ignored; did you mean big_model?" in check["message"]
    assert "small_model" not in check["message"] and check["fix"]


def test_no_key_for_the_provider_points_at_the_provider_whose_key_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    result, checks = doctor()
    assert result.exit_code == 1
    check = checks["OpenAI key"][0]
    assert check["status"] == "fail"
    assert check["message"].endswith("; GEMINI_API_KEY is set")
    assert check["fix"].startswith("Use --provider google or PREFERRED_PROVIDER=google")
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", GEMINI_KEY)
    _, checks = doctor()
    assert checks["OpenAI key"][0]["message"].endswith("; GOOGLE_API_KEY is set")
    _, checks = doctor("--provider", "gemini")
    assert checks["Gemini key"][0]["status"] == "pass"


def test_the_port_taken_by_another_program() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["doctor", "--json", "--port", str(port)])
    check = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == f"port {port}")
    assert check["status"] == "fail" and "taken by another program" in check["message"]
    assert "--port" in check["fix"]


def test_the_port_held_by_a_claude_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    port = free_port()
    settings = load_settings({"openai_api_key": OPENAI_KEY}, env_file=None)
    with serve_in_thread(create_app(settings), port=port):
        same = CliRunner().invoke(app, ["doctor", "--json", "--port", str(port)])
        other = CliRunner().invoke(
            app, ["doctor", "--json", "--port", str(port), "--big-model", "gpt-4o"]
        )
    check = next(c for c in json.loads(same.stdout)["checks"] if c["name"] == f"port {port}")
    assert check["status"] == "pass"
    assert "a claude-proxy 0.1.0 already answers there" in check["message"]
    assert "opus → openai/gpt-4.1" in check["message"]
    check = next(c for c in json.loads(other.stdout)["checks"] if c["name"] == f"port {port}")
    assert check["status"] == "warn"
    assert "opus is served by openai/gpt-4.1, not gpt-4o" in check["message"]


def test_claude_on_path_and_its_version(
    path_without_claude: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, checks = doctor()
    missing = checks["Claude Code"][0]
    assert (
        missing["status"] == "warn" and "npm install -g @anthropic-ai/claude-code" in missing["fix"]
    )

    script = path_without_claude / "claude"
    script.write_text("#!/bin/sh\necho '2.1.330 (Claude Code)'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{path_without_claude}{os.pathsep}/usr/bin{os.pathsep}/bin")
    _, checks = doctor()
    assert checks["Claude Code"][0] == {
        "name": "Claude Code",
        "status": "pass",
        "message": f"2.1.330 (Claude Code) at {script}",
        "fix": None,
    }


@pytest.mark.parametrize("name", ["TOGETHERAI_API_KEY", "TOGETHER_API_KEY", "TOGETHER_AI_API_KEY"])
@pytest.mark.parametrize("where", ["environment", ".env"])
def test_every_together_key_name_is_found_and_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, where: str
) -> None:
    """Each name the settings read the Together key from is one doctor finds and names."""
    if where == "environment":
        monkeypatch.setenv(name, TOGETHER_KEY)
    else:
        (tmp_path / ".env").write_text(f"{name}={TOGETHER_KEY}\n")
    result, checks = doctor("--provider", "together")
    assert result.exit_code == 0, result.output
    [variables] = checks["Together variables"]
    assert variables["status"] == "pass", variables
    assert variables["message"].startswith(
        f"found {name} ({where}); claude-proxy uses {name} ({where})"
    )
    primary = name == "TOGETHERAI_API_KEY"
    assert (
        "LiteLLM's own tools read only TOGETHERAI_API_KEY" in variables["message"]
    ) is not primary
    [key] = checks["Together key"]
    assert key["status"] == "pass"
    assert key["message"].startswith(f"{name} from {where} (****")
    assert "looks like a Together key" in key["message"]
    assert TOGETHER_KEY not in result.output


def test_two_together_names_with_one_value_are_found_without_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOGETHER_AI_API_KEY", TOGETHER_KEY)
    monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
    _, checks = doctor("--provider", "together")
    [variables] = checks["Together variables"]
    assert variables["status"] == "pass"
    assert "TOGETHER_API_KEY (environment)" in variables["message"]
    assert "TOGETHER_AI_API_KEY (environment)" in variables["message"]


def test_the_web_search_backend_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    _, checks = doctor()
    (none,) = checks["web search"]
    assert none["status"] == "warn" and "BRAVE_API_KEY" in none["fix"]
    monkeypatch.setenv("SEARXNG_URL", "http://127.0.0.1:8888")
    _, checks = doctor()
    assert checks["web search"][0] == {
        "name": "web search",
        "status": "pass",
        "message": "searxng at http://127.0.0.1:8888",
        "fix": None,
    }
    monkeypatch.setenv("WEB_SEARCH_BACKEND", "tavily")
    _, checks = doctor()
    assert checks["web search"][0]["fix"] == "WEB_SEARCH_BACKEND=tavily needs TAVILY_API_KEY."
