from __future__ import annotations

import json
from typing import Any

import pytest

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.request import to_openai_request, validate_request
from claude_proxy.translate.structured import (
    ANSWER_TOOL,
    AnswerTool,
    TextAnswerStream,
    answer_tool,
    fits_strict_mode,
    output_schema,
    with_text_answer,
)
from claude_proxy.translate.target import Target

GPT = Target(model="openai/gpt-4.1", provider="openai", supports_response_schema=True)
OLD = Target(model="openai/gpt-4", provider="openai", supports_response_schema=False)
LOCAL = Target(model="openai/local", provider="openai")
NO_FORMAT = Target(
    model="together_ai/x", provider="together_ai", supported_params=frozenset({"tools"})
)
CLOSED = {
    "type": "object",
    "properties": {"a": {"type": "string"}, "b": {"type": ["integer", "null"]}},
    "required": ["a", "b"],
    "additionalProperties": False,
}


def body(**fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
        "output_config": {"format": {"type": "json_schema", "schema": CLOSED}},
    }
    out.update(fields)
    return out


@pytest.mark.parametrize(
    ("schema", "strict"),
    [
        (CLOSED, True),
        ({**CLOSED, "required": ["a"]}, False),  # an optional property
        ({**CLOSED, "additionalProperties": True}, False),
        ({k: v for k, v in CLOSED.items() if k != "additionalProperties"}, False),
        ({**CLOSED, "properties": {"a": {"type": "string", "minLength": 2}, "b": {}}}, False),
        ({**CLOSED, "properties": {"a": {"type": "string", "format": "uri"}, "b": {}}}, False),
        ({**CLOSED, "properties": {"a": {"type": "string", "format": "email"}, "b": {}}}, True),
        ({"type": "array", "items": {"type": "string"}}, False),  # the root must be an object
        (
            {
                **CLOSED,
                "properties": {"a": {"$ref": "#/$defs/A"}, "b": {"type": "null"}},
                "$defs": {"A": {"type": "object", "properties": {}, "additionalProperties": False}},
            },
            True,
        ),
        (
            {
                **CLOSED,
                "properties": {"a": {"$ref": "#/$defs/A"}, "b": {"type": "null"}},
                "$defs": {"A": {"type": "object", "properties": {"x": {"type": "string"}}}},
            },
            False,
        ),
        (
            {
                **CLOSED,
                "properties": {"a": {"anyOf": [{"type": "string"}, {"oneOf": []}]}, "b": {}},
            },
            False,
        ),
    ],
)
def test_strict_mode_only_when_openai_takes_the_schema(schema: Any, strict: bool) -> None:
    assert fits_strict_mode(schema) is strict


def test_the_schema_comes_from_output_config_or_the_beta_output_format() -> None:
    assert output_schema(body()) == CLOSED
    old = body(output_format={"type": "json_schema", "schema": {"type": "string"}})
    del old["output_config"]
    assert output_schema(old) == {"type": "string"}
    assert output_schema(body(output_config={"effort": "low"})) is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"output_config": {"format": {"type": "text"}}}, "output_config.format.type"),
        ({"output_config": {"format": {"type": "json_schema"}}}, "output_config.format.schema"),
        ({"output_config": "json"}, "output_config"),
        ({"output_format": {"type": "json_schema", "schema": []}}, "output_format.schema"),
    ],
)
def test_bad_output_formats_are_refused(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        validate_request(body(**fields))


@pytest.mark.parametrize("target", [GPT, LOCAL], ids=["listed", "unknown"])
def test_a_target_that_takes_schemas_gets_response_format(target: Target) -> None:
    request = to_openai_request(body(), target)
    assert request["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": CLOSED, "strict": True},
    }
    assert "tools" not in request
    assert answer_tool(body(), target) is None


@pytest.mark.parametrize("target", [OLD, NO_FORMAT], ids=["map-says-no", "no-response-format"])
def test_other_targets_get_a_forced_tool(target: Target) -> None:
    request = to_openai_request(body(), target)
    assert "response_format" not in request
    assert request["tools"] == [
        {
            "type": "function",
            "function": {
                "name": ANSWER_TOOL,
                "description": request["tools"][0]["function"]["description"],
                "parameters": CLOSED,
            },
        }
    ]
    assert request["tool_choice"] == {"type": "function", "function": {"name": ANSWER_TOOL}}
    assert answer_tool(body(), target) == AnswerTool(wrapped=False)


