"""POST /v1/messages and count_tokens end to end: the official SDK -> proxy -> real LiteLLM ->
a fake OpenAI server on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import anthropic
import pytest

from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.messages import BASH, comparable
from tests.helpers.repo import DATA, body_of
from tests.helpers.threads import note_threads

HELLO = [{"role": "user", "content": "hello"}]
READ = {
    "name": "Read",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
}


async def test_text_answer(client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(
        Answer(text="Hello there.", prompt_tokens=30, cached_tokens=10, completion_tokens=4)
    )
    message = await client.messages.create(
        model="claude-opus-5-5",
        max_tokens=128000,
        timeout=60,  # the SDK refuses a non-streamed 128000-token request without one
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "say hi"}],
    )
    assert message.id.startswith("msg_")
    assert message.model == "claude-opus-5-5"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Hello there."
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 20
    assert message.usage.cache_read_input_tokens == 10
    assert message.usage.output_tokens == 4

    sent = fake_openai.requests[0]
    assert sent["model"] == "gpt-4.1"
    assert sent["max_tokens"] == 32768  # clamped to gpt-4.1's output limit from LiteLLM's registry
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert fake_openai.headers[0]["Authorization"] == "Bearer sk-test-key-0001"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Answer(text="Just text, streamed in pieces."), id="text"),
        pytest.param(
            Answer(
                text="Reading both.",
                tool_calls=[
                    ToolCall("call_a", "Read", json.dumps({"file_path": "/tmp/a.txt"})),
                    ToolCall("call_b", "Bash", json.dumps({"command": "ls -la /tmp"})),
                ],
                interleave=True,
            ),
            id="parallel-tools-interleaved",
        ),
        pytest.param(Answer(text="Cut off mid", finish_reason="length"), id="max-tokens"),
        pytest.param(
            Answer(
                reasoning="The file first.\nThen answer.",
                text="Reading it.",
                tool_calls=[ToolCall("call_r", "Read", json.dumps({"file_path": "/tmp/a"}))],
            ),
            id="reasoning-text-tool",
        ),
        pytest.param(
            Answer(
                tool_calls=[ToolCall("call_1", "Bash", '{"command": "echo hi"}')],
                finish_reason="stop",
            ),
            id="tool-call-ending-with-stop",
        ),
    ],
)
async def test_stream_builds_the_same_message_as_non_stream(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, answer: Answer
) -> None:
    fake_openai.enqueue(answer, answer)
    kwargs: dict[str, Any] = {
        "model": "claude-sonnet-5-5",
        "max_tokens": 1000,
        "tools": [BASH, READ],
        "messages": [{"role": "user", "content": "go"}],
    }
    plain = await client.messages.create(**kwargs)
    async with client.messages.stream(**kwargs) as stream:
        streamed = await stream.get_final_message()
    assert comparable(streamed) == comparable(plain)
    if answer.reasoning:
        assert plain.content[0].type == "thinking" and plain.content[0].thinking == answer.reasoning
    assert fake_openai.requests[1]["stream"] is True
    assert fake_openai.requests[1]["stream_options"] == {"include_usage": True}
    if answer.tool_calls:
        assert plain.stop_reason == "tool_use"
        inputs = {block.id: block.input for block in plain.content if block.type == "tool_use"}
        assert inputs == {call.id: json.loads(call.arguments) for call in answer.tool_calls}


async def test_tool_round_trip(client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(
        Answer(text="Let me look.", tool_calls=[ToolCall("call_9", "Bash", '{"command": "ls"}')]),
        Answer(text="There are two files."),
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": "what is here?"}]
    first = await client.messages.create(
        model="claude-haiku-5-5", max_tokens=500, tools=[BASH], messages=messages
    )
    assert first.stop_reason == "tool_use"
    tool_use = first.content[1]
    assert tool_use.type == "tool_use"
    assert (tool_use.id, tool_use.name, tool_use.input) == ("call_9", "Bash", {"command": "ls"})

    messages += [
        {
            "role": "assistant",
            "content": [block.model_dump(exclude_none=True) for block in first.content],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "call_9",
                    "content": "a.txt\nb.txt",
                    "is_error": False,
                },
                {"type": "text", "text": "and be short"},
            ],
        },
    ]
    second = await client.messages.create(
        model="claude-haiku-5-5", max_tokens=500, tools=[BASH], messages=messages
    )
    assert second.content[0].text == "There are two files."

    sent = fake_openai.requests[1]
    assert sent["model"] == "gpt-4.1-mini"
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["user", "assistant", "tool", "user"]
    assert sent["messages"][1]["tool_calls"][0]["id"] == "call_9"
    assert sent["messages"][2]["tool_call_id"] == "call_9"
    assert "a.txt" in sent["messages"][2]["content"]
    assert sent["tools"][0]["function"]["name"] == "Bash"


async def test_image_reaches_the_model(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(text="A red dot."))
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    await client.messages.create(
        model="claude-opus-5-5",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": pixel},
                    },
                    {"type": "text", "text": "what is this?"},
                ],
            }
        ],
    )
    parts = fake_openai.requests[0]["messages"][0]["content"]
    assert parts[0] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel}"}}


async def test_sampling_and_tool_choice_reach_openai(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(tool_calls=[ToolCall("call_1", "Bash", '{"command":"pwd"}')]))
    await client.messages.create(
        model="claude-opus-5-5",
        max_tokens=100,
        # SDK 2.x (anthropic-version 2026-10-21) has no sampling arguments; older clients send them.
        extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 5},
        stop_sequences=["END"],
        metadata={"user_id": "user-42"},
        tools=[BASH],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "run pwd"}],
    )
    sent = fake_openai.requests[0]
    assert (sent["temperature"], sent["top_p"], sent["stop"], sent["user"]) == (
        0.2,
        0.9,
        ["END"],
        "user-42",
    )
    assert "top_k" not in sent  # OpenAI has no top_k
    assert sent["tool_choice"] == "required"
    assert sent["parallel_tool_calls"] is False


@pytest.mark.parametrize("fixture", sorted(p.name for p in (DATA / "claude-code").glob("*.json")))
async def test_claude_code_bodies_are_served(
    proxy_url: str, fake_openai: FakeOpenAI, fixture: str
) -> None:
    """Every recorded Claude Code request goes through, streamed or not, as Claude Code sent it."""
    body = body_of(DATA / "claude-code" / fixture)
    headers = json.loads((DATA / "claude-code" / fixture).read_text())["_headers"]
    path = "/v1/messages/count_tokens" if "count-tokens" in fixture else "/v1/messages"
    fake_openai.enqueue(Answer(text="hi"))
    wire_headers = {
        k: v
        for k, v in headers.items()
        if k.lower() not in ("host", "content-length", "accept-encoding", "connection")
    }
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{proxy_url}{path}?beta=true", json=body, headers=wire_headers
        )
        text = await response.text()
    assert response.status == 200, text
    if path.endswith("count_tokens"):
        assert json.loads(text)["input_tokens"] > 10
        return
    if body.get("stream"):
        assert text.startswith("event: message_start\n")
        assert text.rstrip().endswith('data: {"type":"message_stop"}')
    else:
        assert json.loads(text)["content"] == [{"type": "text", "text": "hi"}]
    sent = fake_openai.requests[0]
    assert not any("x-anthropic-billing-header" in json.dumps(m) for m in sent["messages"])


async def test_count_tokens_counts_system_messages_and_tools(
    client: anthropic.AsyncAnthropic,
) -> None:
    messages = [{"role": "user", "content": "hello there, how are you today?"}]
    bare = await client.messages.count_tokens(model="claude-opus-5-5", messages=messages)
    with_system = await client.messages.count_tokens(
        model="claude-opus-5-5", messages=messages, system="You are a careful assistant. " * 20
    )
    with_tools = await client.messages.count_tokens(
        model="claude-opus-5-5", messages=messages, tools=[BASH, READ]
    )
    assert 5 < bare.input_tokens < 30
    assert with_system.input_tokens > bare.input_tokens + 60
    assert with_tools.input_tokens > bare.input_tokens + 20


async def test_count_tokens_translates_a_large_body_off_the_loop(
    client: anthropic.AsyncAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_proxy.server import messages, translation

    threads = note_threads(monkeypatch, messages, "counted")
    monkeypatch.setattr(translation, "OFF_LOOP_BYTES", 2000)
    small = await client.messages.count_tokens(model="claude-opus-5-5", messages=HELLO)
    large = await client.messages.count_tokens(
        model="claude-opus-5-5", messages=[{"role": "user", "content": "hello " * 400}]
    )
    assert threads == [True, False]  # the small one on the loop, the large one in a thread
    assert large.input_tokens > small.input_tokens + 300


@pytest.mark.parametrize("model", ["o3-mini", "o1", "gpt-5-mini"])
async def test_reasoning_models_get_only_parameters_they_take(
    start_proxy: Any, fake_openai: FakeOpenAI, model: str
) -> None:
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, big_model=model
    )
    fake_openai.enqueue(Answer(text="ok"))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        await client.messages.create(
            model="claude-opus-5-5",
            max_tokens=16000,
            extra_body={"temperature": 0.5, "top_p": 0.9, "top_k": 3},
            messages=[{"role": "user", "content": "hi"}],
        )
    sent = fake_openai.requests[0]
    assert {key for key in sent if key not in ("messages", "stream")} == {
        "model",
        "max_completion_tokens",
    }
    assert sent["max_completion_tokens"] == 16000


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "object"),
        (json.dumps({"max_tokens": 10, "messages": HELLO}).encode(), "model"),
        (json.dumps({"model": "claude-opus-5-5", "messages": HELLO}).encode(), "max_tokens"),
        (
            json.dumps(
                {"model": "claude-opus-5-5", "max_tokens": "ten", "messages": HELLO}
            ).encode(),
            "max_tokens",
        ),
        (json.dumps({"model": "claude-opus-5-5", "max_tokens": 10}).encode(), "messages"),
        (
            json.dumps(
                {
                    "model": "claude-opus-5-5",
                    "max_tokens": 10,
                    "messages": [{"role": "robot", "content": "x"}],
                }
            ).encode(),
            "messages.0.role",
        ),
        (
            json.dumps(
                {
                    "model": "claude-opus-5-5",
                    "max_tokens": 10,
                    "messages": [{"role": "user", "content": 5}],
                }
            ).encode(),
            "messages.0.content",
        ),
    ],
)
async def test_bad_requests_get_400_naming_the_field(
    proxy_url: str, fake_openai: FakeOpenAI, payload: bytes, field: str
) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{proxy_url}/v1/messages", data=payload, headers={"content-type": "application/json"}
        )
        body = await response.json()
    assert response.status == 400
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert field in body["error"]["message"]
    assert fake_openai.requests == []


async def test_both_auth_styles_and_versions_are_accepted(
    proxy_url: str, fake_openai: FakeOpenAI
) -> None:
    payload = {
        "model": "claude-opus-5-5",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
    }
    header_sets = [
        {"x-api-key": "k1", "anthropic-version": "2023-06-01"},
        {
            "Authorization": "Bearer t1",
            "anthropic-version": "2026-10-21",
            "anthropic-beta": "future-beta-2030-01-01,x",
        },
        {},
    ]
    async with aiohttp.ClientSession() as session:
        for headers in header_sets:
            response = await session.post(
                f"{proxy_url}/v1/messages?beta=true", json=payload, headers=headers
            )
            assert response.status == 200, await response.text()
            assert response.headers["request-id"].startswith("req_")
