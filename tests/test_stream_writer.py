"""The SSE writer: pings on upstream silence, status decided before the first byte, and a
client that leaves cancels the upstream request."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import anthropic

from tests.fakes.openai_upstream import Answer, FakeOpenAI

REQUEST = {
    "model": "claude-opus-5-5",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hello"}],
}


def event_names(sse: str) -> list[str]:
    return [line.removeprefix("event: ") for line in sse.splitlines() if line.startswith("event: ")]


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
