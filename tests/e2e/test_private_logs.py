"""Prompts and keys never reach the log, at any level: with every logger at DEBUG, a request
through the real server and real LiteLLM leaves no trace of its prompt, its answer or a key."""

from __future__ import annotations

import logging

import anthropic
import pytest

from tests.fakes.openai_upstream import Answer, FakeOpenAI

PROMPT = "the-secret-prompt-4711"
ANSWER = "the-private-answer-0815"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_debug_logs_hold_no_prompt_answer_or_key(
    start_proxy: object,
    fake_openai: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    stream: bool,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger, as `serve --log-level debug` sets it
    url = await start_proxy(  # type: ignore[operator]
        openai_api_key="sk-test-secret-key-9999", openai_api_base=fake_openai.base_url
    )
    fake_openai.enqueue(Answer(text=ANSWER))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        messages = [{"role": "user", "content": PROMPT}]
        if stream:
            async with sdk.messages.stream(
                model="claude-opus-5-5", max_tokens=50, messages=messages
            ) as s:
                await s.get_final_message()
        else:
            await sdk.messages.create(model="claude-opus-5-5", max_tokens=50, messages=messages)
    # The test's own SDK client logs its request at DEBUG; only the proxy's side counts.
    ours = [r for r in caplog.records if not r.name.startswith(("anthropic", "httpcore2"))]
    logged = "\n".join(f"{r.name}: {r.getMessage()}" for r in ours)
    assert caplog.records  # the log was on
    for private in (PROMPT, ANSWER, "sk-test-secret-key-9999"):
        assert private not in logged, [line for line in logged.splitlines() if private in line][:3]
