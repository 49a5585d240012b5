"""A session recorded with `serve --record` through the real proxy: the official SDK as the
client, the fake OpenAI upstream behind it, a key and a token planted to be looked for."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI, ToolCall
from tests.helpers.proxy import ProxyFactory

KEY = "sk-planted-provider-key-9f8e7d6c5b4a"
TOKEN = "planted-proxy-token-0a1b2c3d4e5f"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
EXCHANGES = ("0001-messages", "0002-messages", "0003-messages", "0004-messages")
"""JSON text, a streamed text, a streamed tool call, an upstream 429."""


async def record_session(
    start_proxy: ProxyFactory, fake: FakeOpenAI, directory: Path, **settings: Any
) -> None:
    """Four exchanges, recorded to `directory`; returns once every file is written."""
    url = await start_proxy(
        openai_api_key=KEY,
        openai_api_base=fake.base_url,
        proxy_auth_token=TOKEN,
        record_dir=directory,
        **settings,
    )
    fake.enqueue(
        Answer(text="Hello there, from JSON."),
        Answer(text="Hello there, streamed."),
        Answer(tool_calls=[ToolCall("call_w1", "get_weather", '{"city": "Paris"}')]),
        Failure(
            429, "Rate limit reached for gpt-4.1", "rate_limit_error", headers={"retry-after": "7"}
        ),
    )
    hello = [{"role": "user", "content": "Say hello to Ada Lovelace"}]
    async with anthropic.AsyncAnthropic(base_url=url, api_key=TOKEN, max_retries=0) as client:
        await client.messages.create(model="claude-sonnet-5-5", max_tokens=200, messages=hello)
        async with client.messages.stream(
            model="claude-sonnet-5-5", max_tokens=200, messages=hello
        ) as stream:
            await stream.get_final_message()
        # A user who pastes a key into a prompt: the recording does not keep it either.
        weather = [{"role": "user", "content": f"Weather in Paris? My key is {KEY}"}]
        async with client.messages.stream(
            model="claude-haiku-5-5", max_tokens=200, messages=weather, tools=[WEATHER]
        ) as stream:
            await stream.get_final_message()
        with pytest.raises(anthropic.RateLimitError):
            await client.messages.create(model="claude-sonnet-5-5", max_tokens=200, messages=hello)
    await written(directory, len(EXCHANGES))


async def written(directory: Path, count: int) -> None:
    """Wait (boundedly) until `count` exchange files are in `directory`: a stream's file is
    written after its last byte reached the client."""
    for _ in range(2000):
        if len(list(directory.glob("[0-9]*.json"))) >= count:
            return
        await asyncio.sleep(0.01)
