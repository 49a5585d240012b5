"""`web_search_result_location` citations, made from the markers the upstream model writes.

The model reads each search result under its marker (`[web:3]`, `server_tool_blocks.py`)
and is asked to write that marker right after the sentence it supports. In its answer, a
marker naming a result of this request's searches becomes a citation, as Anthropic's API
gives them: the text is cut after the marker, the marker leaves the text, and the block
before the cut carries the citation (markers one after another, spaces between them
allowed, cite the same block):

    "Alpha is first.[web:1] Beta is second.[web:2][web:3] Done."
    ->  text "Alpha is first."   citations [1]
        text " Beta is second."  citations [2, 3]
        text " Done."

Any other marker (a number no search of this request gave, a marker with only spaces before
it in its block) stays in the text as it was. `MarkerScanner` does the cutting on text that arrives in
pieces, holding back only a tail that could still become a marker; the JSON path feeds it
the whole text (`citation_stream.py`), so both paths cut alike.

Going upstream again, `with_markers` puts each marker back where it was (the
`encrypted_index` holds it as written) and joins the pieces, so the model reads its own
answer byte for byte and no `encrypted_index` leaves the proxy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from claude_proxy.translate.server_tool_blocks import (
    decode_hit_text,
    decode_marker,
    encode_index,
    search_items,
)

Block = dict[str, Any]

MARKER = re.compile(r"\[web:(\d{1,4})\]")
FOLLOWING = re.compile(r"[ \t]*\[web:(\d{1,4})\]")
"""A marker right after another one: the spaces before it are part of it."""
SAMPLE = "[web:1]"
CITED_TEXT_LIMIT = 150
"""Anthropic's `cited_text` holds up to 150 characters of the cited result."""
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"\w{3,}")


@dataclass(frozen=True)
class Source:
    """A search result a marker can name."""

    number: int
    url: str
    title: str | None
    text: str


@dataclass(frozen=True)
class Cite:
    """A marker naming `number`, as written (`raw`)."""

    raw: str
    number: int


Piece = str | Cite


def numbered_results(blocks: list[Any], first: int) -> dict[int, Source]:
    """The search results in `blocks`, numbered from `first` in order."""
    sources: dict[int, Source] = {}
    for block in blocks:
        for item in search_items(block):
            number = first + len(sources)
            title = item.get("title")
            sources[number] = Source(
                number=number,
                url=str(item.get("url") or ""),
                title=title if isinstance(title, str) and title else None,
                text=decode_hit_text(item.get("encrypted_content")),
            )
    return sources


def results_in(messages: list[Any]) -> int:
    """How many search results a conversation's assistant turns hold: the results of the
    next search are numbered after them."""
    count = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if message.get("role") == "assistant" and isinstance(content, list):
            count += sum(len(search_items(block)) for block in content)
    return count


class MarkerScanner:
    """Text in, pieces out: text, and `Cite` for each marker naming a `known` number.
    Joined, the pieces' text and markers give back the text fed in."""

    def __init__(self, known: set[int]) -> None:
        self._known = known
        self._buffer = ""
        self._after_cite = False
        self._has_text = False
        """Whether text other than spaces went out since the last citation: a marker needs
        text to cite."""

    def feed(self, text: str) -> list[Piece]:
        self._buffer += text
        pieces: list[Piece] = []
        while self._buffer:
            if self._after_cite:
                following = FOLLOWING.match(self._buffer)
                if following and int(following[1]) in self._known:
                    pieces.append(self._cite(following))
                    continue
                if following is None and may_begin(self._buffer, FOLLOWING):
                    break
                self._after_cite = False
            found = self._next_marker()
            if found is not None:
                if found.start():
                    pieces.append(self._text(found.start()))
                pieces.append(self._cite(found))
                continue
            start = self._buffer.rfind("[")
            held = start >= 0 and may_begin(self._buffer[start:], MARKER)
            end = start if held else len(self._buffer)
            if end:
                pieces.append(self._text(end))
            break
        return pieces

    def finish(self) -> list[Piece]:
        """The held tail, as text: it did not become a marker."""
        if not self._buffer:
            return []
        return [self._text(len(self._buffer))]

    def _next_marker(self) -> re.Match[str] | None:
        for found in MARKER.finditer(self._buffer):
            if int(found[1]) in self._known and (
                self._has_text or self._buffer[: found.start()].strip()
            ):
                return found
        return None

    def _text(self, end: int) -> str:
        text, self._buffer = self._buffer[:end], self._buffer[end:]
        self._has_text = self._has_text or bool(text.strip())
        self._after_cite = False
        return text

    def _cite(self, found: re.Match[str]) -> Cite:
        """The marker `found`, which the buffer now begins with."""
        self._buffer = self._buffer[len(found[0]) :]
        self._after_cite = True
        self._has_text = False
        return Cite(raw=found[0], number=int(found[1]))


def may_begin(tail: str, pattern: re.Pattern[str]) -> bool:
    """Whether `tail` is the beginning of a marker, not yet a whole one."""
    if pattern.fullmatch(tail):
        return False
    return any(pattern.fullmatch(tail + SAMPLE[size:]) for size in range(len(SAMPLE)))


def citation(source: Source, cite: Cite, cited: str) -> Block:
    """The `web_search_result_location` for a marker that followed the text `cited`."""
    return {
        "type": "web_search_result_location",
        "url": source.url,
        "title": source.title,
        "encrypted_index": encode_index(cite.raw, source.number, source.url),
        "cited_text": cited_text(last_sentence(cited), source),
    }


def last_sentence(text: str) -> str:
    sentences = [part for part in SENTENCE_END.split(text.strip()) if part.strip()]
    return sentences[-1] if sentences else ""


def cited_text(sentence: str, source: Source) -> str:
    """The passage of the result that supports `sentence`: of the result's sentences, the
    one sharing the most words with it (the first on a tie, or when none shares one); the
    title when the result has no text. Always the result's own words, at most 150
    characters."""
    candidates = [part.strip() for part in SENTENCE_END.split(source.text) if part.strip()]
    if not candidates:
        return (source.title or "")[:CITED_TEXT_LIMIT]
    words = set(WORD.findall(sentence.lower()))
    best = max(candidates, key=lambda part: len(words & set(WORD.findall(part.lower()))))
    return best[:CITED_TEXT_LIMIT].rstrip()


def with_markers(blocks: list[Any]) -> list[Any]:
    """An assistant turn's blocks as the upstream model wrote them: each text block that
    carries the proxy's citations gets its markers back and is joined with the text block
    that follows it, which the cut made."""
    out: list[Any] = []
    glue = False
    for block in blocks:
        if not (isinstance(block, dict) and block.get("type") == "text"):
            out.append(block)
            glue = False
            continue
        markers = markers_of(block)
        text = str(block.get("text", "")) + "".join(markers)
        if glue:
            out[-1] = {"type": "text", "text": out[-1]["text"] + text}
        elif markers:
            out.append({"type": "text", "text": text})
        else:
            out.append(block)
        glue = bool(markers)
    return out


def markers_of(block: Block) -> list[str]:
    markers = []
    for item in block.get("citations") or []:
        found = decode_marker(item.get("encrypted_index")) if isinstance(item, dict) else None
        if found is not None:
            markers.append(found)
    return markers
