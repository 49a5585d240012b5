"""Structured outputs through the SDK's own helpers (`messages.parse`, `messages.stream` with
`output_format`), on both engines, to fake OpenAI, Together and Gemini upstreams: the
upstream gets the schema its way, the client gets one text block of JSON and end_turn."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pydantic
import pytest
from anthropic.types import MessageParam

from tests.fakes.gemini_upstream import API_KEY, FakeGemini, Reply, call, text
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.proxy import ProxyFactory

HELLO: list[MessageParam] = [{"role": "user", "content": "Who wrote Dune, and when?"}]
BOOK: dict[str, Any] = {"title": "Dune", "year": 1965}


class Book(pydantic.BaseModel):
    title: str
    year: int


class Shelf(pydantic.BaseModel):
    title: str
    note: str | None = None  # not required: OpenAI's strict mode cannot take it


async def ask(
    client: anthropic.AsyncAnthropic, model: str, stream: bool, output_format: type[Any] = Book
) -> Any:
    if stream:
        async with client.messages.stream(
            model=model, max_tokens=200, messages=HELLO, output_format=output_format
        ) as events:
            return await events.get_final_message()
    return await client.messages.parse(
        model=model, max_tokens=200, messages=HELLO, output_format=output_format
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_openai_gets_a_strict_json_schema_and_the_sdk_parses_the_text(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.enqueue(Answer(text=json.dumps(BOOK)))
    message = await ask(client, "openai/gpt-4.1", stream)
    assert message.parsed_output == Book(**BOOK)
    assert [block.type for block in message.content] == ["text"]
    assert message.stop_reason == "end_turn"
    sent = fake_openai.requests[-1]
    assert sent["response_format"]["type"] == "json_schema"
    json_schema = sent["response_format"]["json_schema"]
    assert json_schema["strict"] is True
    assert json_schema["schema"]["properties"]["year"]["type"] == "integer"
    assert "tools" not in sent


async def test_a_schema_with_optional_fields_is_sent_without_strict(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(text='{"title": "Dune"}'))
    message = await ask(client, "openai/gpt-4.1", False, Shelf)
    assert message.parsed_output == Shelf(title="Dune")
    assert fake_openai.requests[-1]["response_format"]["json_schema"]["strict"] is False


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_model_without_schemas_answers_through_a_forced_tool_as_text(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, stream: bool
) -> None:
    # gpt-4 predates response_format: the map lists it without supports_response_schema.
    call = ToolCall("call_1", "structured_answer", json.dumps(BOOK))
    fake_openai.enqueue(Answer(tool_calls=[call]))
    message = await ask(client, "openai/gpt-4", stream)
    assert message.parsed_output == Book(**BOOK)
    assert [block.type for block in message.content] == ["text"]
    assert message.stop_reason == "end_turn"
    sent = fake_openai.requests[-1]
    assert "response_format" not in sent
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["structured_answer"]
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["title", "year"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "structured_answer"}}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_non_object_schema_is_wrapped_for_the_forced_tool_and_unwrapped(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, stream: bool
) -> None:
    call = ToolCall("call_1", "structured_answer", json.dumps({"value": [BOOK, BOOK]}))
    fake_openai.enqueue(Answer(tool_calls=[call]))
    message = await ask(client, "openai/gpt-4", stream, list[Book])
    assert message.parsed_output == [Book(**BOOK), Book(**BOOK)]
    parameters = fake_openai.requests[-1]["tools"][0]["function"]["parameters"]
    assert parameters["properties"]["value"]["type"] == "array"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_together_gets_response_format(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str, stream: bool
) -> None:
    url = await start_proxy(
        togetherai_api_key="tgp_v1_" + "a" * 40,
        togetherai_api_base=fake_openai.base_url,
        upstream_engine=engine,
    )
    fake_openai.enqueue(Answer(text=json.dumps(BOOK)))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        message = await ask(client, "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", stream)
    assert message.parsed_output == Book(**BOOK)
    assert fake_openai.requests[-1]["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_gemini_gets_a_sanitized_response_json_schema(
    start_proxy: ProxyFactory, fake_gemini: FakeGemini, stream: bool
) -> None:
    url = await start_proxy(gemini_api_key=API_KEY, gemini_api_base=fake_gemini.base_url)
    fake_gemini.enqueue(Reply([text('{"title": "Dune", "note": null}')]))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        message = await ask(client, "gemini/gemini-2.5-pro", stream, Shelf)
    assert message.parsed_output == Shelf(title="Dune")
    assert message.stop_reason == "end_turn"
    config = fake_gemini.requests[-1]["generationConfig"]
    assert config["response_mime_type"] == "application/json"
    schema = config["response_json_schema"]
    assert "additionalProperties" not in schema
    assert schema["properties"]["note"]["type"] == ["string", "null"]


async def test_an_output_format_that_is_no_json_schema_is_a_400(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    with pytest.raises(anthropic.BadRequestError, match=r"output_config\.format\.type"):
        await client.messages.create(
            model="openai/gpt-4.1",
            max_tokens=10,
            messages=HELLO,
            extra_body={"output_config": {"format": {"type": "xml", "schema": {}}}},
        )
    assert fake_openai.requests == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_gemini_model_without_schemas_answers_through_a_forced_function(
    start_proxy: ProxyFactory, fake_gemini: FakeGemini, stream: bool
) -> None:
    # The map says supports_response_schema: false for it (a TTS preview: the flag is what
    # matters here).
    model = "gemini/gemini-2.5-pro-preview-tts"
    url = await start_proxy(gemini_api_key=API_KEY, gemini_api_base=fake_gemini.base_url)
    fake_gemini.enqueue(Reply([call("structured_answer", BOOK)]))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        message = await ask(client, model, stream)
    assert message.parsed_output == Book(**BOOK)
    assert [block.type for block in message.content] == ["text"]
    assert message.stop_reason == "end_turn"
    sent = fake_gemini.requests[-1]
    assert "response_json_schema" not in sent.get("generationConfig", {})
    declarations = sent["tools"][0]["function_declarations"]
    assert [d["name"] for d in declarations] == ["structured_answer"]
    assert sent["toolConfig"]["functionCallingConfig"] == {
        "mode": "ANY",
        "allowed_function_names": ["structured_answer"],
    }
