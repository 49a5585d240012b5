"""Stop sequences an upstream ignores (the fake, like many OpenAI-compatible servers, sends
its whole answer whatever `stop` says): the client still sees Anthropic's behaviour, the text
cut at the first sequence and `stop_reason: stop_sequence`, on both engines, streamed or not."""

from __future__ import annotations

import asyncio

import anthropic
import pytest
from anthropic.types import MessageParam

from tests.fakes.openai_upstream import Answer, FakeOpenAI

COUNT: list[MessageParam] = [{"role": "user", "content": "Count to five."}]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_text_stops_at_the_first_sequence(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.enqueue(Answer(text="1, 2, 3, FOUR, 5. Done.", text_pieces=9))
    stops = ["Done", "FOUR"]
    if stream:
        async with client.messages.stream(
            model="openai/gpt-4.1", max_tokens=50, messages=COUNT, stop_sequences=stops
        ) as events:
            texts = [piece async for piece in events.text_stream]
            message = await events.get_final_message()
        assert "FOUR" not in "".join(texts)
    else:
        message = await client.messages.create(
            model="openai/gpt-4.1", max_tokens=50, messages=COUNT, stop_sequences=stops
        )
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "1, 2, 3, "  # type: ignore[union-attr]
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "FOUR"
    assert fake_openai.requests[-1]["stop"] == stops


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_text_without_the_sequence_arrives_whole(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.enqueue(Answer(text="1, 2, 3, FOU", text_pieces=4))
    kwargs = {"model": "openai/gpt-4.1", "max_tokens": 50, "stop_sequences": ["FOUR"]}
    if stream:
        async with client.messages.stream(messages=COUNT, **kwargs) as events:  # type: ignore[arg-type]
            message = await events.get_final_message()
    else:
        message = await client.messages.create(messages=COUNT, **kwargs)  # type: ignore[arg-type]
    assert message.content[0].text == "1, 2, 3, FOU"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None


async def test_a_stream_ends_at_the_sequence_and_the_upstream_is_closed(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    never = asyncio.Event()  # the chunk after the sequence is held until the test ends
    fake_openai.enqueue(
        Answer(
            text="1, 2, FOUR and on", text_fragments=["1, 2, ", "FOUR", " and on"], hold={3: never}
        )
    )
    async with client.messages.stream(
        model="openai/gpt-4.1", max_tokens=50, messages=COUNT, stop_sequences=["FOUR"]
    ) as events:
        message = await asyncio.wait_for(events.get_final_message(), timeout=10)
    assert message.stop_reason == "stop_sequence"
    assert message.content[0].text == "1, 2, "  # type: ignore[union-attr]
    await asyncio.wait_for(fake_openai.disconnected.wait(), timeout=10)
