"""Comparing a recorded exchange with its replay: per-run ids, pings and transport headers
never count; everything else the client or the upstream would see does, as a unified diff."""

from __future__ import annotations

from typing import Any

from claude_proxy.server.replay_diff import differences, normalise, response_view


def sse(*events: tuple[str, dict[str, Any]], **headers: str) -> dict[str, Any]:
    return {
        "status": 200,
        "headers": {"Content-Type": "text/event-stream; charset=utf-8", **headers},
        "events": [{"event": name, "data": data} for name, data in events],
    }


def start(message_id: str) -> tuple[str, dict[str, Any]]:
    return ("message_start", {"type": "message_start", "message": {"id": message_id}})


def text(delta: str) -> tuple[str, dict[str, Any]]:
    return ("content_block_delta", {"delta": {"type": "text_delta", "text": delta}})


PING = ("ping", {"type": "ping"})


def test_ids_are_numbered_by_first_appearance() -> None:
    value = {
        "b": ["toolu_AAAAAAAAAAAA", "toolu_BBBBBBBBBBBB", "toolu_AAAAAAAAAAAA"],
        "a": "msg_zzzzzzzzzzzzzzzz in req_qqqqqqqqqqqqqqqq",
        "c": "call_0123456789abcdef01234567, msg_id and tool_call_abcdefghij stay",
    }
    assert normalise(value) == {
        "a": "msg_1 in req_1",
        "b": ["toolu_1", "toolu_2", "toolu_1"],
        "c": "call_1, msg_id and tool_call_abcdefghij stay",
    }


def test_per_run_ids_pings_and_transport_headers_are_no_difference() -> None:
    recorded = sse(start("msg_recordedrecorded"), text("Hi"), **{"request-id": "req_aaaaaaaaaaaa"})
    replayed = sse(
        start("msg_replayedreplayed"),
        PING,
        text("Hi"),
        PING,
        **{"request-id": "req_bbbbbbbbbbbb", "Date": "today", "Server": "x", "Content-Length": "9"},
    )
    assert response_view(recorded) == response_view(replayed)
    assert differences({"client_response": recorded}, [], replayed) == []


def test_a_changed_answer_is_a_readable_diff() -> None:
    recorded = sse(start("msg_recordedrecorded"), text("Hello"))
    replayed = sse(start("msg_replayedreplayed"), text("Hullo"))
    [difference] = differences({"client_response": recorded}, [], replayed)
    assert difference.part == "client response"
    lines = difference.diff.splitlines()
    assert lines[:2] == ["--- recorded", "+++ replayed"]
    assert '-data: {"delta": {"text": "Hello", "type": "text_delta"}}' in lines
    assert '+data: {"delta": {"text": "Hullo", "type": "text_delta"}}' in lines


def test_status_and_meaningful_headers_count() -> None:
    recorded = {"status": 429, "headers": {"retry-after": "7"}, "body": {"type": "error"}}
    assert differences({"client_response": recorded}, [], {**recorded, "status": 500})
    assert differences({"client_response": recorded}, [], {**recorded, "headers": {}})


def test_two_blocks_that_stop_sharing_an_id_count() -> None:
    body = {"content": [{"id": "toolu_AAAAAAAAAAAA"}, {"id": "toolu_AAAAAAAAAAAA"}]}
    apart = {"content": [{"id": "toolu_AAAAAAAAAAAA"}, {"id": "toolu_BBBBBBBBBBBB"}]}
    recorded = {"status": 200, "headers": {}, "body": body}
    assert differences({"client_response": recorded}, [], {**recorded, "body": apart})


def test_upstream_requests_are_compared_call_by_call() -> None:
    response = {"status": 200, "headers": {}, "body": {}}
    was = {"kind": "stream", "request": {"model": "openai/gpt-4.1", "max_tokens": 10}}
    now = {"kind": "stream", "request": {"model": "openai/gpt-4.1", "max_tokens": 20}}
    recorded = {"upstream": [was], "client_response": response}
    assert differences(recorded, [was], response) == []
    [changed] = differences(recorded, [now], response)
    assert changed.part == "upstream request 1"
    assert '-  "max_tokens": 10,' in changed.diff.splitlines()
    [extra] = differences(recorded, [was, now], response)
    assert extra.part == "upstream request 2" and "-(no call)" in extra.diff
