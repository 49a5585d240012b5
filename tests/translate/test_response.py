import re
from typing import Any

import pytest

from claude_proxy.errors import IncompleteAnswerError
from claude_proxy.translate.response import to_anthropic_message
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import Signed, read_signature, sign_thinking

ZERO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


def response(
    content: Any = None,
    tool_calls: list[dict] | None = None,
    finish_reason: str | None = "stop",
    usage: dict | None = None,
    **choice_fields: Any,
) -> dict[str, Any]:
    """An OpenAI response as LiteLLM dumps it: absent things are None, not missing."""
    message = {
        "role": "assistant",
        "content": content,
        "tool_calls": tool_calls,
        "function_call": None,
        "provider_specific_fields": None,
    }
    choice = {"index": 0, "message": message, "finish_reason": finish_reason, **choice_fields}
    return {"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice], "usage": usage}


def call(call_id: str | None, name: str, arguments: str | None) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_block(block_id: str, name: str, tool_input: dict) -> dict[str, Any]:
    return {"type": "tool_use", "id": block_id, "name": name, "input": tool_input}


def reasoning(upstream: dict[str, Any], **message_fields: Any) -> dict[str, Any]:
    """`upstream` with reasoning fields on its message, as LiteLLM dumps them."""
    upstream["choices"][0]["message"].update(message_fields)
    return upstream


def thinking_block(text: str) -> dict[str, Any]:
    """A thinking block as made without a target (the signature names no model)."""
    return {"type": "thinking", "thinking": text, "signature": sign_thinking(text, None, None)}


BASH_LS = call("call_1", "Bash", '{"command": "ls"}')
BASH_LS_BLOCK = tool_block("call_1", "Bash", {"command": "ls"})


@pytest.mark.parametrize(
    ("upstream", "stop_sequences", "content", "stop_reason", "stop_sequence"),
    [
        pytest.param(response("Hi."), None, [text_block("Hi.")], "end_turn", None, id="text"),
        pytest.param(response(""), None, [], "end_turn", None, id="empty-text"),
        pytest.param(response(None), None, [], "end_turn", None, id="no-content"),
        pytest.param(
            response([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]),
            None,
            [text_block("ab")],
            "end_turn",
            None,
            id="content-parts",
        ),
        pytest.param(
            response("Listing.", [BASH_LS], "tool_calls"),
            None,
            [text_block("Listing."), BASH_LS_BLOCK],
            "tool_use",
            None,
            id="text-and-tool",
        ),
        pytest.param(
            response(None, [BASH_LS], "stop"),
            None,
            [BASH_LS_BLOCK],
            "tool_use",
            None,
            id="tool-ended-with-stop",
        ),
        pytest.param(
            response(None, [BASH_LS], None),
            None,
            [BASH_LS_BLOCK],
            "tool_use",
            None,
            id="tool-no-finish",
        ),
        pytest.param(
            response(None, [BASH_LS], "content_filter"),
            None,
            [BASH_LS_BLOCK],
            "tool_use",
            None,
            id="tool-content-filter",
        ),
        pytest.param(
            response(
                None, [call("call_1", "Write", '{"path": "a.txt", "content": "hel')], "length"
            ),
            None,
            [tool_block("call_1", "Write", {"path": "a.txt", "content": "hel"})],
            "max_tokens",
            None,
            id="tool-cut-by-length",
        ),
        pytest.param(
            response("Once upon", finish_reason="length"),
            None,
            [text_block("Once upon")],
            "max_tokens",
            None,
            id="length",
        ),
        pytest.param(
            response("", finish_reason="content_filter"),
            None,
            [],
            "refusal",
            None,
            id="content-filter",
        ),
        pytest.param(
            response("Hi.", finish_reason="function_call"),
            None,
            [text_block("Hi.")],
            "end_turn",
            None,
            id="announced-tool-but-none",
        ),
        pytest.param(
            response("Hi.", finish_reason=None),
            None,
            [text_block("Hi.")],
            "end_turn",
            None,
            id="no-finish",
        ),
        pytest.param(
            response("Hi.", finish_reason="eos"),
            None,
            [text_block("Hi.")],
            "end_turn",
            None,
            id="unknown-finish",
        ),
        pytest.param(
            response("1, 2, 3", matched_stop="STOP"),
            ["STOP"],
            [text_block("1, 2, 3")],
            "stop_sequence",
            "STOP",
            id="matched-stop",
        ),
        pytest.param(
            response("1, 2, 3", stop_reason="\n\n"),
            ["###", "\n\n"],
            [text_block("1, 2, 3")],
            "stop_sequence",
            "\n\n",
            id="vllm-stop-reason",
        ),
        pytest.param(
            response("1, 2", provider_specific_fields={"stop_reason": "END"}),
            ["END"],
            [text_block("1, 2")],
            "stop_sequence",
            "END",
            id="provider-specific-fields",
        ),
        pytest.param(
            response("1, 2, 3 THE END"),
            ["END", "THE END"],
            [text_block("1, 2, 3 ")],
            "stop_sequence",
            "THE END",
            id="stop-sequence-left-in-text",
        ),
        pytest.param(
            response("END"), ["END"], [], "stop_sequence", "END", id="text-only-stop-sequence"
        ),
        pytest.param(
            response("1, 2", matched_stop="END"),
            ["STOP"],
            [text_block("1, 2")],
            "end_turn",
            None,
            id="matched-stop-not-requested",
        ),
        pytest.param(
            response("1, 2", stop_reason=128001),
            ["STOP"],
            [text_block("1, 2")],
            "end_turn",
            None,
            id="vllm-token-id",
        ),
        pytest.param(
            # The upstream ignored the stop and ran on to its limit; Anthropic stops at END.
            response("THE END and more", finish_reason="length"),
            ["END"],
            [text_block("THE ")],
            "stop_sequence",
            "END",
            id="past-the-stop-to-length",
        ),
        pytest.param(
            response("THE EN", finish_reason="length"),
            ["END"],
            [text_block("THE EN")],
            "max_tokens",
            None,
            id="length-keeps-text",
        ),
        pytest.param(
            response("ls", [BASH_LS], "stop"),
            ["END"],
            [text_block("ls"), BASH_LS_BLOCK],
            "tool_use",
            None,
            id="tool-beats-stop-reason",
        ),
        pytest.param(
            # Generation would have stopped at END, before the call.
            response("ls END", [BASH_LS], "tool_calls"),
            ["END"],
            [text_block("ls ")],
            "stop_sequence",
            "END",
            id="stop-sequence-before-a-tool-call",
        ),
        pytest.param(
            response("a STOP b END c"),
            ["END", "STOP"],
            [text_block("a ")],
            "stop_sequence",
            "STOP",
            id="the-first-sequence-in-the-text",
        ),
        pytest.param(
            response("xyz"),
            ["xyz", "y"],
            [text_block("x")],
            "stop_sequence",
            "y",
            id="the-sequence-that-ends-first",
        ),
        pytest.param(
            reasoning(response("Hi."), reasoning_content="Say hi."),
            None,
            [thinking_block("Say hi."), text_block("Hi.")],
            "end_turn",
            None,
            id="reasoning-first",
        ),
        pytest.param(
            reasoning(response("Looking.", [BASH_LS], "tool_calls"), reasoning_content="ls."),
            None,
            [thinking_block("ls."), text_block("Looking."), BASH_LS_BLOCK],
            "tool_use",
            None,
            id="reasoning-text-tool",
        ),
        pytest.param(
            reasoning(response(None, finish_reason="length"), reasoning_content="Hmm, long"),
            None,
            [thinking_block("Hmm, long")],
            "max_tokens",
            None,
            id="reasoning-cut-off",
        ),
        pytest.param(
            reasoning(response("Hi."), reasoning="Plain reasoning field."),
            None,
            [thinking_block("Plain reasoning field."), text_block("Hi.")],
            "end_turn",
            None,
            id="reasoning-field",
        ),
        pytest.param(
            reasoning(
                response("Hi."),
                reasoning_content=None,
                thinking_blocks=[
                    {"type": "thinking", "thinking": "From blocks.", "signature": "g"}
                ],
            ),
            None,
            [thinking_block("From blocks."), text_block("Hi.")],
            "end_turn",
            None,
            id="thinking-blocks",
        ),
        pytest.param(
            reasoning(response("Hi."), reasoning_content=""),
            None,
            [text_block("Hi.")],
            "end_turn",
            None,
            id="empty-reasoning",
        ),
    ],
)
def test_to_anthropic_message(
    upstream: dict,
    stop_sequences: list[str] | None,
    content: list[dict],
    stop_reason: str,
    stop_sequence: str | None,
) -> None:
    message = to_anthropic_message(
        upstream, requested_model="claude-opus-5-5", stop_sequences=stop_sequences
    )
    assert re.fullmatch(r"msg_[A-Za-z0-9_-]{24}", message.pop("id"))
    assert message == {
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-5-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": ZERO_USAGE,
    }


def test_parallel_tool_calls_keep_order_and_ids() -> None:
    gemini_id = "call_0f3c__thought__CiQBcsjafQ+/x9=="
    upstream = response(
        None,
        [
            call(gemini_id, "Read", '{"file_path": "/a"}'),
            call("", "Read", '{"file_path": "/b"}'),
            call(None, "Bash", None),
        ],
        "tool_calls",
    )
    content = to_anthropic_message(upstream, requested_model="m")["content"]
    assert [block["input"] for block in content] == [{"file_path": "/a"}, {"file_path": "/b"}, {}]
    assert content[0]["id"] == gemini_id
    assert re.fullmatch(r"toolu_[A-Za-z0-9_-]+", content[1]["id"])
    assert re.fullmatch(r"toolu_[A-Za-z0-9_-]+", content[2]["id"])
    assert content[1]["id"] != content[2]["id"]


def test_litellm_dump_with_reasoning_and_extra_fields() -> None:
    upstream = {
        "id": "chatcmpl-1",
        "created": 1,
        "model": "gpt-4.1",
        "object": "chat.completion",
        "system_fingerprint": None,
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "content": "Four.",
                    "role": "assistant",
                    "tool_calls": None,
                    "function_call": None,
                    "reasoning_content": "2 + 2 is 4.",
                    "provider_specific_fields": {"refusal": None},
                },
                "provider_specific_fields": {},
            }
        ],
        "usage": {
            "completion_tokens": 12,
            "prompt_tokens": 30,
            "total_tokens": 42,
            "completion_tokens_details": {"reasoning_tokens": 7},
            "prompt_tokens_details": None,
        },
        "service_tier": None,
    }
    target = Target(model="openai/o3-mini", provider="openai")
    message = to_anthropic_message(
        upstream, requested_model="claude-sonnet-5-5", stop_sequences=[], target=target
    )
    thinking, text = message["content"]
    assert text == text_block("Four.")
    assert (thinking["type"], thinking["thinking"]) == ("thinking", "2 + 2 is 4.")
    assert read_signature(thinking["signature"], "2 + 2 is 4.") == Signed(
        "openai", "openai/o3-mini"
    )
    assert message["usage"] == {**ZERO_USAGE, "input_tokens": 30, "output_tokens": 12}


@pytest.mark.parametrize(
    "upstream",
    [
        pytest.param({}, id="empty"),
        pytest.param({"choices": None, "usage": None}, id="nones"),
        pytest.param(
            {"choices": [{"index": 1, "message": {"content": "other"}}]}, id="only-other-choice"
        ),
        pytest.param(
            {"choices": [{"index": 0, "message": None, "finish_reason": None}]}, id="no-message"
        ),
    ],
)
def test_an_answer_without_a_message_is_an_error_not_an_empty_end_turn(upstream: dict) -> None:
    with pytest.raises(IncompleteAnswerError, match="without a message") as raised:
        to_anthropic_message(upstream, requested_model="m")
    assert raised.value.status == 502
