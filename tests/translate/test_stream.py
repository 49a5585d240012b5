import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from claude_proxy.translate.events import Event
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.translate.stream import StreamTranslator
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import sign_thinking

MODEL = "claude-opus-5-5"
MESSAGE_ID = "msg_test"
ZERO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}

# --- upstream chunks -------------------------------------------------------------------------


def chunk(
    delta: dict[str, Any] | None = None, finish_reason: str | None = None, **fields: Any
) -> dict:
    """A chunk as LiteLLM dumps it: absent delta fields are None."""
    full_delta = {
        "role": None,
        "content": None,
        "tool_calls": None,
        "function_call": None,
        **(delta or {}),
    }
    return {
        "choices": [{"index": 0, "delta": full_delta, "finish_reason": finish_reason, **fields}]
    }


def text(content: str, finish_reason: str | None = None) -> dict:
    return chunk({"content": content}, finish_reason)


def think(reasoning: str, key: str = "reasoning_content", **delta: Any) -> dict:
    return chunk({key: reasoning, **delta})


def calls(*fragments: dict) -> dict:
    return chunk({"tool_calls": list(fragments)})


def frag(
    index: int | None,
    arguments: str | None = None,
    *,
    id: str | None = None,
    name: str | None = None,
) -> dict:
    fragment: dict[str, Any] = {"id": id, "type": "function" if id else None}
    fragment["function"] = {"name": name, "arguments": arguments}
    if index is not None:
        fragment["index"] = index
    return fragment


def finish(reason: str | None, **fields: Any) -> dict:
    return chunk({}, reason, **fields)


def usage_chunk(prompt: int, completion: int, cached: int | None = None) -> dict:
    return {
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": None if cached is None else {"cached_tokens": cached},
            "cost": 0.0001,
        },
    }


ROLE = chunk({"role": "assistant", "content": ""})

# --- expected events -------------------------------------------------------------------------


def message_start(input_tokens: int = 0) -> Event:
    message = {
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**ZERO_USAGE, "input_tokens": input_tokens},
    }
    return ("message_start", {"type": "message_start", "message": message})


PING: Event = ("ping", {"type": "ping"})
MESSAGE_STOP: Event = ("message_stop", {"type": "message_stop"})


def opening(input_tokens: int = 0) -> list[Event]:
    return [message_start(input_tokens), PING]


def text_start(index: int) -> Event:
    return (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
    )


def tool_start(index: int, block_id: str, name: str) -> Event:
    block = {"type": "tool_use", "id": block_id, "name": name, "input": {}}
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def text_delta(index: int, value: str) -> Event:
    delta = {"type": "text_delta", "text": value}
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def thinking_start(index: int) -> Event:
    block = {"type": "thinking", "thinking": "", "signature": ""}
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def thinking_delta(index: int, value: str) -> Event:
    delta = {"type": "thinking_delta", "thinking": value}
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def signature_delta(
    index: int, thinking: str, target: Target | None = None, **opaque: Any
) -> Event:
    """The signature_delta of a thinking block whose whole text is `thinking`."""
    delta = {"type": "signature_delta", "signature": sign_thinking(thinking, target, opaque)}
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def json_delta(index: int, value: str) -> Event:
    delta = {"type": "input_json_delta", "partial_json": value}
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def block_stop(index: int) -> Event:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def closing(
    stop_reason: str, usage: dict | None = None, stop_sequence: str | None = None
) -> list[Event]:
    delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
    data = {"type": "message_delta", "delta": delta, "usage": usage or ZERO_USAGE}
    return [("message_delta", data), MESSAGE_STOP]


# --- checks ----------------------------------------------------------------------------------

STOP_REASONS = {"end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"}
DELTA_FOR_BLOCK = {
    "text": "text_delta",
    "tool_use": "input_json_delta",
    "thinking": "thinking_delta",
}


