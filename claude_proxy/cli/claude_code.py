"""What `run claude` knows about Claude Code's command line, read from the pinned CLI (2.1.330).

Two decisions are made here, both before Claude Code starts:

- **The permission mode.** When nothing configures one, an interactive Claude Code starts in
  auto mode, whose safety check runs on Anthropic's servers: each request carries the
  `dangerous-tool-use-2026-09-03` beta and `safeguards: [{"type": "dangerous_tool_use",
  "classifier_context": ...}]`, and the answer is expected to carry `safeguard_results` (a
  flagged / not_flagged verdict per tool use). Through a gateway the answer has none, so at
  the first action that needs the check (`curl ... | sh`; harmless ones run) Claude Code stops
  the turn with "Auto mode can't check actions in this session" and asks what to do. The verdicts are Anthropic's classifier's; no
  configured model can give them faithfully, and answering `{"type": "unsupported"}` would
  only move Claude Code to its local fallback classifier (another model judging, behind a
  billing-notice dialog, and announced as going away). So the launcher starts Claude Code in
  manual mode (`--permission-mode manual`, the name 2.1.330's --help gives the default
  mode; settings call it `default`), unless the user chose a mode: a flag, or `permissions.defaultMode` /
  `disableAutoMode` in any settings file Claude Code reads. A mode in the user's settings
  alone would make Claude Code offer auto mode as the default at start; repeating it as flag
  settings keeps the mode and skips that dialog.
- **The session id**, so that on exit the launcher can say how to resume through the proxy:
  Claude Code's own hint (`claude --resume ID`) bypasses it. A new interactive session gets
  `--session-id` from here; `--resume ID` names its own; otherwise the newest transcript
  written during the run is the session.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CLAUDE_INSTALL_HINT = (
    "Install Claude Code with `npm install -g @anthropic-ai/claude-code` "
    "(https://docs.anthropic.com/en/docs/claude-code/setup), then run this again."
)
SUBCOMMANDS = frozenset(
    [
        "agents",
        "attach",
        "auth",
        "auto-mode",
        "doctor",
        "gateway",
        "import",
        "install",
        "logs",
        "mcp",
        "plugin",
        "plugins",
        "purge",
        "respawn",
        "rm",
        "setup-token",
        "stop",
        "kill",
        "ultrareview",
        "update",
        "upgrade",
    ]
)
"""`claude --help`'s commands: they start no session, so they get no session flags."""
NOT_A_SESSION = frozenset({"-p", "--print", "-h", "--help", "-v", "--version"})
MODE_FLAGS = ("--permission-mode", "--dangerously-skip-permissions", "--inherit-permission-mode")
SESSION_FLAGS = (
    "-r",
    "--resume",
    "-c",
    "--continue",
    "--session-id",
    "--fork-session",
    "--from-pr",
    "--teleport",
)
DEFAULT_MODE_NOTE = (
    "claude-proxy: Claude Code starts in manual permission mode (it asks before edits and "
    "commands): auto mode's safety check runs on Anthropic's servers and cannot pass through "
    "the proxy. Choose a mode with --permission-mode or permissions.defaultMode."
)


def starts_a_session(args: Sequence[str]) -> bool:
    """Whether `claude ARGS` opens an interactive session (not -p, --help or a subcommand)."""
    if args and args[0] in SUBCOMMANDS:
        return False
    return not any(_flag(arg) in NOT_A_SESSION for arg in args)


def permission_mode_args(
    args: Sequence[str], env: Mapping[str, str], cwd: Path
) -> tuple[list[str], str | None]:
    """The flags that keep a session out of auto mode when the user chose no mode, and the
    line that says so; nothing when the user chose (but see `_no_auto_nudge`)."""
    if not starts_a_session(args) or any(_flag(arg) in MODE_FLAGS for arg in args):
        return [], None
    found = settings_files(args, env, cwd)
    if any(_chooses_mode(settings) for each in found.values() for settings in each):
        return _no_auto_nudge(found), None
    return ["--permission-mode", "manual"], DEFAULT_MODE_NOTE


def _no_auto_nudge(found: Mapping[str, list[Any]]) -> list[str]:
    """A mode chosen in the user's settings alone (acceptEdits, say) makes Claude Code offer
    "Make auto mode your default permission mode?" at start, a dialog whose yes would break
    every checked action through the proxy. It offers it only when no other settings source
    names a mode, so the user's own choice is repeated as flag settings: the same mode, and
    no dialog."""
    user = [_default_mode(settings) for settings in found["user"]]
    mode = user[0] if user else None
    others = any(
        _default_mode(settings) is not None
        for source, each in found.items()
        if source != "user"
        for settings in each
    )
    if mode is None or mode == "auto" or others:
        return []
    return ["--settings", json.dumps({"permissions": {"defaultMode": mode}})]


