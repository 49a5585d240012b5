import json

import pytest

from claude_proxy.translate.sse import encode_event, encode_events


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        pytest.param(
            "ping", {"type": "ping"}, b'event: ping\ndata: {"type":"ping"}\n\n', id="ping"
        ),
        pytest.param(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "a\nb"},
            },
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":"a\\nb"}}\n\n',
            id="newline-escaped",
        ),
        pytest.param(
            "content_block_delta",
            {"type": "content_block_delta", "text": "héllo ✓"},
            'event: content_block_delta\ndata: {"type":"content_block_delta","text":"héllo ✓"}\n\n'.encode(),
            id="utf8-not-escaped",
        ),
    ],
)
def test_encode_event(name: str, data: dict, expected: bytes) -> None:
    assert encode_event(name, data) == expected


def test_lone_surrogate_falls_back_to_an_ascii_escape() -> None:
    encoded = encode_event(
        "content_block_delta", {"type": "content_block_delta", "text": "a\ud83d"}
    )
    assert (
        encoded
        == b'event: content_block_delta\ndata: {"type":"content_block_delta","text":"a\\ud83d"}\n\n'
    )
    assert json.loads(encoded.split(b"data: ")[1])["text"] == "a\ud83d"


def test_encode_events_concatenates() -> None:
    events = [("message_stop", {"type": "message_stop"}), ("ping", {"type": "ping"})]
    assert encode_events(events) == (
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        b'event: ping\ndata: {"type":"ping"}\n\n'
    )
    assert encode_events([]) == b""