def assert_grammar(events: list[Event]) -> None:
    """`message_start ping* (start (delta|ping)* stop)* message_delta message_stop`, indices 0,1,2..."""
    names = [name for name, _ in events]
    assert all(data["type"] == name for name, data in events)
    assert names[0] == "message_start" and names.count("message_start") == 1
    position = 1
    while names[position] == "ping":
        position += 1
    block_index = 0
    while names[position] == "content_block_start":
        start = events[position][1]
        assert start["index"] == block_index
        delta_type = DELTA_FOR_BLOCK[start["content_block"]["type"]]
        position += 1
        while names[position] in ("content_block_delta", "ping"):
            if names[position] == "content_block_delta":
                assert events[position][1]["index"] == block_index
                if events[position][1]["delta"]["type"] == "signature_delta":
                    # Exactly one, right before a thinking block's stop.
                    assert start["content_block"]["type"] == "thinking"
                    assert events[position + 1] == block_stop(block_index)
                    assert events[position][1]["delta"]["signature"].startswith("cpx1.")
                else:
                    assert events[position][1]["delta"]["type"] == delta_type
            position += 1
        if start["content_block"]["type"] == "thinking":
            assert events[position - 1][1]["delta"]["type"] == "signature_delta"
        assert events[position] == block_stop(block_index)
        block_index += 1
        position += 1
    assert names[position:] == ["message_delta", "message_stop"]
    message_delta = events[position][1]
    assert message_delta["delta"]["stop_reason"] in STOP_REASONS
    assert set(message_delta["usage"]) == set(ZERO_USAGE)
    assert all(type(value) is int for value in message_delta["usage"].values())


def accumulate(events: list[Event]) -> dict[str, Any]:
    """Rebuild the message like the SDKs do, but parse tool input strictly at block stop."""
    message: dict[str, Any] = {}
    json_buffers: dict[int, str] = {}
    for name, data in events:
        if name == "message_start":
            message = copy.deepcopy(data["message"])
        elif name == "content_block_start":
            message["content"].append(copy.deepcopy(data["content_block"]))
        elif name == "content_block_delta" and data["delta"]["type"] == "text_delta":
            message["content"][data["index"]]["text"] += data["delta"]["text"]
        elif name == "content_block_delta" and data["delta"]["type"] == "thinking_delta":
            message["content"][data["index"]]["thinking"] += data["delta"]["thinking"]
        elif name == "content_block_delta" and data["delta"]["type"] == "signature_delta":
            message["content"][data["index"]]["signature"] = data["delta"]["signature"]
        elif name == "content_block_delta":
            json_buffers[data["index"]] = (
                json_buffers.get(data["index"], "") + data["delta"]["partial_json"]
            )
        elif name == "content_block_stop" and data["index"] in json_buffers:
            message["content"][data["index"]]["input"] = json.loads(json_buffers[data["index"]])
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


def run(chunks: list[dict], **options: Any) -> list[Event]:
    translator = StreamTranslator(requested_model=MODEL, message_id=MESSAGE_ID, **options)
    events = translator.start()
    for item in chunks:
        events += translator.feed(item)
    events += translator.finish()
    assert_grammar(events)
    return events


# --- the table -------------------------------------------------------------------------------

BASH = {"id": "call_bash", "name": "Bash"}
READ = {"id": "call_read", "name": "Read"}


