"""FALLBACK_MODELS: when the upstream fails before the first byte, the next model answers; the
answer says which; a model that said when to retry is skipped until then; nothing falls back
for the client's own mistakes or once bytes reached the client. Through the real server and
the official SDK, to the fake OpenAI server (both models are OpenAI's, so one fake serves)."""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import pytest

from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def sdk(start_proxy: Any, fake_openai: FakeOpenAI) -> Any:
    url = await start_proxy(
        openai_api_key="sk-test",
        openai_api_base=fake_openai.base_url,
        fallback_models=["haiku:gpt-4o-mini", "gpt-4o"],
    )
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        yield client


def models_asked(fake: FakeOpenAI) -> list[str]:
    return [body["model"] for body in fake.requests]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_rate_limited_model_falls_back_and_cools_down(
    sdk: anthropic.AsyncAnthropic,
    fake_openai: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    stream: bool,
) -> None:
    caplog.set_level(logging.INFO, logger="claude_proxy.server")
    limited = Failure(
        429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "60"}
    )
    fake_openai.enqueue(limited, Answer(text="from the fallback"), Answer(text="again"))
    create = sdk.messages.with_raw_response.create
    raw = await create(model="claude-opus-5-5", max_tokens=20, messages=HELLO, stream=stream)
    if stream:
        events = [event async for event in await raw.parse()]
        text = "".join(e.delta.text for e in events if e.type == "content_block_delta")  # type: ignore[union-attr]
    else:
        text = (await raw.parse()).content[0].text  # type: ignore[union-attr]
    assert text == "from the fallback"
    assert raw.headers["x-claude-proxy-model"] == "openai/gpt-4o"
    assert models_asked(fake_openai) == ["gpt-4.1", "gpt-4o"]
    [line] = [r.getMessage() for r in caplog.records if hasattr(r, "request_log")]
    assert "claude-opus-5-5 -> openai/gpt-4o (after openai/gpt-4.1 failed)" in line

    # gpt-4.1 said "retry after 60 s": until then it is skipped
    await sdk.messages.create(model="claude-opus-5-5", max_tokens=20, messages=HELLO)
    assert models_asked(fake_openai) == ["gpt-4.1", "gpt-4o", "gpt-4o"]


async def test_an_alias_gets_its_own_fallbacks_first(
    sdk: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Failure(503, "overloaded"), Answer(text="small fallback"))
    message = await sdk.messages.create(model="claude-haiku-5-5", max_tokens=20, messages=HELLO)
    assert message.content[0].text == "small fallback"  # type: ignore[union-attr]
    assert models_asked(fake_openai) == ["gpt-4.1-mini", "gpt-4o-mini"]


async def test_the_last_failure_is_the_answer_when_every_model_fails(
    sdk: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Failure(500, "down"), Failure(502, "still down"))
    with pytest.raises(anthropic.APIStatusError) as raised:
        await sdk.messages.create(model="claude-opus-5-5", max_tokens=20, messages=HELLO)
    assert "still down" in raised.value.message
    assert models_asked(fake_openai) == ["gpt-4.1", "gpt-4o"]


async def test_the_clients_own_mistake_does_not_fall_back(
    sdk: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Failure(400, "Invalid value for 'messages'", "invalid_request_error"))
    with pytest.raises(anthropic.BadRequestError):
        await sdk.messages.create(model="claude-opus-5-5", max_tokens=20, messages=HELLO)
    assert models_asked(fake_openai) == ["gpt-4.1"]


async def test_nothing_falls_back_once_bytes_reached_the_client(
    sdk: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(text="one two three four", text_pieces=4, drop_after=3))
    with pytest.raises(anthropic.APIError):
        async with sdk.messages.stream(model="claude-opus-5-5", max_tokens=20, messages=HELLO) as s:
            await s.get_final_message()
    assert models_asked(fake_openai) == ["gpt-4.1"]
