from __future__ import annotations

import json

import pytest

from claude_proxy.upstream.sse_reader import SseEvent, SseReader

CHUNK = json.dumps({"choices": [{"delta": {"content": "héllo ✓"}}]}, ensure_ascii=False)

# (stream bytes, events, done)
CASES: list[tuple[str, bytes, list[SseEvent], bool]] = [
    ("one event", b"data: {}\n\n", [SseEvent("{}")], False),
    ("no space after the colon", b"data:{}\n\n", [SseEvent("{}")], False),
    ("only one space is dropped", b"data:  x\n\n", [SseEvent(" x")], False),
    ("crlf", b"data: a\r\n\r\ndata: b\r\n\r\n", [SseEvent("a"), SseEvent("b")], False),
    ("bare cr", b"data: a\r\rdata: b\r\r", [SseEvent("a"), SseEvent("b")], False),
    ("mixed endings", b"data: a\r\n\ndata: b\n\r\n", [SseEvent("a"), SseEvent("b")], False),
    ("multi-line data", b"data: a\ndata: b\ndata:\n\n", [SseEvent("a\nb\n")], False),
    (
        "comments are keep-alives",
        b": ping\n\n:\ndata: a\n: inside\n\n",
        [SseEvent("a")],
        False,
    ),
    (
        "event names",
        b'event: error\ndata: {"error": {}}\n\ndata: b\n\n',
        [SseEvent('{"error": {}}', "error"), SseEvent("b")],
        False,
    ),
    (
        "id and retry and unknown fields",
        b"id: 7\nretry: 10\nfoo: x\ndata: a\n\n",
        [SseEvent("a")],
        False,
    ),
    ("field without a colon", b"data\n\n", [SseEvent("")], False),
    ("blank lines alone dispatch nothing", b"\n\n\r\n\n", [], False),
    ("event without data is not dispatched", b"event: x\n\ndata: a\n\n", [SseEvent("a")], False),
    ("utf-8 payload", f"data: {CHUNK}\n\n".encode(), [SseEvent(CHUNK)], False),
    ("leading bom", b"\xef\xbb\xbfdata: a\n\n", [SseEvent("a")], False),
    ("done ends the stream", b"data: a\n\ndata: [DONE]\n\ndata: b\n\n", [SseEvent("a")], True),
    ("done with crlf", b"data: [DONE]\r\n\r\n", [], True),
    ("done with trailing text", b"data: [DONE] \n\n", [], True),
    ("done must start the payload", b"data:  [DONE]\n\n", [SseEvent(" [DONE]")], False),
    ("an unfinished event is not dispatched", b"data: a\n\ndata: b\n", [SseEvent("a")], False),
    ("a cut line is not dispatched", b"data: a\n\ndata: {", [SseEvent("a")], False),
]


def read_all(pieces: list[bytes]) -> tuple[list[SseEvent], SseReader]:
    reader = SseReader()
    events = [event for piece in pieces for event in reader.feed(piece)]
    return events, reader


@pytest.mark.parametrize(
    ("stream", "events", "done"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_whole_stream(stream: bytes, events: list[SseEvent], done: bool) -> None:
    got, reader = read_all([stream])
    assert got == events
    assert reader.done is done


@pytest.mark.parametrize(
    ("stream", "events", "done"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_split_at_every_byte_position(stream: bytes, events: list[SseEvent], done: bool) -> None:
    for cut in range(len(stream) + 1):
        got, reader = read_all([stream[:cut], stream[cut:]])
        assert got == events, cut
        assert reader.done is done, cut


@pytest.mark.parametrize(
    ("stream", "events", "done"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_split_at_every_pair_of_positions(
    stream: bytes, events: list[SseEvent], done: bool
) -> None:
    for first in range(len(stream) + 1):
        for second in range(first, len(stream) + 1):
            pieces = [stream[:first], stream[first:second], stream[second:]]
            assert read_all(pieces)[0] == events, (first, second)


@pytest.mark.parametrize(
    ("stream", "events", "done"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_one_byte_at_a_time(stream: bytes, events: list[SseEvent], done: bool) -> None:
    got, reader = read_all([stream[i : i + 1] for i in range(len(stream))])
    assert got == events
    assert reader.done is done


def test_events_come_out_as_soon_as_they_complete() -> None:
    reader = SseReader()
    assert reader.feed(b"data: a\n") == []
    assert reader.feed(b"\n") == [SseEvent("a")]
    # A \r ends a line at once; a \n in the next piece is the rest of the same line end.
    assert reader.feed(b"data: b\r") == []
    assert reader.feed(b"\n\r") == [SseEvent("b")]
    assert reader.feed(b"\ndata: c\r\r") == [SseEvent("c")]


def test_pending_says_whether_the_stream_stopped_inside_an_event() -> None:
    reader = SseReader()
    reader.feed(b"data: a\n\n")
    assert not reader.pending
    reader.feed(b"data: {")
    assert reader.pending
    reader = SseReader()
    reader.feed(b"data: a\n")
    assert reader.pending


def test_nothing_is_read_after_done() -> None:
    reader = SseReader()
    assert reader.feed(b"data: [DONE]\n\n") == []
    assert reader.done
    assert reader.feed(b"data: late\n\n") == []
    assert not reader.pending


def test_many_events_in_one_piece() -> None:
    stream = b"".join(f"data: {i}\n\n".encode() for i in range(1000))
    assert [event.data for event in SseReader().feed(stream)] == [str(i) for i in range(1000)]