CASES = {
    "text only": (
        [ROLE, text("Hel"), text(""), text("lo"), finish("stop"), usage_chunk(10, 5)],
        {},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Hel"),
            text_delta(0, "lo"),
            block_stop(0),
            *closing("end_turn", {**ZERO_USAGE, "input_tokens": 10, "output_tokens": 5}),
        ],
    ),
    "text then tool": (
        [
            ROLE,
            text("Listing."),
            calls(frag(0, "", **BASH)),
            calls(frag(0, '{"command":')),
            calls(frag(0, "")),
            calls(frag(0, ' "ls"}')),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Listing."),
            block_stop(0),
            tool_start(1, "call_bash", "Bash"),
            json_delta(1, '{"command":'),
            json_delta(1, ' "ls"}'),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "parallel calls interleaved by index": (
        [
            text("Two things."),
            calls(frag(0, '{"comm', **BASH)),
            calls(frag(1, '{"file_', **READ)),
            calls(frag(0, 'and": "ls"')),
            calls(frag(1, 'path": "/a"}')),
            calls(frag(0, "}")),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Two things."),
            block_stop(0),
            tool_start(1, "call_bash", "Bash"),
            json_delta(1, '{"comm'),
            json_delta(1, 'and": "ls"'),
            json_delta(1, "}"),
            block_stop(1),
            tool_start(2, "call_read", "Read"),
            json_delta(2, '{"file_path": "/a"}'),
            block_stop(2),
            *closing("tool_use"),
        ],
    ),
    "buffered calls come out in index order": (
        [
            calls(frag(0, '{"a": 0}', id="c0", name="T")),
            calls(frag(2, '{"a": 2}', id="c2", name="T")),
            calls(frag(1, '{"a": 1}', id="c1", name="T")),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            tool_start(0, "c0", "T"),
            json_delta(0, '{"a": 0}'),
            block_stop(0),
            tool_start(1, "c1", "T"),
            json_delta(1, '{"a": 1}'),
            block_stop(1),
            tool_start(2, "c2", "T"),
            json_delta(2, '{"a": 2}'),
            block_stop(2),
            *closing("tool_use"),
        ],
    ),
    "gemini whole calls in one chunk, finish stop": (
        [
            calls(
                frag(0, '{"file_path": "/a"}', id="call_1__thought__CiQB+/x9==", name="Read"),
                frag(1, '{"file_path": "/b"}', id="call_2", name="Read"),
            ),
            finish("stop"),
            usage_chunk(200, 20, cached=150),
        ],
        {},
        [
            *opening(),
            tool_start(0, "call_1__thought__CiQB+/x9==", "Read"),
            json_delta(0, '{"file_path": "/a"}'),
            block_stop(0),
            tool_start(1, "call_2", "Read"),
            json_delta(1, '{"file_path": "/b"}'),
            block_stop(1),
            *closing(
                "tool_use",
                {
                    "input_tokens": 50,
                    "output_tokens": 20,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 150,
                },
            ),
        ],
    ),
    "every parallel call at index 0 (upstream bug)": (
        [
            calls(frag(0, '{"n": 1}', id="call_a", name="T")),
            calls(frag(0, '{"n": 2}', id="call_b", name="T")),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            tool_start(0, "call_a", "T"),
            json_delta(0, '{"n": 1}'),
            block_stop(0),
            tool_start(1, "call_b", "T"),
            json_delta(1, '{"n": 2}'),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "fragments without index follow the latest call": (
        [
            calls(frag(None, '{"n":', id="call_a", name="T")),
            calls(frag(None, " 1}")),
            calls(frag(None, "{}", id="call_b", name="U")),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            tool_start(0, "call_a", "T"),
            json_delta(0, '{"n":'),
            json_delta(0, " 1}"),
            block_stop(0),
            tool_start(1, "call_b", "U"),
            json_delta(1, "{}"),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "name after first fragment opens the block late": (
        [
            calls(frag(0, '{"n"', id="call_a")),
            calls(frag(0, ": 1}", name="T")),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            tool_start(0, "call_a", "T"),
            json_delta(0, '{"n": 1}'),
            block_stop(0),
            *closing("tool_use"),
        ],
    ),
    "text after tools is emitted last": (
        [
            text("Before."),
            calls(frag(0, "{}", **BASH)),
            text(" After"),
            text("wards."),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Before."),
            block_stop(0),
            tool_start(1, "call_bash", "Bash"),
            json_delta(1, "{}"),
            block_stop(1),
            text_start(2),
            text_delta(2, " Afterwards."),
            block_stop(2),
            *closing("tool_use"),
        ],
    ),
    "length": (
        [text("Once upon a"), finish("length"), usage_chunk(7, 3)],
        {},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Once upon a"),
            block_stop(0),
            *closing("max_tokens", {**ZERO_USAGE, "input_tokens": 7, "output_tokens": 3}),
        ],
    ),
    "truncated arguments get a suffix": (
        [calls(frag(0, '{"command": "ec', **BASH)), calls(frag(0, "ho hi")), finish("length")],
        {},
        [
            *opening(),
            tool_start(0, "call_bash", "Bash"),
            json_delta(0, '{"command": "ec'),
            json_delta(0, "ho hi"),
            json_delta(0, '"}'),
            block_stop(0),
            *closing("max_tokens"),
        ],
    ),
    "truncated buffered call gets its suffix in its one delta": (
        [
            calls(frag(0, "{}", **BASH)),
            calls(frag(1, '{"file_path": "/a', **READ)),
            finish("length"),
        ],
        {},
        [
            *opening(),
            tool_start(0, "call_bash", "Bash"),
            json_delta(0, "{}"),
            block_stop(0),
            tool_start(1, "call_read", "Read"),
            json_delta(1, '{"file_path": "/a"}'),
            block_stop(1),
            *closing("max_tokens"),
        ],
    ),
    "unfixable buffered call is repaired like the JSON path": (
        [
            calls(frag(0, "{}", **BASH)),
            calls(frag(1, '```json\n{"file_path": "/a"}\n```', **READ)),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            tool_start(0, "call_bash", "Bash"),
            json_delta(0, "{}"),
            block_stop(0),
            tool_start(1, "call_read", "Read"),
            json_delta(1, '{"file_path": "/a"}'),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "empty arguments": (
        [calls(frag(0, "", **BASH)), calls(frag(1, None, **READ)), finish("tool_calls")],
        {},
        [
            *opening(),
            tool_start(0, "call_bash", "Bash"),
            block_stop(0),
            tool_start(1, "call_read", "Read"),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "content filter": (
        [ROLE, finish("content_filter")],
        {},
        [*opening(), *closing("refusal")],
    ),
    "delta and finish in one chunk": (
        [text("Done.", finish_reason="stop")],
        {},
        [*opening(), text_start(0), text_delta(0, "Done."), block_stop(0), *closing("end_turn")],
    ),
    "no usage reported": (
        [text("Hi"), finish("stop")],
        {"input_tokens": 42},
        [
            *opening(42),
            text_start(0),
            text_delta(0, "Hi"),
            block_stop(0),
            *closing("end_turn", {**ZERO_USAGE, "input_tokens": 42}),
        ],
    ),
    "usage without prompt count keeps the estimate": (
        [text("Hi"), {"choices": [], "usage": {"completion_tokens": 2}}],
        {"input_tokens": 42},
        [
            *opening(42),
            text_start(0),
            text_delta(0, "Hi"),
            block_stop(0),
            *closing("end_turn", {**ZERO_USAGE, "input_tokens": 42, "output_tokens": 2}),
        ],
    ),
    "usage on a content chunk": (
        [
            {
                **text("Hi", finish_reason="stop"),
                "usage": {"prompt_tokens": 9, "completion_tokens": 1},
            }
        ],
        {},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Hi"),
            block_stop(0),
            *closing("end_turn", {**ZERO_USAGE, "input_tokens": 9, "output_tokens": 1}),
        ],
    ),
    "stop sequence named by the upstream": (
        [text("1, 2"), finish("stop", matched_stop="STOP")],
        {"stop_sequences": ["STOP"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "1, 2"),
            block_stop(0),
            *closing("stop_sequence", stop_sequence="STOP"),
        ],
    ),
    "stop sequence in provider fields": (
        [text("1, 2"), finish("stop", provider_specific_fields={"stop_reason": "END"})],
        {"stop_sequences": ["STOP", "END"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "1, 2"),
            block_stop(0),
            *closing("stop_sequence", stop_sequence="END"),
        ],
    ),
    "unrequested or numeric stop reason is not a stop sequence": (
        [text("1, 2", finish_reason="stop"), finish(None, stop_reason=128001, matched_stop="X")],
        {"stop_sequences": ["STOP"]},
        [*opening(), text_start(0), text_delta(0, "1, 2"), block_stop(0), *closing("end_turn")],
    ),
    "other choices are ignored": (
        [
            chunk({"provider_specific_fields": {"x": 1}}),
            {"choices": [{"index": 1, "delta": {"content": "other"}, "finish_reason": "length"}]},
            {"choices": [{"index": 1, "delta": {"reasoning_content": "no"}}]},
            text("Yes."),
            finish("stop"),
        ],
        {},
        [*opening(), text_start(0), text_delta(0, "Yes."), block_stop(0), *closing("end_turn")],
    ),
    "reasoning then text": (
        [ROLE, think("Hm, "), think(""), think("hi."), text("Hi!"), finish("stop")],
        {},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "Hm, "),
            thinking_delta(0, "hi."),
            signature_delta(0, "Hm, hi."),
            block_stop(0),
            text_start(1),
            text_delta(1, "Hi!"),
            block_stop(1),
            *closing("end_turn"),
        ],
    ),
    "reasoning then tool call": (
        [think("List."), calls(frag(0, '{"command": "ls"}', **BASH)), finish("tool_calls")],
        {},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "List."),
            signature_delta(0, "List."),
            block_stop(0),
            tool_start(1, "call_bash", "Bash"),
            json_delta(1, '{"command": "ls"}'),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "reasoning stays open until the tool call has a name": (
        [
            think("a"),
            calls(frag(0, "", id="call_bash")),
            think("b"),
            calls(frag(0, "{}", name="Bash")),
        ],
        {},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "a"),
            thinking_delta(0, "b"),
            signature_delta(0, "ab"),
            block_stop(0),
            tool_start(1, "call_bash", "Bash"),
            json_delta(1, "{}"),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "reasoning only, cut off": (
        [think("Long thought"), finish("length")],
        {},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "Long thought"),
            signature_delta(0, "Long thought"),
            block_stop(0),
            *closing("max_tokens"),
        ],
    ),
    "reasoning field and thinking blocks": (
        [
            think("x", key="reasoning"),
            chunk({"thinking_blocks": [{"type": "thinking", "thinking": "y", "signature": None}]}),
            text("Done."),
        ],
        {},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "x"),
            thinking_delta(0, "y"),
            signature_delta(0, "xy"),
            block_stop(0),
            text_start(1),
            text_delta(1, "Done."),
            block_stop(1),
            *closing("end_turn"),
        ],
    ),
    "late reasoning comes whole after the tool blocks": (
        [
            think("First."),
            text("Text."),
            think("Second."),
            calls(frag(0, "{}", **BASH)),
            think("Third."),
            text("Late."),
            finish("tool_calls"),
        ],
        {},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "First."),
            signature_delta(0, "First."),
            block_stop(0),
            text_start(1),
            text_delta(1, "Text."),
            block_stop(1),
            tool_start(2, "call_bash", "Bash"),
            json_delta(2, "{}"),
            block_stop(2),
            thinking_start(3),
            thinking_delta(3, "Second.Third."),
            signature_delta(3, "Second.Third."),
            block_stop(3),
            text_start(4),
            text_delta(4, "Late."),
            block_stop(4),
            *closing("tool_use"),
        ],
    ),
    "signature names the target and carries Gemini's thought signatures": (
        [
            think("Plan."),
            chunk({"content": "Hi.", "provider_specific_fields": {"thought_signatures": ["c2ln"]}}),
        ],
        {"target": Target(model="gemini/gemini-2.5-pro", provider="gemini")},
        [
            *opening(),
            thinking_start(0),
            thinking_delta(0, "Plan."),
            signature_delta(
                0,
                "Plan.",
                Target(model="gemini/gemini-2.5-pro", provider="gemini"),
                thought_signatures=["c2ln"],
            ),
            block_stop(0),
            text_start(1),
            text_delta(1, "Hi."),
            block_stop(1),
            *closing("end_turn"),
        ],
    ),
    "nothing at all": ([], {}, [*opening(), *closing("end_turn")]),
    "a stop sequence the upstream ignored, split across chunks": (
        [text("Say E"), text("ND and more"), text(" text"), finish("stop")],
        {"stop_sequences": ["END"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "Say "),
            block_stop(0),
            *closing("stop_sequence", stop_sequence="END"),
        ],
    ),
    "a held tail that begins no sequence goes out with the next text": (
        [text("a E"), text("xit"), finish("stop")],
        {"stop_sequences": ["END"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "a "),
            text_delta(0, "Exit"),
            block_stop(0),
            *closing("end_turn"),
        ],
    ),
    "a held tail at the end is the text's end": (
        [text("a EN"), finish("length")],
        {"stop_sequences": ["END"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "a "),
            text_delta(0, "EN"),
            block_stop(0),
            *closing("max_tokens"),
        ],
    ),
    "only held text, then a tool call": (
        [text("E"), calls(frag(0, "{}", **BASH)), finish("tool_calls")],
        {"stop_sequences": ["END"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "E"),
            block_stop(0),
            tool_start(1, "call_bash", "Bash"),
            json_delta(1, "{}"),
            block_stop(1),
            *closing("tool_use"),
        ],
    ),
    "nothing after the stop sequence: no tool call, no reasoning": (
        [
            text("ok END"),
            calls(frag(0, "{}", **BASH)),
            think("late"),
            text("more"),
            finish("tool_calls"),
        ],
        {"stop_sequences": ["END"]},
        [
            *opening(),
            text_start(0),
            text_delta(0, "ok "),
            block_stop(0),
            *closing("stop_sequence", stop_sequence="END"),
        ],
    ),
    "a stop sequence at the very start": (
        [text("END"), finish("stop")],
        {"stop_sequences": ["END"]},
        [*opening(), *closing("stop_sequence", stop_sequence="END")],
    ),
}


