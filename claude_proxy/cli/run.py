"""`claude-proxy run`: Claude Code (or any Anthropic client) pointed at a healthy proxy.

A claude-proxy already answering on the configured port with the same provider and models is
reused; otherwise one starts in the background on a free loopback port, logging to the user
state dir, and is stopped when the child exits (also on Ctrl-C or SIGTERM). The child keeps
the terminal and stdin; its environment gains only what a client of the proxy needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_proxy.cli.claude_code import (
    CLAUDE_INSTALL_HINT,
    permission_mode_args,
    resume_hint,
    session_after,
    session_args,
    starts_a_session,
)
from claude_proxy.cli.local_proxy import (
    base_url,
    free_port,
    health_mismatch,
    loopback,
    probe_health,
)
from claude_proxy.cli.options import (
    BigModel,
    Port,
    Provider,
    SmallModel,
    option,
    serve_args,
    settings_from,
    shared_overrides,
)
from claude_proxy.errors import CommandError

if TYPE_CHECKING:
    from claude_proxy.settings import Settings

CLIENT_KEY = "claude-proxy"
"""What clients send as their key: the proxy holds the real keys and ignores this one."""
HEALTH_TIMEOUT = 60.0
"""LiteLLM's import and warm-up take ~5 s; a slow disk or a first run can take far longer."""
STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1
LOG_LIMIT = 5 * 1024 * 1024


@dataclass(frozen=True)
class Proxy:
    url: str
    health: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    """Set when this launcher started the proxy (and so stops it)."""
    log_path: Path | None = None


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "claude-proxy"


def start_proxy(overrides: dict[str, Any], timeout: float = HEALTH_TIMEOUT) -> Proxy:
    """`claude-proxy serve` in the background on a free loopback port, once it answers."""
    port = free_port()
    log_path = state_dir() / "proxy.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.exists() and log_path.stat().st_size > LOG_LIMIT:
        log_path.unlink()
    flags = serve_args({**overrides, "host": "127.0.0.1", "port": port})
    # The proxy reads this pipe and stops when it closes: when this process ends, however it
    # ends (SIGKILL included), the kernel closes the write end the launcher alone holds.
    lifeline, held = os.pipe()
    command = [sys.executable, "-m", "claude_proxy", "serve", *flags, "--lifeline", str(lifeline)]
    with open(log_path, "ab") as log:
        log.write(f"--- {time.strftime('%F %T')} claude-proxy run: port {port}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "160"},
            start_new_session=True,  # the terminal's Ctrl-C is for the child, not the proxy
            pass_fds=(lifeline,),
        )
    os.close(lifeline)
    _LIFELINES[process.pid] = held
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(
                    f"claude-proxy exited with status {process.returncode} before answering",
                    f"Its log says why: {log_path}",
                )
            health = probe_health(port, timeout=0.5)
            if health is not None:
                return Proxy(base_url("127.0.0.1", port), health, process, log_path)
            time.sleep(0.1)
        raise CommandError(
            f"claude-proxy did not answer on 127.0.0.1:{port} within {timeout:.0f} s",
            f"Its log says why: {log_path}",
        )
    except BaseException:
        stop_proxy(process)
        raise


_LIFELINES: dict[int, int] = {}
"""Proxy pid -> the write end of its lifeline, held open while the proxy should run."""


