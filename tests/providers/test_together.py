"""Together: the quirks as pure functions, then end to end as `serve --provider together`: the
official SDK -> the proxy -> real LiteLLM (`together_ai/`) -> the fake OpenAI-compatible server
standing in for api.together.ai -> and the real Claude Code CLI running a tool that the fake
model wrote as text."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.providers.together import NewlineFilter, unescape_newlines
from claude_proxy.settings import load_settings
from claude_proxy.translate.target import Target
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.claude_code import run_claude
from tests.helpers.proxy import ProxyFactory

TOGETHER = Target(model="together_ai/meta-llama/Llama-4-Maverick", provider="together_ai")
MODEL = "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
KEY = "tg-test-key-0001"
CALL_ID = re.compile(r"^call_[0-9a-f]{24}$")
BASH = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
}
LS = {"command": "ls -la"}


def quirks(process_newlines: bool = True) -> Any:
    return quirks_for(TOGETHER, ProviderOptions(process_newlines=process_newlines))


def response_with(content: str | None, **message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7},
    }


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def with_fresh_ids_hidden(data: Any) -> Any:
    """`data` with every fresh tool-call id (`call_` + 24 hex digits) replaced by "<id>"."""
    if isinstance(data, dict):
        if CALL_ID.match(str(data.get("id"))) and data.get("type") in ("function", "tool_use"):
            data = {**data, "id": "<id>"}
        return {key: with_fresh_ids_hidden(value) for key, value in data.items()}
    if isinstance(data, list):
        return [with_fresh_ids_hidden(item) for item in data]
    return data


# --- pure ----------------------------------------------------------------------------------


def test_fix_response_moves_calls_written_as_text_to_tool_calls() -> None:
    text = 'Let me look.\n<function=Bash>{"command": "ls -la"}</function>\n<function=Bash>{"command": "pwd"}'
    fixed = quirks().fix_response(response_with(text), {"tools": [BASH]})
    calls = fixed["choices"][0]["message"]["tool_calls"]
    assert calls[0]["id"] != calls[1]["id"]
    assert with_fresh_ids_hidden(fixed["choices"][0]) == {
        "index": 0,
        "message": {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "<id>",
                    "type": "function",
                    "function": {"name": "Bash", "arguments": json.dumps(LS)},
                },
                {
                    "id": "<id>",
                    "type": "function",
                    "function": {"name": "Bash", "arguments": '{"command": "pwd"}'},
                },
            ],
        },
        "finish_reason": "tool_calls",
    }
    assert fixed["usage"] == {"prompt_tokens": 5, "completion_tokens": 7}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"tools": [{**BASH, "name": "Other"}]}, "the name is not an offered tool"),
        ({}, "no tools offered"),
        ({"tools": [BASH], "tool_choice": {"type": "none"}}, "tool_choice none"),
    ],
)
def test_fix_response_keeps_text_that_is_no_offered_call(body: dict[str, Any], why: str) -> None:
    text = '<function=Bash>{"command": "ls -la"}</function>'
    assert quirks().fix_response(response_with(text), body) == response_with(text), why


def test_fix_response_leaves_text_alone_when_the_model_made_real_tool_calls() -> None:
    native = [{"id": "call_x", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]
    response = response_with('<function=Bash>{"command": "ls"}</function>', tool_calls=native)
    assert quirks().fix_response(response, {"tools": [BASH]}) == response


def test_newlines_in_text_are_unescaped_and_tool_inputs_never() -> None:
    arguments = json.dumps({"command": "printf 'a\\nb'"})
    native = [
        {"id": "call_x", "type": "function", "function": {"name": "Bash", "arguments": arguments}}
    ]
    response = response_with("One\\ntwo \\\\n three", tool_calls=native)
    fixed = quirks().fix_response(response, {"tools": [BASH]})
    assert fixed["choices"][0]["message"] == {
        "role": "assistant",
        "content": "One\ntwo \\\\n three",
        "tool_calls": native,
    }
    assert quirks(process_newlines=False).fix_response(response, {"tools": [BASH]}) == response


def test_a_json_escape_inside_a_call_written_as_text_is_not_a_text_newline() -> None:
    text = 'Run it:\\n<function=Bash>{"command": "printf \\"a\\\\nb\\""}</function>'
    fixed = quirks().fix_response(response_with(text), {"tools": [BASH]})
    message = fixed["choices"][0]["message"]
    assert message["content"] == "Run it:\n"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "command": 'printf "a\\nb"'
    }


@pytest.mark.parametrize(
    ("text", "unescaped"),
    [
        ("a\\nb", "a\nb"),
        ("a\\\\nb", "a\\\\nb"),  # an escaped backslash followed by n
        ("a\\\\\\nb", "a\\\\\nb"),
        ("tab\\t and \\u00e9", "tab\\t and \\u00e9"),
        ("no escapes", "no escapes"),
    ],
)
def test_unescape_newlines(text: str, unescaped: str) -> None:
    assert unescape_newlines(text) == unescaped


def test_a_backslash_ending_a_chunk_waits_for_the_next() -> None:
    newlines = NewlineFilter()
    outputs = [
        newlines.feed(chunk({"content": "one\\"})),
        newlines.feed(chunk({"content": "ntwo\\\\"})),
        newlines.feed(chunk({"content": "n three\\"})),
        newlines.feed(chunk({}, "stop")),
    ]
    contents = [[c["choices"][0]["delta"].get("content") for c in out] for out in outputs]
    assert contents == [["one"], ["\ntwo\\\\"], ["n three"], ["\\"]]
    assert outputs[3][0]["choices"][0]["finish_reason"] == "stop"
    assert newlines.finish() == []

    cut_off = NewlineFilter()
    assert cut_off.feed(chunk({"content": "\\"})) == []
    assert [c["choices"][0]["delta"]["content"] for c in cut_off.finish()] == ["\\"]


def test_stream_filter_holds_only_what_may_be_a_call() -> None:
    stream = quirks(process_newlines=False).filter_stream({"tools": [BASH]})
    assert stream is not None
    feeds = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "I'll look"}),
        chunk({"content": " at it.\n<func"}),
        chunk({"content": 'tion=Bash>{"command"'}),
        chunk({"content": ': "ls -la"}</function>'}),
        chunk({}, "stop"),
        {"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 5}},
    ]
    outputs = [with_fresh_ids_hidden(stream.feed(c)) for c in feeds] + [stream.finish()]
    call = {
        "index": 0,
        "id": "<id>",
        "type": "function",
        "function": {"name": "Bash", "arguments": json.dumps(LS)},
    }
    assert outputs == [
        [feeds[0]],
        [feeds[1]],
        [chunk({"content": " at it."})],
        [],
        [chunk({"tool_calls": [call]})],
        [chunk({}, "tool_calls")],
        [feeds[6]],
        [],
    ]


def test_stream_filter_passes_real_tool_calls_after_the_text_calls() -> None:
    stream = quirks().filter_stream({"tools": [BASH]})
    assert stream is not None
    held = stream.feed(chunk({"content": '<function=Bash>{"command": "ls -la"}'}))
    native = {
        "index": 0,
        "id": "call_native",
        "type": "function",
        "function": {"name": "Bash", "arguments": "{}"},
    }
    out = with_fresh_ids_hidden(stream.feed(chunk({"tool_calls": [native]})))
    text_call = {
        "index": 0,
        "id": "<id>",
        "type": "function",
        "function": {"name": "Bash", "arguments": json.dumps(LS)},
    }
    assert held == []
    assert [c["choices"][0]["delta"]["tool_calls"] for c in out] == [
        [text_call],
        [{**native, "index": 1}],
    ]


def test_no_filter_without_tools_and_newline_processing() -> None:
    assert quirks(process_newlines=False).filter_stream({}) is None


# --- end to end ----------------------------------------------------------------------------


@pytest.fixture
async def together(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str
) -> AsyncIterator[anthropic.AsyncAnthropic]:
    url = await start_proxy(
        preferred_provider="together",
        togetherai_api_key=KEY,
        togetherai_api_base=fake_openai.base_url,
        upstream_engine=engine,
    )
    async with anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0) as c:
        yield c


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuses (and records) every name lookup and connection that is not loopback."""
    attempts: list[Any] = []
    loopback = ("127.0.0.1", "::1", "localhost")
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in loopback:
            attempts.append(host)
            raise socket.gaierror(f"offline test: no lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in loopback:
            attempts.append(address)
            raise OSError(f"offline test: no connection to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def comparable(message: Any) -> dict[str, Any]:
    data = message.model_dump(exclude_none=True)
    data.pop("id")
    return with_fresh_ids_hidden(data)


async def test_text_answer(
    together: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, no_internet: list[Any]
) -> None:
    fake_openai.enqueue(Answer(text="Hello from Together.", prompt_tokens=12, completion_tokens=4))
    message = await together.messages.create(
        model="claude-sonnet-5-5", max_tokens=200, messages=[{"role": "user", "content": "hi"}]
    )
    assert [block.model_dump() for block in message.content] == [
        {"type": "text", "text": "Hello from Together.", "citations": None}
    ]
    assert (message.stop_reason, message.usage.input_tokens, message.usage.output_tokens) == (
        "end_turn",
        12,
        4,
    )
    assert fake_openai.requests[0]["model"] == MODEL
    assert fake_openai.headers[0]["Authorization"] == f"Bearer {KEY}"
    assert no_internet == []


async def test_real_tool_calls_pass_with_their_ids(
    together: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    answer = Answer(
        text="Checking.", tool_calls=[ToolCall("call_native_7", "Bash", json.dumps(LS))]
    )
    fake_openai.enqueue(answer, answer)
    kwargs: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 500,
        "tools": [BASH],
        "messages": [{"role": "user", "content": "list"}],
    }
    plain = await together.messages.create(**kwargs)
    async with together.messages.stream(**kwargs) as stream:
        streamed = await stream.get_final_message()
    assert plain.stop_reason == "tool_use"
    assert [(b.type, getattr(b, "id", None)) for b in plain.content] == [
        ("text", None),
        ("tool_use", "call_native_7"),
    ]
    assert streamed.model_dump(exclude={"id"}) == plain.model_dump(exclude={"id"})


PREAMBLE = "I'll list the files.\n"
FORMS = {
    "function": PREAMBLE + '<function=Bash>{"command": "ls -la"}</function>',
    "function-no-close": PREAMBLE + '<function=Bash>{"command": "ls -la"}',
    "qwen-parameters": PREAMBLE
    + "<function=Bash>\n<parameter=command>\nls -la\n</parameter>\n</function>",
    "tool_call": PREAMBLE
    + '<tool_call>\n{"name": "Bash", "arguments": {"command": "ls -la"}}\n</tool_call>',
    "python_tag-json": PREAMBLE
    + '<|python_tag|>{"name": "Bash", "parameters": {"command": "ls -la"}}',
    "python_tag-call": PREAMBLE + '<|python_tag|>bash.call(command="ls -la")<|eom_id|>',
    "fenced-json": PREAMBLE + '```json\n{"name": "Bash", "arguments": {"command": "ls -la"}}\n```',
    "bare-object": '{"name": "Bash", "parameters": {"command": "ls -la"}}',
    "pythonic": '[Bash(command="ls -la")]',
}


@pytest.mark.parametrize("text", FORMS.values(), ids=FORMS.keys())
async def test_a_call_written_as_text_becomes_tool_use(
    together: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, text: str
) -> None:
    # In the stream the text arrives 3 characters at a time, so every marker is cut up.
    answer = Answer(text=text, text_fragments=[text[i : i + 3] for i in range(0, len(text), 3)])
    fake_openai.enqueue(answer, answer)
    kwargs: dict[str, Any] = {
        "model": "claude-sonnet-5-5",
        "max_tokens": 500,
        "tools": [BASH],
        "messages": [{"role": "user", "content": "list the files"}],
    }
    plain = await together.messages.create(**kwargs)
    async with together.messages.stream(**kwargs) as stream:
        streamed = await stream.get_final_message()
    expected_text = (
        [{"type": "text", "text": PREAMBLE.strip()}] if text.startswith(PREAMBLE) else []
    )
    assert comparable(plain) == {
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": [
            *expected_text,
            {"type": "tool_use", "id": "<id>", "name": "Bash", "input": LS},
        ],
        "stop_reason": "tool_use",
        "usage": comparable(plain)["usage"],
    }
    assert comparable(streamed) == comparable(plain)


async def test_an_image_reaches_together(
    together: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(text="A red dot."))
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    message = await together.messages.create(
        model="claude-sonnet-5-5",
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
    assert message.content[0].type == "text" and message.content[0].text == "A red dot."
    assert fake_openai.requests[0]["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel}"}},
        {"type": "text", "text": "what is this?"},
    ]


