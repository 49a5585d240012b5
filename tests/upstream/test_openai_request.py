"""Both engines, one fake: the native upstream sends what real LiteLLM 1.106 sends, and the
translator makes the same Anthropic answers and errors from what each hands back.

Requests: the recorded Claude Code bodies and variants of one (sampling, thinking budgets,
tool choice, no tools, not streamed, a tool schema both sanitizers rewrite) go through
`to_openai_request` with LiteLLM's own Target, then through each engine to the fake, for a
set of models covering every family LiteLLM treats differently. The recorded bodies must be
equal. "api.openai.com" is played by the fake too: a resolver that sends `*.api.openai.com`
to 127.0.0.1 lets both engines take their official-host branches without leaving the machine.
"""

from __future__ import annotations

import copy
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from claude_proxy import errors
from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.settings import load_settings
from claude_proxy.translate.request import to_openai_request
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.translate.stream import StreamTranslator
from claude_proxy.translate.target import Target
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from claude_proxy.upstream.model_facts import bundled_model_map, facts_for
from claude_proxy.upstream.openai_answers import finish_reason_of
from claude_proxy.upstream.openai_native import NativeOpenAIUpstream
from claude_proxy.upstream.openai_params import supported_params
from tests.fakes.openai_raw import FakeOpenAIRaw, Raw, RawStream
from tests.fakes.openai_upstream import Answer, Failure, ToolCall
from tests.helpers.repo import DATA, body_of

OPENAI_MODELS = [
    "openai/gpt-4.1",  # gpt
    "openai/gpt-4",  # gpt without response_format
    "openai/o3",  # o-series without system messages
    "openai/o1",  # o-series with them
    "openai/o4-mini",
    "openai/gpt-5",  # gpt-5: minimal effort, no sampling
    "openai/gpt-5.1",  # gpt-5 whose default effort is none
    "openai/gpt-5.4",  # bridged to the Responses API with tools and effort
    "openai/gpt-6-astra",  # refuses minimal
    "openai/gpt-5-chat-latest",  # a chat model that only looks like gpt-5
    "openai/gpt-5-search-api",
    "openai/gpt-5-pro",  # responses-only
    "openai/my-local-model",  # unknown to the map
]
TOGETHER_MODELS = [
    "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",  # not in the map
    "together_ai/openai/gpt-oss-120b",  # adjustable effort
    "together_ai/moonshotai/Kimi-K3",  # declared effort levels
    "together_ai/deepseek-ai/DeepSeek-V4-Pro-0813",  # high/max efforts
    "together_ai/Qwen/Qwen3.5-9B",  # hybrid reasoning
    "together_ai/deepseek-ai/DeepSeek-R1-0528",
]
UNION_TOOL = {
    "name": "mcp__db__query",
    "description": "A tool whose schema both sanitizers rewrite",
    "input_schema": {
        "anyOf": [
            {"type": "object", "properties": {"sql": {"type": "string", "pattern": "^\\p{L}"}}},
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
        ]
    },
}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAWB8AAQAAAABJRU5ErkJggg=="


def claude_code_bodies() -> list[tuple[str, dict[str, Any]]]:
    bodies = []
    for path in sorted((DATA / "claude-code").glob("*.json")):
        body = body_of(path)
        if "max_tokens" in body:
            bodies.append((path.stem, body))
    return bodies


