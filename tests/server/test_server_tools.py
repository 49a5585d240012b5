"""The web tools' loop end to end: the official SDK → the proxy → the fake OpenAI upstream,
with the fake search APIs and site (tests/fakes/web_services.py) behind the proxy's tools.

Every answer is also validated strictly by the SDK's own pydantic types (`Message`, each
stream event), not only read by its lenient parser."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import anthropic
import pydantic
import pytest
from anthropic.types import (
    Message,
    RawMessageStreamEvent,
    ServerToolUseBlock,
    TextBlock,
    ToolUseBlock,
    WebFetchToolResultBlock,
    WebSearchToolResultBlock,
)

from claude_proxy.server import server_tools, translation
from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI, ToolCall
from tests.fakes.web_services import FakeWeb, Hit
from tests.helpers.proxy import ProxyFactory
from tests.helpers.sse import sse_events
from tests.helpers.threads import note_threads

SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
FETCH_TOOL = {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 5}
BASH = {"name": "Bash", "input_schema": {"type": "object", "properties": {"cmd": {}}}}
EVENTS = pydantic.TypeAdapter(RawMessageStreamEvent)


def search_call(query: str, call_id: str = "call_s1") -> ToolCall:
    return ToolCall(call_id, "web_search", json.dumps({"query": query}))


def body(tools: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "What is new?"}],
        "tools": tools,
        **extra,
    }


@pytest.fixture
async def web_proxy(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, fake_web: FakeWeb) -> str:
    return await start_proxy(
        openai_api_key="sk-test-key-0001",
        openai_api_base=fake_openai.base_url,
        brave_api_key="brave-secret-1",
        brave_api_base=fake_web.base_url,
        web_fetch_allow_private=True,
    )


async def post(url: str, payload: dict[str, Any]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/v1/messages", json=payload, headers={"x-api-key": "k"}) as response,
    ):
        return response.status, await response.read()


async def ask(url: str, payload: dict[str, Any]) -> Message:
    """The JSON answer, validated strictly."""
    status, raw = await post(url, payload)
    assert status == 200, raw
    return Message.model_validate_json(raw)


async def ask_streamed(url: str, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    status, raw = await post(url, {**payload, "stream": True})
    assert status == 200, raw
    events = sse_events(raw)
    for name, data in events:
        if name not in ("ping", "error"):  # the SDK's stream skips pings, raises on errors
            EVENTS.validate_python(data)
    return events


def tool_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


async def test_a_search_runs_inside_one_request(
    web_proxy: str, fake_openai: FakeOpenAI, fake_web: FakeWeb
) -> None:
    fake_openai.enqueue(Answer(tool_calls=[search_call("topic news")]), Answer(text="Alpha it is."))
    tool = {**SEARCH_TOOL, "blocked_domains": ["blocked.example.org"]}
    message = await ask(web_proxy, body([tool]))

    call, result, text = message.content
    assert isinstance(call, ServerToolUseBlock)
    assert call.id == "srvtoolu_call_s1" and call.name == "web_search"
    assert call.input == {"query": "topic news"}
    assert isinstance(result, WebSearchToolResultBlock) and result.tool_use_id == call.id
    assert isinstance(result.content, list)
    assert [hit.url for hit in result.content] == [
        "https://docs.example.com/a",
        "https://other.test/b",
    ]
    assert result.content[0].page_age == "2 days ago"
    assert isinstance(text, TextBlock) and text.text == "Alpha it is."
    assert message.stop_reason == "end_turn"
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 1
    assert message.usage.input_tokens == 42  # both rounds

    assert fake_web.requests[0]["query"]["q"] == "topic news -site:blocked.example.org"
    assert fake_web.requests[0]["headers"]["X-Subscription-Token"] == "brave-secret-1"
    first, second = fake_openai.requests
    offered = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert offered["web_search"]["parameters"]["required"] == ["query"]
    (seen,) = tool_messages(second)
    assert "Alpha snippet about the topic." in seen and "https://docs.example.com/a" in seen
    assert "Charlie" not in seen
    assert second["messages"][-2]["tool_calls"][0]["id"] == "call_s1"


async def test_the_stream_is_one_message_with_the_blocks_in_order(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        Answer(text="Let me look.", tool_calls=[search_call("topic")]),
        Answer(text="Found Alpha."),
    )
    events = await ask_streamed(web_proxy, body([SEARCH_TOOL]))
    names = [name for name, _ in events]
    assert names.count("message_start") == 1 and names.count("message_stop") == 1
    starts = [data for name, data in events if name == "content_block_start"]
    assert [s["index"] for s in starts] == [0, 1, 2, 3]
    kinds = [s["content_block"]["type"] for s in starts]
    assert kinds == ["text", "server_tool_use", "web_search_tool_result", "text"]
    result_index = starts[2]["index"]
    assert not [d for n, d in events if n == "content_block_delta" and d["index"] == result_index]
    deltas = [d["delta"] for n, d in events if n == "content_block_delta" and d["index"] == 1]
    assert all(delta["type"] == "input_json_delta" for delta in deltas)
    (final,) = [data for name, data in events if name == "message_delta"]
    assert final["usage"]["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}
    assert final["delta"]["stop_reason"] == "end_turn"


async def test_the_sdk_accumulates_the_stream_into_the_same_message(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    answers = (Answer(tool_calls=[search_call("topic")]), Answer(text="Found Alpha."))
    fake_openai.enqueue(*answers, *answers)
    async with anthropic.AsyncAnthropic(base_url=web_proxy, api_key="k", max_retries=0) as sdk:
        plain = await sdk.messages.create(**body([SEARCH_TOOL]))
        async with sdk.messages.stream(**body([SEARCH_TOOL])) as stream:
            streamed = await stream.get_final_message()
    for message in (plain, streamed):
        assert [block.type for block in message.content] == [
            "server_tool_use",
            "web_search_tool_result",
            "text",
        ]
    assert isinstance(streamed.content[0], ServerToolUseBlock)
    assert streamed.content[0].input == {"query": "topic"}
    assert isinstance(streamed.content[1], WebSearchToolResultBlock)
    assert streamed.content[1].model_dump() == {
        **plain.content[1].model_dump(),
        "tool_use_id": streamed.content[0].id,
    }
    assert streamed.usage.server_tool_use is not None
    assert streamed.usage.server_tool_use.web_search_requests == 1


async def test_a_history_sent_back_gives_the_upstream_the_same_results(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(tool_calls=[search_call("topic")]), Answer(text="Alpha."))
    first = await ask(web_proxy, body([SEARCH_TOOL]))
    fresh = tool_messages(fake_openai.requests[1])
    fake_openai.enqueue(Answer(text="You are welcome."))
    history = [
        {"role": "user", "content": "What is new?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": "Thanks"},
    ]
    await ask(web_proxy, {**body([SEARCH_TOOL]), "messages": history})
    replay = fake_openai.requests[2]["messages"]
    assert [m["role"] for m in replay] == ["user", "assistant", "tool", "assistant", "user"]
    assert tool_messages(fake_openai.requests[2]) == fresh
    assert replay[1]["tool_calls"][0]["id"] == "call_s1"


async def test_without_a_backend_the_model_is_told_what_to_set(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI
) -> None:
    url = await start_proxy(openai_api_key="sk-1", openai_api_base=fake_openai.base_url)
    fake_openai.enqueue(Answer(tool_calls=[search_call("topic")]), Answer(text="I could not."))
    message = await ask(url, body([SEARCH_TOOL]))
    result = message.content[1]
    assert isinstance(result, WebSearchToolResultBlock)
    assert not isinstance(result.content, list)
    assert result.content.error_code == "unavailable"
    (seen,) = tool_messages(fake_openai.requests[1])
    assert "unavailable" in seen and "BRAVE_API_KEY" in seen
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 0


async def test_max_uses_and_long_queries_fail_with_anthropics_codes(
    web_proxy: str, fake_openai: FakeOpenAI, fake_web: FakeWeb
) -> None:
    calls = [search_call("one", "c1"), search_call("two", "c2"), search_call("x" * 401, "c3")]
    fake_openai.enqueue(Answer(tool_calls=calls), Answer(text="Done."))
    message = await ask(web_proxy, body([{**SEARCH_TOOL, "max_uses": 1}]))
    codes = [
        "ok" if isinstance(block.content, list) else block.content.error_code
        for block in message.content
        if isinstance(block, WebSearchToolResultBlock)
    ]
    assert codes == ["ok", "max_uses_exceeded", "max_uses_exceeded"]
    assert len(fake_web.requests) == 1
    fake_openai.enqueue(Answer(tool_calls=[search_call("x" * 401)]), Answer(text="Done."))
    message = await ask(web_proxy, body([SEARCH_TOOL]))
    result = message.content[1]
    assert isinstance(result, WebSearchToolResultBlock) and not isinstance(result.content, list)
    assert result.content.error_code == "query_too_long"


async def test_a_rate_limited_backend_is_too_many_requests(
    web_proxy: str, fake_openai: FakeOpenAI, fake_web: FakeWeb
) -> None:
    fake_web.status = 429
    fake_openai.enqueue(Answer(tool_calls=[search_call("topic")]), Answer(text="Later."))
    message = await ask(web_proxy, body([SEARCH_TOOL]))
    result = message.content[1]
    assert isinstance(result, WebSearchToolResultBlock) and not isinstance(result.content, list)
    assert result.content.error_code == "too_many_requests"


async def test_a_client_tool_call_ends_the_request_with_tool_use(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    calls = [search_call("topic"), ToolCall("call_b", "Bash", '{"cmd": "ls"}')]
    fake_openai.enqueue(Answer(tool_calls=calls), Answer(tool_calls=calls))
    message = await ask(web_proxy, body([SEARCH_TOOL, BASH]))
    assert message.stop_reason == "tool_use"
    kinds = [block.type for block in message.content]
    assert kinds == ["server_tool_use", "tool_use", "web_search_tool_result"]
    assert isinstance(message.content[1], ToolUseBlock)
    assert len(fake_openai.requests) == 1
    events = await ask_streamed(web_proxy, body([SEARCH_TOOL, BASH]))
    starts = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    assert starts == kinds
    (final,) = [data for name, data in events if name == "message_delta"]
    assert final["delta"]["stop_reason"] == "tool_use"


async def test_a_forced_web_search_is_forced_only_in_the_first_round(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    """Claude Code's WebSearch sends tool_choice {type: tool, name: web_search}."""
    fake_openai.enqueue(Answer(tool_calls=[search_call("topic")]), Answer(text="Alpha."))
    await ask(web_proxy, body([SEARCH_TOOL], tool_choice={"type": "tool", "name": "web_search"}))
    first, second = fake_openai.requests
    assert first["tool_choice"] == {"type": "function", "function": {"name": "web_search"}}
    assert second["tool_choice"] == "auto"


