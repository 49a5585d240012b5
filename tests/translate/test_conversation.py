"""Anthropic `messages` -> OpenAI `messages`: turns merged and skipped, every tool call answered
right after its assistant message (a placeholder when the user turn has none), and the images
a tool message cannot hold sent in the user message after it."""

from __future__ import annotations

import json
from typing import Any

from claude_proxy.translate.conversation import NO_RESULT, merge_turns, to_openai_messages
from claude_proxy.translate.server_tool_blocks import encode_index
from claude_proxy.translate.target import Target

GPT = Target(model="openai/gpt-4.1", provider="openai")
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}


def use(call_id: str, name: str = "Bash", **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def result(call_id: str, content: Any = "done") -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": content}


def test_same_role_turns_merge_and_empty_ones_vanish() -> None:
    turns = merge_turns(
        [
            {"role": "user", "content": "one"},
            {"role": "user", "content": []},
            {"role": "user", "content": [{"type": "text", "text": "two"}]},
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "t", "signature": "s"}],
            },
            {"role": "user", "content": "three"},
        ]
    )
    # the thinking-only turn is dropped, which lets the user turns around it merge
    assert [(role, [b["text"] for b in blocks]) for role, blocks in turns] == [
        ("user", ["one", "two", "three"])
    ]


def test_system_turns_are_never_merged() -> None:
    turns = merge_turns([{"role": "system", "content": "a"}, {"role": "system", "content": "b"}])
    assert [role for role, _ in turns] == ["system", "system"]


def test_a_tool_round_trip() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "list files"},
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "Listing."}, use("call_1", command="ls")],
            },
            {
                "role": "user",
                "content": [result("call_1", "a.txt"), {"type": "text", "text": "and now?"}],
            },
        ],
        GPT,
    )
    assert messages == [
        {"role": "user", "content": "list files"},
        {
            "role": "assistant",
            "content": "Listing.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "Bash", "arguments": '{"command": "ls"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "a.txt"},
        {"role": "user", "content": "and now?"},
    ]


def test_results_are_answered_in_call_order_and_missing_ones_get_a_placeholder() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [use("a"), use("b"), use("c")]},
            {"role": "user", "content": [result("c", "C"), result("a", "A")]},
        ],
        GPT,
    )
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "a", "content": "A"},
        {"role": "tool", "tool_call_id": "b", "content": NO_RESULT},
        {"role": "tool", "tool_call_id": "c", "content": "C"},
    ]


def test_calls_left_without_a_user_turn_are_answered_at_the_end() -> None:
    messages = to_openai_messages(
        [{"role": "user", "content": "go"}, {"role": "assistant", "content": [use("a")]}], GPT
    )
    assert messages[-1] == {"role": "tool", "tool_call_id": "a", "content": NO_RESULT}
    assert messages[1]["content"] is None


def test_a_result_for_no_pending_call_and_a_second_result_become_user_text() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [use("a")]},
            {
                "role": "user",
                "content": [result("a", "first"), result("a", "again"), result("zzz", "stray")],
            },
        ],
        GPT,
    )
    assert messages[2] == {"role": "tool", "tool_call_id": "a", "content": "first"}
    assert messages[3] == {
        "role": "user",
        "content": "Result of tool call a:\nagain\n\nResult of tool call zzz:\nstray",
    }


def test_an_image_in_a_result_follows_the_tool_messages_in_a_user_message() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "screenshot"},
            {"role": "assistant", "content": [use("shot")]},
            {"role": "user", "content": [result("shot", [{"type": "image", "source": PNG}])]},
        ],
        GPT,
    )
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": "shot",
        "content": "[image attached in the next user message]",
    }
    assert messages[3] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Image(s) from the result of tool call shot:"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    }


def test_a_system_message_mid_conversation_stays_where_it_was() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "hi"},
            {
                "role": "system",
                "content": [{"type": "text", "text": "be brief"}, {"type": "image", "source": PNG}],
            },
            {
                "role": "system",
                "content": [
                    {"type": "thinking", "thinking": "x", "signature": "s"},
                    {"type": "image", "source": PNG},
                ],
            },
            {"role": "user", "content": "ok"},
        ],
        GPT,
    )
    # system messages hold text only; one with no text at all is skipped
    assert messages == [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "ok"},
    ]


def test_an_assistant_turn_with_nothing_openai_can_hold_is_skipped() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "image", "source": PNG}]},
            {"role": "user", "content": "again"},
        ],
        GPT,
    )
    assert messages == [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]


def test_cited_text_goes_back_as_the_model_wrote_it_without_the_index() -> None:
    citation = {
        "type": "web_search_result_location",
        "url": "https://a.test/",
        "title": "A",
        "cited_text": "Alpha.",
        "encrypted_index": encode_index("[web:1]", 1, "https://a.test/"),
    }
    answer = [
        {"type": "text", "text": "Alpha is first.", "citations": [citation]},
        {"type": "text", "text": " Done."},
    ]
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "thanks"},
    ]
    translated = to_openai_messages(messages, GPT)
    assert translated[1] == {"role": "assistant", "content": "Alpha is first.[web:1] Done."}
    assert "cpxci1." not in json.dumps(translated)
