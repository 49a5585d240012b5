"""One SSE message over several upstream rounds: the stream of a request whose model used
the proxy's web tools.

    round 1 chunks       message_start ping  text block 0 (live)  server_tool_use block 1
                         (its input as input_json_delta, live)
    end_round()          block 1 stops; the calls of the round are known
    add_results(blocks)  web_search_tool_result block 2: one start with all its content, stop
    round 2 chunks       text block 3 (live) ...
    finish()             message_delta (usage summed over the rounds, server_tool_use counts)
                         message_stop

Each round runs through its own `StreamTranslator`; this class renumbers its blocks after
the ones already sent, drops its message_start and message_delta, turns its calls of server
tools into `server_tool_use` blocks, cuts its text at the markers that cite this request's
search results (`citation_stream.py`), and keeps every block whole (`content`) for the next
round's request. It has `StreamTranslator`'s face (`start`, `feed`, `finish`, `abort`,
`upstream_finished`, `stopped`), so `server/stream_writer.py` writes it unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from claude_proxy.translate.citation_stream import CitedText
from claude_proxy.translate.citations import Source, numbered_results
from claude_proxy.translate.events import Event, add_delta
from claude_proxy.translate.server_tool_blocks import server_tool_id, server_tool_use
from claude_proxy.translate.stream import StreamTranslator
from claude_proxy.translate.target import Target
from claude_proxy.translate.usage import count_of

Block = dict[str, Any]
MARKER = "x-claude-proxy-round"
"""The key of the two chunks the proxy's loop puts between rounds (`round_end`, `results`);
no upstream chunk has it."""
USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens")


def round_end() -> dict[str, Any]:
    return {MARKER: "round_end"}


def results(blocks: list[Block], requests: dict[str, int]) -> dict[str, Any]:
    return {MARKER: "results", "blocks": blocks, "requests": dict(requests)}


class ServerToolStream:
    def __init__(
        self,
        *,
        requested_model: str,
        server_names: set[str],
        stop_sequences: list[str] | None = None,
        target: Target | None = None,
        first_result: int = 1,
    ) -> None:
        """`first_result`: the number of this request's first search result (those of the
        conversation before come first)."""
        self._options: dict[str, Any] = {
            "requested_model": requested_model,
            "stop_sequences": stop_sequences,
            "target": target,
        }
        self._outer = self._make()
        self._round = self._make()
        self._names = server_names
        self._indexes: dict[int, int] = {}
        """The current round's block indexes -> the message's."""
        self._next = 0
        self._first_result = first_result
        self._sources: dict[int, Source] = {}
        """This request's search results so far, by number: what a marker can cite."""
        self._cited: CitedText | None = None
        self._cited_index: int | None = None
        """The round's text block being cut at markers, and its index in the round."""
        self._open: dict[int, Block] = {}
        self._json: dict[int, list[str]] = {}
        self.content: list[Block] = []
        """Every block sent so far, whole, in order."""
        self.round_calls: list[Block] = []
        self.client_calls = False
        """Whether the last round called a tool the client runs."""
        self._usage: dict[str, int] = dict.fromkeys(USAGE_KEYS, 0)
        self._cache_read = 0
        self._stop: dict[str, Any] = {"stop_reason": "end_turn", "stop_sequence": None}
        self._round_done = False
        self.requests = {"web_search_requests": 0, "web_fetch_requests": 0}

    @property
    def started(self) -> bool:
        return self._outer.started

    @property
    def upstream_finished(self) -> bool:
        return self._round_done or self._round.upstream_finished

    @property
    def stopped(self) -> bool:
        """A stop sequence ended the round's text; `finish` then carries `stop_sequence`."""
        return self._round.stopped

    def start(self) -> list[Event]:
        return self._outer.start()

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events = self.start()
        if chunk.get(MARKER) == "round_end":
            return events + self.end_round()
        if chunk.get(MARKER) == "results":
            self.requests = {**self.requests, **chunk["requests"]}
            return events + self.add_results(chunk["blocks"])
        if self._round_done:  # the first chunk of the next round
            self._indexes = {}
            self._round = self._make()
            self._round_done = False
        return events + self._relay(self._round.feed(chunk))

    def end_round(self) -> list[Event]:
        """Close the round's blocks; its server calls are then in `round_calls`."""
        self.round_calls = []
        events = self._relay(self._round.finish())
        self._round_done = True
        return events

    def add_results(self, blocks: list[Block]) -> list[Event]:
        """The result blocks of the round's calls, each whole; the next chunk begins a new
        round."""
        events: list[Event] = []
        for block in blocks:
            index = self._allocate()
            self.content.append(block)
            start = {"type": "content_block_start", "index": index, "content_block": block}
            events.append(("content_block_start", start))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        first = self._first_result + len(self._sources)
        self._sources.update(numbered_results(blocks, first))
        return events

    def set_stop_reason(self, reason: str) -> None:
        self._stop = {"stop_reason": reason, "stop_sequence": None}

    def finish(self) -> list[Event]:
        events = self.start()
        if not self._round_done:
            events += self.end_round()
        usage: dict[str, Any] = {**self._usage, "cache_read_input_tokens": self._cache_read}
        usage["server_tool_use"] = dict(self.requests)
        delta = {"type": "message_delta", "delta": self._stop, "usage": usage}
        return [*events, ("message_delta", delta), ("message_stop", {"type": "message_stop"})]

    def abort(self, error_type: str, message: str) -> list[Event]:
        return self._outer.abort(error_type, message)

    def _make(self) -> StreamTranslator:
        return StreamTranslator(**self._options)

    def _allocate(self) -> int:
        index = self._next
        self._next += 1
        return index

    def _relay(self, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        for name, data in events:
            if name in ("message_start", "ping", "message_stop"):
                continue
            if name == "message_delta":
                self._note_delta(data)
                continue
            for event in self._renumbered(name, data):
                self._record(*event)
                out.append(event)
        return out

    def _renumbered(self, name: str, data: dict[str, Any]) -> list[Event]:
        """A round's block event as the message's events: the block renumbered, or its text
        cut at markers."""
        inner = data["index"]
        if name == "content_block_start":
            block = data["content_block"]
            if block.get("type") == "text" and self._sources:
                self._cited = CitedText(self._sources, self._allocate)
                self._cited_index = inner
                return self._cited.start()
            self._indexes[inner] = self._allocate()
        elif self._cited is not None and inner == self._cited_index:
            if name == "content_block_stop":
                cited, self._cited = self._cited, None
                return cited.finish()
            delta = data["delta"]
            if delta.get("type") == "text_delta":
                return self._cited.feed(delta["text"])
        return [(name, {**data, "index": self._indexes[inner]})]

    def _record(self, name: str, data: dict[str, Any]) -> None:
        index = data["index"]
        if name == "content_block_start":
            data["content_block"] = self._opened(index, data["content_block"])
        elif name == "content_block_delta":
            self._accumulate(index, data["delta"])
        elif name == "content_block_stop":
            self._close(index)

    def _opened(self, index: int, block: Block) -> Block:
        if block.get("type") == "tool_use" and block.get("name") in self._names:
            call_id = server_tool_id(str(block.get("id", "")))
            block = server_tool_use(call_id, block["name"], {})
        elif block.get("type") == "tool_use":
            self.client_calls = True
        self._open[index] = dict(block)
        self._json[index] = []
        return block

    def _accumulate(self, index: int, delta: Block) -> None:
        add_delta(self._open[index], delta, self._json[index])

    def _close(self, index: int) -> None:
        block = self._open.pop(index)
        fragments = self._json.pop(index)
        if block.get("type") in ("tool_use", "server_tool_use"):
            try:
                parsed = json.loads("".join(fragments)) if fragments else {}
            except ValueError:
                parsed = {}
            block["input"] = parsed if isinstance(parsed, dict) else {}
        if block.get("type") == "server_tool_use":
            self.round_calls.append(block)
        self.content.append(block)

    def _note_delta(self, data: dict[str, Any]) -> None:
        usage = data.get("usage") or {}
        for key in USAGE_KEYS:
            self._usage[key] += count_of(usage.get(key))
        self._cache_read += count_of(usage.get("cache_read_input_tokens"))
        self._stop = dict(data.get("delta") or self._stop)
