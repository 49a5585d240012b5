"""Markers in the model's text -> citation pieces; the pieces' citations; the history's text
with the markers back."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from claude_proxy.translate.citations import (
    MARKER,
    Cite,
    MarkerScanner,
    Piece,
    Source,
    cited_text,
    last_sentence,
    markers_of,
    may_begin,
    numbered_results,
    results_in,
    with_markers,
)
from claude_proxy.translate.server_tool_blocks import (
    encode_index,
    error_block,
    search_result_block,
)
from claude_proxy.translate.web_results import SearchHit

HITS = [
    SearchHit("https://a.test/", "A", "Alpha came first. Alpha is the first letter."),
    SearchHit("https://b.test/", "", "Beta."),
]


def scan(text: str, known: set[int], cuts: tuple[int, ...] = ()) -> list[Piece]:
    """The pieces of `text` fed cut at `cuts`, adjacent text pieces joined."""
    scanner = MarkerScanner(known)
    bounds = [0, *cuts, len(text)]
    pieces: list[Piece] = []
    for start, end in itertools.pairwise(bounds):
        pieces += scanner.feed(text[start:end])
    pieces += scanner.finish()
    joined: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and joined and isinstance(joined[-1], str):
            joined[-1] += piece
        else:
            joined.append(piece)
    return joined


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("No markers.", ["No markers."]),
        ("Alpha.[web:1] Beta.", ["Alpha.", Cite("[web:1]", 1), " Beta."]),
        ("Alpha [web:1].", ["Alpha ", Cite("[web:1]", 1), "."]),
        ("Both.[web:1][web:2]", ["Both.", Cite("[web:1]", 1), Cite("[web:2]", 2)]),
        ("Both.[web:1] \t[web:2]!", ["Both.", Cite("[web:1]", 1), Cite(" \t[web:2]", 2), "!"]),
        ("Made up.[web:9] Next.", ["Made up.[web:9] Next."]),
        ("Half.[web:2][web:9]", ["Half.", Cite("[web:2]", 2), "[web:9]"]),
        ("[web:1]Nothing before it.", ["[web:1]Nothing before it."]),
        ("A.[web:1]\n  [web:2] B", ["A.", Cite("[web:1]", 1), "\n  [web:2] B"]),
        ("Code: x[1] and [web:1 and [web: 1].", ["Code: x[1] and [web:1 and [web: 1]."]),
        ("Cut off at the end [web:", ["Cut off at the end [web:"]),
        ("Too long [web:12345]", ["Too long [web:12345]"]),
    ],
)
def test_markers_of_known_results_become_cites(text: str, pieces: list[Piece]) -> None:
    assert scan(text, {1, 2}) == pieces


@pytest.mark.parametrize(
    "text",
    ["Alpha.[web:1] Beta [web:2] [web:1]. Gone [web:9].", "[web:1] x [web:2]\n[web:2] y."],
)
def test_any_cut_of_the_stream_gives_the_same_pieces(text: str) -> None:
    whole = scan(text, {1, 2})
    for first in range(len(text) + 1):
        for second in range(first, len(text) + 1):
            assert scan(text, {1, 2}, (first, second)) == whole, (first, second)


def test_only_a_possible_marker_is_held_back() -> None:
    scanner = MarkerScanner({1})
    assert scanner.feed("So it is [we") == ["So it is "]
    assert scanner.feed("b:1") == []
    assert scanner.feed("] and [") == [Cite("[web:1]", 1), " and "]
    assert scanner.feed("x]") == ["[x]"]
    assert scanner.feed(" more") == [" more"]
    assert scanner.feed("[web:1]") == [Cite("[web:1]", 1)]
    assert scanner.feed("  ") == []  # could still be followed by another marker
    assert scanner.finish() == ["  "]


@pytest.mark.parametrize(
    ("tail", "begins"),
    [("[", True), ("[web:", True), ("[web:12", True), ("[web:1]", False), ("[wex", False)],
)
def test_may_begin(tail: str, begins: bool) -> None:
    assert may_begin(tail, MARKER) is begins


def test_results_are_numbered_across_the_conversation() -> None:
    first = search_result_block("srvtoolu_1", HITS)
    failed = error_block("web_search", "srvtoolu_2", "unavailable")
    second = search_result_block("srvtoolu_3", HITS[:1])
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "text", "text": "t"}, first, failed]},
        {"role": "user", "content": [second]},  # not the model's: not numbered
    ]
    assert results_in(messages) == 2
    sources = numbered_results([first, failed, second], 3)
    assert list(sources) == [3, 4, 5]
    assert sources[3] == Source(3, "https://a.test/", "A", HITS[0].text)
    assert sources[4].title is None and sources[5].url == "https://a.test/"


def test_cited_text_is_the_results_own_words() -> None:
    source = numbered_results([search_result_block("s", HITS)], 1)[1]
    assert cited_text("It is the first letter of all.", source) == "Alpha is the first letter."
    assert cited_text("Unrelated words.", source) == "Alpha came first."
    long = Source(1, "u", "T", "word " * 100)
    assert cited_text("word", long) == ("word " * 30).strip()
    assert len(cited_text("word", long)) == 149
    assert cited_text("x", Source(1, "u", "The title", "")) == "The title"
    assert last_sentence("One. Two? Three has words") == "Three has words"
    assert last_sentence("First.\nSecond line.") == "Second line."


def cited(text: str, *markers: str) -> dict[str, Any]:
    citations = [
        {
            "type": "web_search_result_location",
            "url": "u",
            "title": "t",
            "cited_text": "c",
            "encrypted_index": encode_index(marker, 1, "u"),
        }
        for marker in markers
    ]
    return {"type": "text", "text": text, "citations": citations}


def test_the_history_gets_the_markers_back_and_one_text() -> None:
    tool = {"type": "tool_use", "id": "t", "name": "x", "input": {}}
    blocks = [
        cited("Alpha.", "[web:1]"),
        cited(" Beta.", "[web:2]", " [web:3]"),
        {"type": "text", "text": " Done."},
        tool,
        {"type": "text", "text": "After."},
    ]
    assert with_markers(blocks) == [
        {"type": "text", "text": "Alpha.[web:1] Beta.[web:2] [web:3] Done."},
        tool,
        {"type": "text", "text": "After."},
    ]


def test_citations_the_proxy_did_not_make_leave_the_text_alone() -> None:
    foreign = cited("From Anthropic.")
    foreign["citations"] = [{"type": "web_search_result_location", "encrypted_index": "Eo8B"}]
    plain = {"type": "text", "text": "Next."}
    assert with_markers([foreign, plain]) == [foreign, plain]
    assert markers_of(foreign) == []