def variants(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    without_thinking = {k: v for k, v in body.items() if k not in ("thinking", "output_config")}
    yield (
        "sampling",
        {**body, "temperature": 0.5, "top_p": 0.9, "top_k": 5, "stop_sequences": ["X"]},
    )
    yield "temperature-1", {**without_thinking, "temperature": 1}
    for budget in (500, 1024, 2048, 8000):
        yield f"budget-{budget}", {**body, "thinking": {"type": "enabled", "budget_tokens": budget}}
    yield "no-thinking", without_thinking
    yield "tool-choice", {**body, "tool_choice": {"type": "any", "disable_parallel_tool_use": True}}
    yield (
        "no-tools",
        {k: v for k, v in body.items() if k != "tools"} | {"tool_choice": {"type": "auto"}},
    )
    yield "json", {**body, "stream": False}
    attachments = [
        {"type": "text", "text": "look"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        },
    ]
    yield (
        "union-tool-and-attachments",
        {
            **body,
            "tools": [*body["tools"], UNION_TOOL],
            "messages": [{"role": "user", "content": attachments}],
        },
    )


# Every recorded body goes to one model of each kind; the variants go to every model.
EVERY_BODY = {"openai/gpt-4.1", "openai/o3", "openai/gpt-5", *TOGETHER_MODELS[:2]}


def cases(model: str) -> list[tuple[str, dict[str, Any]]]:
    bodies = claude_code_bodies()
    base = dict(bodies)["02-bash-roundtrip"]
    found = [(f"02-bash-roundtrip:{name}", body) for name, body in variants(base)]
    return (bodies if model in EVERY_BODY else []) + found


@pytest.fixture
def official_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """`*.api.openai.com` resolves to the fake; every other name as before."""
    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".api.openai.com"):
            host = "127.0.0.1"
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
async def fake(aiohttp_server: Any) -> AsyncIterator[FakeOpenAIRaw]:
    fake = FakeOpenAIRaw()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/v1"))
    yield fake
    fake.release.set()


def engines(base_url: str) -> tuple[LiteLLMUpstream, NativeOpenAIUpstream]:
    settings = load_settings(
        {
            "openai_api_key": "sk-test-key-0001",
            "openai_api_base": base_url,
            "togetherai_api_key": "tg-test-key-0001",
            "togetherai_api_base": base_url,
        },
        env_file=None,
    )
    return LiteLLMUpstream(settings), NativeOpenAIUpstream(settings)


async def send(upstream: Any, request: dict[str, Any]) -> None:
    try:
        if request.get("stream"):
            async for _ in upstream.stream(copy.deepcopy(request)):
                pass
        else:
            await upstream.complete(copy.deepcopy(request))
    except errors.ProxyError:
        pass  # a bridged request fails on LiteLLM; what was sent is what counts


async def compare_bodies(fake: FakeOpenAIRaw, base_url: str, models: list[str]) -> list[Any]:
    litellm, native = engines(base_url)
    different: list[Any] = []
    for model in models:
        provider = model.partition("/")[0]
        target = await litellm.target(model, provider)
        quirks = quirks_for(target, ProviderOptions())
        for name, body in cases(model):
            request = quirks.prepare_request(to_openai_request(copy.deepcopy(body), target), body)
            before = len(fake.requests)
            fake.enqueue(Answer(text="ok"))
            await send(litellm, request)
            if len(fake.requests) == before:
                # LiteLLM left Chat Completions (the Responses API): native must not serve it.
                fake.queue.clear()
                if native.serves(request):
                    different.append((model, name, "LiteLLM bridged, native would serve"))
                continue
            sent_by_litellm = fake.requests[-1]
            if not native.serves(request):
                different.append((model, name, "native refuses what LiteLLM sends"))
                continue
            fake.enqueue(Answer(text="ok"))
            await send(native, request)
            if fake.requests[-1] != sent_by_litellm or len(fake.requests) != before + 2:
                different.append((model, name, sent_by_litellm, fake.requests[-1]))
    await litellm.aclose()
    await native.aclose()
    return different


async def test_request_bodies_equal_litellms(fake: FakeOpenAIRaw) -> None:
    assert await compare_bodies(fake, fake.base_url, OPENAI_MODELS + TOGETHER_MODELS) == []


async def test_request_bodies_equal_litellms_on_openais_host(
    fake: FakeOpenAIRaw, official_host: None
) -> None:
    base = fake.base_url.replace("127.0.0.1", "fake.api.openai.com")
    assert await compare_bodies(fake, base, OPENAI_MODELS) == []
    unions = [
        tool["function"]["parameters"]
        for sent in fake.requests
        for tool in sent.get("tools", [])
        if tool["function"]["name"] == "mcp__db__query"
    ]
    assert unions and all(union == unions[0] for union in unions)
    assert unions[0] == {  # flattened, the regex gone: on both engines
        "type": "object",
        "properties": {"sql": {"type": "string"}, "id": {"type": "integer"}},
    }


