from __future__ import annotations

from typing import Any

import pydantic
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent

from claude_proxy.translate.citations import with_markers
from claude_proxy.translate.events import Event
from claude_proxy.translate.server_tool_blocks import search_result_block
from claude_proxy.translate.server_tool_stream import ServerToolStream, results, round_end
from claude_proxy.translate.web_results import SearchHit

EVENTS = pydantic.TypeAdapter(RawMessageStreamEvent)


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}


def call(index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    function = {"name": name, "arguments": arguments}
    return {"index": index, "id": call_id, "type": "function", "function": function}


def stream() -> ServerToolStream:
    return ServerToolStream(requested_model="claude-x", server_names={"web_search"})


def run(translator: ServerToolStream, steps: list[dict[str, Any]]) -> list[Event]:
    events = translator.start()
    for step in steps:
        events += translator.feed(step)
    return events + translator.finish()


def sdk_message(events: list[Event]) -> Any:
    snapshot = None
    buffers: dict[int, bytes] = {}
    for name, data in events:
        if name != "ping":
            snapshot = accumulate_event(
                event=EVENTS.validate_python(data), current_snapshot=snapshot, json_bufs=buffers
            )
    return snapshot


def test_two_rounds_make_one_message_with_renumbered_blocks() -> None:
    translator = stream()
    hit = SearchHit("https://a.test/", "A", "alpha")
    steps = [
        chunk({"content": "Let me "}),
        chunk({"content": "search."}),
        chunk({"tool_calls": [call(0, "call_1", "web_search", '{"query"')]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ': "llamas"}'}}]}),
        chunk({}, "tool_calls"),
        usage(10, 5),
        round_end(),
        results([search_result_block("srvtoolu_call_1", [hit])], {"web_search_requests": 1}),
        chunk({"content": "Alpha."}, "stop"),
        usage(30, 2),
        round_end(),
    ]
    events = run(translator, steps)
    names = [name for name, _ in events]
    assert names.count("message_start") == 1 and names[-2:] == ["message_delta", "message_stop"]
    starts = [
        (d["index"], d["content_block"]["type"]) for n, d in events if n == "content_block_start"
    ]
    assert starts == [
        (0, "text"),
        (1, "server_tool_use"),
        (2, "web_search_tool_result"),
        (3, "text"),
    ]
    stops = [d["index"] for n, d in events if n == "content_block_stop"]
    assert stops == [0, 1, 2, 3]
    message = sdk_message(events)
    assert [block.type for block in message.content] == [
        "text",
        "server_tool_use",
        "web_search_tool_result",
        "text",
    ]
    assert message.content[1].id == "srvtoolu_call_1" and message.content[1].input == {
        "query": "llamas"
    }
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 40 and message.usage.output_tokens == 7
    assert message.usage.server_tool_use.web_search_requests == 1
    assert [block["type"] for block in translator.content] == [
        "text",
        "server_tool_use",
        "web_search_tool_result",
        "text",
    ]
    assert translator.content[0]["text"] == "Let me search."
    assert translator.upstream_finished


def test_the_round_calls_and_client_calls_are_known_at_the_round_end() -> None:
    translator = stream()
    steps = [
        chunk({"tool_calls": [call(0, "c1", "web_search", '{"query": "q"}')]}),
        chunk({"tool_calls": [call(1, "c2", "Bash", '{"cmd": "ls"}')]}, "tool_calls"),
    ]
    for step in steps:
        translator.feed(step)
    assert not translator.round_calls
    translator.feed(round_end())
    (server_call,) = translator.round_calls
    assert server_call["input"] == {"query": "q"}
    assert translator.client_calls
    events = translator.finish()
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_a_round_without_a_finish_reason_is_not_finished() -> None:
    translator = stream()
    translator.feed(chunk({"content": "cut"}))
    assert not translator.upstream_finished
    translator.feed(chunk({}, "stop"))
    assert translator.upstream_finished


def test_pause_turn_and_abort() -> None:
    translator = stream()
    translator.feed(chunk({"content": "x"}, "stop"))
    translator.feed(round_end())
    translator.set_stop_reason("pause_turn")  # the loop's rounds ran out
    assert translator.finish()[-2][1]["delta"]["stop_reason"] == "pause_turn"
    failing = stream()
    failing.feed(chunk({"content": "x"}))
    assert failing.abort("api_error", "boom") == [
        ("error", {"type": "error", "error": {"type": "api_error", "message": "boom"}})
    ]


def test_thinking_before_a_search_is_kept_whole_with_its_signature() -> None:
    translator = stream()
    steps = [
        chunk({"reasoning_content": "I should "}),
        chunk({"reasoning_content": "search."}),
        chunk({"tool_calls": [call(0, "call_1", "web_search", '{"query": "q"}')]}, "tool_calls"),
        round_end(),
        results([search_result_block("srvtoolu_call_1", [])], {"web_search_requests": 1}),
        chunk({"content": "Nothing found."}, "stop"),
        round_end(),
    ]
    events = run(translator, steps)
    message = sdk_message(events)
    assert [block.type for block in message.content] == [
        "thinking",
        "server_tool_use",
        "web_search_tool_result",
        "text",
    ]
    thinking = translator.content[0]
    assert thinking["thinking"] == "I should search."
    assert thinking["signature"].startswith("cpx1.")
    assert message.content[0].signature == thinking["signature"]


def test_the_answer_after_a_search_cites_its_results() -> None:
    translator = ServerToolStream(
        requested_model="claude-x", server_names={"web_search"}, first_result=3
    )
    hits = [SearchHit("https://a.test/", "A", "Alpha."), SearchHit("https://b.test/", "B", "Beta.")]
    answer = "Alpha is first.[web:3] Beta too.[web:4][web:1] Done."
    steps = [
        chunk({"content": "Old [web:3] marker."}),  # no search of this request yet
        chunk({"tool_calls": [call(0, "call_1", "web_search", '{"query": "q"}')]}, "tool_calls"),
        round_end(),
        results([search_result_block("srvtoolu_call_1", hits)], {"web_search_requests": 1}),
        *(chunk({"content": answer[i : i + 4]}) for i in range(0, len(answer), 4)),
        chunk({}, "stop"),
        round_end(),
    ]
    events = run(translator, steps)
    starts = [d["index"] for n, d in events if n == "content_block_start"]
    assert starts == [0, 1, 2, 3, 4, 5]
    message = sdk_message(events)
    texts = [(block.type, getattr(block, "text", None)) for block in message.content]
    assert texts == [
        ("text", "Old [web:3] marker."),
        ("server_tool_use", None),
        ("web_search_tool_result", None),
        ("text", "Alpha is first."),
        ("text", " Beta too."),
        ("text", "[web:1] Done."),
    ]
    assert message.content[0].citations is None and message.content[5].citations is None
    assert [c.url for c in message.content[3].citations] == ["https://a.test/"]
    assert [c.url for c in message.content[4].citations] == ["https://b.test/"]
    assert [b.get("citations") is not None for b in translator.content[3:]] == [
        True,
        True,
        False,
    ]
    assert "".join(with_markers(translator.content[3:])[0]["text"]) == answer
