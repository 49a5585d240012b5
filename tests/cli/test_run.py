"""`claude-proxy run`: stand-in clients that record what they were given and make real
requests through the proxy, the real Claude Code CLI, and the proxy's lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.cli.local_proxy import probe_health
from claude_proxy.cli.run import client_environment, for_claude_code, with_flags
from claude_proxy.server.app import create_app
from claude_proxy.settings import load_settings
from tests.fakes.in_thread import serve_in_thread
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.ledger import ledger_rows
from tests.helpers.ports import free_port
from tests.helpers.repo import REPO
from tests.helpers.terminal import Terminal

STAND_IN = """\
#!{python}
import json, os, sys, urllib.request

body = {{"model": "claude-opus-5-5", "max_tokens": 50,
        "messages": [{{"role": "user", "content": "hi"}}]}}
request = urllib.request.Request(
    os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=json.dumps(body).encode(),
    headers={{"authorization": "Bearer " + os.environ["ANTHROPIC_AUTH_TOKEN"],
             "content-type": "application/json",
             "anthropic-version": "2023-06-01"}},
)
answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
names = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN",
         "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
         "CLAUDE_CODE_AUTO_COMPACT_WINDOW", "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY",
         "UNRELATED_VARIABLE")
record = {{"argv": sys.argv[1:], "env": {{n: os.environ.get(n) for n in names}},
          "text": answer["content"][0]["text"]}}
with open(os.environ["RECORD_TO"], "w") as file:
    json.dump(record, file)
args = sys.argv[1:]
for flag in ("--session-id", "--resume"):
    if flag in args and os.environ.get("WRITE_TRANSCRIPT"):  # as Claude Code saves a session
        folder = os.path.join(os.environ["HOME"], ".claude", "projects", "-stand-in")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, args[args.index(flag) + 1] + ".jsonl"), "w") as file:
            file.write("{{}}\\n")
