"""A max_tokens above what the model takes: the upstream's 400 names the limit, the proxy
retries once with it before the client sees a byte, remembers a model's own limit for the
process and sends later requests with it straight away. Both engines, the SDK as client."""

from __future__ import annotations

import logging

import anthropic
import pytest
from anthropic.types import MessageParam

from tests.fakes.gemini_upstream import API_KEY, FakeGemini, Reply, invalid, text
from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI
from tests.helpers.proxy import ProxyFactory

HELLO: list[MessageParam] = [{"role": "user", "content": "hello"}]
OPENAI_WORDS = (
    "max_tokens is too large: 20000. This model supports at most 4096 completion tokens,"
    " whereas you provided 20000."
)
VLLM_WORDS = (
    "This model's maximum context length is 8192 tokens. However, you requested 20100 tokens"
    " (100 in the messages, 20000 in the completion). Please reduce the length of the"
    " messages or completion."
)


async def ask(client: anthropic.AsyncAnthropic, model: str, stream: bool) -> str:
    if stream:
        async with client.messages.stream(model=model, max_tokens=20000, messages=HELLO) as s:
            message = await s.get_final_message()
    else:
        message = await client.messages.create(model=model, max_tokens=20000, messages=HELLO)
    return message.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_openai_limit_is_learned_and_used_for_the_next_request(
    client: anthropic.AsyncAnthropic,
    fake_openai: FakeOpenAI,
    stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_openai.enqueue(
        Failure(400, OPENAI_WORDS, "invalid_request_error"),
        Answer(text="Hi."),
        Answer(text="Again."),
    )
    with caplog.at_level(logging.INFO, logger="claude_proxy.server.output_limits"):
        assert await ask(client, "openai/gpt-4.1", stream) == "Hi."
    assert [r.get("max_tokens") for r in fake_openai.requests] == [20000, 4096]
    learned = [r.getMessage() for r in caplog.records if "4096" in r.getMessage()]
    assert learned == ["openai/gpt-4.1 takes at most 4096 output tokens (the upstream said so)"]
    assert await ask(client, "openai/gpt-4.1", stream) == "Again."
    assert [r.get("max_tokens") for r in fake_openai.requests] == [20000, 4096, 4096]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_what_a_context_window_leaves_is_used_once_not_remembered(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.enqueue(
        Failure(400, VLLM_WORDS, "BadRequestError"), Answer(text="Hi."), Answer(text="Again.")
    )
    assert await ask(client, "openai/my-local-model", stream) == "Hi."
    assert await ask(client, "openai/my-local-model", stream) == "Again."
    assert [r.get("max_tokens") for r in fake_openai.requests] == [20000, 8092, 20000]


async def test_the_retry_is_made_once(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    refusal = Failure(400, OPENAI_WORDS, "invalid_request_error")
    fake_openai.enqueue(refusal, refusal)
    with pytest.raises(anthropic.BadRequestError, match="at most 4096"):
        await ask(client, "openai/gpt-4.1", False)
    assert len(fake_openai.requests) == 2


async def test_a_prompt_that_alone_fills_the_window_stays_a_context_overflow(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    words = VLLM_WORDS.replace("(100 in the messages", "(7500 in the messages")
    fake_openai.enqueue(Failure(400, words, "BadRequestError"))
    with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
        await ask(client, "openai/my-local-model", False)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_gemini_limit_is_learned(
    start_proxy: ProxyFactory, fake_gemini: FakeGemini, stream: bool
) -> None:
    url = await start_proxy(gemini_api_key=API_KEY, gemini_api_base=fake_gemini.base_url)
    words = (
        "Unable to submit request because it has a maxOutputTokens value of 20000 but the"
        " supported range is from 1 (inclusive) to 8193 (exclusive). Update the value and try"
        " again."
    )
    fake_gemini.enqueue(invalid(words), Reply([text("Hi.")]), Reply([text("Again.")]))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        assert await ask(client, "gemini/gemini-2.0-flash-lite", stream) == "Hi."
        assert await ask(client, "gemini/gemini-2.0-flash-lite", stream) == "Again."
    sent = [r["generationConfig"]["max_output_tokens"] for r in fake_gemini.requests]
    assert sent == [20000, 8192, 8192]