async def test_the_loop_pauses_after_its_rounds(web_proxy: str, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(*(Answer(tool_calls=[search_call(f"q{i}")]) for i in range(6)))
    message = await ask(web_proxy, body([{"type": "web_search_20250305", "name": "web_search"}]))
    assert message.stop_reason == "pause_turn"
    assert "web_search" not in json.dumps(fake_openai.requests[-1].get("tools", []))
    last = message.content[-1]
    assert isinstance(last, WebSearchToolResultBlock)


async def test_web_fetch_returns_the_page_as_a_document(
    web_proxy: str, fake_openai: FakeOpenAI, fake_web: FakeWeb
) -> None:
    url = f"{fake_web.base_url}/site/redirect/2"
    fetch = ToolCall("call_f", "web_fetch", json.dumps({"url": url}))
    fake_openai.enqueue(Answer(tool_calls=[fetch]), Answer(text="It says forty-two."))
    message = await ask(
        web_proxy, body([FETCH_TOOL], messages=[{"role": "user", "content": f"Read {url}"}])
    )
    call, result, _ = message.content
    assert isinstance(call, ServerToolUseBlock) and call.name == "web_fetch"
    assert isinstance(result, WebFetchToolResultBlock)
    assert result.content.type == "web_fetch_result"
    assert result.content.url.endswith("/site/page.html")
    document = result.content.content
    assert document.title == "Fake Page Title"
    assert "forty-two" in document.source.data and "hidden" not in document.source.data
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_fetch_requests == 1
    (seen,) = tool_messages(fake_openai.requests[1])
    assert "**forty-two**" in seen
    fake_openai.enqueue(Answer(tool_calls=[fetch]), Answer(text="It says forty-two."))
    events = await ask_streamed(
        web_proxy, body([FETCH_TOOL], messages=[{"role": "user", "content": f"Read {url}"}])
    )
    assert "web_fetch_tool_result" in {
        d["content_block"]["type"] for n, d in events if n == "content_block_start"
    }


async def test_web_fetch_refuses_loopback_unless_allowed(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, fake_web: FakeWeb
) -> None:
    url = await start_proxy(openai_api_key="sk-1", openai_api_base=fake_openai.base_url)
    fetch = ToolCall(
        "call_f", "web_fetch", json.dumps({"url": f"{fake_web.base_url}/site/notes.txt"})
    )
    fake_openai.enqueue(Answer(tool_calls=[fetch]), Answer(text="Refused."))
    message = await ask(
        url,
        body(
            [FETCH_TOOL],
            messages=[{"role": "user", "content": f"See {fake_web.base_url}/site/notes.txt"}],
        ),
    )
    result = message.content[1]
    assert isinstance(result, WebFetchToolResultBlock)
    assert result.content.type == "web_fetch_tool_result_error"
    assert result.content.error_code == "url_not_accessible"
    assert fake_web.requests == []


async def test_a_web_tool_anthropic_would_refuse_is_a_400(web_proxy: str) -> None:
    tool = {**SEARCH_TOOL, "allowed_domains": ["a.com"], "blocked_domains": ["b.com"]}
    status, raw = await post(web_proxy, body([tool]))
    assert status == 400
    error = json.loads(raw)["error"]
    assert (
        error["type"] == "invalid_request_error" and "cannot be used together" in error["message"]
    )


async def test_a_bug_in_a_tool_is_unavailable_not_a_500(
    web_proxy: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> None:
        raise RuntimeError("planted")

    monkeypatch.setattr("claude_proxy.server.server_tools.fetch_page", broken)
    fetch = ToolCall("call_f", "web_fetch", json.dumps({"url": "https://a.test/"}))
    fake_openai.enqueue(Answer(tool_calls=[fetch]), Answer(text="Sorry."))
    message = await ask(
        web_proxy,
        body([FETCH_TOOL], messages=[{"role": "user", "content": "Read https://a.test/"}]),
    )
    result = message.content[1]
    assert isinstance(result, WebFetchToolResultBlock)
    assert result.content.type == "web_fetch_tool_result_error"
    assert result.content.error_code == "unavailable"


async def test_count_tokens_counts_the_web_tool_and_its_results(web_proxy: str) -> None:
    async with anthropic.AsyncAnthropic(base_url=web_proxy, api_key="k", max_retries=0) as sdk:
        messages: list[Any] = [{"role": "user", "content": "What is new?"}]
        bare = await sdk.messages.count_tokens(model="claude-sonnet-4-6", messages=messages)
        with_tool = await sdk.messages.count_tokens(
            model="claude-sonnet-4-6", messages=messages, tools=[SEARCH_TOOL]
        )
        result = {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_c1",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://a.test/",
                    "title": "A long title about llamas and alpacas",
                    "encrypted_content": "opaque",
                }
            ],
        }
        turn = [
            {"type": "server_tool_use", "id": "srvtoolu_c1", "name": "web_search", "input": {}},
            result,
        ]
        with_results = await sdk.messages.count_tokens(
            model="claude-sonnet-4-6",
            messages=[*messages, {"role": "assistant", "content": turn}],
            tools=[SEARCH_TOOL],
        )
    assert with_tool.input_tokens > bare.input_tokens + 10  # the function tool is counted
    assert with_results.input_tokens > with_tool.input_tokens + 10