def test_supported_params_equal_litellms() -> None:
    from claude_proxy.upstream.litellm_client import import_litellm

    litellm = import_litellm()
    different = []
    models = [
        key
        if key.startswith(f"{entry['litellm_provider']}/")
        else f"{entry['litellm_provider']}/{key}"
        for key, entry in bundled_model_map().entries.items()
        if entry.get("litellm_provider") in ("openai", "together_ai")
    ] + ["openai/my-local-model", "openai/gpt-5.9", "together_ai/some/unlisted"]
    for model in models:
        provider, _, bare = model.partition("/")
        theirs = litellm.get_supported_openai_params(model=bare, custom_llm_provider=provider)
        if supported_params(facts_for(model)) != theirs:
            different.append(model)
    assert different == []


def test_finish_reasons_equal_litellms() -> None:
    from claude_proxy.upstream.litellm_client import import_litellm

    import_litellm()
    from litellm.litellm_core_utils.core_helpers import _FINISH_REASON_MAP, map_finish_reason

    for value in [*_FINISH_REASON_MAP, "banana", "eos"]:
        assert finish_reason_of(value) == map_finish_reason(value), value


# --- answers, through the translator ---------------------------------------------------------

USAGE = {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [choice],
        **extra,
    }


def usage_chunk(usage: dict[str, Any] = USAGE) -> dict[str, Any]:
    return {**chunk({}), "choices": [], "usage": usage}


def completion(
    message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] = USAGE
) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [choice],
        "usage": usage,
    }


TOOLS = [
    ToolCall("call_1", "Bash", '{"command": "ls -la"}'),
    ToolCall("call_2", "Read", '{"file_path": "/x"}'),
]
ANSWERS: dict[str, Answer | RawStream] = {
    "text": Answer(text="Hello there, world", text_pieces=4),
    "tools interleaved": Answer(text="Let me look", tool_calls=TOOLS, interleave=True),
    "reasoning and cache": Answer(text="ok", reasoning="thinking hard", cached_tokens=5),
    "length": Answer(text="cut", finish_reason="length"),
    "content filter": Answer(text="no", finish_reason="content_filter"),
    "reasoning field": RawStream(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"reasoning": "hm "}),
            chunk({"reasoning": "ok"}),
            chunk({"content": "Hi"}),
            chunk({}, "stop"),
            usage_chunk(),
        ],
        completion=completion({"content": "Hi", "reasoning": "hm ok"}),
    ),
    "together eos": RawStream(
        [chunk({"content": "Hi"}), chunk({}, "eos"), usage_chunk()],
        completion=completion({"content": "Hi"}, "eos"),
    ),
    "anthropic-style finish": RawStream(
        [chunk({"content": "Hi"}), chunk({}, "max_tokens"), usage_chunk()],
        completion=completion({"content": "Hi"}, "max_tokens"),
    ),
    "think tags": RawStream(
        [
            chunk({"content": "<think>hm</think>"}),
            chunk({"content": "Hello"}),
            chunk({}, "stop"),
            usage_chunk(),
        ],
        completion=completion({"content": "<think>hm</think>Hello"}),
    ),
    "usage in the final chunk": RawStream(
        [chunk({"content": "Hi"}), chunk({}, "stop", usage=USAGE)],
        completion=completion({"content": "Hi"}),
    ),
    "tool call without index or id": RawStream(
        [
            chunk({"tool_calls": [{"function": {"name": "Bash", "arguments": '{"a":'}}]}),
            chunk({"tool_calls": [{"function": {"arguments": "1}"}}]}),
            chunk({}, "tool_calls"),
            usage_chunk(),
        ],
        completion=completion(
            {
                "content": None,
                "tool_calls": [
                    {"type": "function", "function": {"name": "Bash", "arguments": '{"a":1}'}}
                ],
            },
            "tool_calls",
        ),
    ),
    "empty choices mid-way": RawStream(
        [
            chunk({"content": "A"}),
            {**chunk({}), "choices": []},
            chunk({"content": "B"}),
            chunk({}, "stop"),
            usage_chunk(),
        ],
        completion=completion({"content": "AB"}),
    ),
    "refusal": RawStream(
        [chunk({"refusal": "I can't"}), chunk({}, "stop"), usage_chunk()],
        completion=completion({"content": None, "refusal": "I can't"}),
    ),
    "cache details": RawStream(
        [
            chunk({"content": "Hi"}),
            chunk({}, "stop"),
            usage_chunk(
                {
                    **USAGE,
                    "prompt_tokens_details": {"cached_tokens": 40, "cache_write_tokens": 10},
                    "completion_tokens_details": {"reasoning_tokens": 4},
                }
            ),
        ],
        completion=completion(
            {"content": "Hi"},
            usage={
                **USAGE,
                "prompt_tokens_details": {"cached_tokens": 40, "cache_write_tokens": 10},
            },
        ),
    ),
    "no [DONE]": RawStream(
        [chunk({"content": "Hi"}), chunk({}, "stop"), usage_chunk()],
        done=False,
        completion=completion({"content": "Hi"}),
    ),
    "reasoning after text": RawStream(
        [
            chunk({"content": "Hi"}),
            chunk({"reasoning_content": "late"}),
            chunk({}, "stop"),
            usage_chunk(),
        ],
        completion=completion({"content": "Hi", "reasoning_content": "late"}),
    ),
    "two choices": RawStream(
        [
            {
                **chunk({}),
                "choices": [
                    {"index": 1, "delta": {"content": "X"}, "finish_reason": None},
                    {"index": 0, "delta": {"content": "Y"}, "finish_reason": None},
                ],
            },
            chunk({}, "stop"),
            usage_chunk(),
        ],
        completion={
            **completion({"content": "Y"}),
            "choices": [
                {
                    "index": 1,
                    "message": {"role": "assistant", "content": "X"},
                    "finish_reason": "stop",
                },
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Y"},
                    "finish_reason": "stop",
                },
            ],
        },
    ),
}
GENERATED_IDS = re.compile(
    r'"(?:(?:msg|toolu)_[A-Za-z0-9_-]{20,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"'
)


