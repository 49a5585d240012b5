"""Anthropic as the upstream: the official SDK (or raw HTTP, where bytes matter) -> the proxy ->
a fake Anthropic API. Nothing is translated, so everything must arrive as it was sent."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest

from claude_proxy.settings import load_settings
from claude_proxy.translate.sse import encode_event
from claude_proxy.upstream.anthropic_passthrough import AnthropicPassthrough
from tests.fakes.anthropic_upstream import (
    Answer,
    Failure,
    FakeAnthropic,
    message_of,
    text_message,
)
from tests.helpers.claude_code import run_claude
from tests.helpers.ports import free_port
from tests.helpers.proxy import ProxyFactory
from tests.helpers.sse import sse_events

PROXY_KEY = "sk-ant-proxy-secret-0001"
CLIENT_KEY = "sk-ant-client-key-9999"
CLAUDE_CODE_BETAS = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27"
)
MODEL = "claude-sonnet-5-5"
HELLO = [{"role": "user", "content": "hello"}]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
SIGNATURE = "EqQBCkgIBRABGAIiQL2vTtg3lJ0tqCq8Xx/6ZQ2wHbTQzvHq+Ztm0rB0YVfP7Yk1tR0d=="
BASH_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
    "required": ["command"],
    "additionalProperties": False,
}

# Every kind of block and field the translation would lose, plus ones no version knows yet.
RICH_BODY: dict[str, Any] = {
    "model": MODEL,
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look at this.", "cache_control": {"type": "ephemeral"}},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "notes"},
                    "title": "Notes",
                    "citations": {"enabled": True},
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Let me list them.", "signature": SIGNATURE},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "tool_use", "id": "toolu_01A", "name": "Bash", "input": {"command": "ls"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "content": [
                        {"type": "text", "text": "a.txt"},
                        {"type": "tool_reference", "tool_name": "Write"},
                    ],
                    "is_error": False,
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                },
                {"type": "future_block_2099", "payload": {"nested": [1, 2.5, "ü", None]}},
            ],
        },
        {"role": "system", "content": "Environment: linux", "output_config": {"effort": "medium"}},
    ],
    "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.330.a1b;"},
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
    ],
    "tools": [
        {
            "name": "Bash",
            "description": "Run a command",
            "input_schema": BASH_SCHEMA,
            "cache_control": {"type": "ephemeral"},
        },
        {"type": "bash_20250124", "name": "bash"},
        {"name": "Later", "input_schema": {"type": "object"}, "defer_loading": True},
    ],
    "metadata": {"user_id": '{"device_id":"ab12","account_uuid":"","session_id":"s-1"}'},
    "max_tokens": 32000,
    "thinking": {"type": "adaptive", "display": "omitted"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "output_config": {"effort": "medium"},
    "temperature": 1,
    "safeguards": {"future": True},
    "future_top_level_field": {"anything": [None, True, 1e-7]},
}

THINKING_TOOL_MESSAGE = message_of(
    [
        {
            "type": "thinking",
            "thinking": "The user wants the files listed.",
            "signature": SIGNATURE,
        },
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        {"type": "text", "text": "Listing the files now."},
        {
            "type": "tool_use",
            "id": "toolu_01Bash",
            "name": "Bash",
            "input": {"command": "ls -la", "description": "List files"},
        },
    ],
    "tool_use",
    message_id="msg_01Thinking",
)


@pytest.fixture
async def fake_anthropic(aiohttp_server: Any) -> FakeAnthropic:
    fake = FakeAnthropic()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def proxy(start_proxy: ProxyFactory, fake_anthropic: FakeAnthropic) -> str:
    return await start_proxy(
        preferred_provider="anthropic",
        anthropic_api_key=PROXY_KEY,
        anthropic_api_base=fake_anthropic.base_url,
    )


@pytest.fixture
async def sdk(proxy: str) -> Any:
    async with anthropic.AsyncAnthropic(
        base_url=proxy, api_key=CLIENT_KEY, max_retries=0, timeout=30
    ) as client:
        yield client


async def test_text_round_trip_sends_our_key_and_the_clients_version_and_betas(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Answer(text_message("Hello from Anthropic.")))
    raw = await sdk.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=100,
        messages=HELLO,
        extra_headers={"anthropic-beta": CLAUDE_CODE_BETAS},
    )
    message = await raw.parse()

    assert message.to_dict() == text_message("Hello from Anthropic.")
    assert raw.headers["request-id"].startswith("req_")
    assert raw.headers["request-id"] != "req_upstream_1"
    [received] = fake_anthropic.received
    assert received.path == "/v1/messages"
    assert received.body == {"max_tokens": 100, "messages": HELLO, "model": MODEL}
    assert received.headers["x-api-key"] == PROXY_KEY
    assert received.headers["anthropic-version"] == "2026-10-21"
    assert received.headers["anthropic-beta"] == CLAUDE_CODE_BETAS
    assert "Authorization" not in received.headers
    assert not [v for v in received.headers.values() if CLIENT_KEY in v]


async def test_the_body_reaches_anthropic_byte_for_byte(
    proxy: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Answer(text_message("Seen.")))
    sent = json.dumps(RICH_BODY, indent=1, ensure_ascii=False).encode()
    headers = [
        ("content-type", "application/json"),
        ("x-api-key", CLIENT_KEY),
        ("anthropic-beta", "claude-code-20250219"),
        ("anthropic-beta", "future-beta-2099-01-01"),
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{proxy}/v1/messages?beta=true", data=sent, headers=headers) as response,
    ):
        assert response.status == 200
        assert await response.json() == text_message("Seen.")

    [received] = fake_anthropic.received
    assert received.raw == sent
    assert received.query == ""
    assert received.headers["anthropic-beta"] == "claude-code-20250219,future-beta-2099-01-01"
    assert received.headers["anthropic-version"] == "2023-06-01"
    assert received.headers["x-api-key"] == PROXY_KEY


async def test_thinking_signed_by_this_proxy_never_reaches_anthropic(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    """A conversation that moves from another provider to Anthropic drops our `cpx1.` blocks
    (Anthropic would reject their signatures) and keeps Anthropic's own."""
    from claude_proxy.translate.target import Target
    from claude_proxy.translate.thinking import sign_thinking

    ours = sign_thinking(
        "Earlier, on gpt-5.", Target(model="openai/gpt-5", provider="openai"), None
    )
    assert ours.startswith("cpx1.")
    history = [
        {"role": "user", "content": "first"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Earlier, on gpt-5.", "signature": ours},
                {"type": "text", "text": "Answer one."},
            ],
        },
        {"role": "user", "content": "second"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "On Claude.", "signature": SIGNATURE},
                {"type": "text", "text": "Answer two."},
            ],
        },
        {"role": "user", "content": "third"},
    ]
    fake_anthropic.enqueue(Answer(text_message("Fine.")))
    await sdk.messages.create(model=MODEL, max_tokens=100, messages=history)

    [received] = fake_anthropic.received
    assert received.body["messages"][1]["content"] == [{"type": "text", "text": "Answer one."}]
    assert received.body["messages"][3] == history[3]