async def test_an_upstream_failure_after_a_search_is_an_error_not_a_half_message(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        Answer(tool_calls=[search_call("topic")]),
        Failure(500, "upstream broke", "server_error", "server_error"),
    )
    events = await ask_streamed(web_proxy, body([SEARCH_TOOL]))
    names = [name for name, _ in events]
    assert names[-1] == "error" and "message_stop" not in names
    assert "web_search_tool_result" in {
        d["content_block"]["type"] for n, d in events if n == "content_block_start"
    }
    fake_openai.enqueue(
        Answer(tool_calls=[search_call("topic")]),
        Failure(500, "upstream broke", "server_error", "server_error"),
    )
    status, raw = await post(web_proxy, body([SEARCH_TOOL]))
    assert status >= 500 and json.loads(raw)["type"] == "error"


async def test_web_fetch_fetches_only_urls_already_in_the_conversation(
    web_proxy: str, fake_openai: FakeOpenAI, fake_web: FakeWeb
) -> None:
    made_up = f"{fake_web.base_url}/site/notes.txt?secret=the-conversation"
    page = f"{fake_web.base_url}/site/page.html"
    fake_web.hits = [Hit(page, "The page", "A page to read.")]
    fake_openai.enqueue(
        Answer(tool_calls=[ToolCall("c1", "web_fetch", json.dumps({"url": made_up}))]),
        Answer(tool_calls=[search_call("the page")]),
        Answer(tool_calls=[ToolCall("c2", "web_fetch", json.dumps({"url": page + "#top"}))]),
        Answer(text="Read it."),
    )
    message = await ask(web_proxy, body([SEARCH_TOOL, FETCH_TOOL]))
    results = [b for b in message.content if isinstance(b, WebFetchToolResultBlock)]
    assert [r.content.type for r in results] == [
        "web_fetch_tool_result_error",
        "web_fetch_result",  # found by the search in the same request
    ]
    assert results[0].content.error_code == "url_not_in_prior_context"  # type: ignore[union-attr]
    assert [r["path"] for r in fake_web.requests if r["backend"] == "site"] == ["/site/page.html"]