@pytest.mark.parametrize(
    ("process", "expected"), [(True, "One\nTwo\nThree"), (False, "One\\nTwo\\nThree")]
)
async def test_newline_processing_on_and_off(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, process: bool, expected: str, engine: str
) -> None:
    url = await start_proxy(
        preferred_provider="together",
        togetherai_api_key=KEY,
        togetherai_api_base=fake_openai.base_url,
        process_newlines=process,
        upstream_engine=engine,
    )
    arguments = json.dumps({"command": "printf 'x\\ny'"})
    # The stream cuts between a backslash and its n.
    answer = Answer(
        text="One\\nTwo\\nThree",
        text_fragments=["One\\", "nTwo\\nThree"],
        tool_calls=[ToolCall("call_1", "Bash", arguments)],
    )
    fake_openai.enqueue(answer, answer)
    kwargs: dict[str, Any] = {
        "model": "claude-haiku-5-5",
        "max_tokens": 100,
        "tools": [BASH],
        "messages": [{"role": "user", "content": "count"}],
    }
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        plain = await client.messages.create(**kwargs)
        async with client.messages.stream(**kwargs) as stream:
            streamed = await stream.get_final_message()
    for message in (plain, streamed):
        assert [block.type for block in message.content] == ["text", "tool_use"]
        assert message.content[0].text == expected  # type: ignore[union-attr]
        assert message.content[1].input == {"command": "printf 'x\\ny'"}  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["TOGETHER_API_KEY", "TOGETHER_AI_API_KEY", "TOGETHERAI_API_KEY"])