def stop_proxy(process: subprocess.Popen[bytes]) -> None:
    held = _LIFELINES.pop(process.pid, None)
    if held is not None:
        os.close(held)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def client_environment(
    env: Mapping[str, str],
    url: str,
    health: Mapping[str, Any],
    *,
    claude_code: bool = True,
    token: str | None = None,
) -> dict[str, str]:
    """The child's environment: the proxy's URL, a key so it does not ask to log in, no
    non-essential traffic, and the big model's limits so Claude Code compacts in time.

    One key variable is set and the other removed: with both, clients disagree on which wins.
    Claude Code gets ANTHROPIC_AUTH_TOKEN, because a custom ANTHROPIC_API_KEY makes its
    terminal UI ask whether to use the key, with "No (recommended)" preselected; other
    clients get ANTHROPIC_API_KEY, the one every Anthropic client reads. The key is the
    proxy's PROXY_AUTH_TOKEN when one is set, else any word (the proxy holds the real keys).
    """
    child = dict(env)
    child["ANTHROPIC_BASE_URL"] = url
    key = token or CLIENT_KEY
    if claude_code:
        child["ANTHROPIC_AUTH_TOKEN"] = key
        child.pop("ANTHROPIC_API_KEY", None)
    else:
        child["ANTHROPIC_API_KEY"] = key
        child.pop("ANTHROPIC_AUTH_TOKEN", None)
    child["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    limits = health.get("limits") or {}
    big = [limits.get(alias) or {} for alias in ("opus", "sonnet")]
    for variable, field in (
        ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "max_output_tokens"),
        ("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "max_input_tokens"),
    ):
        known = [limit[field] for limit in big if isinstance(limit.get(field), int)]
        if known and variable not in env:  # a value the user set is theirs to keep
            child[variable] = str(min(known))
    return child


def find_proxy(settings: Settings, overrides: dict[str, Any]) -> tuple[Proxy, str]:
    """A proxy serving `settings`, and a line saying which."""
    host = loopback(settings.host)
    health = probe_health(settings.port, host)
    if health is not None:
        mismatch = health_mismatch(health, settings)
        if mismatch is None:
            url = base_url(host, settings.port)
            return Proxy(url, health), f"using the claude-proxy at {url}"
        why = f"the claude-proxy on port {settings.port} serves other models ({mismatch}); "
    else:
        why = ""
    refuse_missing_keys(settings, overrides)
    proxy = start_proxy(overrides)
    return (
        proxy,
        f"{why}started claude-proxy at {proxy.url} for this session (log: {proxy.log_path})",
    )


def refuse_missing_keys(settings: Settings, overrides: dict[str, Any]) -> None:
    """Stop before the client takes the terminal when a provider the aliases use has no key
    (the check `doctor` makes): Claude Code would open, then answer every prompt with
    "Please run /login", which is the wrong fix."""
    from claude_proxy.cli.doctor.checks import key_failures

    failures = key_failures(settings, overrides)
    if failures:
        raise CommandError(
            "; ".join(check.message for check in failures),
            " ".join(check.fix or "" for check in failures).strip() + " Then run this again.",
            exit_code=2,
        )


def resolve_command(argv: Sequence[str]) -> str:
    if not argv:
        raise CommandError(
            "nothing to run",
            "Give a command: `claude-proxy run claude`, or `claude-proxy run -- COMMAND ...`.",
            exit_code=2,
        )
    executable = shutil.which(argv[0])
    if executable is not None:
        return executable
    if Path(argv[0]).name == "claude":
        raise CommandError(
            "claude (Claude Code) is not on PATH", CLAUDE_INSTALL_HINT, exit_code=127
        )
    raise CommandError(
        f"{argv[0]}: command not found", "Check its name, or give its full path.", exit_code=127
    )


def run_child(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the child on this terminal; its exit status (128+N when signal N ended it)."""
    child = subprocess.Popen(list(argv), env=dict(env), preexec_fn=ended_with_launcher())
    with _signals_for(child):
        code = child.wait()
    return 128 - code if code < 0 else code


def ended_with_launcher() -> Callable[[], None] | None:
    """Linux: a child that gets SIGTERM when the launcher dies, SIGKILL included
    (PR_SET_PDEATHSIG), so it does not go on drawing on a terminal the shell has taken back.
    Elsewhere None: the proxy still stops (its lifeline), the child is left running."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    launcher = os.getpid()

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != launcher:  # the launcher died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


@contextlib.contextmanager
def _signals_for(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """While the child runs: Ctrl-C is the child's alone (the terminal sends it to both of us),
    SIGTERM and SIGHUP are passed on to it, so the launcher lives to stop the proxy."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    handlers: dict[int, Any] = {signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: forward}
    if hasattr(signal, "SIGHUP"):
        handlers[signal.SIGHUP] = forward
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def for_claude_code(
    argv: Sequence[str], env: dict[str, str], settings: Settings, *, statusline: bool
) -> tuple[list[str], dict[str, str]]:
    """Claude Code's command line and environment for this session: its model picker reads
    the proxy's /v1/models (gateway model discovery), and, unless turned off or the user gave
    `--settings` of their own, its status line is `claude-proxy statusline` (the upstream
    model, tokens, cache and cost of the session, from the usage ledger)."""
    env = {**env, "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"}
    own = any(arg == "--settings" or arg.startswith("--settings=") for arg in argv[1:])
    if not statusline or own or not settings.usage_ledger:
        return list(argv), env
    command = [sys.executable, "-m", "claude_proxy.cli.statusline"]
    command += ["--data-dir", str(settings.data_path())]
    status = {"statusLine": {"type": "command", "command": shlex.join(command), "padding": 0}}
    return [argv[0], "--settings", json.dumps(status), *argv[1:]], env


def with_flags(command: Sequence[str], extra: Sequence[str]) -> list[str]:
    """`extra` flags after the program name; two `--settings` JSON objects become one."""
    rest, added = list(command[1:]), list(extra)
    if "--settings" in added and rest[:1] == ["--settings"]:
        where = added.index("--settings")
        merged = {**json.loads(rest[1]), **json.loads(added[where + 1])}
        added[where + 1] = json.dumps(merged)
        rest = rest[2:]
    return [command[0], *added, *rest]


def launch(
    argv: Sequence[str], settings: Settings, overrides: dict[str, Any], *, statusline: bool = True
) -> int:
    from claude_proxy.cli.console import print_note

    executable = resolve_command(argv)
    claude_code = Path(argv[0]).name == "claude"
    args = list(argv[1:])
    extra, notes, session = claude_session(args) if claude_code else ([], [], None)
    with _exit_on_terminate():
        proxy, how = find_proxy(settings, overrides)
        try:
            print_note(f"claude-proxy: {how}")
            for note in notes:
                print_note(note)
            secret = settings.proxy_auth_token
            env = client_environment(
                os.environ,
                proxy.url,
                proxy.health,
                claude_code=claude_code,
                token=secret.get_secret_value() if secret is not None else None,
            )
            command = [executable, *args]
            if claude_code:
                command, env = for_claude_code(command, env, settings, statusline=statusline)
            started = time.time()
            code = run_child(with_flags(command, extra), env)
            if claude_code and starts_a_session(args):
                ran = session_after(session, started, env)
                if ran is not None:
                    print_note(resume_hint(ran))
            return code
        finally:
            if proxy.process is not None:
                stop_proxy(proxy.process)


def claude_session(args: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """The flags added to `claude ARGS` (the permission mode when the user chose none, a
    session id), the lines that say so, and the session's id when known before it starts."""
    mode, note = permission_mode_args(args, os.environ, Path.cwd())
    ids, session = session_args(args)
    return [*mode, *ids], [note] if note else [], session


@contextlib.contextmanager
def _exit_on_terminate() -> Iterator[None]:
    """SIGTERM and SIGHUP end the launcher through its `finally`s, which stop the proxy."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signums = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {signum: signal.signal(signum, leave) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="`claude` and its arguments, or `-- COMMAND ...` for any Anthropic client.",
            metavar="COMMAND",
            show_default=False,
        ),
    ] = None,
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    port: Port = None,
    statusline: Annotated[
        bool,
        option(
            "--statusline/--no-statusline",
            "Claude Code's status line shows the upstream model, tokens and cost (default on).",
        ),
    ] = True,
) -> None:
    """Run Claude Code (or any Anthropic client) through the proxy.

    Reuses the proxy answering on the port, or starts one for the session.
    """
    overrides = shared_overrides(provider, big_model, small_model, port)
    raise typer.Exit(
        launch(command or [], settings_from(overrides), overrides, statusline=statusline)
    )