def settings_files(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> dict[str, list[Any]]:
    """Every settings source Claude Code reads, parsed (unreadable ones left out), by source:
    managed, user, project, local, and flag (`--settings`: a path or inline JSON)."""
    managed = (
        Path("/Library/Application Support/ClaudeCode/managed-settings.json")
        if sys.platform == "darwin"
        else Path("/etc/claude-code/managed-settings.json")
    )
    texts: dict[str, list[str]] = {
        source: _read([path])
        for source, path in (
            ("managed", managed),
            ("user", claude_config_dir(env) / "settings.json"),
            ("project", cwd / ".claude" / "settings.json"),
            ("local", cwd / ".claude" / "settings.local.json"),
        )
    }
    given = _values_of("--settings", args)
    inline = [text for text in given if text.lstrip().startswith("{")]
    texts["flag"] = inline + _read([cwd / text for text in given if text not in inline])
    parsed: dict[str, list[Any]] = {}
    for source, each in texts.items():
        parsed[source] = []
        for text in each:
            try:
                parsed[source].append(json.loads(text))
            except ValueError:
                continue
    return parsed


def _read(paths: Sequence[Path]) -> list[str]:
    texts = []
    for path in paths:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def _default_mode(settings: Any) -> str | None:
    permissions = settings.get("permissions") if isinstance(settings, dict) else None
    mode = permissions.get("defaultMode") if isinstance(permissions, dict) else None
    return mode if isinstance(mode, str) else None


def _chooses_mode(settings: Any) -> bool:
    if not isinstance(settings, dict):
        return False
    permissions = settings.get("permissions")
    permissions = permissions if isinstance(permissions, dict) else {}
    return permissions.get("defaultMode") is not None or "disable" in (
        permissions.get("disableAutoMode"),
        settings.get("disableAutoMode"),
    )


def session_args(args: Sequence[str]) -> tuple[list[str], str | None]:
    """`--session-id` for a new interactive session, and the id the session will have when
    it is known before it starts (None: look for it after, `session_after`)."""
    if not starts_a_session(args):
        return [], None
    if not any(_flag(arg) in SESSION_FLAGS for arg in args):
        session = str(uuid.uuid4())
        return ["--session-id", session], session
    if any(_flag(arg) == "--fork-session" for arg in args):
        return [], None
    for given in [*_values_of("--resume", args), *_values_of("-r", args)]:
        if _is_uuid(given):
            return [], given
    return [], None


def claude_config_dir(env: Mapping[str, str]) -> Path:
    explicit = env.get("CLAUDE_CONFIG_DIR")
    return Path(explicit).expanduser() if explicit else Path.home() / ".claude"


def session_after(session: str | None, started: float, env: Mapping[str, str]) -> str | None:
    """The id of the session that ran, when Claude Code saved its transcript: `session` if it
    has one, else the newest transcript written since `started` (a `--continue`, a pick)."""
    projects = claude_config_dir(env) / "projects"
    if session is not None:
        return session if any(projects.glob(f"*/{session}.jsonl")) else None
    newest: tuple[float, str] | None = None
    for transcript in projects.glob("*/*.jsonl"):
        try:
            written = transcript.stat().st_mtime
        except OSError:
            continue
        if written >= started and _is_uuid(transcript.stem):
            newest = max(newest or (written, transcript.stem), (written, transcript.stem))
    return newest[1] if newest else None


def resume_hint(session: str) -> str:
    return (
        "claude-proxy: to resume this session through the proxy, run "
        f"`claude-proxy run claude --resume {session}` (`claude --resume` bypasses the proxy)"
    )


def _flag(arg: str) -> str:
    return arg.split("=", 1)[0] if arg.startswith("--") else arg


def _values_of(flag: str, args: Sequence[str]) -> list[str]:
    values = []
    for index, arg in enumerate(args):
        if arg.startswith(flag + "=") and flag.startswith("--"):
            values.append(arg.split("=", 1)[1])
        elif arg == flag and index + 1 < len(args) and not args[index + 1].startswith("-"):
            values.append(args[index + 1])
    return values


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
