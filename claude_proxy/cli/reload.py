"""`serve --reload`: run the server in a child process and restart it when the package's
Python source changes (watchfiles, which uses the OS's file events, not polling)."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from pathlib import Path

import claude_proxy


def package_dir() -> Path:
    return Path(claude_proxy.__file__).resolve().parent


def serve_with_reload(serve_flags: list[str]) -> None:
    """Run `claude-proxy serve FLAGS` until interrupted, restarting it on each change."""
    import watchfiles

    from claude_proxy.cli.console import print_note, print_reload

    root = package_dir()
    command = shlex.join([sys.executable, "-m", "claude_proxy", "serve", *serve_flags])

    def report(changes: set[tuple[watchfiles.Change, str]]) -> None:
        print_reload(os.path.relpath(path, root.parent) for _, path in changes)

    print_note(f"watching {root} for changes")
    watchfiles.run_process(
        root,
        target=command,
        target_type="command",
        callback=report,
        watch_filter=watchfiles.PythonFilter(),
    )


def in_reloaded_child() -> bool:
    return "WATCHFILES_CHANGES" in os.environ  # set by watchfiles for the process it runs


def restore_interrupt() -> None:
    """The reloader stops its child with SIGINT; a child started from a shell script's
    background job inherits SIGINT ignored, and would then be killed only after 5 s."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