@pytest.mark.parametrize(("chunks", "options", "expected"), list(CASES.values()), ids=list(CASES))
def test_stream(chunks: list[dict], options: dict, expected: list[Event]) -> None:
    assert run(chunks, **options) == expected


def test_text_that_cannot_begin_a_stop_sequence_is_never_delayed() -> None:
    translator = StreamTranslator(requested_model=MODEL, stop_sequences=["\n\nHuman:", "END"])
    translator.start()
    sent = []
    for piece in ["Hello", " there\n", "\nHu", "gs for E", "veryone", "\n"]:
        sent.append(
            "".join(
                data["delta"]["text"]
                for name, data in translator.feed(text(piece))
                if name == "content_block_delta"
            )
        )
    assert sent == ["Hello", " there", "", "\n\nHugs for ", "Everyone", ""]
    assert not translator.stopped
    ending = translator.feed(text("\nHuman: next"))
    assert translator.stopped and translator.upstream_finished
    assert [name for name, _ in ending] == []
    assert translator.feed(text("ignored")) == []
    closing_events = translator.finish()
    assert closing_events[-2][1]["delta"] == {
        "stop_reason": "stop_sequence",
        "stop_sequence": "\n\nHuman:",
    }


def test_interleaved_calls_each_get_exactly_their_own_arguments() -> None:
    bash_args = json.dumps({"command": "grep -r 'x' .", "timeout": 30})
    read_args = json.dumps({"file_path": "/tmp/a.txt", "limit": 5})
    chunks = [text("Both:")]
    for start in range(0, max(len(bash_args), len(read_args)), 3):
        first = start == 0
        chunks.append(calls(frag(0, bash_args[start : start + 3], **(BASH if first else {}))))
        chunks.append(calls(frag(1, read_args[start : start + 3], **(READ if first else {}))))
    events = run([*chunks, finish("tool_calls")])
    fragments: dict[int, str] = {}
    for name, data in events:
        if name == "content_block_delta" and data["delta"]["type"] == "input_json_delta":
            fragments[data["index"]] = (
                fragments.get(data["index"], "") + data["delta"]["partial_json"]
            )
    assert fragments == {1: bash_args, 2: read_args}
    starts = [data["content_block"] for name, data in events if name == "content_block_start"]
    assert [block.get("id") for block in starts] == [None, "call_bash", "call_read"]


