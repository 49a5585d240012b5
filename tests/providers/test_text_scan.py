"""The scanning helpers of the text tool-call parser: where a bracket closes in text that may
still be growing (resumed, never rescanned), markers, and what may begin one."""

from __future__ import annotations

import re

import pytest

from claude_proxy.providers.text_scan import (
    FENCE,
    FUNCTION,
    MARKERS,
    PYTHON_TAG,
    TOOL_CALL,
    Scan,
    advance,
    match_end,
    partial_marker_length,
    skip,
    starts,
)

CLOSED = [
    ('{"a": 1} tail', 8),
    ('{"a": {"b": [1, 2]}} tail', 20),
    ('{"s": "} ] ) not brackets"} x', 27),
    ('{"s": "an \\" escaped quote }"}', 30),
    ("{'s': 'single } quotes'}", 24),
    ('{"s": """triple " } quote"""} x', 29),
    ("[1, (2, 3), {4: 5}]", 19),
    ('{"s": "\\\\"} x', 11),  # an escaped backslash, then the closing quote
]


@pytest.mark.parametrize(("text", "end"), CLOSED)
def test_advance_finds_where_the_bracket_closes(text: str, end: int) -> None:
    assert advance(Scan(0), text) == end
    assert text[end - 1] in ")]}"


@pytest.mark.parametrize(("text", "end"), CLOSED)
def test_advance_gives_the_same_end_however_the_text_grows(text: str, end: int) -> None:
    """Fed one character more at a time, as a stream delivers it, the scan resumes where it
    stopped and finds the same end."""
    scan = Scan(0)
    found = None
    for length in range(1, len(text) + 1):
        position = scan.position
        found = advance(scan, text[:length])
        assert scan.position >= position  # never scans backwards
        if found is not None:
            break
    assert found == end


@pytest.mark.parametrize(
    "text",
    ['{"a": 1', '{"s": "}', '{"s": "\\', "{'''}", '{"a": [1, 2]', '{"a": "'],
)
def test_advance_waits_while_the_bracket_is_open(text: str) -> None:
    assert advance(Scan(0), text) is None


def test_advance_starts_where_the_scan_says() -> None:
    text = 'prose {"a": 1} more'
    assert advance(Scan(text.index("{")), text) == text.index("}") + 1


def test_match_end_and_skip() -> None:
    pattern = re.compile(r"<function=\w+>")
    assert match_end(pattern, "x<function=Bash>y", 1) == 16
    assert match_end(pattern, "x<nope>", 1) == 1
    assert skip(" \t\r\n x", 0) == 5
    assert skip("abc", 3) == 3


@pytest.mark.parametrize(
    ("text", "position", "literal", "answer"),
    [
        ("<tool_call>{", 0, TOOL_CALL, True),
        ("<tool_", 0, TOOL_CALL, None),  # the text ends inside the marker
        ("", 0, TOOL_CALL, None),
        ("<toolbox>", 0, TOOL_CALL, False),
        ("xx```json", 2, FENCE, True),
    ],
)
def test_starts(text: str, position: int, literal: str, answer: bool | None) -> None:
    assert starts(text, position, literal) is answer


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("plain prose.", 0),
        ("see <", 1),
        ("see <func", 5),
        ("see <function", 9),
        ("text <|python_", 9),
        ("a fence ``", 2),
        ("<tool_call", 10),
        ("a < b", 0),
    ],
)
def test_partial_marker_length(text: str, length: int) -> None:
    assert partial_marker_length(text) == length
    if length:
        assert any(marker.startswith(text[-length:]) for marker in MARKERS)


def test_the_markers() -> None:
    assert MARKERS == (FUNCTION, TOOL_CALL, PYTHON_TAG, FENCE)
