"""The native upstream behind the real proxy (`create_app(upstream=...)`), the anthropic SDK as
the client: the same answers and errors as the LiteLLM engine gives for the same fake answer.
(The wiring that picks an engine per request is not here; this plugs the native one in whole.)"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anthropic
import pytest
from aiohttp.test_utils import TestServer

from claude_proxy.server.app import create_app
from claude_proxy.settings import load_settings
from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI, ToolCall
from tests.helpers.repo import REPO

HELLO = [{"role": "user", "content": "hello"}]
TOOLS = [{"name": "Bash", "description": "Run", "input_schema": {"type": "object"}}]


async def proxy(aiohttp_server: Any, fake: FakeOpenAI, engine: str) -> str:
    settings = load_settings(
        {
            "openai_api_key": "sk-test-key-0001",
            "openai_api_base": fake.base_url,
            "ping_interval": 5.0,
            "upstream_engine": engine,
        },
        env_file=None,
    )
    server: TestServer = await aiohttp_server(create_app(settings))
    return str(server.make_url("")).rstrip("/")


def answer() -> Answer:
    calls = [
        ToolCall("call_1", "Bash", '{"command": "ls"}'),
        ToolCall("call_2", "Bash", '{"command": "pwd"}'),
    ]
    return Answer(text="Let me look.", tool_calls=calls, interleave=True, cached_tokens=4)


def comparable(message: anthropic.types.Message) -> dict[str, Any]:
    return message.model_dump(exclude={"id"})


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_both_engines_give_the_same_message(
    aiohttp_server: Any, fake_openai: FakeOpenAI, stream: bool
) -> None:
    messages = []
    for engine in ("litellm", "native"):
        url = await proxy(aiohttp_server, fake_openai, engine)
        fake_openai.enqueue(answer())
        async with anthropic.AsyncAnthropic(base_url=url, api_key="c", max_retries=0) as client:
            if stream:
                async with client.messages.stream(
                    model="claude-opus-5-5", max_tokens=100, messages=HELLO, tools=TOOLS
                ) as s:
                    message = await s.get_final_message()
            else:
                message = await client.messages.create(
                    model="claude-opus-5-5", max_tokens=100, messages=HELLO, tools=TOOLS
                )
        messages.append(comparable(message))
    assert messages[0] == messages[1]
    assert [block["type"] for block in messages[1]["content"]] == ["text", "tool_use", "tool_use"]
    assert fake_openai.requests[0] == fake_openai.requests[1]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_refusal_keeps_its_status_and_retry_after(
    aiohttp_server: Any, fake_openai: FakeOpenAI, stream: bool
) -> None:
    url = await proxy(aiohttp_server, fake_openai, "native")
    fake_openai.enqueue(Failure(429, "Rate limit reached", headers={"retry-after": "7"}))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="c", max_retries=0) as client:
        with pytest.raises(anthropic.RateLimitError) as caught:
            if stream:
                async with client.messages.stream(
                    model="claude-opus-5-5", max_tokens=10, messages=HELLO
                ) as s:
                    await s.get_final_message()
            else:
                await client.messages.create(model="claude-opus-5-5", max_tokens=10, messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["error"]["message"] == "Rate limit reached"


async def test_a_cut_stream_ends_with_an_error_event(
    aiohttp_server: Any, fake_openai: FakeOpenAI
) -> None:
    url = await proxy(aiohttp_server, fake_openai, "native")
    fake_openai.enqueue(Answer(text="This answer is cut off half way", text_pieces=6, drop_after=3))
    events: list[str] = []
    async with anthropic.AsyncAnthropic(base_url=url, api_key="c", max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            async with client.messages.stream(
                model="claude-opus-5-5", max_tokens=10, messages=HELLO
            ) as stream:
                async for event in stream:
                    events.append(event.type)
    assert events[0] == "message_start" and "text" in events
    assert caught.value.body["error"]["type"] == "api_error"


LITELLM_ON_FIRST_USE = """
import asyncio, sys, threading

importers = []


class NoteImporter:
    def find_spec(self, name, path=None, target=None):
        if name == "litellm":
            importers.append(threading.current_thread() is threading.main_thread())
        return None


sys.meta_path.insert(0, NoteImporter())
from claude_proxy.settings import load_settings
from claude_proxy.upstream.engines import Engines


async def main():
    engines = Engines(load_settings({"openai_api_key": "sk-test"}, env_file=None))
    target = await engines.target("gemini/gemini-2.5-flash", "gemini")
    await engines.aclose()
    print("on the loop's thread" if importers[0] else "in a thread", target.provider)


asyncio.run(main())
"""


def test_a_model_only_litellm_serves_loads_it_off_the_event_loop() -> None:
    """A client naming such a model (the aliases serve OpenAI natively, so LiteLLM is not
    loaded) must not stall every other stream for the seconds LiteLLM's import takes."""
    done = subprocess.run(
        [sys.executable, "-c", LITELLM_ON_FIRST_USE],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["in", "a", "thread", "gemini"]