def test_missing_tool_id_gets_a_fresh_one() -> None:
    events = run(
        [calls(frag(0, "{}", name="Bash")), calls(frag(1, "{}", name="Read")), finish("tool_calls")]
    )
    ids = [data["content_block"]["id"] for name, data in events if name == "content_block_start"]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(re.fullmatch(r"toolu_[A-Za-z0-9_-]+", block_id) for block_id in ids)


def test_feed_before_start_starts_once() -> None:
    translator = StreamTranslator(requested_model=MODEL, message_id=MESSAGE_ID)
    assert not translator.started
    events = translator.feed(text("Hi"))
    assert translator.started
    assert events == [*opening(), text_start(0), text_delta(0, "Hi")]
    assert translator.start() == []
    assert translator.feed(text("!")) == [text_delta(0, "!")]


def test_finish_twice_emits_one_message_stop() -> None:
    translator = StreamTranslator(requested_model=MODEL, message_id=MESSAGE_ID)
    assert translator.finish() == [*opening(), *closing("end_turn")]
    assert translator.finish() == []
    assert translator.feed(text("late")) == []


def test_abort_ends_the_stream_with_an_error_event() -> None:
    translator = StreamTranslator(requested_model=MODEL, message_id=MESSAGE_ID)
    events = translator.feed(text("Partial"))
    assert translator.abort("overloaded_error", "Overloaded") == [
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    ]
    assert events == [*opening(), text_start(0), text_delta(0, "Partial")]
    assert translator.finish() == []
    assert translator.abort("api_error", "again") == []