sys.exit(7)
"""


@pytest.fixture(autouse=True)
def launcher_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A scratch state dir for the proxy's log, and a port nothing answers on."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PORT", str(free_port()))
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only a stand-in `claude` (and nothing else named claude)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    script = directory / "claude"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("RECORD_TO", str(tmp_path / "record.json"))
    return directory


def test_client_environment() -> None:
    health = {
        "limits": {
            "opus": {"max_input_tokens": 1_047_576, "max_output_tokens": 32_768},
            "sonnet": {"max_input_tokens": 128_000, "max_output_tokens": 16_384},
            "haiku": {"max_input_tokens": 8_000, "max_output_tokens": 1_000},
        }
    }
    user = {"ANTHROPIC_AUTH_TOKEN": "sk-ant-oat-real", "ANTHROPIC_API_KEY": "sk-ant-x", "KEEP": "1"}
    env = client_environment(user, "http://127.0.0.1:9", health)
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9"
    # Claude Code: a token, because a custom API key makes its UI ask "use this key? No"
    assert env["ANTHROPIC_AUTH_TOKEN"] == "claude-proxy"
    assert "ANTHROPIC_API_KEY" not in env
    other = client_environment(user, "http://127.0.0.1:9", health, claude_code=False)
    assert other["ANTHROPIC_API_KEY"] == "claude-proxy"
    assert "ANTHROPIC_AUTH_TOKEN" not in other
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    # the smaller of the two big aliases, so neither overflows; haiku's limits do not count
    assert env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "16384"
    assert env["CLAUDE_CODE_AUTO_COMPACT_WINDOW"] == "128000"
    assert env["KEEP"] == "1"

    mine = client_environment({"CLAUDE_CODE_MAX_OUTPUT_TOKENS": "4000"}, "http://h:1", health)
    assert mine["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "4000"
    unknown = client_environment({}, "http://h:1", {"limits": {"opus": {}, "sonnet": {}}})
    assert "CLAUDE_CODE_MAX_OUTPUT_TOKENS" not in unknown
    assert "CLAUDE_CODE_AUTO_COMPACT_WINDOW" not in unknown


def test_claude_code_gets_the_status_line_and_model_discovery(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path / "my data"}, env_file=None)
    argv, env = for_claude_code(["/bin/claude", "-p", "hi"], {"A": "1"}, settings, statusline=True)
    assert env == {"A": "1", "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"}
    assert argv[0] == "/bin/claude" and argv[1] == "--settings" and argv[3:] == ["-p", "hi"]
    command = json.loads(argv[2])["statusLine"]["command"]
    assert command.split()[:3] == [sys.executable, "-m", "claude_proxy.cli.statusline"]
    assert command.endswith("--data-dir " + shlex.quote(str(tmp_path / "my data")))


@pytest.mark.parametrize(
    ("argv", "statusline", "ledger"),
    [
        (["claude"], False, True),
        (["claude", "--settings", "mine.json"], True, True),
        (["claude", "--settings={}"], True, True),
        (["claude"], True, False),
    ],
    ids=["--no-statusline", "own-settings", "own-settings=", "USAGE_LEDGER=false"],
)
def test_no_status_line_when_turned_off_or_the_user_brings_settings(
    argv: list[str], statusline: bool, ledger: bool
) -> None:
    settings = load_settings({"usage_ledger": ledger}, env_file=None)
    assert for_claude_code(argv, {}, settings, statusline=statusline)[0] == argv


def test_run_no_statusline_passes_claudes_arguments_untouched(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeOpenAI()
    fake.enqueue(Answer(text="plain"))
    with serve_in_thread(fake.app()) as upstream:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-launcher-0001")
        monkeypatch.setenv("OPENAI_API_BASE", f"{upstream}/v1")
        result = CliRunner().invoke(app, ["run", "--no-statusline", "claude", "-p", "hi"])
    assert result.exit_code == 7, result.output
    assert json.loads((tmp_path / "record.json").read_text())["argv"] == ["-p", "hi"]


def test_the_launchers_flags_and_the_status_line_share_one_settings_flag() -> None:
    status = ["claude", "--settings", json.dumps({"statusLine": {"type": "command"}}), "-p", "x"]
    mode = ["--settings", json.dumps({"permissions": {"defaultMode": "acceptEdits"}})]
    merged = with_flags(status, [*mode, "--session-id", "s1"])
    assert merged[:2] == ["claude", "--settings"] and merged[3:] == [
        "--session-id",
        "s1",
        "-p",
        "x",
    ]
    assert json.loads(merged[2]) == {
        "statusLine": {"type": "command"},
        "permissions": {"defaultMode": "acceptEdits"},
    }
    assert with_flags(["claude", "-p", "x"], ["--session-id", "s1"]) == [
        "claude",
        "--session-id",
        "s1",
        "-p",
        "x",
    ]
    assert with_flags(status, []) == status


def test_run_claude_starts_a_proxy_and_stops_it(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeOpenAI()
    fake.enqueue(Answer(text="through the proxy"))
    with serve_in_thread(fake.app()) as upstream:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-launcher-0001")
        monkeypatch.setenv("OPENAI_API_BASE", f"{upstream}/v1")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-the-users-real-key")
        monkeypatch.setenv("UNRELATED_VARIABLE", "kept")
        result = CliRunner().invoke(
            app, ["run", "--big-model", "gpt-4o", "claude", "-p", "say hi", "--verbose"]
        )
    assert result.exit_code == 7, result.output
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["argv"][0] == "--settings"
    assert record["argv"][2:] == ["-p", "say hi", "--verbose"]
    assert record["text"] == "through the proxy"
    status = json.loads(record["argv"][1])["statusLine"]
    assert status["type"] == "command"
    shown = subprocess.run(
        status["command"],
        shell=True,  # as Claude Code runs it
        input=json.dumps({"session_id": "not-seen-yet"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # the proxy wrote the stand-in's request to the ledger the status line reads
    assert shown.stdout == "claude-proxy · no requests yet this session\n"
    assert record["env"]["CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY"] == "1"
    env = record["env"]
    assert env["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:")
    assert env["ANTHROPIC_AUTH_TOKEN"] == "claude-proxy"
    assert env["ANTHROPIC_API_KEY"] is None
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    # gpt-4o in LiteLLM's registry: 128,000-token window, 16,384 output tokens
    assert env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "16384"
    assert env["CLAUDE_CODE_AUTO_COMPACT_WINDOW"] == "128000"
    assert env["UNRELATED_VARIABLE"] == "kept"
    assert fake.requests[0]["model"] == "gpt-4o"
    assert fake.headers[0]["Authorization"] == "Bearer sk-test-launcher-0001"
    log = tmp_path / "state" / "claude-proxy" / "proxy.log"
    assert "started claude-proxy at" in result.output and str(log) in result.output
    assert "listening on" in log.read_text()
    port = int(env["ANTHROPIC_BASE_URL"].rsplit(":", 1)[1])
    assert probe_health(port) is None, "the proxy run started is still running"


def test_run_reuses_a_proxy_already_answering(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeOpenAI()
    fake.enqueue(Answer(text="from the running proxy"))
    port = free_port()
    with serve_in_thread(fake.app()) as upstream:
        settings = load_settings(
            {"openai_api_key": "sk-running", "openai_api_base": f"{upstream}/v1"}, env_file=None
        )
        with serve_in_thread(create_app(settings), port=port) as proxy_url:
            monkeypatch.setenv("PORT", str(port))
            result = CliRunner().invoke(app, ["run", "claude"])
            assert probe_health(port) is not None
    assert result.exit_code == 7, result.output
    assert f"using the claude-proxy at {proxy_url}" in result.output
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["env"]["ANTHROPIC_BASE_URL"] == proxy_url
    assert record["env"]["CLAUDE_CODE_AUTO_COMPACT_WINDOW"] == "1047576"  # gpt-4.1
    assert record["text"] == "from the running proxy"
    assert not (tmp_path / "state" / "claude-proxy" / "proxy.log").exists()


@pytest.fixture
def answering_upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.enqueue(Answer(text="through the proxy"))
    with serve_in_thread(fake.app()) as upstream:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-launcher-0003")
        monkeypatch.setenv("OPENAI_API_BASE", f"{upstream}/v1")
        yield fake


def test_run_claude_starts_a_session_in_manual_mode_with_its_own_id(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answering_upstream: FakeOpenAI
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WRITE_TRANSCRIPT", "1")
    result = CliRunner().invoke(app, ["run", "--no-statusline", "claude", "fix the bug"])
    assert result.exit_code == 7, result.output
    argv = json.loads((tmp_path / "record.json").read_text())["argv"]
    assert argv[:3] == ["--permission-mode", "manual", "--session-id"]
    assert argv[4:] == ["fix the bug"]
    session = argv[3]
    assert "Claude Code starts in manual permission mode" in result.output
    assert f"claude-proxy run claude --resume {session}" in result.output


def test_run_claude_resume_passes_through_and_names_the_session_again(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answering_upstream: FakeOpenAI
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WRITE_TRANSCRIPT", "1")
    session = "0b5d6a4e-3f0c-4b8e-9d0a-2c1e5f7a9b3d"
    result = CliRunner().invoke(app, ["run", "--no-statusline", "claude", "--resume", session])
    assert result.exit_code == 7, result.output
    argv = json.loads((tmp_path / "record.json").read_text())["argv"]
    assert argv == ["--permission-mode", "manual", "--resume", session]
    assert f"claude-proxy run claude --resume {session}" in result.output


def test_run_claude_keeps_the_users_mode_and_says_nothing_of_a_session_never_saved(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answering_upstream: FakeOpenAI
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(
        app, ["run", "--no-statusline", "claude", "--permission-mode", "acceptEdits"]
    )
    assert result.exit_code == 7, result.output
    argv = json.loads((tmp_path / "record.json").read_text())["argv"]
    assert argv[:2] == ["--session-id", argv[1]] and argv[2:] == [
        "--permission-mode",
        "acceptEdits",
    ]
    assert "manual permission mode" not in result.output
    assert "--resume" not in result.output  # no transcript: nothing to resume


MISSING_KEY_ENV = ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")


@pytest.mark.parametrize(
    ("extra", "message", "fix"),
    [
        ({}, "no key for OpenAI, which serves opus/sonnet/haiku", "Set OPENAI_API_KEY"),
        (
            {"GEMINI_API_KEY": "AIza" + "B" * 35},
            "no key for OpenAI, which serves opus/sonnet/haiku; GEMINI_API_KEY is set",
            "Use --provider google or PREFERRED_PROVIDER=google",
        ),
    ],
)
def test_run_stops_before_claude_code_starts_when_a_key_is_missing(
    bin_dir: Path, tmp_path: Path, extra: dict[str, str], message: str, fix: str
) -> None:
    """A real launcher process: it exits non-zero with the fix, and the client never ran (it
    would have opened, then answered each prompt with "Please run /login")."""
    env = {k: v for k, v in os.environ.items() if k not in MISSING_KEY_ENV}
    process = subprocess.run(
        [sys.executable, "-m", "claude_proxy", "run", "claude"],
        cwd=tmp_path,
        env={**env, **extra, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2, process.stdout + process.stderr
    shown = process.stdout + process.stderr
    assert f"error: {message}" in shown and fix in shown
    assert not (tmp_path / "record.json").exists(), "the client ran with no key behind it"
    assert not (tmp_path / "state" / "claude-proxy" / "proxy.log").exists()


def test_run_says_how_to_install_claude_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(app, ["run", "claude"])
    assert result.exit_code == 127
    assert "claude (Claude Code) is not on PATH" in result.output
    assert "npm install -g @anthropic-ai/claude-code" in result.output
    nothing = CliRunner().invoke(app, ["run"])
    assert nothing.exit_code == 2 and "claude-proxy run claude" in nothing.output


CLIENT = """\
import sys
import anthropic

