"""Web search through the providers that cannot run it themselves: Google (real LiteLLM to
the fake Gemini, which refuses a function call replayed without its thought signature) and
Together (the native engine and LiteLLM), each streamed and not, against the fake Brave."""

from __future__ import annotations

import base64
import json
from typing import Any

import anthropic
import pytest
from anthropic.types import (
    CitationsWebSearchResultLocation,
    Message,
    ServerToolUseBlock,
    TextBlock,
    WebSearchToolResultBlock,
)

from tests.fakes.gemini_upstream import API_KEY, FakeGemini, Reply, call, text
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.fakes.web_services import FakeWeb
from tests.helpers.proxy import ProxyFactory

SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 8}
SIGNATURE = base64.b64encode(b"\xfb\xef\xbe\xff a thought signature").decode()


def request(stream: bool) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": "Perform a web search for the query: topic"}],
        "tools": [SEARCH_TOOL],
        "tool_choice": {"type": "tool", "name": "web_search"},
    }


async def ask(url: str, stream: bool) -> anthropic.types.Message:
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        if not stream:
            return await sdk.messages.create(**request(stream))
        async with sdk.messages.stream(**request(stream)) as events:
            return await events.get_final_message()


def check_answer(message: anthropic.types.Message, final_text: str) -> None:
    call_block, result, answer = message.content
    assert isinstance(call_block, ServerToolUseBlock) and call_block.input == {"query": "topic"}
    assert isinstance(result, WebSearchToolResultBlock) and isinstance(result.content, list)
    assert result.content[0].url == "https://docs.example.com/a"
    assert answer.type == "text" and answer.text == final_text
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_google_searches_and_gets_its_signature_back(
    start_proxy: ProxyFactory, fake_gemini: FakeGemini, fake_web: FakeWeb, stream: bool
) -> None:
    url = await start_proxy(
        preferred_provider="google",
        gemini_api_key=API_KEY,
        gemini_api_base=fake_gemini.base_url,
        brave_api_key="b",
        brave_api_base=fake_web.base_url,
    )
    fake_gemini.enqueue(
        Reply([call("web_search", {"query": "topic"}, signature=SIGNATURE)]),
        Reply([text("Alpha, says the web.")]),
    )
    check_answer(await ask(url, stream), "Alpha, says the web.")
    assert fake_gemini.rejections == []
    first, second = fake_gemini.requests
    declared = first["tools"][0]["function_declarations"][0]
    assert declared["name"] == "web_search"
    assert first["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"
    model_turn, results_turn = second["contents"][1:3]
    assert model_turn["parts"][0]["thoughtSignature"] == SIGNATURE
    assert "Alpha snippet about the topic." in json.dumps(results_turn)


@pytest.fixture
async def together_url(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, fake_web: FakeWeb, engine: str
) -> str:
    """The proxy on Together (the fake OpenAI plays it), searching the fake SearXNG."""
    return await start_proxy(
        preferred_provider="together",
        togetherai_api_key="t" * 64,
        togetherai_api_base=fake_openai.base_url,
        upstream_engine=engine,
        searxng_url=fake_web.base_url,
    )


@pytest.mark.parametrize("stream", [False, True])
async def test_together_searches(
    together_url: str, fake_openai: FakeOpenAI, fake_web: FakeWeb, stream: bool
) -> None:
    url = together_url
    search = ToolCall("call_t1", "web_search", json.dumps({"query": "topic"}))
    fake_openai.enqueue(Answer(tool_calls=[search]), Answer(text="Alpha, via Together."))
    check_answer(await ask(url, stream), "Alpha, via Together.")
    assert fake_web.requests[0]["backend"] == "searxng"
    tool_turns = [m for m in fake_openai.requests[1]["messages"] if m["role"] == "tool"]
    assert "Alpha snippet about the topic." in json.dumps(tool_turns)


@pytest.mark.parametrize("stream", [False, True])
async def test_together_cites_the_results_it_names(
    together_url: str, fake_openai: FakeOpenAI, fake_web: FakeWeb, stream: bool
) -> None:
    url = together_url
    search = ToolCall("call_t1", "web_search", json.dumps({"query": "topic"}))
    answer = "Alpha leads.[web:1] Made up.[web:4]"
    fragments = ["Alpha leads.[web", ":1] Made up.[web:4", "]"]
    fake_openai.enqueue(Answer(tool_calls=[search]), Answer(text=answer, text_fragments=fragments))
    message = await ask(url, stream)
    cited, rest = message.content[2:]
    assert isinstance(cited, TextBlock) and isinstance(rest, TextBlock)
    assert (cited.text, rest.text) == ("Alpha leads.", " Made up.[web:4]")
    assert cited.citations is not None and rest.citations is None
    (citation,) = cited.citations
    assert isinstance(citation, CitationsWebSearchResultLocation)
    assert citation.url == "https://docs.example.com/a" and citation.title == "Example A"
    assert citation.cited_text == "Alpha snippet about the topic."
    Message.model_validate(message.model_dump())
