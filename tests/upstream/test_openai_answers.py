"""Native answers shaped as LiteLLM shapes them for the translator: finish reasons mapped,
`reasoning` renamed, a leading <think> block taken out of a whole answer."""

from __future__ import annotations

import pytest

from claude_proxy.upstream.openai_answers import (
    finish_reason_of,
    normalized_chunk,
    normalized_completion,
)


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("max_tokens", "length"),
        ("tool_calls", "tool_calls"),
        ("SAFETY", "content_filter"),
        ("eos", "stop"),  # Together's, unknown to the map
        (None, None),  # no finish yet: stays None, so a cut stream can be told apart
        ("", ""),
    ],
)
def test_finish_reasons(raw: str | None, mapped: str | None) -> None:
    assert finish_reason_of(raw) == mapped


def test_a_chunks_reasoning_becomes_reasoning_content() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"reasoning": "hm"}, "finish_reason": "eos"}]}
    [choice] = normalized_chunk(chunk)["choices"]
    assert choice == {"index": 0, "delta": {"reasoning_content": "hm"}, "finish_reason": "stop"}
    assert normalized_chunk({"choices": []}) == {"choices": []}


def test_a_whole_answers_think_block_is_its_reasoning() -> None:
    data = {"choices": [{"message": {"content": "<think>2+2</think>Four."}, "finish_reason": None}]}
    [choice] = normalized_completion(data)["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] is None
    assert choice["message"] == {"content": "Four.", "reasoning_content": "2+2"}
    kept = {"content": "<think>x</think>y", "reasoning_content": "given"}
    [same] = normalized_completion({"choices": [{"message": kept}]})["choices"]
    assert same["message"] == kept
