"""Errors as clients see them: Anthropic's error JSON with the right status, through the real
path (SDK -> proxy -> LiteLLM -> fake upstream), never a traceback, a hang or a bare 500."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import anthropic
import pytest

from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI

HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("failure", "status", "error_type", "exception"),
    [
        (
            Failure(401, "Incorrect API key provided: sk-test-key-0001"),
            401,
            "authentication_error",
            anthropic.AuthenticationError,
        ),
        (
            Failure(403, "You are not allowed to use this model"),
            403,
            "permission_error",
            anthropic.PermissionDeniedError,
        ),
        (
            Failure(404, "The model `gpt-4.1` does not exist"),
            404,
            "not_found_error",
            anthropic.NotFoundError,
        ),
        (
            Failure(429, "Rate limit reached", headers={"retry-after": "7"}),
            429,
            "rate_limit_error",
            anthropic.RateLimitError,
        ),
        (Failure(500, "The server had an error"), 500, "api_error", anthropic.InternalServerError),
        (
            Failure(503, "The engine is currently overloaded"),
            529,
            "overloaded_error",
            anthropic.APIStatusError,
        ),
        (
            Failure(400, "Invalid value for 'messages'"),
            400,
            "invalid_request_error",
            anthropic.BadRequestError,
        ),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else None,
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_upstream_errors_keep_their_meaning(
    client: anthropic.AsyncAnthropic,
    fake_openai: FakeOpenAI,
    failure: Failure,
    status: int,
    error_type: str,
    exception: type[Exception],
    stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.enqueue(failure)
    with pytest.raises(exception) as caught:
        if stream:
            async with client.messages.stream(
                model="claude-opus-5-5", max_tokens=10, messages=HELLO
            ) as s:
                await s.get_final_message()
        else:
            await client.messages.create(model="claude-opus-5-5", max_tokens=10, messages=HELLO)
    error = caught.value
    assert isinstance(error, anthropic.APIStatusError)
    assert error.status_code == status
    body = error.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert failure.message.split(":")[0] in body["error"]["message"]
    assert "sk-test-key-0001" not in json.dumps(
        body
    )  # our key never leaks, even when upstream echoes it
    assert "Exception" not in body["error"]["message"]  # LiteLLM's prefixes are cleaned
    assert error.response.headers["request-id"].startswith("req_")
    if status == 429:
        assert error.response.headers["retry-after"] == "7"
    assert len(fake_openai.requests) == 1  # LiteLLM does not retry behind the client's back
    assert (
        f"{status} " in caplog.text and error_type in caplog.text
    )  # the log line says what failed
    assert "sk-test-key-0001" not in caplog.text


async def test_context_overflow_has_the_text_claude_code_compacts_on(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        Failure(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.",
            error_type="invalid_request_error",
            code="context_length_exceeded",
        )
    )
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client.messages.create(model="claude-opus-5-5", max_tokens=10, messages=HELLO)
    assert (
        caught.value.body["error"]["message"]
        == "prompt is too long: 130512 tokens > 128000 maximum"
    )


async def test_connection_dropped_mid_stream_ends_with_an_error_event(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        Answer(text="This answer is cut off half way through", text_pieces=6, drop_after=3)
    )
    events: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(
            model="claude-opus-5-5", max_tokens=10, messages=HELLO
        ) as stream:
            async for event in stream:
                events.append(event.type)
    assert events[0] == "message_start"
    assert "text" in events  # the text that arrived before the cut was delivered
    assert caught.value.body["error"]["type"] in ("api_error", "overloaded_error")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_upstream_timeout_is_504(
    start_proxy: Any, fake_openai: FakeOpenAI, stream: bool
) -> None:
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, request_timeout=0.5
    )
    fake_openai.enqueue(Answer(text="too late", first_delay=3))
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{url}/v1/messages",
            json={
                "model": "claude-opus-5-5",
                "max_tokens": 10,
                "stream": stream,
                "messages": HELLO,
            },
        )
        body = await response.json()
    assert response.status == 504, body
    assert body["error"]["type"] == "timeout_error"


async def test_unknown_model_is_not_found(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client.messages.create(model="gpt-nonexistent-9", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert "gpt-nonexistent-9" in caught.value.body["error"]["message"]


async def test_missing_key_says_what_to_set(start_proxy: Any) -> None:
    url = await start_proxy()
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await client.messages.create(model="claude-opus-5-5", max_tokens=10, messages=HELLO)
    assert "OPENAI_API_KEY" in caught.value.body["error"]["message"]
    assert caught.value.response.headers["x-should-retry"] == "false"
