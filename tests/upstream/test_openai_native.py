"""The native upstream against the fake OpenAI server: requests, answers, every failure."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import subprocess
import sys
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from claude_proxy import errors
from claude_proxy.settings import load_settings
from claude_proxy.upstream.openai_native import MAX_ERROR_BYTES, NativeOpenAIUpstream
from tests.fakes.openai_raw import FakeOpenAIRaw, Raw, RawStream
from tests.fakes.openai_upstream import Answer, Failure, ToolCall

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-native-0001"
MAVERICK = "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
HELLO = [{"role": "user", "content": "hello"}]


def request(model: str = "openai/gpt-4.1", stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": HELLO, "max_tokens": 50, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return {**body, **extra}


@pytest.fixture
async def fake(aiohttp_server: Any) -> AsyncIterator[FakeOpenAIRaw]:
    fake = FakeOpenAIRaw()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/v1"))
    yield fake
    fake.release.set()


@pytest.fixture
async def upstream(fake: FakeOpenAIRaw) -> AsyncIterator[NativeOpenAIUpstream]:
    native = NativeOpenAIUpstream(settings_for(fake))
    yield native
    await native.aclose()


def settings_for(fake: FakeOpenAIRaw, **overrides: Any) -> Any:
    values = {
        "openai_api_key": KEY,
        "openai_api_base": fake.base_url,
        "togetherai_api_key": "tg-test-key",
        "togetherai_api_base": fake.base_url,
        **overrides,
    }
    return load_settings(values, env_file=None)


async def collect(chunks: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [chunk async for chunk in chunks]


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
    )


# --- requests and answers --------------------------------------------------------------------


async def test_complete_returns_the_completion_as_a_dict(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue(Answer(text="Hi there", tool_calls=[ToolCall("call_1", "Bash", '{"a": 1}')]))
    response = await upstream.complete(request())
    message = response["choices"][0]["message"]
    assert message["content"] == "Hi there"
    assert message["tool_calls"][0]["function"] == {"name": "Bash", "arguments": '{"a": 1}'}
    assert response["usage"]["prompt_tokens"] == 21
    sent = fake.requests[-1]
    assert sent["model"] == "gpt-4.1" and "stream" not in sent
    headers = fake.headers[-1]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["User-Agent"].startswith("claude-proxy/")


async def test_stream_yields_every_chunk_then_the_usage(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue(Answer(text="Hello, streaming world", text_pieces=5, cached_tokens=4))
    chunks = await collect(upstream.stream(request(stream=True)))
    assert text_of(chunks) == "Hello, streaming world"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens_details"] == {"cached_tokens": 4}
    assert fake.requests[-1]["stream_options"] == {"include_usage": True}


async def test_together_goes_to_its_base_with_its_key(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue(Answer(text="ok"))
    await upstream.complete(request(MAVERICK))
    assert fake.requests[-1]["model"] == "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
    assert fake.requests[-1]["stream"] is False  # LiteLLM's Together path sends it too
    assert fake.headers[-1]["Authorization"] == "Bearer tg-test-key"


async def test_reasoning_and_finish_reasons_are_shaped_as_litellm_shapes_them(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    fake.enqueue_raw(RawStream([chunk({"reasoning": "hm"}), chunk({"content": "Hi"}, "eos")]))
    chunks = await collect(upstream.stream(request(MAVERICK, stream=True)))
    assert chunks[0]["choices"][0]["delta"] == {"reasoning_content": "hm"}
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    completion = {
        "choices": [
            {"index": 0, "message": {"content": "<think>plan</think>Done"}, "finish_reason": "eos"}
        ]
    }
    fake.enqueue_raw(RawStream([], completion=completion))
    message = (await upstream.complete(request(MAVERICK)))["choices"][0]
    assert message["message"] == {"content": "Done", "reasoning_content": "plan"}
    assert message["finish_reason"] == "stop"


async def test_closing_the_stream_closes_the_upstream_connection(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue(Answer(text="x" * 400, text_pieces=400, delay=0.01))
    chunks = upstream.stream(request(stream=True))
    first = await anext(chunks)
    assert first["choices"][0]["delta"]["role"] == "assistant"
    await chunks.aclose()
    await asyncio.wait_for(fake.disconnected.wait(), 30)


async def test_a_silent_stream_closed_by_the_client_is_seen_upstream(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue_raw(RawStream([{"choices": [{"index": 0, "delta": {"content": "a"}}]}], hang=True))
    chunks = upstream.stream(request(stream=True))
    await anext(chunks)
    await chunks.aclose()
    await asyncio.wait_for(fake.disconnected.wait(), 30)


class Request(dict[str, Any]):
    """A request dict that a weak reference can watch."""


async def test_a_stream_lets_go_of_its_request_once_it_is_sent(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    # Held for the whole answer, every in-flight stream kept its translated request alive.
    fake.enqueue_raw(RawStream([{"choices": [{"index": 0, "delta": {"content": "a"}}]}], hang=True))
    sent = Request(request(stream=True))
    watched = weakref.ref(sent)
    chunks = upstream.stream(sent)
    del sent
    await anext(chunks)
    gc.collect()
    assert watched() is None
    await chunks.aclose()


async def test_the_session_is_made_on_first_use_and_closed_once(fake: FakeOpenAIRaw) -> None:
    native = NativeOpenAIUpstream(settings_for(fake))
    assert native._client is None
    fake.enqueue(Answer(text="a"), Answer(text="b"))
    await native.complete(request())
    session = native._client
    assert session is not None and session.trust_env
    await native.complete(request())
    assert native._client is session  # one pooled session
    await native.aclose()
    assert session.closed and native._client is None
    await native.aclose()


async def test_finished_answers_leave_the_connection_for_the_next(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    for stream in (True, False, True):
        fake.enqueue(Answer(text="pooled", text_pieces=2))
        if stream:
            await collect(upstream.stream(request(stream=True)))
        else:
            await upstream.complete(request())
    assert len(set(fake.peers)) == 1


# --- keys and bases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("openai/gpt-4.1", "No key for OpenAI: set OPENAI_API_KEY (or put it in .env)."),
        (MAVERICK, "No key for Together: set TOGETHERAI_API_KEY (or put it in .env)."),
    ],
)
async def test_missing_key(model: str, message: str) -> None:
    native = NativeOpenAIUpstream(load_settings(env_file=None))
    with pytest.raises(errors.MissingKeyError) as caught:
        await native.complete(request(model))
    assert caught.value.message == message
    assert caught.value.headers == {"x-should-retry": "false"}
    with pytest.raises(errors.MissingKeyError):
        await collect(native.stream(request(model, stream=True)))
    await native.aclose()


async def test_a_custom_base_needs_no_key(fake: FakeOpenAIRaw) -> None:
    native = NativeOpenAIUpstream(load_settings({"openai_api_base": fake.base_url}, env_file=None))
    fake.enqueue(Answer(text="local"))
    await native.complete(request("openai/llama3.2"))
    assert fake.headers[-1]["Authorization"] == "Bearer no-key-needed"
    assert fake.requests[-1]["model"] == "llama3.2"
    await native.aclose()


def test_serves_only_what_chat_completions_can_take(fake: FakeOpenAIRaw) -> None:
    native = NativeOpenAIUpstream(settings_for(fake))
    tools = [{"type": "function", "function": {"name": "t", "parameters": {"type": "object"}}}]
    assert native.serves(request())
    assert native.serves(request(MAVERICK))
    assert not native.serves(request("gemini/gemini-2.5-pro"))
    assert not native.serves(request("openai/gpt-5-pro"))  # the map lists it as responses-only
    # gpt-5.4+ with function tools while reasoning: LiteLLM bridges to the Responses API.
    assert not native.serves(request("openai/gpt-5.4", tools=tools, reasoning_effort="high"))
    assert native.serves(request("openai/gpt-5.4", tools=tools))  # custom base, effort unset
    official = NativeOpenAIUpstream(load_settings({"openai_api_key": "k"}, env_file=None))
    assert not official.serves(request("openai/gpt-5.4", tools=tools))


async def test_a_request_only_the_responses_api_takes_is_refused_before_sending(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    with pytest.raises(errors.ApiError, match="Responses API"):
        await upstream.complete(request("openai/gpt-5-pro"))
    assert fake.requests == []


# --- failures --------------------------------------------------------------------------------

STATUSES = [
    (400, errors.InvalidRequestError, "Invalid value for 'messages'"),
    (401, errors.AuthenticationError, "Incorrect API key provided"),
    (402, errors.BillingError, "Insufficient balance"),
    (403, errors.PermissionDeniedError, "Not allowed"),
    (404, errors.NotFoundError, "The model does not exist"),
    (408, errors.UpstreamTimeoutError, "upstream timed out: Request timed out"),
    (413, errors.RequestTooLargeError, "Request too large"),
    (422, errors.InvalidRequestError, "Unprocessable"),
    (429, errors.RateLimitError, "Rate limit reached"),
    (500, errors.ApiError, "upstream error 500: The server had an error"),
    (502, errors.ApiError, "upstream error 502: Bad gateway"),
    (503, errors.OverloadedError, "The engine is currently overloaded"),
    (504, errors.UpstreamTimeoutError, "upstream timed out: Gateway timeout"),
    (529, errors.OverloadedError, "Overloaded"),
]


@pytest.mark.parametrize(("status", "error_class", "message"), STATUSES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_status_classes(
    fake: FakeOpenAIRaw,
    upstream: NativeOpenAIUpstream,
    status: int,
    error_class: type[errors.ProxyError],
    message: str,
    stream: bool,
) -> None:
    upstream_message = message.rpartition(": ")[2] + f" (key {KEY})"
    retry = {"retry-after": "7", "retry-after-ms": "7000"} if status == 429 else {}
    failures = [Failure(status, upstream_message, headers=retry)]
    if status == 422:
        failures *= 2  # the OpenAI path retries a 422 once
    fake.enqueue(*failures)
    with pytest.raises(errors.ProxyError) as caught:
        if stream:
            await collect(upstream.stream(request(stream=True)))
        else:
            await upstream.complete(request())
    error = caught.value
    assert type(error) is error_class
    assert error.message == f"{message} (key ***)"
    assert KEY not in error.message
    assert error.headers == retry


async def test_a_422_is_retried_once_without_the_parameters_it_names(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    detail = {"detail": [{"loc": ["body", "user"], "msg": "extra fields not permitted"}]}
    fake.enqueue(Failure(422, json.dumps(detail)), Answer(text="fine"))
    response = await upstream.complete(request(user="someone"))
    assert response["choices"][0]["message"]["content"] == "fine"
    assert fake.requests[0]["user"] == "someone" and "user" not in fake.requests[1]


async def test_context_overflow_carries_the_numbers(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue(
        Failure(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.",
            code="context_length_exceeded",
        )
    )
    with pytest.raises(errors.ContextWindowExceededError) as caught:
        await upstream.complete(request())
    assert caught.value.message == "prompt is too long: 130512 tokens > 128000 maximum"


async def test_an_unreachable_upstream() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    native = NativeOpenAIUpstream(
        load_settings({"openai_api_base": f"http://127.0.0.1:{port}/v1"}, env_file=None)
    )
    with pytest.raises(errors.ApiError, match=r"^could not reach the upstream: "):
        await native.complete(request())
    with pytest.raises(errors.ApiError, match=r"^could not reach the upstream: "):
        await collect(native.stream(request(stream=True)))
    await native.aclose()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_an_upstream_that_never_answers_times_out(fake: FakeOpenAIRaw, stream: bool) -> None:
    native = NativeOpenAIUpstream(settings_for(fake, request_timeout=0.2))
    fake.enqueue_raw(Raw(200, b"", hang_before=True))
    with pytest.raises(errors.UpstreamTimeoutError, match=r"no answer within 0\.2 s"):
        if stream:
            await collect(native.stream(request(stream=True)))
        else:
            await native.complete(request())
    await native.aclose()


async def test_a_stream_that_goes_silent_times_out(fake: FakeOpenAIRaw) -> None:
    native = NativeOpenAIUpstream(settings_for(fake, request_timeout=0.2))
    fake.enqueue_raw(RawStream([{"choices": [{"index": 0, "delta": {"content": "a"}}]}], hang=True))
    chunks = native.stream(request(stream=True))
    assert text_of([await anext(chunks)]) == "a"
    with pytest.raises(errors.UpstreamTimeoutError):
        await anext(chunks)
    await native.aclose()


async def test_a_stream_cut_mid_way_raises_from_the_iterator(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue(
        Answer(text="This answer is cut off half way through", text_pieces=6, drop_after=3)
    )
    received: list[dict[str, Any]] = []
    with pytest.raises(errors.ApiError, match=r"^the upstream stream broke off: "):
        async for chunk in upstream.stream(request(stream=True)):
            received.append(chunk)
    assert len(received) == 3


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Welcome to nginx</body></html>", "text/html"),
        (b'{"id": "chatcmpl-1", "object": "chat.completion"}', "application/json"),
        (b"", "text/event-stream"),
    ],
)
async def test_a_200_that_is_no_event_stream(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream, body: bytes, content_type: str
) -> None:
    fake.enqueue_raw(Raw(200, body, content_type))
    with pytest.raises(errors.ApiError) as caught:
        await collect(upstream.stream(request(stream=True)))
    assert isinstance(caught.value, errors.IncompleteAnswerError)
    assert caught.value.message.startswith("the upstream answered 200")
    assert caught.value.status == 502


async def test_events_that_are_not_json(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue_raw(RawStream(["data: {not json\n\n"]))
    with pytest.raises(errors.ApiError, match="not with JSON events"):
        await collect(upstream.stream(request(stream=True)))


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[1, 2]", b'{"object": "x"}'])
async def test_a_200_that_is_no_completion(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream, body: bytes
) -> None:
    fake.enqueue_raw(Raw(200, body))
    with pytest.raises(
        errors.IncompleteAnswerError, match=r"^the upstream answered .* a chat completion"
    ):
        await upstream.complete(request())


async def test_errors_behind_a_200(fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream) -> None:
    event = {"error": {"message": "engine overloaded", "code": 503}}
    fake.enqueue_raw(RawStream([event]))
    with pytest.raises(errors.OverloadedError, match="engine overloaded"):
        await collect(upstream.stream(request(stream=True)))
    fake.enqueue_raw(RawStream([{"error": {"message": "boom"}}]))
    with pytest.raises(errors.ApiError, match="upstream error 500: boom"):
        await collect(upstream.stream(request(stream=True)))
    fake.enqueue_raw(Raw(200, json.dumps({"error": {"message": "bad thing"}}).encode()))
    with pytest.raises(errors.InvalidRequestError, match="bad thing"):
        await upstream.complete(request())


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_huge_error_body_is_read_only_up_to_the_cap(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream, stream: bool
) -> None:
    # Endless: reading it whole would never finish, so the cap is what lets this return.
    page = b"<html>" + b"x" * 256 * 1024
    assert len(page) > MAX_ERROR_BYTES
    fake.enqueue_raw(Raw(503, page, "text/html", hang_after=True))
    with pytest.raises(errors.OverloadedError) as caught:
        if stream:
            await collect(upstream.stream(request(stream=True)))
        else:
            await upstream.complete(request())
    assert len(caught.value.message) <= 2000


async def test_keys_never_reach_messages(
    fake: FakeOpenAIRaw, upstream: NativeOpenAIUpstream
) -> None:
    fake.enqueue_raw(Raw(200, f"<p>bad key {KEY}</p>".encode(), "text/html"))
    with pytest.raises(errors.ApiError) as caught:
        await collect(upstream.stream(request(stream=True)))
    assert KEY not in caught.value.message and "***" in caught.value.message


def test_importing_the_native_upstream_is_cheap() -> None:
    script = (
        "import sys\n"
        "import claude_proxy.upstream.openai_native\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'litellm', 'openai', 'httpx', 'tiktoken'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


async def test_the_upstream_pool_is_as_large_as_the_client_side_cap() -> None:
    """One upstream connection per stream: a pool smaller than MAX_CONNECTIONS would make
    streams past it wait (aiohttp's default is 100)."""
    settings = load_settings({"openai_api_key": "k", "max_connections": 750}, env_file=None)
    native = NativeOpenAIUpstream(settings)
    session = native._session()
    assert session.connector is not None and session.connector.limit == 750
    await native.aclose()
