"""The SSE writer: pings while the upstream is silent (counted on the wire, and under the
official SDK), and a client that leaves closes the upstream stream, with or without a
provider's chunk filter in between.

The closing tests keep a strong reference to every upstream stream they hand out (the
scripted upstream keeps its streams; `KeptStreams` the LiteLLM ones), so an abandoned stream
is never finalised by the garbage collector: only the writer's own close can end it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import anthropic
import httpx2
import pytest
from aiohttp import web

from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.server.stream_writer import filtered
from claude_proxy.settings import Settings, load_settings
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.fakes.scripted_upstream import Gate, Pause, ScriptedUpstream, answer, chunk, text_chunk
from tests.helpers.sse import event_names
from tests.helpers.wire import CountingTransport

REQUEST = {
    "model": "claude-opus-5-5",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hello"}],
}
PING = b"event: ping\n"

Handled = asyncio.Queue[str]


def signal_when_handled(app: web.Application) -> Handled:
    """A queue that gets each request's path once its handler (and the writer's `finally`)
    has returned."""
    done: Handled = asyncio.Queue()

    @web.middleware
    async def outermost(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        finally:
            done.put_nowait(request.path)

    app.middlewares.insert(0, outermost)
    return done


Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture(params=["write-fails", "handler-cancelled"])
async def serve(request: pytest.FixtureRequest) -> AsyncIterator[Serve]:
    """Serve an app on loopback so that the handler learns of a client that left in either of
    the two ways it can: a write that fails (a runner without handler cancellation), or
    aiohttp cancelling the handler (the runner `serve` uses, `server.app.new_runner`)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(app: web.Application) -> str:
            if request.param == "handler-cancelled":
                return await stack.enter_async_context(serving_on_loopback(app))
            runner = web.AppRunner(app, handler_cancellation=False, access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            return f"http://{host}:{port}"

        yield start


def settings_of(**overrides: Any) -> Settings:
    return load_settings({"ping_interval": 5.0, **overrides}, env_file=None)


# --- a client that leaves --------------------------------------------------------------------


@pytest.mark.parametrize(
    "escape_newlines", [False, True], ids=["no-filter", "openai-newline-filter"]
)
async def test_a_client_that_leaves_mid_stream_closes_the_upstream_stream(
    serve: Serve, escape_newlines: bool
) -> None:
    upstream = ScriptedUpstream()
    client_left = Gate()
    # After the client leaves, chunks keep coming (each after a short pause, so the server
    # notices the closed connection); 1000 of them bound the test if nothing stops them.
    more = [step for _ in range(1000) for step in (Pause(0.01), text_chunk("more\n"))]
    upstream.enqueue_stream(
        chunk({"role": "assistant", "content": ""}), text_chunk("first\n"), client_left, *more
    )
    settings = settings_of(preserve_openai_newlines=not escape_newlines)
    app = create_app(settings, upstream=upstream)
    handled = signal_when_handled(app)
    url = await serve(app)
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/v1/messages", json=REQUEST)
        await response.content.readuntil(b'"text":"first')
        newline = await response.content.readuntil(b'"')
        response.close()
    # The provider's filter is really in between: it escaped the newline.
    assert newline == (b'\\\\n"' if escape_newlines else b'\\n"')
    client_left.event.set()
    assert await asyncio.wait_for(handled.get(), timeout=30) == "/v1/messages"

    [stream] = upstream.streams
    assert stream.closed, (
        f"the upstream stream was left open after the client went away "
        f"({stream.yielded} chunks read, ended by {stream.ended_by})"
    )
    assert stream.yielded < 1000


class KeptStreams(LiteLLMUpstream):
    """The real LiteLLM upstream, keeping a strong reference to each stream it hands out."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.kept: list[Any] = []

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        iterator = super().stream(request)
        self.kept.append(iterator)
        return iterator


async def test_client_disconnect_cancels_the_upstream_request(
    serve: Serve, fake_openai: FakeOpenAI
) -> None:
    """Through real LiteLLM: the writer's close reaches the fake OpenAI server as a dropped
    connection, and the stream LiteLLM gave is closed (not merely dropped)."""
    settings = settings_of(openai_api_key="sk-test", openai_api_base=fake_openai.base_url)
    upstream = KeptStreams(settings)
    app = create_app(settings, upstream=upstream)
    handled = signal_when_handled(app)
    url = await serve(app)
    fake_openai.enqueue(Answer(text="x" * 200, text_pieces=100, delay=0.05))
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/v1/messages", json=REQUEST)
        await response.content.readuntil(b"text_delta")
        response.close()
    await asyncio.wait_for(handled.get(), timeout=30)
    [kept] = upstream.kept
    assert kept.ag_frame is None, "the LiteLLM stream was left open after the client went away"
    await asyncio.wait_for(fake_openai.disconnected.wait(), timeout=10)


# --- pings -----------------------------------------------------------------------------------


async def test_a_silent_upstream_gets_pings_before_and_between_chunks(aiohttp_server: Any) -> None:
    upstream = ScriptedUpstream()
    before, between = Gate(bound=10), Gate(bound=10)
    role, one, *rest = answer("one", "two")
    upstream.enqueue_stream(before, role, one, between, *rest)
    server = await aiohttp_server(create_app(settings_of(ping_interval=0.02), upstream=upstream))
    url = str(server.make_url("")).rstrip("/")
    wire = b""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=REQUEST) as response:
            assert response.status == 200
            async for line in response.content:
                wire += line
                if wire.count(PING) >= 3:
                    before.event.set()
                if b'"one"' in wire and wire.split(b'"one"', 1)[1].count(PING) >= 2:
                    between.event.set()
    assert not before.timed_out and not between.timed_out, "no pings while the upstream was silent"
    names = event_names(wire.decode())
    assert names[0] == "message_start"
    assert names[1 : names.index("content_block_start")].count("ping") >= 3
    assert wire.split(b'"one"', 1)[1].split(b'"two"', 1)[0].count(PING) >= 2
    assert names[-2:] == ["message_delta", "message_stop"]


async def test_pings_while_the_upstream_is_silent(
    start_proxy: Any, fake_openai: FakeOpenAI
) -> None:
    """Through real LiteLLM: the fake OpenAI server holds its first chunk until three pings
    have reached the client, and its third until two more have."""
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, ping_interval=0.05
    )
    first, later = asyncio.Event(), asyncio.Event()
    fake_openai.enqueue(Answer(text="slow answer", text_pieces=2, hold={0: first, 2: later}))
    wire = b""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=REQUEST) as response:
            assert response.status == 200
            async for line in response.content:
                wire += line
                if wire.count(PING) >= 3:
                    first.set()
                if b"text_delta" in wire and wire.split(b"text_delta", 1)[1].count(PING) >= 2:
                    later.set()
    names = event_names(wire.decode())
    assert names[0] == "message_start"
    first_block = names.index("content_block_start")
    assert names[1:first_block].count("ping") >= 3  # silence before the first chunk
    assert wire.split(b"text_delta", 1)[1].count(PING) >= 2  # and between chunks
    assert names[-2:] == ["message_delta", "message_stop"]


async def test_the_sdk_ignores_pings(start_proxy: Any, fake_openai: FakeOpenAI) -> None:
    """The official SDK parses a stream with pings in it; the pings are counted in the very
    bytes it parsed."""
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, ping_interval=0.05
    )
    transport = CountingTransport()
    fake_openai.enqueue(
        Answer(
            text="pinged but whole",
            text_pieces=3,
            hold={0: transport.when("ping", 3), 2: transport.when("ping", 5)},
        )
    )
    async with (
        httpx2.AsyncClient(transport=transport) as http,
        anthropic.AsyncAnthropic(
            base_url=url, api_key="k", max_retries=0, http_client=http
        ) as client,
        client.messages.stream(
            model="claude-opus-5-5", max_tokens=50, messages=REQUEST["messages"]
        ) as stream,
    ):
        message = await stream.get_final_message()
    assert message.content[0].text == "pinged but whole"
    assert transport.count("ping") >= 5
    assert transport.count("message_stop") == 1


# --- the provider filter ---------------------------------------------------------------------


class Doubler:
    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return [chunk, chunk]

    def finish(self) -> list[dict[str, Any]]:
        return [{"end": True}]


async def test_filtered_applies_the_filter_then_its_finish() -> None:
    async def upstream() -> AsyncIterator[dict[str, Any]]:
        for n in range(3):
            yield {"n": n}

    out = [chunk async for chunk in filtered(upstream(), Doubler())]
    assert out == [{"n": 0}, {"n": 0}, {"n": 1}, {"n": 1}, {"n": 2}, {"n": 2}, {"end": True}]
