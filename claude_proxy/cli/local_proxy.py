"""Finding a claude-proxy on this machine: the address to reach it, its `/health`, whether it
serves the settings at hand, and whether a port is free. Used by `run`, `doctor` and `serve`."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from claude_proxy.model_map import ALIASES, alias_target

if TYPE_CHECKING:
    from claude_proxy.settings import Settings


def loopback(host: str) -> str:
    """The address to reach a proxy bound to `host` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def probe_health(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> dict[str, Any] | None:
    """`/health` of the claude-proxy at host:port, or None when nothing (or something else) answers."""
    try:
        with urllib.request.urlopen(f"{base_url(host, port)}/health", timeout=timeout) as answer:
            health = json.loads(answer.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return health if isinstance(health, dict) and health.get("service") == "claude-proxy" else None


def health_mismatch(health: Mapping[str, Any], settings: Settings) -> str | None:
    """How a running proxy's provider and models differ from `settings`; None when they agree."""
    if health.get("provider") != settings.preferred_provider:
        return f"provider {health.get('provider')}, not {settings.preferred_provider}"
    served = health.get("models") or {}
    for alias in ALIASES:
        wanted, _rule = alias_target(alias, settings)
        model = str(served.get(alias, ""))
        if wanted and wanted not in (model, model.partition("/")[2]):
            return f"{alias} is served by {model or 'nothing'}, not {wanted}"
    return None


def check_bindable(host: str, port: int) -> None:
    """Raise OSError when host:port cannot be bound (as aiohttp binds: address reuse on)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
