"""The servers the benchmarks compare, and how each is started against the fake upstream."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.processes import BIN, Child, clean_env, pinned, start

SERVERS = {
    "floor": "floor (bench/floor_translator.py)",
    "native": "claude-proxy, UPSTREAM_ENGINE=native",
    "litellm": "claude-proxy, UPSTREAM_ENGINE=litellm",
    "workers2": "claude-proxy --workers 2 (native)",
    "gemini": "claude-proxy, Gemini through LiteLLM",
}
LOADS_LITELLM = {"litellm", "gemini"}


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
        "LOG_LEVEL": log_level,
        "PREFERRED_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_API_BASE": f"{fake}/v1",
        "UPSTREAM_ENGINE": "litellm" if name == "litellm" else "native",
    }
    argv = [str(BIN / "claude-proxy"), "serve", "--port", str(port)]
    if name == "workers2":
        argv += ["--workers", "2"]
        core = ",".join(cores)
    if name == "gemini":
        settings |= {
            "PREFERRED_PROVIDER": "google",
            "GEMINI_API_KEY": "gemini-bench",
            "GEMINI_API_BASE": f"{fake}/v1beta",
        }
    return start(name, pinned(core, argv), clean_env(home, **settings), home)