async def test_every_key_name_reaches_together(
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setenv(name, f"tg-key-from-{name}")
    url = await start_proxy(preferred_provider="together", togetherai_api_base=fake_openai.base_url)
    fake_openai.enqueue(Answer(text="ok"))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        await client.messages.create(
            model="claude-sonnet-5-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert fake_openai.headers[0]["Authorization"] == f"Bearer tg-key-from-{name}"


async def test_count_tokens_for_a_together_model_works_offline(
    together: anthropic.AsyncAnthropic, no_internet: list[Any]
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "hello there"}]
    counted = await together.messages.count_tokens(model="claude-sonnet-5-5", messages=messages)
    catalog = LiteLLMUpstream(load_settings({"togetherai_api_key": KEY}, env_file=None))
    direct = await catalog.count_tokens({"model": f"together_ai/{MODEL}", "messages": messages})
    assert counted.input_tokens == direct
    assert direct >= 9  # LiteLLM's cl100k count of the message; an estimate may pad it
    assert no_internet == []


async def test_a_stream_reaches_no_network_but_the_upstream(
    together: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, no_internet: list[Any]
) -> None:
    fake_openai.enqueue(Answer(text="Streamed."))
    async with together.messages.stream(
        model="claude-sonnet-5-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        message = await stream.get_final_message()
    assert message.content[0].text == "Streamed."  # type: ignore[union-attr]
    assert no_internet == []


@pytest.mark.claude_code
async def test_claude_code_runs_a_bash_call_written_as_text(
    claude: str, start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path, engine: str
) -> None:
    url = await start_proxy(
        preferred_provider="together",
        togetherai_api_key=KEY,
        togetherai_api_base=fake_openai.base_url,
        upstream_engine=engine,
    )
    workdir = tmp_path / "project"
    workdir.mkdir()
    command = {
        "command": "echo written-through-together > proof.txt",
        "description": "Write the proof file",
    }
    fake_openai.enqueue(
        Answer(text=f"I'll write the file.\n<function=Bash>{json.dumps(command)}</function>"),
        Answer(text="Done:\\nproof.txt holds the line."),
    )
    result = await run_claude(claude, url, workdir, "Write proof.txt with a shell command.")

    assert (workdir / "proof.txt").read_text().strip() == "written-through-together"
    assert result["is_error"] is False
    assert result["result"] == "Done:\nproof.txt holds the line."
    assert len(fake_openai.requests) == 2
    assert {r["model"] for r in fake_openai.requests} == {MODEL}
    second = fake_openai.requests[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    call_id = assistant["tool_calls"][0]["id"]
    assert CALL_ID.match(call_id)
    assert assistant["tool_calls"][0]["function"]["name"] == "Bash"
    assert [m["tool_call_id"] for m in second if m["role"] == "tool"] == [call_id]