def test_generated_message_id() -> None:
    translator = StreamTranslator(requested_model=MODEL)
    message = translator.start()[0][1]["message"]
    assert re.fullmatch(r"msg_[A-Za-z0-9_-]{24}", message["id"])


# --- the JSON path and the stream agree ------------------------------------------------------


@dataclass
class Script:
    """One scripted upstream answer, rendered both as a response and as chunks."""

    text: str
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: dict[str, Any] = field(default_factory=dict)
    reasoning: str = ""

    def as_response(self) -> dict[str, Any]:
        tool_calls = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in self.tool_calls
        ]
        message = {
            "role": "assistant",
            "content": self.text or None,
            "tool_calls": tool_calls or None,
            "reasoning_content": self.reasoning or None,
        }
        return {
            "id": "chatcmpl-1",
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage,
        }

    def as_chunks(self, piece: int = 4) -> list[dict[str, Any]]:
        chunks = [ROLE]
        chunks += [
            think(self.reasoning[i : i + piece]) for i in range(0, len(self.reasoning), piece)
        ]
        chunks += [text(self.text[i : i + piece]) for i in range(0, len(self.text), piece)]
        pieces = [
            [arguments[i : i + piece] for i in range(0, len(arguments), piece)] or [""]
            for _, _, arguments in self.tool_calls
        ]
        # Round-robin over the calls, so their fragments interleave like OpenAI's parallel calls.
        for step in range(max((len(p) for p in pieces), default=0)):
            for index, (call_id, name, _) in enumerate(self.tool_calls):
                if step < len(pieces[index]):
                    head = {"id": call_id, "name": name} if step == 0 else {}
                    chunks.append(calls(frag(index, pieces[index][step], **head)))
        return [*chunks, finish(self.finish_reason), {"choices": [], "usage": self.usage}]


