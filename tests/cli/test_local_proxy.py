"""Finding a claude-proxy on this machine: the address to reach it, its `/health`, whether it
serves the settings at hand, and whether a port can be bound."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiohttp import web

from claude_proxy.cli.local_proxy import (
    base_url,
    check_bindable,
    free_port,
    health_mismatch,
    loopback,
    probe_health,
)
from claude_proxy.settings import load_settings
from tests.fakes.in_thread import serve_in_thread


@pytest.mark.parametrize(
    ("host", "reach"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("::", "::1"),
        ("", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("192.168.1.5", "192.168.1.5"),
        ("localhost", "localhost"),
    ],
)
def test_loopback_is_where_a_proxy_bound_to_host_is_reached(host: str, reach: str) -> None:
    assert loopback(host) == reach


def test_base_url_brackets_ipv6() -> None:
    assert base_url("127.0.0.1", 8082) == "http://127.0.0.1:8082"
    assert base_url("::1", 9) == "http://[::1]:9"
    assert base_url("localhost", 1) == "http://localhost:1"


def health_app(answer: Any, status: int = 200) -> web.Application:
    async def health(request: web.Request) -> web.StreamResponse:
        if isinstance(answer, bytes):
            return web.Response(body=answer, status=status)
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_get("/health", health)
    return app


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_probe_health_reads_a_claude_proxys_health() -> None:
    health = {"service": "claude-proxy", "version": "9.9", "provider": "openai"}
    with serve_in_thread(health_app(health)) as url:
        assert probe_health(port_of(url)) == health


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"service": "something-else"}, 200),
        (["not", "an", "object"], 200),
        (b"<html>not json</html>", 200),
        ({"service": "claude-proxy"}, 500),
    ],
    ids=["another-service", "a-list", "not-json", "an-error-status"],
)
def test_probe_health_is_none_for_anything_but_a_claude_proxy(answer: Any, status: int) -> None:
    with serve_in_thread(health_app(answer, status)) as url:
        assert probe_health(port_of(url)) is None


def test_probe_health_is_none_when_nothing_listens() -> None:
    assert probe_health(free_port()) is None


def test_check_bindable_raises_for_a_port_in_use_only() -> None:
    check_bindable("127.0.0.1", free_port())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            check_bindable("127.0.0.1", taken.getsockname()[1])


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    check_bindable("127.0.0.1", port)


def test_health_mismatch() -> None:
    health = {
        "provider": "openai",
        "models": {"opus": "openai/gpt-4.1", "sonnet": "openai/gpt-4.1", "haiku": "openai/x"},
    }
    settings = load_settings({"small_model": "x"}, env_file=None)
    assert health_mismatch(health, settings) is None
    google = load_settings({"preferred_provider": "google"}, env_file=None)
    assert health_mismatch(health, google) == "provider openai, not google"
    other = load_settings({"big_model": "gpt-4o", "small_model": "x"}, env_file=None)
    assert health_mismatch(health, other) == "opus is served by openai/gpt-4.1, not gpt-4o"


def test_health_mismatch_accepts_a_prefixed_model_and_ignores_aliases_without_a_target() -> None:
    health = {
        "provider": "anthropic",
        "models": {"opus": "anthropic/claude-opus-5-5", "sonnet": "x", "haiku": "y"},
    }
    passthrough = load_settings({"preferred_provider": "anthropic"}, env_file=None)
    assert health_mismatch(health, passthrough) is None
    gpt = {"provider": "openai", "models": {"opus": "gpt-4.1", "sonnet": "openai/gpt-4.1"}}
    settings = load_settings({"big_model": "gpt-4.1", "small_model": "m"}, env_file=None)
    assert health_mismatch(gpt, settings) == "haiku is served by nothing, not m"