client = anthropic.Anthropic(max_retries=0)
prompt = sys.stdin.read().strip()
message = client.messages.create(
    model="claude-haiku-5-5", max_tokens=20, messages=[{"role": "user", "content": prompt}]
)
print("answer:", message.content[0].text)
"""


def launcher_env_vars(fake: FakeOpenAI, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC"))}
    return {
        **env,
        "PYTHONPATH": str(REPO),
        "OPENAI_API_KEY": "sk-test-launcher-0002",
        "OPENAI_API_BASE": fake.base_url,
    }


async def run_claude_headless(
    claude: str,
    fake: FakeOpenAI,
    tmp_path: Path,
    workdir: Path,
    home: Path,
    args: tuple[str, ...],
    **extra_env: str,
) -> dict[str, Any]:
    """`claude-proxy run claude ARGS` as a process, the pinned Claude Code on PATH, its home
    `home`; the JSON result it printed."""
    env = {
        **launcher_env_vars(fake, tmp_path),
        "PATH": f"{Path(claude).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "DISABLE_AUTOUPDATER": "1",
        **extra_env,
    }
    env.pop("CLAUDECODE", None)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "claude_proxy", "run", "claude", *args),
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, stdout.decode()[-2000:] + stderr.decode()[-2000:]
    result: dict[str, Any] = json.loads(stdout)
    return result


async def test_run_any_anthropic_client_with_stdin_and_stdout_untouched(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "client.py").write_text(CLIENT)
    fake_openai.enqueue(Answer(text="read your stdin"))
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "claude_proxy", "run", "--"),
        *(sys.executable, "client.py"),
        cwd=tmp_path,
        env=launcher_env_vars(fake_openai, tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(b"the prompt\n"), timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode() == "answer: read your stdin\n"
    assert fake_openai.requests[0]["messages"][-1]["content"] == "the prompt"
    assert fake_openai.requests[0]["model"] == "gpt-4.1-mini"


SLEEPER = (
    "import os, sys, time\nprint(os.environ['ANTHROPIC_BASE_URL'], flush=True)\ntime.sleep(120)\n"
)


async def launch_client(
    code: str, fake: FakeOpenAI, tmp_path: Path
) -> tuple[subprocess.Popen[bytes], bytes]:
    """`claude-proxy run -- python -c CODE` in a session of its own, and the first line the
    client printed (bounded: the proxy starts within seconds)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "claude_proxy", "run", "--", sys.executable, "-c", code],
        cwd=tmp_path,
        env=launcher_env_vars(fake, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=90)
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return process, line


