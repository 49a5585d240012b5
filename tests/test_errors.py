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


def test_error_body_shape() -> None:
    from claude_proxy import errors

    error = errors.ContextWindowExceededError(205351, 200000)
    assert (error.status, error.error_type) == (400, "invalid_request_error")
    assert error.to_body("req_1") == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "prompt is too long: 205351 tokens > 200000 maximum",
        },
        "request_id": "req_1",
    }


async def test_missing_key_says_what_to_set(start_proxy: Any) -> None:
    url = await start_proxy()
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await client.messages.create(model="claude-opus-5-5", max_tokens=10, messages=HELLO)
    assert "OPENAI_API_KEY" in caught.value.body["error"]["message"]
    assert caught.value.response.headers["x-should-retry"] == "false"


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


async def test_body_too_large_is_413(start_proxy: Any, fake_openai: FakeOpenAI) -> None:
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, max_request_bytes=1000
    )
    payload = {
        "model": "claude-opus-5-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "x" * 2000}],
    }
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/v1/messages", json=payload)
        body = await response.json()
    assert response.status == 413
    assert body["error"]["type"] == "request_too_large"


async def test_unknown_route_is_anthropic_404(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{proxy_url}/v1/complete", json={})
        body = await response.json()
    assert response.status == 404
    assert body["error"]["type"] == "not_found_error"


async def test_a_bug_in_the_proxy_is_a_json_500_not_a_traceback(aiohttp_client: Any) -> None:
    from claude_proxy.server.app import create_app
    from claude_proxy.settings import load_settings
    from claude_proxy.translate.target import Target

    class BrokenUpstream:
        def provider_of(self, model: str) -> str | None:
            return None

        def is_provider(self, prefix: str) -> bool:
            return False

        def target(self, model: str, provider: str) -> Target:
            return Target(model=model, provider=provider)

        async def count_tokens(self, request: dict[str, Any]) -> int:
            raise RuntimeError("tokenizer exploded")

        async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("bug")

        def stream(self, request: dict[str, Any]) -> Any:
            raise RuntimeError("bug")

        async def aclose(self) -> None:
            pass

    broken = BrokenUpstream()
    app = create_app(load_settings(env_file=None), upstream=broken)
    client = await aiohttp_client(app)
    response = await client.post(
        "/v1/messages", json={"model": "claude-opus-5-5", "max_tokens": 5, "messages": HELLO}
    )
    body = await response.json()
    assert response.status == 500
    assert body["error"]["type"] == "api_error"
    assert body["request_id"] in body["error"]["message"]
    counted = await client.post(
        "/v1/messages/count_tokens", json={"model": "claude-opus-5-5", "messages": HELLO}
    )
    assert counted.status == 500
    assert "tokenizer exploded" in (await counted.json())["error"]["message"]
