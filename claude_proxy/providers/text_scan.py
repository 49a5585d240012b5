"""Scanning helpers for `text_tool_calls`: markers, bracket matching across chunk boundaries.

`advance` finds where a bracket closes in text that may still be growing, resuming from where
it stopped (a `Scan`), so text held back in a stream is never scanned twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WHITESPACE = " \t\r\n"
FUNCTION, TOOL_CALL, PYTHON_TAG, FENCE = "<function=", "<tool_call>", "<|python_tag|>", "```"
MARKERS = (FUNCTION, TOOL_CALL, PYTHON_TAG, FENCE)

STRUCTURE = re.compile(r"[\"'()\[\]{}]")
STRING_ENDS = {quote: re.compile(r"\\|" + re.escape(quote)) for quote in ('"', "'", '"""', "'''")}


@dataclass
class Scan:
    """Where the search for a bracket's closing partner stopped, so held text is not rescanned."""

    position: int
    depth: int = 0
    quote: str = ""
    end: int | None = None


def advance(scan: Scan, text: str) -> int | None:
    """Scan on from where `scan` stopped: the index after its bracket closes, or None.

    Python's string syntax covers JSON's, so one scanner serves both (JSON validity is checked
    by decoding afterwards).
    """
    position = scan.position
    while True:
        if scan.quote:
            match = STRING_ENDS[scan.quote].search(text, position)
            if match is None:
                scan.position = max(position, len(text) - len(scan.quote) + 1)
                return None
            if match.group() == "\\":
                if match.end() == len(text):
                    scan.position = match.start()
                    return None
                position = match.end() + 1
                continue
            position, scan.quote = match.end(), ""
            continue
        match = STRUCTURE.search(text, position)
        if match is None:
            scan.position = len(text)
            return None
        char, position = match.group(), match.end()
        if char in "\"'":
            rest = text[match.start() : match.start() + 3]
            if rest != char * 3 and (char * 3).startswith(rest) and len(rest) < 3:
                scan.position = match.start()  # maybe a triple quote: wait for its end
                return None
            scan.quote = char * 3 if rest == char * 3 else char
            position = match.start() + len(scan.quote)
        elif char in "([{":
            scan.depth += 1
        else:
            scan.depth -= 1
            if scan.depth == 0:
                return position


def match_end(pattern: re.Pattern[str], text: str, position: int) -> int:
    match = pattern.match(text, position)
    return position if match is None else match.end()


def skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in WHITESPACE:
        position += 1
    return position


def starts(text: str, position: int, literal: str) -> bool | None:
    """Whether `literal` is at `position`; None when the text ends inside (or before) it."""
    rest = text[position : position + len(literal)]
    if rest == literal:
        return True
    return None if literal.startswith(rest) else False


def partial_marker_length(text: str) -> int:
    """Length of the longest suffix of `text` that a marker begins with (a marker may follow)."""
    for length in range(min(len(text), max(map(len, MARKERS)) - 1), 0, -1):
        tail = text[-length:]
        if any(marker.startswith(tail) for marker in MARKERS):
            return length
    return 0
