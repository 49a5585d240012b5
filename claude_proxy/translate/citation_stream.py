"""One upstream text block as the text blocks Anthropic's API gives for it, with citations.

    text in                       events out
    ----------------------------  ---------------------------------------------------------
    start()                       start(0, text)
    "Alpha is first.[we"          text_delta "Alpha is first."      ("[we" held)
    "b:1] Beta"                   citations_delta [1]  stop(0)  start(1, text)
                                  text_delta " Beta"
    finish()                      stop(1)

A block's text deltas come first, then a `citations_delta` for each marker that ends it; the
next text opens the next block. The streamed answer (`ServerToolStream`) and the JSON one
(`cited_blocks`) are both made here, so the SDK's accumulator builds from the stream the
message the JSON path returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from claude_proxy.translate.citations import Cite, MarkerScanner, Piece, Source, citation
from claude_proxy.translate.events import Event, add_delta, block_delta, block_stop, text_delta

Block = dict[str, Any]


class CitedText:
    """The text of one upstream block, cut into blocks at the markers naming `sources`;
    each new block's index comes from `allocate`."""

    def __init__(self, sources: Mapping[int, Source], allocate: Callable[[], int]) -> None:
        self._sources = sources
        self._allocate = allocate
        self._scanner = MarkerScanner(set(sources))
        self._index = allocate()
        self._text = ""
        """The current block's text so far: what its citations cite."""
        self._cited = False

    def start(self) -> list[Event]:
        return [block_start(self._index)]

    def feed(self, text: str) -> list[Event]:
        return self._events(self._scanner.feed(text))

    def finish(self) -> list[Event]:
        return [*self._events(self._scanner.finish()), block_stop(self._index)]

    def _events(self, pieces: list[Piece]) -> list[Event]:
        events: list[Event] = []
        for piece in pieces:
            if isinstance(piece, Cite):
                cited = citation(self._sources[piece.number], piece, self._text)
                delta = {"type": "citations_delta", "citation": cited}
                events.append(block_delta(self._index, delta))
                self._cited = True
                continue
            if self._cited:
                events.append(block_stop(self._index))
                self._index = self._allocate()
                events.append(block_start(self._index))
                self._text, self._cited = "", False
            self._text += piece
            events.append(text_delta(self._index, piece))
        return events


def block_start(index: int) -> Event:
    block = {"type": "text", "text": ""}
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def cited_blocks(text: str, sources: Mapping[int, Source]) -> list[Block]:
    """The text blocks, with their citations, of an answer's whole `text`."""
    indexes = itertools.count()
    cut = CitedText(sources, lambda: next(indexes))
    blocks: list[Block] = []
    for name, data in [*cut.start(), *cut.feed(text), *cut.finish()]:
        if name == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif name == "content_block_delta":
            add_delta(blocks[data["index"]], data["delta"], [])
    return blocks


def cite_content(content: list[Block], sources: Mapping[int, Source]) -> list[Block]:
    """An answer's content with each text block cut at the markers naming `sources`."""
    if not sources:
        return content
    out: list[Block] = []
    for block in content:
        if block.get("type") == "text" and not block.get("citations"):
            out.extend(cited_blocks(str(block.get("text", "")), sources))
        else:
            out.append(block)
    return out