@pytest.mark.parametrize(
    ("how", "status"),
    [("ctrl-c", 130), ("sigterm", 128 + signal.SIGTERM)],
)
async def test_the_proxy_stops_with_the_launcher(
    fake_openai: FakeOpenAI, tmp_path: Path, how: str, status: int
) -> None:
    """Ctrl-C reaches the whole foreground group (the proxy runs in a session of its own);
    SIGTERM reaches the launcher alone, which passes it on. Either way the proxy stops."""
    process, line = await launch_client(SLEEPER, fake_openai, tmp_path)
    try:
        port = int(line.decode().strip().rsplit(":", 1)[1])
        assert await asyncio.to_thread(probe_health, port) is not None
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(asyncio.to_thread(process.wait), timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert code == status, process.stderr.read().decode() if process.stderr else ""
    assert await asyncio.to_thread(probe_health, port) is None


REPORTER = (
    "import os, sys, time\n"
    "print(os.environ['ANTHROPIC_BASE_URL'], os.getpid(), flush=True)\n"
    "time.sleep(120)\n"
)


def _gone(pid: int) -> bool:
    """Whether the process has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; PDEATHSIG is Linux's"
)
async def test_sigkill_of_the_launcher_ends_the_proxy_and_the_client(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """SIGKILL leaves the launcher no `finally`: the proxy stops because its lifeline pipe
    closes, the client because of PR_SET_PDEATHSIG, so nothing goes on drawing on the
    terminal the shell has taken back."""
    process, line = await launch_client(REPORTER, fake_openai, tmp_path)
    try:
        url, child = line.decode().split()
        port = int(url.rsplit(":", 1)[1])
        assert await asyncio.to_thread(probe_health, port) is not None
        process.kill()
        assert await asyncio.wait_for(asyncio.to_thread(process.wait), timeout=30) == -9
        for _ in range(300):  # a bound against a hang (~30 s), not a time limit
            if await asyncio.to_thread(probe_health, port) is None and _gone(int(child)):
                break
            await asyncio.sleep(0.1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert await asyncio.to_thread(probe_health, port) is None, "the proxy outlived its launcher"
    assert _gone(int(child)), "the client outlived its launcher"


@pytest.mark.claude_code
async def test_run_claude_with_the_real_claude_code(
    claude: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    home = tmp_path / "claude-home"
    home.mkdir()
    command = {"command": "echo ran-through-run > proof.txt", "description": "Write the proof"}
    fake_openai.enqueue(
        Answer(tool_calls=[ToolCall("call_1", "Bash", json.dumps(command))]),
        Answer(text="Done."),
    )
    args = ("-p", "Write proof.txt", "--output-format", "json", "--allowedTools", "Bash")
    result = await run_claude_headless(claude, fake_openai, tmp_path, workdir, home, args)
    assert result["is_error"] is False and result["result"] == "Done."
    assert (workdir / "proof.txt").read_text().strip() == "ran-through-run"
    assert len(fake_openai.requests) == 2


def seeded_claude_home(home: Path, project: Path) -> None:
    """A Claude Code home past its first-run screens: onboarding done, the project trusted."""
    home.mkdir(parents=True, exist_ok=True)
    state = {
        "hasCompletedOnboarding": True,
        "theme": "dark",
        "projects": {str(project): {"hasTrustDialogAccepted": True}},
    }
    (home / ".claude.json").write_text(json.dumps(state))


def run_claude_on_a_terminal(
    claude: str,
    fake: FakeOpenAI,
    tmp_path: Path,
    claude_settings: dict[str, Any] | None = None,
    **extra_env: str,
) -> tuple[Path, Terminal]:
    """`claude-proxy run claude` on a pseudo-terminal in a new project folder, the pinned
    Claude Code on PATH with a finished onboarding (and `claude_settings` as its user
    settings); Claude Code's home and the terminal."""
    project = tmp_path / "project"
    project.mkdir()
    home = tmp_path / "claude-home"
    seeded_claude_home(home, project)
    if claude_settings is not None:
        (home / ".claude").mkdir()
        (home / ".claude" / "settings.json").write_text(json.dumps(claude_settings))
    env = {
        **launcher_env_vars(fake, tmp_path),
        "PATH": f"{Path(claude).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "DISABLE_AUTOUPDATER": "1",
        **extra_env,
    }
    env.pop("CLAUDECODE", None)
    argv = [sys.executable, "-m", "claude_proxy", "run", "claude"]
    return home, Terminal(argv, env, project)


@pytest.mark.claude_code
async def test_run_claude_interactive_in_manual_mode_and_the_resume_hint(
    claude: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """The real Claude Code on a terminal: no auto mode (its check cannot pass the proxy), a
    real answer, and on exit the resume command through the proxy for the same session."""
    fake_openai.enqueue(*[Answer(text="hello from the fake upstream")] * 6)
    home, terminal = run_claude_on_a_terminal(claude, fake_openai, tmp_path)
    try:
        await asyncio.to_thread(terminal.read_until, "manual mode on")
        assert terminal.shows("starts in manual permission mode")
        assert not terminal.shows("auto mode on") and not terminal.shows("Auto mode is now")
        terminal.type(b"say hi")
        await asyncio.to_thread(terminal.read_until, "say hi")
        terminal.type(b"\r")
        await asyncio.to_thread(terminal.read_until, "hello from the fake upstream")
        terminal.type(b"/exit")
        await asyncio.to_thread(terminal.read_until, "/exit")
        terminal.type(b"\r")
        screen = await asyncio.to_thread(terminal.read_until, "run claude --resume ")
        code = await asyncio.wait_for(asyncio.to_thread(terminal.process.wait), timeout=60)
    finally:
        terminal.close()
    assert code == 0, screen[-2000:]
    ours = re.search(r"claude-proxy run claude --resume ([0-9a-f-]{36})", screen)
    # Claude Code's own hint, which bypasses the proxy (it repeats the flags it was given)
    theirs = re.search(
        r"(?<!run )claude (?:--permission-mode manual )?--resume ([0-9a-f-]{36})", screen
    )
    assert ours is not None and theirs is not None, screen[-2000:]
    assert ours.group(1) == theirs.group(1)
    assert any((home / ".claude" / "projects").glob(f"*/{ours.group(1)}.jsonl"))


async def proxy_log_shows(text: str) -> str:
    """The launcher's proxy log once it holds `text` (bounded: about 2 minutes)."""
    log = Path(os.environ["XDG_STATE_HOME"]) / "claude-proxy" / "proxy.log"
    for _ in range(1200):
        if log.exists() and text in (seen := log.read_text()):
            return seen
        await asyncio.sleep(0.1)
    pytest.fail(f"the proxy never logged {text!r}")


@pytest.mark.claude_code
async def test_claude_code_carries_on_across_a_restart_in_place(
    claude: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """One interactive session of the real Claude Code: after a turn its idle connection is
    closed (CLIENT_HEADER_TIMEOUT) and the proxy restarts in place; the next turn is answered
    by the new image on the same port, and Claude Code notices nothing."""
    fake_openai.enqueue(*[Answer(text="the first answer")] * 6)
    restarting = {
        "MEMORY_RESTART_GROWTH": "0.001",
        "MEMORY_RESTART_IDLE": "0.5",
        "CLIENT_HEADER_TIMEOUT": "1",
    }
    _, terminal = run_claude_on_a_terminal(claude, fake_openai, tmp_path, **restarting)
    try:
        await asyncio.to_thread(terminal.read_until, "manual mode on")
        terminal.type(b"say hi")
        await asyncio.to_thread(terminal.read_until, "say hi")
        terminal.type(b"\r")
        await asyncio.to_thread(terminal.read_until, "the first answer")
        log = await proxy_log_shows("restarted in place to give back memory")
        fake_openai.queue[:] = [Answer(text="the second answer")] * 6
        terminal.type(b"and again")
        await asyncio.to_thread(terminal.read_until, "and again")
        terminal.type(b"\r")
        await asyncio.to_thread(terminal.read_until, "the second answer")
        terminal.type(b"/exit")
        await asyncio.to_thread(terminal.read_until, "/exit")
        terminal.type(b"\r")
        code = await asyncio.wait_for(asyncio.to_thread(terminal.process.wait), timeout=60)
    finally:
        terminal.close()
    assert code == 0, terminal.text[-2000:]
    assert "restarting in place:" in log
    assert not terminal.shows("API Error")


@pytest.mark.claude_code
async def test_run_claude_keeps_the_users_mode_without_the_auto_mode_offer(
    claude: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A mode in the user's settings is theirs (no manual mode, no note), and Claude Code's
    "Make auto mode your default permission mode?" dialog does not show."""
    settings = {"permissions": {"defaultMode": "acceptEdits"}}
    _, terminal = run_claude_on_a_terminal(claude, fake_openai, tmp_path, settings)
    try:
        await asyncio.to_thread(terminal.read_until, "accept edits on")
        terminal.type(b"/exit")
        await asyncio.to_thread(terminal.read_until, "/exit")
        terminal.type(b"\r")
        await asyncio.wait_for(asyncio.to_thread(terminal.process.wait), timeout=60)
        await asyncio.to_thread(terminal.read_until, "")
    finally:
        terminal.close()
    assert not terminal.shows("Make auto mode your default permission mode")
    assert not terminal.shows("manual permission mode")


@pytest.mark.claude_code
async def test_the_real_claude_code_session_lands_in_the_ledger_and_the_status_line(
    claude: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """`run claude` passes the statusLine settings (Claude Code accepts them), every request
    of the session is in the ledger under Claude Code's session id, the status line of that
    session names the upstream model, and Claude Code read the proxy's /v1/models."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    home = tmp_path / "claude-home"
    home.mkdir()
    fake_openai.enqueue(Answer(text="Hello from the upstream."))
    data_dir = tmp_path / "data"
    args = ("-p", "say hi", "--output-format", "json")
    result = await run_claude_headless(
        claude, fake_openai, tmp_path, workdir, home, args, DATA_DIR=str(data_dir)
    )
    assert result["result"] == "Hello from the upstream."
    rows = ledger_rows(data_dir)
    messages = [row for row in rows if row["endpoint"] == "messages"]
    assert messages and all(row["session"] == result["session_id"] for row in messages)
    assert messages[-1]["upstream_model"] == "openai/gpt-4.1"
    assert messages[-1]["output_tokens"] > 0 and messages[-1]["cost"] > 0
    shown = subprocess.run(
        [sys.executable, "-m", "claude_proxy.cli.statusline", "--data-dir", str(data_dir)],
        input=json.dumps({"session_id": result["session_id"]}),
        capture_output=True,
        text=True,
        env={**launcher_env_vars(fake_openai, tmp_path), "HOME": str(home)},
        timeout=60,
        check=True,
    )
    assert shown.stdout.startswith("gpt-4.1 · ")
    discovered = json.loads((home / ".claude" / "cache" / "gateway-models.json").read_text())
    assert {model["id"] for model in discovered["models"]} >= {"claude-opus-5-5"}