def test_beside_client_tools_the_forced_choice_is_required() -> None:
    tools = [{"name": "search", "input_schema": {"type": "object"}}]
    request = to_openai_request(body(tools=tools), OLD)
    assert [t["function"]["name"] for t in request["tools"]] == ["search", ANSWER_TOOL]
    assert request["tool_choice"] == "required"
    named = to_openai_request(
        body(tools=tools, tool_choice={"type": "tool", "name": "search"}), OLD
    )
    assert named["tool_choice"] == {"type": "function", "function": {"name": "search"}}


def test_a_non_object_schema_is_wrapped() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    fields = body(output_config={"format": {"type": "json_schema", "schema": schema}})
    request = to_openai_request(fields, OLD)
    assert request["tools"][0]["function"]["parameters"] == {
        "type": "object",
        "properties": {"value": schema},
        "required": ["value"],
    }
    assert answer_tool(fields, OLD) == AnswerTool(wrapped=True)


def completion(calls: list[tuple[str, str]], finish: str = "tool_calls") -> dict[str, Any]:
    tool_calls = [
        {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": a}}
        for i, (n, a) in enumerate(calls)
    ]
    message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish}]}


@pytest.mark.parametrize(
    ("calls", "wrapped", "text", "others", "finish"),
    [
        ([(ANSWER_TOOL, '{"a": 1}')], False, '{"a": 1}', None, "stop"),
        ([(ANSWER_TOOL, '{"value": [1, 2]}')], True, "[1, 2]", None, "stop"),
        ([(ANSWER_TOOL, "[1, 2")], True, "[1, 2", None, "stop"),  # cut off: as it came
        ([("search", "{}")], False, None, ["search"], "tool_calls"),
    ],
)
def test_the_forced_call_becomes_the_text(
    calls: list[tuple[str, str]], wrapped: bool, text: str | None, others: Any, finish: str
) -> None:
    fixed = with_text_answer(completion(calls), AnswerTool(wrapped=wrapped))
    choice = fixed["choices"][0]
    assert choice["message"]["content"] == text
    names = [c["function"]["name"] for c in choice["message"]["tool_calls"] or []]
    assert (names or None) == others
    assert choice["finish_reason"] == finish


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def fragment(index: int, arguments: str, name: str | None = None) -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    if name:
        function["name"] = name
    return chunk({"tool_calls": [{"index": index, "function": function}]})


def run(stream: TextAnswerStream, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [piece for c in chunks for piece in stream.feed(c)]
    return out + stream.finish()


def test_a_streamed_forced_call_streams_as_text_deltas() -> None:
    out = run(
        TextAnswerStream(AnswerTool(wrapped=False)),
        [fragment(0, '{"a"', ANSWER_TOOL), fragment(0, ": 1}"), chunk({}, "tool_calls")],
    )
    assert [c["choices"][0]["delta"].get("content") for c in out] == ['{"a"', ": 1}", None]
    assert all(not c["choices"][0]["delta"].get("tool_calls") for c in out)
    assert out[-1]["choices"][0]["finish_reason"] == "stop"


def test_a_wrapped_streamed_call_is_unwrapped_at_its_end() -> None:
    out = run(
        TextAnswerStream(AnswerTool(wrapped=True)),
        [fragment(0, '{"value": ', ANSWER_TOOL), fragment(0, "[1]}"), chunk({}, "tool_calls")],
    )
    texts = [c["choices"][0]["delta"].get("content") for c in out]
    assert "".join(t for t in texts if t) == "[1]"
    assert out[-1]["choices"][0]["finish_reason"] == "stop"


def test_other_tool_calls_pass_untouched() -> None:
    chunks = [fragment(0, "{}", "search"), chunk({}, "tool_calls")]
    out = run(TextAnswerStream(AnswerTool(wrapped=False)), chunks)
    assert out == chunks
    assert json.dumps(out)  # still plain dicts