SCRIPTS = {
    "text": Script(
        "Hello! How can I help today?", usage={"prompt_tokens": 20, "completion_tokens": 9}
    ),
    "text and two tool calls": Script(
        "I'll look at both.",
        [
            ("call_1", "Bash", json.dumps({"command": "ls -la", "description": "List files"})),
            ("call_2", "Read", json.dumps({"file_path": "/work/ünïcode.txt", "limit": 20})),
        ],
        "tool_calls",
        {
            "prompt_tokens": 1500,
            "completion_tokens": 60,
            "prompt_tokens_details": {"cached_tokens": 1024},
        },
    ),
    "length": Script(
        "A very long story that never", [], "length", {"prompt_tokens": 5, "completion_tokens": 8}
    ),
    "tool cut by length": Script(
        "",
        [("call_1", "Write", '{"file_path": "a.py", "content": "print(')],
        "length",
        {"prompt_tokens": 5, "completion_tokens": 8},
    ),
    "reasoning, text and a tool call": Script(
        "Checking.",
        [("call_1", "Bash", json.dumps({"command": "git status"}))],
        "tool_calls",
        {"prompt_tokens": 50, "completion_tokens": 90},
        reasoning="The user asks about the repo.\nGit status shows it.",
    ),
    "reasoning only": Script(
        "", [], "length", {"prompt_tokens": 5, "completion_tokens": 8}, reasoning="Still thinking"
    ),
}
TARGET = Target(model="openai/o3-mini", provider="openai")


@pytest.mark.parametrize(
    "script",
    [
        Script("Counting 1, 2, 3 STOP 4, 5", usage={"prompt_tokens": 5, "completion_tokens": 8}),
        Script("No sequence here, S-T-O-P.", usage={"prompt_tokens": 5, "completion_tokens": 8}),
        Script(
            "Run it. STOP",
            [("call_1", "Bash", json.dumps({"command": "ls"}))],
            "tool_calls",
            {"prompt_tokens": 5, "completion_tokens": 8},
        ),
    ],
    ids=["past-the-stop", "no-stop", "stop-before-a-tool-call"],
)
@pytest.mark.parametrize("piece", [1, 3, 4, 50])
def test_stream_cuts_at_stop_sequences_as_the_json_path_does(script: Script, piece: int) -> None:
    stops = ["STOP", "\n\n"]
    expected = to_anthropic_message(
        script.as_response(), requested_model=MODEL, stop_sequences=stops, target=TARGET
    )
    streamed = accumulate(run(script.as_chunks(piece), stop_sequences=stops, target=TARGET))
    del expected["id"], streamed["id"]
    assert streamed == expected


@pytest.mark.parametrize("script", list(SCRIPTS.values()), ids=list(SCRIPTS))
def test_stream_matches_json_path(script: Script) -> None:
    expected = to_anthropic_message(script.as_response(), requested_model=MODEL, target=TARGET)
    streamed = accumulate(run(script.as_chunks(), target=TARGET))
    assert streamed["id"] == MESSAGE_ID
    del expected["id"], streamed["id"]
    assert streamed == expected
