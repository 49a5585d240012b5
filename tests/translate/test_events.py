"""The Anthropic SSE events a stream is made of, as (name, data) pairs in Anthropic's shapes."""

from __future__ import annotations

from typing import Any

import pytest

from claude_proxy.translate.events import (
    Event,
    add_delta,
    block_delta,
    block_stop,
    json_delta,
    signature_delta,
    text_delta,
    thinking_delta,
)


@pytest.mark.parametrize(
    ("event", "delta"),
    [
        (text_delta(0, "hi"), {"type": "text_delta", "text": "hi"}),
        (thinking_delta(1, "hmm"), {"type": "thinking_delta", "thinking": "hmm"}),
        (signature_delta(1, "sig"), {"type": "signature_delta", "signature": "sig"}),
        (json_delta(2, '{"a"'), {"type": "input_json_delta", "partial_json": '{"a"'}),
    ],
)
def test_deltas(event: Event, delta: dict[str, str]) -> None:
    name, data = event
    assert name == data["type"] == "content_block_delta"
    assert data["delta"] == delta
    assert isinstance(data["index"], int)


def test_block_delta_and_stop_carry_their_index() -> None:
    assert block_delta(3, {"type": "x"}) == (
        "content_block_delta",
        {"type": "content_block_delta", "index": 3, "delta": {"type": "x"}},
    )
    assert block_stop(4) == ("content_block_stop", {"type": "content_block_stop", "index": 4})


def test_each_event_is_a_fresh_dict() -> None:
    first, second = text_delta(0, "a"), text_delta(0, "a")
    assert first == second and first[1] is not second[1]


def test_add_delta_builds_each_kind_of_block() -> None:
    text: dict[str, Any] = {"type": "text", "text": ""}
    thinking: dict[str, Any] = {"type": "thinking", "thinking": ""}
    fragments: list[str] = []
    add_delta(text, {"type": "text_delta", "text": "Hel"}, fragments)
    add_delta(text, {"type": "text_delta", "text": "lo"}, fragments)
    add_delta(thinking, {"type": "thinking_delta", "thinking": "hmm"}, fragments)
    add_delta(thinking, {"type": "signature_delta", "signature": "sig"}, fragments)
    tool: dict[str, Any] = {"type": "tool_use", "input": {}}
    add_delta(tool, {"type": "input_json_delta", "partial_json": '{"a": '}, fragments)
    add_delta(tool, {"type": "input_json_delta", "partial_json": "1}"}, fragments)
    assert text["text"] == "Hello"
    assert thinking == {"type": "thinking", "thinking": "hmm", "signature": "sig"}
    assert "".join(fragments) == '{"a": 1}' and tool == {"type": "tool_use", "input": {}}


def test_add_delta_appends_citations_in_order() -> None:
    block: dict[str, Any] = {"type": "text", "text": ""}
    first, second = {"type": "web_search_result_location", "url": "a"}, {"url": "b"}
    add_delta(block, {"type": "text_delta", "text": "Claim."}, [])
    add_delta(block, {"type": "citations_delta", "citation": first}, [])
    add_delta(block, {"type": "citations_delta", "citation": second}, [])
    assert block == {"type": "text", "text": "Claim.", "citations": [first, second]}
