"""`claude-proxy serve`: flags and settings checked before anything starts, the banner, the
proxy as a process (keys from .env, one log line per request, `--debug-rich`), and its help
at 80 columns."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import typing
from pathlib import Path

import aiohttp
import pytest
from typer.core import TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.cli.serve import startup_warnings
from claude_proxy.settings import Provider, config_file_path, load_settings
from claude_proxy.upstream.litellm_client import import_litellm
from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI, ToolCall
from tests.helpers.ports import free_port
from tests.helpers.serve_process import (
    connection_per_request,
    read_log_until,
    serve_env,
    start_serve,
    stop,
    strip_ansi,
    wait_for_health,
)


def test_serve_rejects_an_unknown_provider() -> None:
    result = CliRunner().invoke(app, ["serve", "--provider", "azure"])
    assert result.exit_code == 2
    assert "Invalid value for '--provider'" in result.output
    assert "'azure' is not a provider: Choose one of openai, google (gemini)" in result.output


def test_serve_reports_invalid_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFERRED_PROVIDER", "azure")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "invalid settings: PREFERRED_PROVIDER in the environment: 'azure'" in result.output
    assert "config show" not in result.output  # it would fail the same way


def test_serve_reports_a_broken_config_file() -> None:
    config_file_path().write_text("port = = 3\n")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output


def test_serve_says_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output
    assert "listening" not in result.output  # no banner for a server that never started


@pytest.mark.parametrize(
    ("host", "exposed"),
    [("127.0.0.1", False), ("::1", False), ("localhost", False), ("0.0.0.0", True)],
)
def test_the_banner_warns_about_an_exposed_address_and_missing_keys(
    host: str, exposed: bool
) -> None:
    settings = load_settings({"host": host, "gemini_api_key": "g"}, env_file=None)
    warnings = startup_warnings(settings, {"openai", "gemini", "ollama"})
    exposure = (
        f"binding {host} exposes this proxy to your network; clients need "
        "PROXY_AUTH_TOKEN as their key."
    )
    assert warnings == [exposure] * exposed + [
        "no key for OpenAI: set OPENAI_API_KEY (or put it in .env)."
    ]


def test_the_banner_warns_about_unknown_config_keys() -> None:
    config_file_path().write_text('big_modle = "gpt-4o"\nopenai_api_key = "sk-x"\n')
    settings = load_settings(env_file=None)
    assert startup_warnings(settings, {"openai"}) == [
        f"{config_file_path()}: big_modle is not a setting and is ignored; did you mean big_model?"
    ]


async def ask(session: aiohttp.ClientSession, port: int, max_tokens: int = 20000) -> str:
    """The text of the proxy's answer to "hi" for claude-opus-5-5."""
    response = await session.post(
        f"http://127.0.0.1:{port}/v1/messages",
        json={
            "model": "claude-opus-5-5",
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    answer = await response.json()
    assert response.status == 200, answer
    return str(answer["content"][0]["text"])


async def test_serve_runs_the_proxy(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    """`claude-proxy serve` as a user runs it: a process, keys from .env, a banner, real answers."""
    port = free_port()
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY=sk-from-dotenv-77\nOPENAI_API_BASE={fake_openai.base_url}\n"
    )
    process = await start_serve(tmp_path, serve_env(), "--port", str(port), "--big-model", "gpt-4o")
    fake_openai.enqueue(Answer(text="served"))
    try:
        async with aiohttp.ClientSession() as session:
            health = await wait_for_health(session, f"http://127.0.0.1:{port}/health")
            assert health["models"]["opus"] == "openai/gpt-4o"
            assert health["limits"]["opus"] == {
                "max_input_tokens": 128_000,
                "max_output_tokens": 16_384,
            }
            assert await ask(session, port, max_tokens=5) == "served"
    finally:
        log = await stop(process)
    assert f"listening on http://127.0.0.1:{port}" in log
    assert (
        f"ANTHROPIC_BASE_URL=http://127.0.0.1:{port} ANTHROPIC_AUTH_TOKEN=claude-proxy "
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude\n" in log
    )
    assert "claude-proxy run claude" in log
    opus = next(line for line in log.splitlines() if line.startswith("opus "))
    assert opus.split()[:4] == ["opus", "openai/gpt-4o", "128,000", "16,384"]
    assert "POST /v1/messages claude-opus-5-5 -> openai/gpt-4o 200" in log
    assert "sk-from-dotenv-77" not in log
    assert fake_openai.headers[0]["Authorization"] == "Bearer sk-from-dotenv-77"


TOO_MANY_TOKENS = (
    "max_tokens is too large: 20000. This model supports at most 4096 completion tokens,"
    " whereas you provided 20000."
)


def restarting_env(fake_openai: FakeOpenAI) -> dict[str, str]:
    """Any growth at all, after a fifth of a second idle: the first idle moment restarts."""
    return serve_env(
        OPENAI_API_KEY="sk-restart-31",
        OPENAI_API_BASE=fake_openai.base_url,
        MEMORY_RESTART_GROWTH="0.001",
        MEMORY_RESTART_IDLE="0.2",
    )


async def test_serve_restarts_in_place_once_idle_above_its_start(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """The same process execs itself again: the port stays, the banner is not printed again,
    and what the old image learned (an output limit here) is used by the new one."""
    port = free_port()
    process = await start_serve(tmp_path, restarting_env(fake_openai), "--port", str(port))
    fake_openai.enqueue(
        Failure(400, TOO_MANY_TOKENS, "invalid_request_error"),
        Answer(text="before"),
        Answer(text="after"),
    )
    seen: list[str] = []
    try:
        async with connection_per_request(port) as session:
            assert await ask(session, port) == "before"
            await read_log_until(process, "restarting in place:", seen)
            # Sent while the new image starts: it waits in the backlog, it is not refused.
            assert await ask(session, port) == "after"
            assert process.returncode is None
    finally:
        log = "".join(seen) + await stop(process)
    assert [request["max_tokens"] for request in fake_openai.requests] == [20000, 4096, 4096]
    assert "restarted in place to give back memory:" in log
    assert log.count("listening on") == 1
    assert "sk-restart-31" not in log


async def test_the_lifeline_still_stops_the_proxy_after_a_restart_in_place(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """`run claude` stops its proxy by closing a pipe; the new image watches the same one."""
    port = free_port()
    lifeline, held = os.pipe()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "claude_proxy", "serve", "--port", str(port)),
        *("--lifeline", str(lifeline)),
        cwd=tmp_path,
        env=restarting_env(fake_openai),
        stderr=asyncio.subprocess.PIPE,
        pass_fds=(lifeline,),
    )
    os.close(lifeline)
    seen: list[str] = []
    try:
        async with connection_per_request(port) as session:
            await ask(session, port)
            await read_log_until(process, "restarted in place", seen)
            await wait_for_health(session, f"http://127.0.0.1:{port}/health")
        os.close(held)
        held = -1
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if held >= 0:
            os.close(held)
        await stop(process)


NO_INTERPRETER = (
    "import runpy, sys; sys.executable = '/nonexistent/python'; "
    "sys.argv = ['claude-proxy', *sys.argv[1:]]; "
    "runpy.run_module('claude_proxy', run_name='__main__', alter_sys=True)"
)


async def test_a_restart_that_cannot_exec_serves_on_in_the_same_process(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """An interpreter gone (an upgrade replaced it) must not take the proxy down."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", NO_INTERPRETER, "serve", "--port", str(port)),
        cwd=tmp_path,
        env=restarting_env(fake_openai),
        stderr=asyncio.subprocess.PIPE,
    )
    fake_openai.enqueue(Answer(text="before"), Answer(text="after"))
    seen: list[str] = []
    try:
        async with connection_per_request(port) as session:
            assert await ask(session, port) == "before"
            line = await read_log_until(process, "cannot restart in place", seen)
            assert "serving on in this process" in line
            assert await ask(session, port) == "after"
    finally:
        log = "".join(seen) + await stop(process)
    assert "restarted in place" not in log
    assert "Traceback" not in log


async def test_serve_does_not_restart_in_place_once_its_configuration_changed(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """The new image would read the changed file: the proxy would change under the user's
    feet. It keeps running as it is, and says so."""
    config = config_file_path()
    config.write_text('big_model = "gpt-4o"\n')
    port = free_port()
    process = await start_serve(tmp_path, restarting_env(fake_openai), "--port", str(port))
    seen: list[str] = []
    try:
        async with connection_per_request(port) as session:
            config.write_text('big_model = "gpt-4.1"\n')
            await ask(session, port)
            line = await read_log_until(process, "not restarting in place", seen)
            assert "the configuration changed since the start" in line
            await ask(session, port)
    finally:
        log = "".join(seen) + await stop(process)
    assert [request["model"] for request in fake_openai.requests] == ["gpt-4o", "gpt-4o"]
    assert "restarting in place:" not in log


async def test_serve_record_writes_each_exchange_and_says_so(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    port = free_port()
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY=sk-from-dotenv-77\nOPENAI_API_BASE={fake_openai.base_url}\n"
    )
    directory = tmp_path / "bug"
    process = await start_serve(
        tmp_path, serve_env(), "--port", str(port), "--record", str(directory)
    )
    fake_openai.enqueue(Answer(text="recorded"))
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_health(session, f"http://127.0.0.1:{port}/health")
            assert await ask(session, port, max_tokens=5) == "recorded"
    finally:
        log = await stop(process)
    assert f"recording every exchange to {directory}: prompts and answers are" in " ".join(
        log.split()
    )
    assert sorted(p.name for p in directory.iterdir()) == ["0001-messages.json", "manifest.json"]
    assert "sk-from-dotenv-77" not in (directory / "0001-messages.json").read_text()


async def test_serve_debug_rich_prints_one_line_per_request(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    port = free_port()
    env = serve_env(
        OPENAI_API_KEY="sk-test-rich-0001",
        OPENAI_API_BASE=fake_openai.base_url,
        FORCE_COLOR="1",
    )
    process = await start_serve(
        tmp_path, env, "--port", str(port), "--big-model", "gpt-4o", "--debug-rich"
    )
    fake_openai.enqueue(
        Answer(
            text="ok",
            tool_calls=[ToolCall("call_1", "Bash", "{}")],
            prompt_tokens=1200,
            completion_tokens=30,
            cached_tokens=1000,
        ),
        Failure(429, "Rate limit reached for gpt-4o", "requests", "rate_limit_exceeded"),
    )
    tools = [{"name": "Bash", "input_schema": {"type": "object"}}]
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "run it"},
    ]
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_health(session, f"http://127.0.0.1:{port}/health")
            url = f"http://127.0.0.1:{port}/v1/messages"
            body = {"model": "claude-opus-5-5", "max_tokens": 50, "messages": messages}
            async with session.post(url, json={**body, "stream": True, "tools": tools}) as ok:
                await ok.read()
            async with session.post(url, json=body) as failed:
                assert failed.status == 429
    finally:
        log = await stop(process)
    lines = [line for line in log.splitlines() if "claude-opus-5-5 → " in line]
    assert len(lines) == 2, log
    plain = [strip_ansi(line) for line in lines]
    prompt, completion = import_litellm().cost_per_token(
        model="openai/gpt-4o",
        prompt_tokens=1200,
        completion_tokens=30,
        cache_read_input_tokens=1000,
    )
    cost = prompt + completion
    assert "claude-opus-5-5 → openai/gpt-4o  stream  3 msgs, 1 tools  200  " in plain[0], plain[0]
    assert plain[0].endswith(f"in 200 (+1,000 cached) out 30  ${cost:.6f}")
    assert "json  3 msgs, 0 tools  429" in plain[1]
    assert plain[1].endswith("rate_limit_error: Rate limit reached for gpt-4o")
    assert "\x1b[31mrate_limit_error" in lines[1]  # red
    assert "POST /v1/messages claude-opus-5-5 -> openai/gpt-4o" not in log  # no quiet line too


def serve_help(columns: int) -> str:
    """`claude-proxy serve --help` as a terminal `columns` wide shows it."""
    import os
    import subprocess
    import sys

    from tests.helpers.repo import REPO

    result = subprocess.run(
        [sys.executable, "-m", "claude_proxy", "serve", "--help"],
        env={**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_serve_help_at_80_columns_shows_every_option_whole() -> None:
    command = get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = [p for p in command.params if isinstance(p, TyperOption) and not p.hidden]
    flags = [flag for p in options for flag in (*p.opts, *p.secondary_opts)]
    assert "--process-newlines" in flags and "--no-preserve-openai-newlines" in flags
    text = serve_help(80)
    cut = [f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text)]
    assert cut == [], f"cut or missing at 80 columns: {cut}\n{text}"
    assert "…" not in text
    assert "<bool>" not in text and "BOOLEAN" not in text
    choices = typing.get_args(Provider)
    assert choices == ("openai", "google", "together", "anthropic")
    provider_line = next(line for line in text.splitlines() if "--provider" in line)
    assert all(choice in provider_line for choice in choices), text
