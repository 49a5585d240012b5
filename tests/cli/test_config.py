"""`claude-proxy config show | path | init | set | unset`, with the settings isolated per test
(tests/conftest.py points the config file into a temporary dir and clears the environment)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.settings import Settings, config_file_path, load_settings
from tests.helpers.repo import REPO

LONG_KEY = "sk-proj-0123456789abcdefWXYZ"


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.output


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_show_says_where_each_value_comes_from(
    monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> None:
    config_file_path().write_text('small_model = "from-config"\nport = 9001\n')
    (isolated_settings / ".env").write_text("PORT=9002\nSONNET_MODEL=from-dotenv\n")
    monkeypatch.setenv("PORT", "9003")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-short")
    monkeypatch.setenv("OPENAI_API_KEY", LONG_KEY)
    code, output = invoke("config", "show", "--json", "--big-model", "from-flag")
    assert code == 0, output
    shown = json.loads(output)
    assert set(shown) == set(Settings.model_fields)
    assert shown["big_model"] == {
        "env": "BIG_MODEL",
        "value": "from-flag",
        "source": "flag",
        "name": None,
    }
    assert (shown["port"]["value"], shown["port"]["source"]) == (9003, "environment")
    assert (shown["sonnet_model"]["value"], shown["sonnet_model"]["source"]) == (
        "from-dotenv",
        ".env",
    )
    assert (shown["small_model"]["value"], shown["small_model"]["source"]) == (
        "from-config",
        "config file",
    )
    assert (shown["host"]["value"], shown["host"]["source"]) == ("127.0.0.1", "default")
    assert shown["gemini_api_key"] == {
        "env": "GEMINI_API_KEY",
        "value": "****",
        "source": "environment",
        "name": "GOOGLE_API_KEY",
    }
    assert shown["openai_api_key"]["value"] == "****WXYZ"
    assert LONG_KEY not in output and "AIza-short" not in output


def test_show_as_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", LONG_KEY)
    monkeypatch.setenv("COLUMNS", "120")
    code, output = invoke("config", "show", "--provider", "google")
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.strip()}
    assert rows["PREFERRED_PROVIDER"] == ["google", "flag"]
    assert rows["OPENAI_API_KEY"] == ["****WXYZ", "environment"]
    # the effective value, not "(not set)": what serves sonnet/opus with nothing configured
    assert rows["BIG_MODEL"] == ["gemini-2.5-pro", "(default", "for", "google)", "default"]
    assert rows["SMALL_MODEL"] == ["gemini-2.5-flash", "(default", "for", "google)", "default"]
    assert rows["OPUS_MODEL"][-1] == "default" and "BIG_MODEL serves opus" in output
    assert f"config file: {config_file_path()} (none)" in output
    assert f".env in the working directory: {Path.cwd() / '.env'} (none)" in output
    assert LONG_KEY not in output


def test_show_names_the_dotenv_it_read_and_the_together_default(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    (isolated_settings / ".env").write_text("PREFERRED_PROVIDER=together_ai\n")
    code, output = invoke("config", "show")
    assert code == 0, output
    rows = {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.strip()}
    assert rows["PREFERRED_PROVIDER"] == ["together", ".env"]
    assert rows["BIG_MODEL"][0] == "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
    assert f".env in the working directory: {isolated_settings / '.env'} >" in output


def test_show_warns_of_unknown_config_keys_with_a_did_you_mean() -> None:
    config_file_path().write_text('big_modle = "gpt-4o"\nport = 9001\n')
    code, output = invoke("config", "show")
    assert code == 0, output
    assert "big_modle is not a setting and is ignored; did you mean big_model?" in output
    assert "port" not in output.split("warning:")[1].split("?")[0]


def test_show_reports_a_broken_config_file() -> None:
    config_file_path().write_text("port = = 1\n")
    code, output = invoke("config", "show")
    assert code == 2
    assert "is not valid TOML" in output and "config path" in output


def test_an_invalid_value_names_where_it_is_without_sending_the_user_to_config_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_file_path().write_text("port = 99999\n")
    monkeypatch.setenv("PREFERRED_PROVIDER", "gemnii")
    code, output = invoke("config", "show")
    assert code == 2
    assert (
        "PREFERRED_PROVIDER in the environment: 'gemnii' is not a provider: did you mean" in output
    )
    assert f"port in the config file {config_file_path()}:" in output
    assert "Value error" not in output and "config show" not in output


def test_path() -> None:
    code, output = invoke("config", "path")
    assert (code, output) == (0, f"{config_file_path()}\n")


def test_init_writes_a_commented_file_and_refuses_to_overwrite() -> None:
    code, output = invoke("config", "init", "--provider", "Together")
    assert code == 0, output
    path = config_file_path()
    text = path.read_text()
    assert mode_of(path) == 0o600
    assert tomllib.loads(text) == {"preferred_provider": "together"}
    for field, info in Settings.model_fields.items():
        if field != "preferred_provider":
            assert f"# {field} = " in text and f"# {info.description}" in text
    assert "Next: set TOGETHERAI_API_KEY" in output and "then `claude-proxy doctor`" in output
    assert load_settings().preferred_provider == "together"

    code, output = invoke("config", "init", "--provider", "google")
    assert code == 1 and "already exists" in output and "--force" in output
    assert tomllib.loads(path.read_text()) == {"preferred_provider": "together"}
    code, _ = invoke("config", "init", "--force")
    assert code == 0 and tomllib.loads(path.read_text()) == {}


def test_init_in_a_terminal_asks_for_the_provider_and_the_hidden_key(tmp_path: Path) -> None:
    """A real pseudo-terminal: the key is typed with echo off and never shown."""
    import pty
    import termios

    key = "AIzaSy" + "K" * 33
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "claude_proxy", "config", "init"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(follower)
    seen = b""

    def read_until(text: bytes) -> None:
        nonlocal seen
        for _ in range(200):  # a bound against a hang (~20 s of silence), not a time limit
            if text in seen:
                return
            if select.select([leader], [], [], 0.1)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:  # the other end closed
                    break
        if text not in seen:
            pytest.fail(f"never saw {text!r} in {seen!r}")

    def wait_for_echo_off() -> None:
        """Type only once the prompt reads with echo off, as a person would after seeing it."""
        for _ in range(1000):  # a bound against a hang (~20 s), not a time limit
            if not termios.tcgetattr(leader)[3] & termios.ECHO:
                return
            time.sleep(0.02)
        pytest.fail("the key prompt never turned echo off")

    try:
        read_until(b"Provider")
        os.write(leader, b"azure\n")
        read_until(b"is not one of")
        os.write(leader, b"google\n")
        read_until(b"GEMINI_API_KEY")
        wait_for_echo_off()
        os.write(leader, key.encode() + b"\n")
        read_until(b"wrote")
        read_until(b"Next: `claude-proxy doctor` checks the setup")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    path = config_file_path()
    assert tomllib.loads(path.read_text()) == {
        "preferred_provider": "google",
        "gemini_api_key": key,
    }
    assert mode_of(path) == 0o600
    assert key.encode() not in seen


def test_set_uncomments_the_template_line_and_validates() -> None:
    invoke("config", "init", "--provider", "openai")
    path = config_file_path()
    code, output = invoke("config", "set", "BIG_MODEL", "gpt-4o")
    assert code == 0 and f"big_model = gpt-4o in {path}" in output
    lines = path.read_text().splitlines()
    index = lines.index('big_model = "gpt-4o"')
    assert lines[index - 1].startswith("# Model for sonnet and opus requests.")
    assert "# big_model = " not in path.read_text()

    assert invoke("config", "set", "port", "9100")[0] == 0
    assert invoke("config", "set", "process-newlines", "false")[0] == 0
    settings = load_settings()
    assert (settings.big_model, settings.port, settings.process_newlines) == ("gpt-4o", 9100, False)

    code, output = invoke("config", "set", "port", "eighty")
    assert code == 2 and "port: Input should be a valid integer" in output
    assert "Expected: Port to bind." in output
    code, output = invoke("config", "set", "big_modle", "x")
    assert code == 2 and "big_modle is not a setting" in output and "big_model" in output
    assert load_settings().port == 9100


def test_set_keeps_the_users_comments_and_writes_keys_privately() -> None:
    path = config_file_path()
    path.write_text('# my setup\ntogether_api_key = "old"  # the old key\nport = 9000\n')
    path.chmod(0o644)
    code, output = invoke("config", "set", "TOGETHER_AI_API_KEY", "tgp_v1_" + "n" * 30)
    assert code == 0, output
    assert "togetherai_api_key = **** in" in output or "****nnnn" in output
    assert "n" * 30 not in output
    text = path.read_text()
    assert text.startswith("# my setup\n")
    assert tomllib.loads(text) == {"port": 9000, "togetherai_api_key": "tgp_v1_" + "n" * 30}
    assert mode_of(path) == 0o600


def test_set_a_key_typed_hidden() -> None:
    code, output = invoke("config", "set", "openai_api_key", input=LONG_KEY + "\n")
    assert code == 0, output
    assert LONG_KEY not in output and "****WXYZ" in output
    assert tomllib.loads(config_file_path().read_text()) == {"openai_api_key": LONG_KEY}
    assert mode_of(config_file_path()) == 0o600
    code, output = invoke("config", "set", "big_model")
    assert code == 1 and "config set big_model VALUE" in output


def test_set_a_key_without_a_terminal_reads_stdin_or_says_how() -> None:
    """A real process with a pipe for stdin: no GetPassWarning, no bare "Aborted."."""
    command = [sys.executable, "-m", "claude_proxy", "config", "set", "openai_api_key"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    empty = subprocess.run(command, input="", capture_output=True, text=True, env=env, timeout=60)
    assert empty.returncode == 2
    both = empty.stdout + empty.stderr
    assert "no value for openai_api_key on stdin, and no terminal to type it in" in both
    assert 'printf %s "$KEY" | claude-proxy config set openai_api_key' in both
    assert "GetPassWarning" not in both and "Aborted" not in both
    piped = subprocess.run(
        command, input=LONG_KEY + "\n", capture_output=True, text=True, env=env, timeout=60
    )
    assert piped.returncode == 0, piped.stderr
    assert LONG_KEY not in piped.stdout + piped.stderr
    assert tomllib.loads(config_file_path().read_text()) == {"openai_api_key": LONG_KEY}


def test_set_a_provider_as_users_write_it() -> None:
    assert invoke("config", "set", "preferred_provider", "Gemini")[0] == 0
    assert tomllib.loads(config_file_path().read_text()) == {"preferred_provider": "google"}
    code, output = invoke("config", "set", "preferred_provider", "togther")
    assert code == 2 and "did you mean together?" in output and "Value error" not in output


def test_set_warns_when_a_higher_layer_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIG_MODEL", "from-env")
    code, output = invoke("config", "set", "big_model", "from-file")
    assert code == 0
    assert "BIG_MODEL in the environment takes precedence over the config file" in output


def test_unset() -> None:
    path = config_file_path()
    path.write_text('big_model = "x"\ngoogle_api_key = "g"\ngemini_api_key = "k"\n')
    code, output = invoke("config", "unset", "GEMINI_API_KEY")
    assert code == 0 and "removed gemini_api_key" in output
    assert tomllib.loads(path.read_text()) == {"big_model": "x"}
    code, output = invoke("config", "unset", "gemini_api_key")
    assert code == 0 and "does not set gemini_api_key; nothing to do" in output
