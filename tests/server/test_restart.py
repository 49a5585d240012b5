"""The restart in place's pieces, in one process: the handover survives its encoding, the
listening socket stays open with its backlog while the old site closes, and a new site serves
the connection that waited; what was learned comes back. The exec itself is tested with a
real `claude-proxy serve` (tests/cli/test_serve.py)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from claude_proxy.server.app import create_app, new_runner
from claude_proxy.server.keys import COOLDOWNS, OUTPUT_LIMITS
from claude_proxy.server.listen_limits import ProxySite
from claude_proxy.server.restart import (
    HANDOVER_ENV,
    Handover,
    handover_of,
    keep_listening,
    take_handover,
)
from claude_proxy.settings import load_settings
from tests.fakes.scripted_upstream import ScriptedUpstream

HANDOVER = Handover(
    listen_fds=[7, 9],
    rss=90 * 2**20,
    start_rss=62 * 2**20,
    cooldowns={"openai/gpt-4.1": 12345.5},
    output_limits={"openai/local": 4096},
    litellm=True,
)


def test_a_handover_survives_its_encoding() -> None:
    assert Handover.decode(HANDOVER.encode()) == HANDOVER


def test_a_handover_of_another_version_still_brings_the_sockets() -> None:
    """An upgrade may run between the two images: the port must survive it."""
    other = '{"listen_fds": [7], "renamed": 1, "cooldowns": {"openai/gpt-4.1": 5}}'
    handover = Handover.decode(other)
    assert handover.listen_fds == [7]
    assert handover.cooldowns == {"openai/gpt-4.1": 5.0}
    assert handover.output_limits == {} and handover.litellm is False


def test_take_handover_reads_and_removes_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HANDOVER_ENV, HANDOVER.encode())
    assert take_handover() == HANDOVER
    assert take_handover() is None  # gone: nothing started from here inherits it


def test_a_handover_this_version_cannot_read_means_a_fresh_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(HANDOVER_ENV, '{"listen_fds": "x"}')
    assert take_handover() is None
    assert "starting afresh" in caplog.text


def test_the_note_says_what_was_given_back() -> None:
    assert HANDOVER.note(60 * 2**20) == (
        "restarted in place to give back memory: 90 MB resident before (it began at 62 MB), "
        "60 MB now"
    )


def app_of() -> web.Application:
    return create_app(load_settings(env_file=None), upstream=ScriptedUpstream())


async def test_the_socket_kept_listening_is_served_by_the_next_site() -> None:
    first = new_runner(app_of())
    await first.setup()
    site = ProxySite(first, "127.0.0.1", 0, max_connections=100)
    await site.start()
    port = site.port
    kept = keep_listening(site)
    await first.cleanup()  # the old image's own copy of the port closes

    # Between the images: a client connects and sends its request; the backlog holds it.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await writer.drain()

    handover = Handover(kept, 0, 0, {}, {}, litellm=False)
    second = new_runner(app_of())
    await second.setup()
    try:
        taking_over = ProxySite(
            second, "127.0.0.1", port, max_connections=100, sockets=handover.sockets()
        )
        await taking_over.start()
        assert taking_over.port == port
        answer = await asyncio.wait_for(reader.read(), timeout=30)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 200
    finally:
        writer.close()
        await second.cleanup()


def test_what_was_learned_goes_over_and_comes_back() -> None:
    old = app_of()
    old[OUTPUT_LIMITS].learn("openai/local", 4096)
    old[COOLDOWNS].restore({"openai/gpt-4.1": 99.0})
    handover = Handover.decode(handover_of(old, [5], 90, 60).encode())
    assert handover.listen_fds == [5]
    new = app_of()
    handover.restore(new)
    assert new[OUTPUT_LIMITS].limit("openai/local") == 4096
    assert new[COOLDOWNS].items() == {"openai/gpt-4.1": 99.0}