async def test_a_remapped_model_changes_only_the_model_name(
    start_proxy: ProxyFactory, fake_anthropic: FakeAnthropic
) -> None:
    proxy = await start_proxy(
        preferred_provider="anthropic",
        big_model="anthropic/claude-opus-4-1-20250805",
        anthropic_api_key=PROXY_KEY,
        anthropic_api_base=fake_anthropic.base_url,
    )
    fake_anthropic.enqueue(Answer(text_message("Seen.")))
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{proxy}/v1/messages", json=RICH_BODY)
        assert response.status == 200

    [received] = fake_anthropic.received
    expected = {**RICH_BODY, "model": "claude-opus-4-1-20250805"}
    assert received.body == expected
    assert list(received.body) == list(expected)


async def test_a_tool_loop_with_images_round_trips_exactly(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Answer(THINKING_TOOL_MESSAGE), Answer(text_message("Two files.")))
    tools: list[Any] = [
        {
            "name": "Bash",
            "description": "Run a command",
            "input_schema": BASH_SCHEMA,
            "cache_control": {"type": "ephemeral"},
        }
    ]
    first_turn: list[Any] = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
                {"type": "text", "text": "List the files.", "cache_control": {"type": "ephemeral"}},
            ],
        }
    ]
    first = await sdk.messages.create(
        model=MODEL,
        max_tokens=2048,
        messages=first_turn,
        tools=tools,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert first.to_dict() == THINKING_TOOL_MESSAGE

    conversation: list[Any] = [
        *first_turn,
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01Bash",
                    "content": [
                        {"type": "text", "text": "a.txt\nb.txt"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                    ],
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        },
    ]
    second = await sdk.messages.create(
        model=MODEL,
        max_tokens=2048,
        messages=conversation,
        tools=tools,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )

    assert second.to_dict() == text_message("Two files.")
    upstream = fake_anthropic.bodies
    assert upstream[0]["messages"] == first_turn
    assert upstream[0]["tools"] == tools
    assert upstream[0]["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert upstream[1]["messages"] == conversation
    assert upstream[1]["messages"][1]["content"] == THINKING_TOOL_MESSAGE["content"]


async def test_stream_and_json_give_the_same_message_and_the_signature_survives(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Answer(THINKING_TOOL_MESSAGE), Answer(THINKING_TOOL_MESSAGE), Answer(text_message("ok"))
    )
    whole = await sdk.messages.create(model=MODEL, max_tokens=2048, messages=HELLO)
    async with sdk.messages.stream(model=MODEL, max_tokens=2048, messages=HELLO) as stream:
        streamed = await stream.get_final_message()

    assert whole.to_dict() == THINKING_TOOL_MESSAGE
    # The SDK's stream helper adds `stop_details: None`; everything else must be equal.
    assert streamed.to_dict(exclude_none=True) == whole.to_dict(exclude_none=True)
    assert streamed.stop_sequence is None
    echoed: list[Any] = [
        *HELLO,
        {"role": "assistant", "content": [block.to_dict() for block in streamed.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_01Bash", "content": "a.txt"}],
        },
    ]
    await sdk.messages.create(model=MODEL, max_tokens=2048, messages=echoed)
    assert fake_anthropic.bodies[2]["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants the files listed.",
        "signature": SIGNATURE,
    }
    assert [body.get("stream") for body in fake_anthropic.bodies] == [None, True, None]


async def test_sse_bytes_pass_through_unchanged(proxy: str, fake_anthropic: FakeAnthropic) -> None:
    new_block = {"type": "future_block_2099", "payload": {"x": 1}}
    fake_anthropic.enqueue(
        Answer(message_of([new_block, *THINKING_TOOL_MESSAGE["content"]], "tool_use"))
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{proxy}/v1/messages", json={**RICH_BODY, "stream": True}) as response,
    ):
        received = await response.read()
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["request-id"].startswith("req_")

    assert received == fake_anthropic.sent[0]
    events = sse_events(received)
    assert events[2] == (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": new_block},
    )
    assert {"type": "signature_delta", "signature": SIGNATURE} in [
        data.get("delta") for _, data in events
    ]


FAILURES = [
    pytest.param(
        Failure(
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit.",
            headers={"retry-after": "7", "retry-after-ms": "7000"},
        ),
        anthropic.RateLimitError,
        {"retry-after": "7", "retry-after-ms": "7000"},
        id="429",
    ),
    pytest.param(
        Failure(529, "overloaded_error", "Overloaded", headers={"x-should-retry": "true"}),
        anthropic.OverloadedError,
        {"x-should-retry": "true"},
        id="529",
    ),
    pytest.param(
        Failure(400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"),
        anthropic.BadRequestError,
        {},
        id="400",
    ),
]


@pytest.mark.parametrize(("failure", "exception", "headers"), FAILURES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_upstream_errors_keep_status_body_and_retry_headers(
    sdk: anthropic.AsyncAnthropic,
    fake_anthropic: FakeAnthropic,
    failure: Failure,
    exception: type[anthropic.APIStatusError],
    headers: dict[str, str],
    stream: bool,
) -> None:
    fake_anthropic.enqueue(failure)
    with pytest.raises(exception) as caught:
        if stream:
            async with sdk.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as s:
                await s.get_final_message()
        else:
            await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    error = caught.value
    assert error.status_code == failure.status
    assert error.body == json.loads(failure.body())
    assert {name: error.response.headers.get(name) for name in headers} == headers
    assert error.response.headers["request-id"].startswith("req_")


async def test_a_gateway_error_page_becomes_anthropic_error_json(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Failure(502, "", "", raw=b"<html>Bad Gateway</html>\n"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "api_error",
            "message": "Anthropic answered 502: <html>Bad Gateway</html>",
        },
    }


async def test_count_tokens_passes_through(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    tools: list[Any] = [{"name": "Bash", "input_schema": BASH_SCHEMA, "defer_loading": True}]
    betas = "claude-code-20250219,token-counting-2024-11-01"
    counted = await sdk.messages.count_tokens(
        model=MODEL,
        messages=RICH_BODY["messages"],
        tools=tools,
        extra_headers={"anthropic-beta": betas},
    )

    assert counted.input_tokens == 1234
    [received] = fake_anthropic.received
    assert received.path == "/v1/messages/count_tokens"
    assert received.body == {
        "messages": RICH_BODY["messages"],
        "model": MODEL,
        "tools": tools,
    }
    assert received.headers["x-api-key"] == PROXY_KEY
    assert received.headers["anthropic-beta"] == betas


async def test_count_tokens_errors_keep_their_status(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Failure(404, "not_found_error", "model: claude-nope"))
    with pytest.raises(anthropic.NotFoundError) as caught:
        await sdk.messages.count_tokens(model="claude-nope", messages=HELLO)
    assert caught.value.body == json.loads(
        Failure(404, "not_found_error", "model: claude-nope").body()
    )


@pytest.mark.parametrize("endpoint", ["create", "count_tokens"])
async def test_a_missing_key_says_which_variable_to_set(
    start_proxy: ProxyFactory, endpoint: str
) -> None:
    proxy = await start_proxy(preferred_provider="anthropic")
    async with anthropic.AsyncAnthropic(base_url=proxy, api_key=CLIENT_KEY, max_retries=0) as sdk:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            if endpoint == "create":
                await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
            else:
                await sdk.messages.count_tokens(model=MODEL, messages=HELLO)
    error = caught.value
    assert error.status_code == 401
    assert error.body["error"] == {
        "type": "authentication_error",
        "message": "No key for Anthropic: set ANTHROPIC_API_KEY (or put it in .env).",
    }
    assert error.response.headers["x-should-retry"] == "false"


async def test_the_key_never_reaches_the_client_or_the_log(
    sdk: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_anthropic.enqueue(
        Answer(text_message("fine")),
        Failure(401, "authentication_error", f"invalid x-api-key: {PROXY_KEY}"),
    )
    await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert caught.value.body["error"]["message"] == "invalid x-api-key: ***"
    assert [r.headers["x-api-key"] for r in fake_anthropic.received] == [PROXY_KEY, PROXY_KEY]
    assert "401" in caplog.text
    assert PROXY_KEY not in caplog.text


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_an_unreachable_anthropic_is_a_500_api_error(
    start_proxy: ProxyFactory, stream: bool
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    proxy = await start_proxy(
        preferred_provider="anthropic", anthropic_api_key=PROXY_KEY, anthropic_api_base=base
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{proxy}/v1/messages", json={**RICH_BODY, "stream": stream}) as response,
    ):
        body = await response.json()
    assert response.status == 500
    assert body["error"]["type"] == "api_error"
    assert body["error"]["message"].startswith(f"the connection to Anthropic at {base} failed: ")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_silent_anthropic_is_a_504_timeout_error(
    start_proxy: ProxyFactory, fake_anthropic: FakeAnthropic, stream: bool
) -> None:
    proxy = await start_proxy(
        preferred_provider="anthropic",
        anthropic_api_key=PROXY_KEY,
        anthropic_api_base=fake_anthropic.base_url,
        request_timeout=0.5,
    )
    fake_anthropic.enqueue(Answer(text_message("too late"), first_delay=2))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{proxy}/v1/messages", json={**RICH_BODY, "stream": stream}) as response,
    ):
        body = await response.json()
    assert response.status == 504
    assert body["error"] == {
        "type": "timeout_error",
        "message": "Anthropic did not answer within 0.5 s",
    }


async def test_silence_mid_stream_ends_with_a_timeout_error_event(
    start_proxy: ProxyFactory, fake_anthropic: FakeAnthropic
) -> None:
    proxy = await start_proxy(
        preferred_provider="anthropic",
        anthropic_api_key=PROXY_KEY,
        anthropic_api_base=fake_anthropic.base_url,
        request_timeout=0.5,
    )
    fake_anthropic.enqueue(Answer(THINKING_TOOL_MESSAGE, silence_after=3, silence=3))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{proxy}/v1/messages", json={**RICH_BODY, "stream": True}) as response,
    ):
        received = await response.read()
    error = {"type": "timeout_error", "message": "Anthropic did not answer within 0.5 s"}
    assert response.status == 200
    assert received == fake_anthropic.sent[0] + encode_event(
        "error", {"type": "error", "error": error}
    )
    assert len(sse_events(received)) == 4


async def test_a_stream_cut_mid_way_ends_with_an_error_event(
    proxy: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Answer(THINKING_TOOL_MESSAGE, drop_after=4))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{proxy}/v1/messages", json={**RICH_BODY, "stream": True}) as response,
    ):
        received = await response.read()
    assert response.status == 200
    assert received.startswith(fake_anthropic.sent[0])
    events = sse_events(received)
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "error",
    ]
    error = events[-1][1]["error"]
    assert error["type"] == "api_error"
    assert error["message"].startswith(
        f"the connection to Anthropic at {fake_anthropic.base_url} failed: "
    )


async def test_a_client_that_leaves_closes_the_upstream_stream(
    proxy: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Answer(THINKING_TOOL_MESSAGE, keep_alive_after=2))
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{proxy}/v1/messages", json={**RICH_BODY, "stream": True})
        await response.content.readuntil(b"event: ping")
        response.close()
    await asyncio.wait_for(fake_anthropic.disconnected.wait(), timeout=5)


def test_anthropic_base_url_is_never_the_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:8082")
    assert (
        AnthropicPassthrough(load_settings(env_file=None)).base_url == "https://api.anthropic.com"
    )
    monkeypatch.setenv("ANTHROPIC_API_BASE", "http://gateway.internal:8000/")
    assert (
        AnthropicPassthrough(load_settings(env_file=None)).base_url
        == "http://gateway.internal:8000"
    )


@pytest.mark.claude_code
async def test_claude_code_runs_a_bash_tool_through_anthropic_passthrough(
    claude: str,
    proxy: str,
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    command = {
        "command": "echo written-through-anthropic > proof.txt",
        "description": "Write the proof file",
    }
    thinking = {"type": "thinking", "thinking": "A shell command will do.", "signature": SIGNATURE}
    tool_use = {"type": "tool_use", "id": "toolu_01ProofBash", "name": "Bash", "input": command}
    first_answer = message_of(
        [thinking, {"type": "text", "text": "I'll write the file."}, tool_use], "tool_use"
    )
    fake_anthropic.enqueue(
        Answer(first_answer), Answer(text_message("Done: proof.txt holds the line."))
    )
    result = await run_claude(claude, proxy, workdir, "Write proof.txt with a shell command.")

    assert (workdir / "proof.txt").read_text() == "written-through-anthropic\n"
    assert result["is_error"] is False
    assert result["result"] == "Done: proof.txt holds the line."
    assert [r.path for r in fake_anthropic.received] == ["/v1/messages", "/v1/messages"]
    assert all(r.body["stream"] is True for r in fake_anthropic.received)
    assert all(r.headers["x-api-key"] == PROXY_KEY for r in fake_anthropic.received)
    assert all(
        "claude-code-20250219" in r.headers["anthropic-beta"] for r in fake_anthropic.received
    )
    second = fake_anthropic.bodies[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    # Claude Code echoes the whole turn, thinking signature included, and nothing changed it.
    assert assistant["content"] == first_answer["content"]
    results = [
        block
        for m in second
        if m["role"] == "user" and isinstance(m["content"], list)
        for block in m["content"]
        if block["type"] == "tool_result"
    ]
    assert [block["tool_use_id"] for block in results] == ["toolu_01ProofBash"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_request_log_has_anthropics_usage(
    sdk: anthropic.AsyncAnthropic,
    fake_anthropic: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
    stream: bool,
) -> None:
    """`serve --debug-rich` shows tokens for Anthropic too: read from the relayed answer."""
    caplog.set_level(logging.INFO, logger="claude_proxy.server")
    fake_anthropic.enqueue(Answer(text_message("Counted.")))
    if stream:
        async with sdk.messages.stream(model=MODEL, max_tokens=50, messages=HELLO) as s:
            await s.get_final_message()
    else:
        await sdk.messages.create(model=MODEL, max_tokens=50, messages=HELLO)
    [record] = [r.request_log for r in caplog.records if hasattr(r, "request_log")]
    assert record.usage == text_message("Counted.")["usage"]
    assert (record.messages, record.tools, record.streamed) == (1, 0, stream)