CITING = "Alpha is the topic.[web:1] Bravo too.[web:2][web:1] Not this[web:9]."
CITING_FRAGMENTS = ["Alpha is the topic.[w", "eb:1] Bravo too.[web:", "2][web:1] Not this[web:9]."]


async def test_the_answer_cites_the_results_it_names_streamed_or_not(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    answers = (
        Answer(tool_calls=[search_call("topic")]),
        Answer(text=CITING, text_fragments=CITING_FRAGMENTS),
    )
    fake_openai.enqueue(*answers, *answers)
    plain = await ask(web_proxy, body([SEARCH_TOOL]))
    async with anthropic.AsyncAnthropic(base_url=web_proxy, api_key="k", max_retries=0) as sdk:
        async with sdk.messages.stream(**body([SEARCH_TOOL])) as stream:
            streamed = await stream.get_final_message()
    assert [b.model_dump() for b in streamed.content] == [b.model_dump() for b in plain.content]

    texts = plain.content[2:]
    assert all(isinstance(block, TextBlock) for block in texts)
    assert [block.text for block in texts if isinstance(block, TextBlock)] == [
        "Alpha is the topic.",
        " Bravo too.",
        " Not this[web:9].",
    ]
    first, second, last = (block for block in texts if isinstance(block, TextBlock))
    assert first.citations is not None and second.citations is not None
    assert last.citations is None
    (alpha,) = first.citations
    assert alpha.type == "web_search_result_location"
    assert alpha.model_dump() == {
        "type": "web_search_result_location",
        "url": "https://docs.example.com/a",
        "title": "Example A",
        "cited_text": "Alpha snippet about the topic.",
        "encrypted_index": alpha.encrypted_index,
    }
    assert [c.url for c in second.citations] == [
        "https://other.test/b",
        "https://docs.example.com/a",
    ]

    (seen,) = tool_messages(fake_openai.requests[1])
    assert "[web:1] Example A" in seen and "[web:2] Other B" in seen
    assert "Cite a result by writing its marker" in seen


async def test_a_cited_answer_sent_back_reaches_the_upstream_as_the_model_wrote_it(
    web_proxy: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        Answer(tool_calls=[search_call("topic")]),
        Answer(text=CITING),
        Answer(text="You are welcome."),
    )
    first = await ask(web_proxy, body([SEARCH_TOOL]))
    history = [
        {"role": "user", "content": "What is new?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": "Thanks"},
    ]
    await ask(web_proxy, {**body([SEARCH_TOOL]), "messages": history})
    replay = fake_openai.requests[2]
    assert [m["role"] for m in replay["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert replay["messages"][3]["content"] == CITING
    assert "cpxci1." not in json.dumps(replay) and "encrypted_index" not in json.dumps(replay)
    assert tool_messages(replay) == tool_messages(fake_openai.requests[1])


@pytest.mark.parametrize("stream", [False, True])
async def test_the_next_round_reads_a_cited_text_as_the_model_wrote_it(
    web_proxy: str, fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.enqueue(
        Answer(tool_calls=[search_call("topic")]),
        Answer(text="Alpha first.[web:1] More:", tool_calls=[search_call("more", "call_s2")]),
        Answer(text="Bravo.[web:5]"),
    )
    if stream:
        events = await ask_streamed(web_proxy, body([SEARCH_TOOL]))
        deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
        cited = [d["citation"]["url"] for d in deltas if d["type"] == "citations_delta"]
    else:
        message = await ask(web_proxy, body([SEARCH_TOOL]))
        cited = [
            c.url for b in message.content if isinstance(b, TextBlock) for c in b.citations or []
        ]
    # each search gives the fake three hits: the second search's are numbered 4 to 6
    assert cited == ["https://docs.example.com/a", "https://other.test/b"]
    third = fake_openai.requests[2]["messages"]
    assert third[3]["content"] == "Alpha first.[web:1] More:"
    (_, second_results) = tool_messages(fake_openai.requests[2])
    assert "[web:4] Example A" in second_results and "[web:5] Other B" in second_results


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_every_round_of_a_large_body_is_translated_off_the_loop(
    web_proxy: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    threads = note_threads(monkeypatch, server_tools, "round_request")
    monkeypatch.setattr(translation, "OFF_LOOP_BYTES", 2000)
    fake_openai.enqueue(Answer(tool_calls=[search_call("topic news")]), Answer(text="Alpha."))
    large = body([SEARCH_TOOL], messages=[{"role": "user", "content": "x" * 2001}])
    if stream:
        await ask_streamed(web_proxy, large)
    else:
        await ask(web_proxy, large)
    assert threads == [False, False]  # both rounds in a worker thread, not on the loop's
