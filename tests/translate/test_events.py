"""The Anthropic SSE events a stream is made of, as (name, data) pairs in Anthropic's shapes."""

from __future__ import annotations

import pytest

from claude_proxy.translate.events import (
    Event,
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
