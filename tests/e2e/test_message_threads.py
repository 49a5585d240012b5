"""Message threads through the proxy, driven by the official SDKs' tool runners at their
defaults (which thread every turn after the first): the Python SDK in process, the pinned
TypeScript SDK as a node script. The upstream is the fake OpenAI server; it must see the whole
conversation and the tools on every turn, because it has no threads of its own."""

from __future__ import annotations

import json
import logging
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic import beta_async_tool

from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.proxy import ProxyFactory

SYSTEM = "You are a calculator."
QUESTION = "What is (2 + 3) * 4?"
TOOL_NAMES = ["add", "multiply"]


@beta_async_tool
async def add(a: int, b: int) -> str:
    """Add two integers.

    Args:
        a: the first
        b: the second
    """
    return str(a + b)


@beta_async_tool
async def multiply(a: int, b: int) -> str:
    """Multiply two integers.

    Args:
        a: the first
        b: the second
    """
    return str(a * b)


def two_tool_rounds() -> list[Answer]:
    """add(2, 3), then multiply(5, 4) alongside add(0, 0), then the final text."""
    return [
        Answer(tool_calls=[ToolCall("call_1", "add", json.dumps({"a": 2, "b": 3}))]),
        Answer(
            text="Now multiplying.",
            tool_calls=[
                ToolCall("call_2", "multiply", json.dumps({"a": 5, "b": 4})),
                ToolCall("call_3", "add", json.dumps({"a": 0, "b": 0})),
            ],
        ),
        Answer(text="The answer is 20."),
    ]


def check_whole_conversations(requests: list[dict[str, Any]]) -> None:
    """Every upstream request carries the system prompt, both tools and the whole history:
    the question, each earlier answer and each tool result, in order."""
    assert len(requests) == 3
    for turn, sent in enumerate(requests):
        assert sent["messages"][0] == {"role": "system", "content": SYSTEM}
        assert sorted(tool["function"]["name"] for tool in sent["tools"]) == TOOL_NAMES
        assert sent["messages"][1]["content"] in (QUESTION, [{"type": "text", "text": QUESTION}])
        calls = [
            call["id"] for message in sent["messages"] for call in message.get("tool_calls") or []
        ]
        results = [m["tool_call_id"] for m in sent["messages"] if m["role"] == "tool"]
        assert calls == ["call_1", "call_2", "call_3"][: [0, 1, 3][turn]]
        assert results == calls
    results = {
        m["tool_call_id"]: m["content"] for m in requests[2]["messages"] if m["role"] == "tool"
    }
    assert results == {"call_1": "5", "call_2": "20", "call_3": "0"}


async def proxy_for(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str) -> str:
    return await start_proxy(
        openai_api_key="sk-test-key-0001",
        openai_api_base=fake_openai.base_url,
        upstream_engine=engine,
    )


def runner_kwargs() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-5",
        "max_tokens": 1024,
        "system": SYSTEM,
        "tools": [add, multiply],
        "messages": [{"role": "user", "content": QUESTION}],
    }


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_python_tool_runner_threads_every_turn(
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    engine: str,
    stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_openai.enqueue(*two_tool_rounds())
    url = await proxy_for(start_proxy, fake_openai, engine)
    sent: list[dict[str, Any]] = []
    async with anthropic.AsyncAnthropic(
        base_url=url, api_key="client-key", max_retries=0, http_client=recording(sent)
    ) as client:
        with caplog.at_level(logging.INFO, logger="anthropic"):
            runner = client.beta.messages.tool_runner(**runner_kwargs(), stream=stream)
            final = await runner.until_done()

    assert [block.text for block in final.content if block.type == "text"] == ["The answer is 20."]
    check_whole_conversations(fake_openai.requests)
    # What the SDK sent: a create, then continues with only the new tool results.
    assert [body.get("thread", {}).get("type") for body in sent] == [
        "create",
        "continue",
        "continue",
    ]
    assert "system" not in sent[1] and "tools" not in sent[1]
    assert [len(body["messages"]) for body in sent] == [1, 1, 1]
    assert "Replaying" not in caplog.text


def recording(sent: list[dict[str, Any]]) -> Any:
    """An httpx client for the SDK that keeps every request body it sends."""

    async def keep(request: httpx2.Request) -> None:
        sent.append(json.loads(request.content))

    return httpx2.AsyncClient(event_hooks={"request": [keep]})
