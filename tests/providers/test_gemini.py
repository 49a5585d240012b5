"""Gemini end to end: the anthropic SDK (or Claude Code) -> the proxy -> real LiteLLM -> a fake
Gemini API that checks requests the way Gemini does (tests/fakes/gemini_upstream.py).

The first tests are the quirk's pure parts; the rest go through the whole path.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest
from anthropic.types import Message

from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.providers.gemini import to_client_id, to_upstream_id
from claude_proxy.providers.gemini_schema import sanitize_schema
from claude_proxy.translate.target import Target
from tests.fakes.gemini_upstream import (
    API_KEY,
    Failure,
    FakeGemini,
    Reply,
    call,
    invalid,
    overloaded,
    rate_limited,
    text,
    thought,
)
from tests.helpers.claude_code import run_claude
from tests.helpers.proxy import ProxyFactory
from tests.helpers.repo import DATA, body_of

MODEL = "claude-opus-5-5"  # -> gemini/gemini-2.5-pro with preferred_provider google
# Real signatures are standard base64 of opaque bytes: "+", "/" and "=" all occur.
SIGNATURE_BYTES = [b"\xfb\xef\xbe\xff\xff thought one", b"\xf8\x00\x3f second thought!"]
SIG_ONE, SIG_TWO = (base64.b64encode(raw).decode() for raw in SIGNATURE_BYTES)
BASH = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
        "additionalProperties": False,
    },
}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def client_suffix(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def client_id_pattern(signature: str) -> re.Pattern[str]:
    suffix = client_suffix(base64.b64decode(signature))
    return re.compile(rf"call_[0-9a-f]{{28}}__sig__{re.escape(suffix)}")


# --- the quirk on its own ------------------------------------------------------------------


def test_signature_ids_become_anthropic_ids_and_come_back_exactly() -> None:
    assert all(c in SIG_ONE + SIG_TWO for c in "+/=")
    upstream = f"call_abc__thought__{SIG_ONE}"
    client = to_client_id(upstream)

    assert re.fullmatch(r"[a-zA-Z0-9_-]+", client)
    assert client == "call_abc__sig__" + client_suffix(SIGNATURE_BYTES[0])
    assert to_upstream_id(client) == upstream
    assert to_client_id("call_plain") == "call_plain"
    assert to_upstream_id("toolu_01abc") == "toolu_01abc"
    # Not canonical base64: only the verbatim id gives it back exactly, so it stays verbatim.
    assert to_client_id("call_x__thought__not base64!") == "call_x__thought__not base64!"


def test_prepare_request_sanitizes_a_response_schema_with_json_schema_nulls() -> None:
    quirks = quirks_for(Target(model="gemini/gemini-2.5-pro", provider="gemini"), ProviderOptions())
    schema = {
        "type": "object",
        "properties": {
            "kind": {"const": "book"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        },
        "required": ["kind"],
        "additionalProperties": False,
    }
    json_schema = {"name": "answer", "schema": schema, "strict": True}
    request = {
        "model": "gemini/gemini-2.5-pro",
        "messages": [],
        "response_format": {"type": "json_schema", "json_schema": json_schema},
    }
    sent = quirks.prepare_request(request, {})["response_format"]["json_schema"]
    assert sent["schema"] == {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["book"]},
            "note": {"type": ["string", "null"]},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        },
        "required": ["kind"],
    }
    assert request["response_format"]["json_schema"]["schema"] is schema  # untouched


def test_prepare_request_sanitizes_tools_drops_user_and_folds_text_into_tool_results() -> None:
    quirks = quirks_for(Target(model="gemini/gemini-2.5-pro", provider="gemini"), ProviderOptions())
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    request = {
        "model": "gemini/gemini-2.5-pro",
        "user": "someone",
        "tools": [
            {"type": "function", "function": {"name": "Bash", "parameters": BASH["input_schema"]}}
        ],
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1__sig__"
                        + base64.urlsafe_b64encode(SIGNATURE_BYTES[0]).decode(),
                        "type": "function",
                        "function": {"name": "Bash", "arguments": "{}"},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_1__sig__"
                + base64.urlsafe_b64encode(SIGNATURE_BYTES[0]).decode(),
                "content": "ok",
            },
            {"role": "system", "content": "Mind the time."},
            {"role": "user", "content": [{"type": "text", "text": "<reminder/>"}, image]},
        ],
    }

    prepared = quirks.prepare_request(request, {})

    assert "user" not in prepared
    assert prepared["tools"][0]["function"]["parameters"] == sanitize_schema(BASH["input_schema"])
    assert request["tools"][0]["function"]["parameters"] == BASH["input_schema"]
    assert prepared["messages"] == [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_1__thought__{SIG_ONE}",
                    "type": "function",
                    "function": {"name": "Bash", "arguments": "{}"},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": f"call_1__thought__{SIG_ONE}",
            "content": [{"type": "text", "text": "ok\n\n<reminder/>"}, image],
        },
        {"role": "system", "content": "Mind the time."},
    ]


# --- through the proxy ---------------------------------------------------------------------


@pytest.fixture
async def gemini_url(start_proxy: ProxyFactory, fake_gemini: FakeGemini) -> str:
    return await start_proxy(
        preferred_provider="google", gemini_api_key=API_KEY, gemini_api_base=fake_gemini.base_url
    )


@pytest.fixture
async def gemini(gemini_url: str) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=gemini_url, api_key="client-key", max_retries=0
    ) as client:
        yield client


async def ask(client: anthropic.AsyncAnthropic, stream: bool, **params: Any) -> Message:
    params = {"model": MODEL, "max_tokens": 1024, **params}
    if not stream:
        return await client.messages.create(**params)
    async with client.messages.stream(**params) as events:
        return await events.get_final_message()


def dumped(message: Message) -> list[dict[str, Any]]:
    return [block.model_dump(exclude_none=True) for block in message.content]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_text_answers_arrive_with_gemini_seeing_what_gemini_wants(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini, stream: bool
) -> None:
    fake_gemini.enqueue(Reply([text("Hello from Gemini.")], prompt_tokens=30, output_tokens=6))

    message = await ask(
        gemini,
        stream,
        system="Be brief.",
        messages=[{"role": "user", "content": "Say hello."}],
        metadata={"user_id": "user-1234"},
    )

    assert dumped(message) == [{"type": "text", "text": "Hello from Gemini."}]
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (30, 6)
    method = "streamGenerateContent" if stream else "generateContent"
    assert fake_gemini.calls == [("gemini-2.5-pro", method)]
    assert fake_gemini.headers[0]["x-goog-api-key"] == API_KEY
    assert fake_gemini.requests == [
        {
            "contents": [{"role": "user", "parts": [{"text": "Say hello."}]}],
            "system_instruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"max_output_tokens": 1024},
        }
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_function_calls_become_tool_use_blocks_with_anthropic_ids(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini, stream: bool
) -> None:
    fake_gemini.enqueue(
        Reply([text("Listing."), call("Bash", {"command": "ls -la"}, signature=SIG_ONE)])
    )

    message = await ask(gemini, stream, tools=[BASH], messages=[{"role": "user", "content": "ls"}])

    first, second = dumped(message)
    assert first == {"type": "text", "text": "Listing."}
    assert (second["type"], second["name"], second["input"]) == (
        "tool_use",
        "Bash",
        {"command": "ls -la"},
    )
    assert client_id_pattern(SIG_ONE).fullmatch(second["id"])
    assert message.stop_reason == "tool_use"
    declaration = fake_gemini.requests[0]["tools"][0]["function_declarations"][0]
    assert declaration == {
        "name": "Bash",
        "description": "Run a shell command",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    }


async def test_a_three_turn_tool_loop_gives_gemini_back_every_thought_signature(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini
) -> None:
    fake_gemini.enqueue(
        Reply([text("Listing."), call("Bash", {"command": "ls"}, signature=SIG_ONE)]),
        Reply([call("Bash", {"command": "wc -l a.txt"}, signature=SIG_TWO)]),
        Reply([text("a.txt has 3 lines.")]),
    )
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "List the files, then count a.txt's lines."}
    ]

    first = await ask(gemini, True, tools=[BASH], messages=history)
    history += [
        {"role": "assistant", "content": dumped(first)},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": first.content[1].id,
                    "content": "a.txt\nb.txt",
                },
                {"type": "text", "text": "<system-reminder>Keep going.</system-reminder>"},
            ],
        },
    ]
    second = await ask(gemini, True, tools=[BASH], messages=history)
    history += [
        {"role": "assistant", "content": dumped(second)},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": second.content[0].id, "content": "3 a.txt"}
            ],
        },
    ]
    third = await ask(gemini, True, tools=[BASH], messages=history)

    assert dumped(third) == [{"type": "text", "text": "a.txt has 3 lines."}]
    assert fake_gemini.rejections == []
    assert fake_gemini.requests[1]["contents"] == [
        {"role": "user", "parts": [{"text": "List the files, then count a.txt's lines."}]},
        {
            "role": "model",
            "parts": [
                {"text": "Listing."},
                {
                    "function_call": {"name": "Bash", "args": {"command": "ls"}},
                    "thoughtSignature": SIG_ONE,
                },
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "function_response": {
                        "name": "Bash",
                        "response": {
                            "content": "a.txt\nb.txt\n\n<system-reminder>Keep going.</system-reminder>"
                        },
                    }
                }
            ],
        },
    ]
    assert fake_gemini.requests[2]["contents"][1:] == [
        *fake_gemini.requests[1]["contents"][1:],
        {
            "role": "model",
            "parts": [
                {
                    "function_call": {"name": "Bash", "args": {"command": "wc -l a.txt"}},
                    "thoughtSignature": SIG_TWO,
                }
            ],
        },
        {
            "role": "user",
            "parts": [{"function_response": {"name": "Bash", "response": {"content": "3 a.txt"}}}],
        },
    ]


async def test_gemini_refuses_a_function_call_replayed_without_its_signature(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini
) -> None:
    fake_gemini.enqueue(Reply([call("Bash", {"command": "ls"}, signature=SIG_ONE)]))
    first = await ask(gemini, False, tools=[BASH], messages=[{"role": "user", "content": "ls"}])
    unsigned = {**dumped(first)[0], "id": "call_without_signature"}

    with pytest.raises(anthropic.BadRequestError) as caught:
        await ask(
            gemini,
            False,
            tools=[BASH],
            messages=[
                {"role": "user", "content": "ls"},
                {"role": "assistant", "content": [unsigned]},
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "call_without_signature",
                            "content": "a",
                        }
                    ],
                },
            ],
        )

    assert caught.value.body["error"] == {
        "type": "invalid_request_error",
        "message": "Function call is missing a thought_signature in functionCall parts. This is "
        "required for tools to work correctly, and missing thought_signature may lead to degraded "
        "model performance. Additional data, function call `default_api:Bash` , position 1. "
        "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
    }


async def test_claude_codes_recorded_tool_round_trip_is_accepted_with_every_tool_sanitized(
    gemini_url: str, fake_gemini: FakeGemini
) -> None:
    body = body_of(DATA / "claude-code" / "02-bash-roundtrip.json")
    fake_gemini.enqueue(Reply([text("Done.")]))

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{gemini_url}/v1/messages", json=body, headers={"x-api-key": "k"}
        ) as response,
    ):
        status, raw = response.status, await response.text()

    assert (status, fake_gemini.rejections) == (200, [])
    events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert "".join(d["text"] for d in deltas if d["type"] == "text_delta") == "Done."
    declarations = fake_gemini.requests[0]["tools"][0]["function_declarations"]
    assert [(d["name"], d["parameters"]) for d in declarations] == [
        (tool["name"], sanitize_schema(tool["input_schema"])) for tool in body["tools"]
    ]


async def test_a_schema_gemini_refuses_after_litellms_cleaning_is_accepted(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini
) -> None:
    # An MCP-style tool: LiteLLM alone sends enum [null, "r", "w"] and a `required` naming a
    # property that does not exist, and Gemini answers 400 to both.
    tool = {
        "name": "mcp__files__open",
        "input_schema": {
            "type": "object",
            "properties": {"mode": {"type": "string", "enum": ["", "r", "w"]}},
            "required": ["mode", "path"],
        },
    }
    fake_gemini.enqueue(Reply([text("ok")]))

    message = await ask(gemini, False, tools=[tool], messages=[{"role": "user", "content": "open"}])

    assert dumped(message) == [{"type": "text", "text": "ok"}]
    assert fake_gemini.requests[0]["tools"][0]["function_declarations"][0]["parameters"] == {
        "type": "object",
        "properties": {"mode": {"type": "string", "description": 'One of: "", "r", "w"'}},
        "required": ["mode"],
    }


async def test_images_reach_gemini_inline_from_the_prompt_and_from_tool_results(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini
) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    fake_gemini.enqueue(
        Reply([call("Read", {"file_path": "/tmp/shot.png"})]), Reply([text("A red dot.")])
    )
    read = {
        "name": "Read",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
    }
    history: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "Compare:"}, image]}
    ]
    first = await ask(gemini, False, tools=[read], messages=history)
    history += [
        {"role": "assistant", "content": dumped(first)},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": first.content[0].id, "content": [image]}
            ],
        },
    ]

    answer = await ask(gemini, False, tools=[read], messages=history)

    assert dumped(answer) == [{"type": "text", "text": "A red dot."}]
    inline = {"inline_data": {"data": PNG, "mime_type": "image/png"}}
    contents = fake_gemini.requests[1]["contents"]
    assert contents[0] == {"role": "user", "parts": [{"text": "Compare:"}, inline]}
    response = contents[2]["parts"][0]["function_response"]
    assert (response["name"], response["parts"]) == ("Read", [inline])
    assert len(contents) == 3


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_thought_parts_become_thinking_blocks_and_are_not_sent_back(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini, stream: bool
) -> None:
    fake_gemini.enqueue(
        Reply([thought("The user greets me."), text("Hi!")], output_tokens=4, thoughts_tokens=11),
        Reply([text("Fine.")]),
    )
    thinking = {"type": "enabled", "budget_tokens": 2048}

    message = await ask(
        gemini, stream, thinking=thinking, messages=[{"role": "user", "content": "Hello"}]
    )
    block, answer = dumped(message)
    assert (block["type"], block["thinking"], answer) == (
        "thinking",
        "The user greets me.",
        {"type": "text", "text": "Hi!"},
    )
    assert isinstance(block["signature"], str) and block["signature"]
    assert message.usage.output_tokens == 15
    assert fake_gemini.requests[0]["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 2048,
        "includeThoughts": True,
    }

    await ask(
        gemini,
        stream,
        thinking=thinking,
        messages=[
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": dumped(message)},
            {"role": "user", "content": "How are you?"},
        ],
    )
    assert fake_gemini.requests[1]["contents"][1] == {"role": "model", "parts": [{"text": "Hi!"}]}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_usage_counts_cached_and_thought_tokens(
    gemini: anthropic.AsyncAnthropic, fake_gemini: FakeGemini, stream: bool
) -> None:
    fake_gemini.enqueue(
        Reply([text("ok")], prompt_tokens=100, cached_tokens=40, output_tokens=7, thoughts_tokens=3)
    )

    message = await ask(gemini, stream, messages=[{"role": "user", "content": "hi"}])

    usage = message.usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (60, 40, 10)
    assert usage.cache_creation_input_tokens == 0


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    ("reply", "stop_reason", "content"),
    [
        (
            Reply([text("Cut sh")], finish_reason="MAX_TOKENS"),
            "max_tokens",
            [{"type": "text", "text": "Cut sh"}],
        ),
        (Reply([], finish_reason="SAFETY"), "refusal", []),
    ],
    ids=["max-tokens", "safety"],
)
async def test_finish_reasons_map_to_stop_reasons(
    gemini: anthropic.AsyncAnthropic,
    fake_gemini: FakeGemini,
    stream: bool,
    reply: Reply,
    stop_reason: str,
    content: list[dict[str, Any]],
) -> None:
    fake_gemini.enqueue(reply)

    message = await ask(gemini, stream, messages=[{"role": "user", "content": "hi"}])

    assert (message.stop_reason, dumped(message)) == (stop_reason, content)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    ("failure", "status", "error", "retry_after"),
    [
        (
            rate_limited(),
            429,
            {
                "type": "rate_limit_error",
                "message": "You exceeded your current quota, please check your plan and billing details.",
            },
            "17",
        ),
        (
            invalid("Bad thing."),
            400,
            {"type": "invalid_request_error", "message": "Bad thing."},
            None,
        ),
        (
            overloaded(),
            529,
            {
                "type": "overloaded_error",
                "message": "The model is overloaded. Please try again later.",
            },
            None,
        ),
    ],
    ids=["429", "400", "503"],
)
async def test_gemini_errors_keep_their_status_even_in_streams(
    gemini: anthropic.AsyncAnthropic,
    fake_gemini: FakeGemini,
    stream: bool,
    failure: Failure,
    status: int,
    error: dict[str, str],
    retry_after: str | None,
) -> None:
    fake_gemini.enqueue(failure)

    with pytest.raises(anthropic.APIStatusError) as caught:
        # A stream that started would raise only on reading; this raises on the status.
        await gemini.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}], stream=stream
        )

    assert caught.value.status_code == status
    assert caught.value.body["error"] == error
    assert caught.value.response.headers.get("retry-after") == retry_after


async def test_a_wrong_gemini_key_is_an_authentication_error(
    start_proxy: ProxyFactory, fake_gemini: FakeGemini
) -> None:
    url = await start_proxy(
        preferred_provider="google",
        gemini_api_key="AIza-wrong-key-0042",
        gemini_api_base=fake_gemini.base_url,
    )
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await ask(client, True, messages=[{"role": "user", "content": "hi"}])

    # Gemini answers 400 API_KEY_INVALID; LiteLLM (rightly) makes it an authentication error.
    assert fake_gemini.headers[0]["x-goog-api-key"] == "AIza-wrong-key-0042"
    assert caught.value.status_code == 401
    assert caught.value.body["error"] == {
        "type": "authentication_error",
        "message": "API key not valid. Please pass a valid API key.",
    }


@pytest.mark.claude_code
async def test_claude_code_runs_a_bash_tool_through_gemini(
    claude: str,
    gemini_url: str,
    fake_gemini: FakeGemini,
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    command = {
        "command": "echo written-through-gemini > proof.txt",
        "description": "Write the proof file",
    }
    fake_gemini.enqueue(
        Reply([text("I'll write the file."), call("Bash", command, signature=SIG_ONE)]),
        Reply([text("Done: proof.txt holds the line.")]),
    )

    result = await run_claude(claude, gemini_url, workdir, "Write proof.txt with a shell command.")

    assert (workdir / "proof.txt").read_text().strip() == "written-through-gemini"
    assert (result["is_error"], result["result"]) == (False, "Done: proof.txt holds the line.")
    assert fake_gemini.rejections == []
    assert [method for _, method in fake_gemini.calls] == ["streamGenerateContent"] * 2
    second = fake_gemini.requests[1]["contents"]
    model_turn = next(c for c in second if c["role"] == "model")
    assert model_turn["parts"][-1] == {
        "function_call": {"name": "Bash", "args": command},
        "thoughtSignature": SIG_ONE,
    }
    response = second[-1]["parts"][0]["function_response"]
    assert response["name"] == "Bash"
    assert json.dumps(response["response"]).count("Error") == 0
