import json
from typing import Any

import pytest

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.events import Event
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.translate.stream import StreamTranslator
from claude_proxy.translate.threads import (
    Thread,
    continued_request,
    kept_conversation,
    read_thread,
    streamed_message,
    without_thread,
)
from tests.fakes.openai_upstream import Answer, ToolCall

TOOLS = [{"name": "add", "input_schema": {"type": "object", "properties": {}}}]
QUESTION = {"role": "user", "content": "2 + 3?"}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2, "b": 3}}
RESULT = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}
KEPT = {
    "system": "Be exact.",
    "tools": TOOLS,
    "messages": [QUESTION, {"role": "assistant", "content": [CALL]}],
}


@pytest.mark.parametrize(
    ("body", "thread"),
    [
        ({}, None),
        ({"thread": None}, None),
        ({"thread": {"type": "create"}}, Thread("create")),
        (
            {"thread": {"type": "continue", "previous_message_id": "msg_1"}},
            Thread("continue", "msg_1"),
        ),
    ],
)
def test_read_thread(body: dict[str, Any], thread: Thread | None) -> None:
    assert read_thread(body) == thread


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("create", "thread: expected an object"),
        ({"type": "fork"}, 'thread.type: expected "create" or "continue"'),
        ({}, 'thread.type: expected "create" or "continue"'),
        ({"type": "continue"}, "thread.previous_message_id: a continue needs the id"),
        ({"type": "continue", "previous_message_id": ""}, "thread.previous_message_id"),
        ({"type": "continue", "previous_message_id": 7}, "thread.previous_message_id"),
    ],
)
def test_a_bad_thread_field_is_a_400_naming_it(value: Any, problem: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        read_thread({"thread": value})
    assert raised.value.message.startswith(problem)


def test_without_thread_leaves_the_body_alone() -> None:
    body = {"model": "m", "thread": {"type": "create"}, "messages": []}
    assert without_thread(body) == {"model": "m", "messages": []}
    assert "thread" in body


def test_a_continue_is_the_kept_conversation_then_the_new_messages_with_its_own_fields() -> None:
    body = {
        "model": "claude-sonnet-5",
        "max_tokens": 300,
        "tool_choice": {"type": "auto"},
        "stream": True,
        "messages": [RESULT],
        "thread": {"type": "continue", "previous_message_id": "msg_1"},
    }
    assert continued_request(body, KEPT) == {
        "model": "claude-sonnet-5",
        "max_tokens": 300,
        "tool_choice": {"type": "auto"},
        "stream": True,
        "system": "Be exact.",
        "tools": TOOLS,
        "messages": [*KEPT["messages"], RESULT],
    }


def test_a_continue_of_a_thread_without_system_or_tools_has_none() -> None:
    whole = continued_request({"model": "m", "messages": [RESULT]}, {"messages": [QUESTION]})
    assert whole == {"model": "m", "messages": [QUESTION, RESULT]}


@pytest.mark.parametrize(
    ("repeated", "named"),
    [({"system": "x"}, "`system`"), ({"tools": [], "system": "x"}, "`system` and `tools`")],
)
def test_a_continue_may_not_send_what_the_thread_keeps(
    repeated: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        continued_request({"model": "m", "messages": [RESULT], **repeated}, KEPT)
    assert raised.value.message.startswith(f"{named}: a thread keeps the ones it was created")


def test_a_continue_without_messages_is_a_400() -> None:
    with pytest.raises(InvalidRequestError, match="messages: expected an array"):
        continued_request({"model": "m"}, KEPT)


def test_kept_conversation_is_the_request_and_the_reply_without_per_turn_fields() -> None:
    request = {"model": "m", "max_tokens": 9, "system": "Be exact.", "tools": TOOLS}
    request["messages"] = [QUESTION]
    reply = {"id": "msg_2", "content": [CALL], "usage": {"input_tokens": 3}}
    assert kept_conversation(request, reply) == KEPT
    assert kept_conversation({"messages": []}, reply) == {
        "messages": [{"role": "assistant", "content": [CALL]}]
    }


ANSWERS = {
    "text": Answer(text="Plain text, in pieces."),
    "reasoning-then-tools": Answer(
        reasoning="Add first.",
        text="Adding.",
        tool_calls=[
            ToolCall("call_a", "add", json.dumps({"a": 2, "b": 3})),
            ToolCall("call_b", "add", json.dumps({"a": 0, "b": {"deep": [1, 2]}})),
        ],
        interleave=True,
    ),
    "tool-without-arguments": Answer(tool_calls=[ToolCall("call_c", "add", "")]),
}


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_a_streamed_message_is_the_message_the_json_path_returns(answer: Answer) -> None:
    translator = StreamTranslator(requested_model="claude-sonnet-5", message_id="msg_s")
    events: list[Event] = []
    for chunk in answer.chunks("gpt-4.1", include_usage=True):
        events += translator.feed(chunk)
    events += translator.finish()
    whole = to_anthropic_message(answer.completion("gpt-4.1"), requested_model="claude-sonnet-5")

    message = streamed_message("msg_s", events[2:])  # as if pings had sent message_start

    assert message == {
        "id": "msg_s",
        "content": whole["content"],
        "stop_reason": whole["stop_reason"],
    }


def test_a_stream_that_did_not_finish_is_no_message() -> None:
    translator = StreamTranslator(requested_model="m", message_id="msg_s")
    events = translator.feed(Answer(text="cut").chunks("gpt-4.1", include_usage=False)[1])
    assert streamed_message("msg_s", events) is None
    aborted = events + translator.abort("api_error", "upstream failed")
    assert streamed_message("msg_s", aborted) is None
