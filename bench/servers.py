"""The servers the benchmarks compare, and how each is started against the fake upstream."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.processes import BIN, REPO, Child, clean_env, pinned, start

BEFORE = "18ae38e"
"""The commit issue 7 measured: the last one before the native engine work."""

SERVERS = {
    "floor": "floor (bench/floor_translator.py)",
    "native": "claude-proxy, UPSTREAM_ENGINE=native",
    "native-warning": "claude-proxy, native, LOG_LEVEL=warning",
    "native-sysmalloc": "claude-proxy, native, PYTHONMALLOC=malloc",
    "native-noledger": "claude-proxy, native, USAGE_LEDGER=false",
    "litellm": "claude-proxy, UPSTREAM_ENGINE=litellm",
    "workers2": "claude-proxy --workers 2 (native)",
    "gemini": "claude-proxy, Gemini through LiteLLM",
    "before": f"claude-proxy at {BEFORE} (before), openai",
    "before-gemini": f"claude-proxy at {BEFORE} (before), Gemini",
}
LOADS_LITELLM = {"litellm", "gemini", "before", "before-gemini"}
GEMINI = {"gemini", "before-gemini"}
PROCESSES = {"workers2": 3}
"""Processes a server runs once it is fully up (gunicorn: the arbiter and its workers)."""
DEFAULT = [name for name in SERVERS if not name.startswith("before") and name != "native-noledger"]
"""What a run measures unless told otherwise; the `before` ones and the ledger's cost
(`--only native,native-noledger`) are runs of their own."""


def checkout(commit: str, home: Path) -> Path:
    """The package at `commit`, extracted once under `home` (it runs on this venv's packages)."""
    tree = home / f"at-{commit}"
    if not tree.exists():
        tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "claude_proxy"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def launch(
    name: str, port: int, fake: str, home: Path, cores: tuple[str, str], log_level: str = "info"
) -> Child:
    """Start server `name` on 127.0.0.1:`port`, its upstream the fake at `fake`.

    `cores` are (the client's, the server's): a server runs on its own core, `--workers 2` on
    both.
    """
    core = cores[1]
    if name == "floor":
        argv = [sys.executable, "-m", "bench.floor_translator", str(port), f"{fake}/v1"]
        return start(name, pinned(core, argv), clean_env(home), home)
    settings = {
        "LOG_LEVEL": "warning" if name == "native-warning" else log_level,
        "PREFERRED_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_API_BASE": f"{fake}/v1",
        "UPSTREAM_ENGINE": "litellm" if name == "litellm" else "native",
        # The usage ledger is on by default: every server writes one into `home`.
        "USAGE_LEDGER": "false" if name == "native-noledger" else "true",
    }
    if name == "native-sysmalloc":  # the C library's allocator instead of Python's
        settings["PYTHONMALLOC"] = "malloc"
    if name in GEMINI:
        settings |= {
            "PREFERRED_PROVIDER": "google",
            "GEMINI_API_KEY": "gemini-bench",
            "GEMINI_API_BASE": f"{fake}/v1beta",
        }
    if name.startswith("before"):  # `python -m` in the extracted tree runs that code
        tree = checkout(BEFORE, home)
        argv = [sys.executable, "-m", "claude_proxy", "serve", "--port", str(port)]
        return start(name, pinned(core, argv), clean_env(home, **settings), home, cwd=tree)
    argv = [str(BIN / "claude-proxy"), "serve", "--port", str(port)]
    if name == "workers2":
        argv += ["--workers", "2"]
        core = ",".join(cores)
    return start(name, pinned(core, argv), clean_env(home, **settings), home)
