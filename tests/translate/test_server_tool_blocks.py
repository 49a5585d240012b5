from __future__ import annotations

import pydantic
from anthropic.types import ContentBlock

from claude_proxy.translate.server_tool_blocks import (
    ENCODING_PREFIX,
    INDEX_PREFIX,
    decode_hit_text,
    decode_marker,
    encode_hit,
    encode_index,
    error_block,
    fetch_result_block,
    result_text,
    search_result_block,
    server_tool_id,
    server_tool_use,
    upstream_tool_id,
)
from claude_proxy.translate.web_results import FetchedPage, SearchHit

BLOCK = pydantic.TypeAdapter(ContentBlock)
HIT = SearchHit("https://a.test/x", "A — title", "Snippet with ünïcode.", "1 day ago")


def test_encrypted_content_round_trips_the_hit_text() -> None:
    encoded = encode_hit(HIT)
    assert encoded.startswith(ENCODING_PREFIX) and "=" not in encoded
    assert decode_hit_text(encoded) == "Snippet with ünïcode."
    for foreign in ("EqQBCkYICRgC...", None, ENCODING_PREFIX + "!!!", ENCODING_PREFIX + "YWJj"):
        assert decode_hit_text(foreign) == ""


def test_every_block_parses_as_the_sdks_own_type() -> None:
    call_id = server_tool_id("call_abc")
    assert call_id == "srvtoolu_call_abc" and upstream_tool_id(call_id) == "call_abc"
    assert server_tool_id("").startswith("srvtoolu_") and len(server_tool_id("")) > 20
    page = FetchedPage("https://a.test/", "text", "Title", "2026-12-01T13:00:00Z")
    blocks = [
        server_tool_use(call_id, "web_search", {"query": "q"}),
        search_result_block(call_id, [HIT]),
        search_result_block(call_id, []),
        error_block("web_search", call_id, "max_uses_exceeded"),
        fetch_result_block(call_id, page),
        error_block("web_fetch", call_id, "url_not_accessible"),
    ]
    for block in blocks:
        assert BLOCK.validate_python(block).type == block["type"]


def test_the_model_reads_results_errors_and_pages() -> None:
    text = result_text(search_result_block("s", [HIT]))
    assert "[web:1] A — title" in text and "URL: https://a.test/x" in text
    assert text.endswith("right after the sentence it supports. Write no other markers.")
    assert "Age: 1 day ago" in text and "Snippet with ünïcode." in text
    assert result_text(search_result_block("s", [])) == "The search found no results."
    failed = result_text(error_block("web_search", "s", "unavailable"), "set BRAVE_API_KEY")
    assert failed == "The web_search tool failed (unavailable): set BRAVE_API_KEY."
    assert "max_uses" in result_text(error_block("web_search", "s", "max_uses_exceeded"))
    page = FetchedPage("https://a.test/", "Body text.", "Title", "2026-12-01T13:00:00Z")
    assert result_text(fetch_result_block("f", page)) == (
        "Fetched https://a.test/ (Title):\n\nBody text."
    )
    foreign = {"type": "web_search_tool_result", "content": [{"url": "u", "title": "t"}]}
    assert "URL: u" in result_text(foreign)


def test_results_are_numbered_from_where_the_conversation_is() -> None:
    other = SearchHit("https://b.test/", "B", "Bee.")
    text = result_text(search_result_block("s", [HIT, other]), first=4)
    assert "[web:4] A — title" in text and "[web:5] B" in text and "[web:1]" not in text
    assert "(several: [web:4][web:5])" in text


def test_encrypted_index_holds_the_marker_as_written() -> None:
    encoded = encode_index(" [web:12]", 12, "https://a.test/x")
    assert encoded.startswith(INDEX_PREFIX) and "=" not in encoded
    assert decode_marker(encoded) == " [web:12]"
    for foreign in ("Eo8BCioIAhgBIiQy", None, 7, INDEX_PREFIX + "!!!", encode_hit(HIT)):
        assert decode_marker(foreign) is None
