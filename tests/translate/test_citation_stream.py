"""One text block cut into Anthropic's text blocks with citations, streamed and whole; the
SDK's own types and accumulator read both."""

from __future__ import annotations

import itertools
from typing import Any

import pydantic
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import ContentBlock, Message, RawMessageStreamEvent

from claude_proxy.translate.citation_stream import CitedText, cite_content, cited_blocks
from claude_proxy.translate.citations import numbered_results, with_markers
from claude_proxy.translate.events import Event
from claude_proxy.translate.server_tool_blocks import search_result_block
from claude_proxy.translate.web_results import SearchHit

EVENTS = pydantic.TypeAdapter(RawMessageStreamEvent)
BLOCK = pydantic.TypeAdapter(ContentBlock)
SOURCES = numbered_results(
    [
        search_result_block(
            "s",
            [
                SearchHit("https://a.test/", "A", "Alpha is the first letter."),
                SearchHit("https://b.test/", "B", "Beta is the second one."),
            ],
        )
    ],
    1,
)
TEXT = "Alpha is first.[web:1] Beta is second.[web:2][web:1] Not [web:7]. End."


def streamed(fragments: list[str]) -> list[Event]:
    cut = CitedText(SOURCES, itertools.count(3).__next__)
    events = cut.start()
    for fragment in fragments:
        events += cut.feed(fragment)
    return events + cut.finish()


def accumulated(events: list[Event]) -> list[dict[str, Any]]:
    """The blocks the SDK's stream accumulator makes of the events."""
    start = {
        "type": "message_start",
        "message": Message.model_construct(
            id="msg_1",
            type="message",
            role="assistant",
            model="m",
            content=[],
            stop_reason=None,
            stop_sequence=None,
            usage={},
        ).model_dump(),
    }
    start["message"]["usage"] = {"input_tokens": 1, "output_tokens": 1}
    pad = [
        {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}
        for i in range(3)
    ]
    snapshot = None
    for data in [start, *pad, *(data for _, data in events)]:
        snapshot = accumulate_event(
            event=EVENTS.validate_python(data), current_snapshot=snapshot, json_bufs={}
        )
    assert snapshot is not None
    return [block.model_dump(exclude_none=True) for block in snapshot.content[3:]]


def test_the_text_is_cut_after_each_citing_marker() -> None:
    blocks = cited_blocks(TEXT, SOURCES)
    assert [block["text"] for block in blocks] == [
        "Alpha is first.",
        " Beta is second.",
        " Not [web:7]. End.",
    ]
    first, second, last = blocks
    assert [c["url"] for c in first["citations"]] == ["https://a.test/"]
    assert [c["url"] for c in second["citations"]] == ["https://b.test/", "https://a.test/"]
    assert "citations" not in last
    assert second["citations"][0] == {
        "type": "web_search_result_location",
        "url": "https://b.test/",
        "title": "B",
        "encrypted_index": second["citations"][0]["encrypted_index"],
        "cited_text": "Beta is the second one.",
    }
    for block in blocks:
        assert BLOCK.validate_python(block).model_dump(exclude_none=True) == block
    assert with_markers(blocks) == [{"type": "text", "text": TEXT}]


def test_the_stream_sends_text_then_citations_then_the_next_block() -> None:
    fragments = ["Alpha is first.[we", "b:1] Beta is second.[web:2]", "[web:1] Not [web:7]. End."]
    assert "".join(fragments) == TEXT
    events = streamed(fragments)
    shape = [(name, data["index"], data.get("delta", {}).get("type")) for name, data in events]
    assert shape == [
        ("content_block_start", 3, None),
        ("content_block_delta", 3, "text_delta"),
        ("content_block_delta", 3, "citations_delta"),
        ("content_block_stop", 3, None),
        ("content_block_start", 4, None),
        ("content_block_delta", 4, "text_delta"),
        ("content_block_delta", 4, "citations_delta"),
        ("content_block_delta", 4, "citations_delta"),
        ("content_block_stop", 4, None),
        ("content_block_start", 5, None),
        ("content_block_delta", 5, "text_delta"),
        ("content_block_stop", 5, None),
    ]
    texts = [
        d["delta"]["text"] for n, d in events if d.get("delta", {}).get("type") == "text_delta"
    ]
    assert texts == ["Alpha is first.", " Beta is second.", " Not [web:7]. End."]


def test_the_sdk_accumulates_the_stream_into_the_json_blocks() -> None:
    whole = cited_blocks(TEXT, SOURCES)
    for size in (1, 2, 5, 9, len(TEXT)):
        fragments = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
        assert accumulated(streamed(fragments)) == whole


def test_only_text_blocks_are_cut_and_only_with_results() -> None:
    tool = {"type": "tool_use", "id": "t", "name": "x", "input": {}}
    content = [{"type": "text", "text": "A.[web:1] B."}, tool]
    assert cite_content(content, {}) == content
    cut = cite_content(content, SOURCES)
    assert [block["type"] for block in cut] == ["text", "text", "tool_use"]
    assert cut[0]["text"] == "A." and cut[1] == {"type": "text", "text": " B."}
