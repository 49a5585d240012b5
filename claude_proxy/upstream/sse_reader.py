"""Server-sent events from bytes that arrive in arbitrary pieces: a sans-IO parser.

`feed(data)` takes whatever the socket gave and returns the events completed by it;
nothing is lost or split when a piece ends inside a line, inside a `\\r\\n`, or inside a
UTF-8 character. The rules are the WHATWG event-stream ones: lines end in `\\r\\n`, `\\n` or
`\\r`; a blank line dispatches the event; `data:` lines join with `\\n`; one space after the
colon is dropped; lines starting with `:` are comments (keep-alives); a leading BOM is
ignored. OpenAI's end marker `data: [DONE]` is not an event: it sets `done`, and every byte
after it is ignored. An event still open when the stream ends is never returned, as the spec
and the OpenAI SDK's decoder drop it (its last line may be cut); `pending` tells the caller.
"""

from __future__ import annotations

from typing import NamedTuple

DONE = "[DONE]"
_BOM = "\ufeff"


class SseEvent(NamedTuple):
    data: str
    event: str = ""
    """The `event:` field; empty for unnamed events (all of OpenAI's)."""


class SseReader:
    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._started = False
        self._after_cr = False
        self.done = False
        """True once `data: [DONE]` was dispatched."""

    def feed(self, data: bytes) -> list[SseEvent]:
        if self.done or not data:
            return []
        buffer = self._buffer + data
        start = 0
        if self._after_cr and buffer.startswith(b"\n"):
            start = 1  # the second half of a \r\n split between two pieces
        self._after_cr = False
        events: list[SseEvent] = []
        while not self.done:
            end = _line_end(buffer, start)
            if end < 0:
                break
            event = self._line(buffer[start:end])
            if event is not None:
                events.append(event)
            start = end + 1
            if buffer[end] == 0x0D:
                if start == len(buffer):
                    self._after_cr = True
                elif buffer[start] == 0x0A:
                    start += 1
        self._buffer = b"" if self.done else buffer[start:]
        return events

    @property
    def pending(self) -> bool:
        """Whether bytes of an unfinished event are held (the stream stopped inside one)."""
        return bool(self._buffer or self._data or self._event)

    def _line(self, raw: bytes) -> SseEvent | None:
        line = raw.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            line = line.removeprefix(_BOM)
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # `id` and `retry` serve reconnection, which a chat completion never does.
        return None

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        text = "\n".join(data)
        if text.startswith(DONE):  # as the OpenAI SDK tests it
            self.done = True
            return None
        return SseEvent(text, event)


def _line_end(buffer: bytes, start: int) -> int:
    """Where the line at `start` ends (its `\r` or `\n`), or -1 while it is incomplete."""
    newline = buffer.find(b"\n", start)
    carriage = buffer.find(b"\r", start, newline if newline >= 0 else len(buffer))
    return carriage if carriage >= 0 else newline
