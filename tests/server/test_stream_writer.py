"""The SSE writer: pings on upstream silence, status decided before the first byte, and a
client that leaves cancels the upstream request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic

from claude_proxy.server.stream_writer import filtered
from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.sse import event_names

REQUEST = {
    "model": "claude-opus-5-5",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hello"}],
}


async def test_pings_while_the_upstream_is_silent(
    start_proxy: Any, fake_openai: FakeOpenAI
) -> None:
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, ping_interval=0.1
    )
    fake_openai.enqueue(Answer(text="slow answer", first_delay=0.45, delay=0.25, text_pieces=2))
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/v1/messages", json=REQUEST)
        sse = await response.text()
    names = event_names(sse)
    assert response.status == 200
    assert names[0] == "message_start"
    first_block = names.index("content_block_start")
    assert names[1:first_block].count("ping") >= 3  # silence before the first chunk
    assert "ping" in names[first_block:]  # and between chunks
    assert names[-2:] == ["message_delta", "message_stop"]


async def test_the_sdk_ignores_pings(start_proxy: Any, fake_openai: FakeOpenAI) -> None:
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, ping_interval=0.05
    )
    fake_openai.enqueue(Answer(text="pinged but whole", delay=0.12, text_pieces=3))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        async with client.messages.stream(
            model="claude-opus-5-5", max_tokens=50, messages=REQUEST["messages"]
        ) as stream:
            message = await stream.get_final_message()
    assert message.content[0].text == "pinged but whole"


async def test_client_disconnect_cancels_the_upstream_request(
    proxy_url: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(text="x" * 200, text_pieces=100, delay=0.05))
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{proxy_url}/v1/messages", json=REQUEST)
        await response.content.readuntil(b"text_delta")
        response.close()
    await asyncio.wait_for(fake_openai.disconnected.wait(), timeout=5)


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
