"""BIG_MODEL and SMALL_MODEL on different providers: each request goes to its own provider,
with that provider's key, base URL and quirks (real LiteLLM to both fakes)."""

from __future__ import annotations

import anthropic
import pytest

from tests.fakes.gemini_upstream import API_KEY, FakeGemini, Reply, call, text
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.proxy import ProxyFactory

TOOL = {
    "name": "Lookup",
    "description": "Look a word up",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"word": {"type": "string", "format": "uri"}, "kind": {"const": "noun"}},
        "required": ["word"],
        "additionalProperties": False,
    },
}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def url(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, fake_gemini: FakeGemini) -> str:
    """Opus and sonnet on Gemini, haiku on OpenAI, each with its own key and base URL."""
    return await start_proxy(
        big_model="gemini/gemini-2.5-pro",
        small_model="openai/gpt-4.1-mini",
        gemini_api_key=API_KEY,
        gemini_api_base=fake_gemini.base_url,
        openai_api_key="sk-openai-456",
        openai_api_base=fake_openai.base_url,
    )


async def test_each_alias_uses_its_own_provider(
    url: str, fake_openai: FakeOpenAI, fake_gemini: FakeGemini
) -> None:
    fake_gemini.enqueue(Reply(parts=[call("Lookup", {"word": "proxy"})]))
    fake_openai.enqueue(Answer(tool_calls=[ToolCall("call_small", "Lookup", '{"word": "x"}')]))

    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        big = await client.messages.create(
            model="claude-opus-5-5",
            max_tokens=100,
            tools=[TOOL],
            messages=HELLO,
            metadata={"user_id": "someone"},
        )
        small = await client.messages.create(
            model="claude-haiku-5-5",
            max_tokens=100,
            tools=[TOOL],
            messages=HELLO,
            metadata={"user_id": "someone"},
        )

    assert big.stop_reason == small.stop_reason == "tool_use"
    assert big.content[-1].input == {"word": "proxy"}
    assert small.content[-1].input == {"word": "x"}

    assert fake_gemini.calls == [("gemini-2.5-pro", "generateContent")]
    assert fake_gemini.headers[0]["x-goog-api-key"] == API_KEY
    assert fake_gemini.rejections == []  # the Gemini quirks ran: sanitized schema, no `user`
    declared = fake_gemini.requests[0]["tools"][0]["function_declarations"][0]["parameters"]
    assert "additionalProperties" not in declared and "$schema" not in declared

    [sent] = fake_openai.requests
    assert sent["model"] == "gpt-4.1-mini"
    assert fake_openai.headers[0]["Authorization"] == "Bearer sk-openai-456"
    assert sent["user"] == "someone"  # OpenAI takes `user`; Gemini did not get it
    assert sent["tools"][0]["function"]["parameters"] == TOOL["input_schema"]


async def test_a_text_answer_from_each(
    url: str, fake_openai: FakeOpenAI, fake_gemini: FakeGemini
) -> None:
    fake_gemini.enqueue(Reply(parts=[text("from gemini")]))
    fake_openai.enqueue(Answer(text="from openai"))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        async with client.messages.stream(
            model="claude-sonnet-5-5", max_tokens=50, messages=HELLO
        ) as s:
            big = await s.get_final_message()
        async with client.messages.stream(
            model="claude-haiku-5-5", max_tokens=50, messages=HELLO
        ) as s:
            small = await s.get_final_message()
    assert big.content[-1].text == "from gemini"
    assert small.content[-1].text == "from openai"
    assert fake_gemini.calls == [("gemini-2.5-pro", "streamGenerateContent")]