def without_generated_ids(value: Any) -> Any:
    """Ids made up where the upstream sent none (LiteLLM: a uuid; native: the translator's)."""
    return json.loads(GENERATED_IDS.sub('"<generated>"', json.dumps(value, sort_keys=True)))


async def anthropic_answer(
    upstream: Any, fake: FakeOpenAIRaw, answer: Any, model: str, stream: bool
) -> Any:
    if isinstance(answer, Answer):
        fake.enqueue(copy.deepcopy(answer))
    else:
        fake.enqueue_raw(copy.deepcopy(answer))
    request: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10,
        "stream": stream,
    }
    target = Target(model=model, provider=model.partition("/")[0])
    if stream:
        request["stream_options"] = {"include_usage": True}
        translator = StreamTranslator(
            requested_model="claude", message_id="msg_fixed", target=target
        )
        events = [event async for c in upstream.stream(request) for event in translator.feed(c)]
        return without_generated_ids(events + translator.finish())
    response = await upstream.complete(request)
    return without_generated_ids(
        to_anthropic_message(response, requested_model="claude", target=target)
    )


@pytest.mark.parametrize(
    "model", ["openai/gpt-4.1", TOGETHER_MODELS[0]], ids=["openai", "together"]
)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_the_translator_answers_the_same(
    fake: FakeOpenAIRaw, model: str, stream: bool
) -> None:
    litellm, native = engines(fake.base_url)
    different = []
    for name, answer in ANSWERS.items():
        expected = await anthropic_answer(litellm, fake, answer, model, stream)
        got = await anthropic_answer(native, fake, answer, model, stream)
        if got != expected:
            different.append((name, expected, got))
    await litellm.aclose()
    await native.aclose()
    assert different == []


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
async def test_where_the_native_answer_differs_on_purpose(fake: FakeOpenAIRaw) -> None:
    """Three answers come out differently, each for the better or for the CPU."""
    litellm, native = engines(fake.base_url)
    model = "openai/gpt-4.1"
    # 1. No usage from the upstream: LiteLLM counts tokens itself; native reports none.
    no_usage = RawStream([chunk({"content": "Hi"}), chunk({}, "stop")])
    estimated = (await anthropic_answer(litellm, fake, no_usage, model, True))[-2][1]["usage"]
    reported = (await anthropic_answer(native, fake, no_usage, model, True))[-2][1]["usage"]
    assert estimated["input_tokens"] > 0 and reported["input_tokens"] == 0
    # 2. vLLM's matched stop sequence: LiteLLM's stream drops it, so the stop is not reported.
    fake.enqueue_raw(
        RawStream(
            [
                chunk({"content": "Hi"}),
                {
                    **chunk({}),
                    "choices": [
                        {"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "END"}
                    ],
                },
                usage_chunk(),
            ]
        )
    )
    translator = StreamTranslator(requested_model="c", stop_sequences=["END"])
    events = [
        e
        async for c in native.stream({"model": model, "messages": [], "stream": True})
        for e in translator.feed(c)
    ]
    events += translator.finish()
    assert events[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}
    # 3. Content as a list of text parts: LiteLLM fails (JSON) or loses the text (stream).
    parts = RawStream(
        [chunk({"content": [{"type": "text", "text": "Hi"}]}), chunk({}, "stop"), usage_chunk()],
        completion=completion({"content": [{"type": "text", "text": "Hi"}]}),
    )
    message = await anthropic_answer(native, fake, parts, model, False)
    assert message["content"] == [{"type": "text", "text": "Hi"}]
    with pytest.raises(errors.ProxyError):
        await anthropic_answer(litellm, fake, parts, model, False)
    await litellm.aclose()
    await native.aclose()


# --- errors ----------------------------------------------------------------------------------

CONTEXT = "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens."
FAILURES: dict[str, Failure | Raw | RawStream] = {
    **{
        str(status): Failure(
            status,
            f"failure {status} (key sk-test-key-0001)",
            headers={"retry-after": "7", "retry-after-ms": "7000"} if status == 429 else {},
        )
        for status in (400, 401, 402, 403, 404, 409, 413, 418, 422, 429, 500, 502, 503, 529)
    },
    "context overflow": Failure(
        400, CONTEXT, error_type="invalid_request_error", code="context_length_exceeded"
    ),
    "html 502": Raw(502, b"<html><body>Bad gateway</body></html>", "text/html"),
    "plain-text 400": Raw(400, b"model not loaded", "text/plain"),
    "error behind a 200": RawStream([], completion={"error": {"message": "bad thing"}}),
}
# Same class and headers; the messages differ only by LiteLLM's noise around them.
LOOSE = {"408", "504", "empty 500"}
FAILURES |= {
    "408": Failure(408, "slow"),
    "504": Failure(504, "gateway timeout"),
    "empty 500": Raw(500, b"", "text/plain"),
}


async def error_of(
    upstream: Any, fake: FakeOpenAIRaw, failure: Any, model: str, stream: bool
) -> tuple[Any, ...]:
    if isinstance(failure, Failure):
        fake.enqueue(copy.deepcopy(failure))
        if failure.status == 422 and model.startswith("openai/"):
            # LiteLLM's OpenAI path retries a 422 once (without the parameters it names), so
            # a 422 then an answer is no error on either engine. (Two 422s crash LiteLLM's
            # path with an AttributeError; native answers 400 invalid_request_error.)
            fake.enqueue(Answer(text="second try"))
    else:
        fake.enqueue_raw(copy.deepcopy(failure))
    request: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10,
        "stream": stream,
    }
    try:
        if stream:
            async for _ in upstream.stream(request):
                pass
        else:
            await upstream.complete(request)
    except errors.ProxyError as exc:
        return type(exc), exc.message, exc.headers
    return ("no error",)


@pytest.mark.parametrize(
    "model", ["openai/gpt-4.1", TOGETHER_MODELS[0]], ids=["openai", "together"]
)
async def test_errors_equal_litellms(fake: FakeOpenAIRaw, model: str) -> None:
    litellm, native = engines(fake.base_url)
    different = []
    for name, failure in FAILURES.items():
        for stream in (False, True):
            if isinstance(failure, RawStream) and stream:
                continue
            expected = await error_of(litellm, fake, failure, model, stream)
            fake.queue.clear()
            got = await error_of(native, fake, failure, model, stream)
            fake.queue.clear()
            same = got[0] is expected[0] and got[2:] == expected[2:]
            if not same or (name not in LOOSE and got != expected):
                different.append((name, stream, expected, got))
    await litellm.aclose()
    await native.aclose()
    assert different == []
