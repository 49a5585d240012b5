"""Answers a retry cannot fix say so (`x-should-retry: false`), from the upstream and from the
proxy itself; retryable ones keep their retry-after. Through the real server and the SDK."""

from __future__ import annotations

import anthropic
import pytest

from tests.fakes.openai_upstream import Failure, FakeOpenAI

HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "invalid_api_key"),
        (403, "permission_denied"),
        (404, "model_not_found"),
    ],
)
async def test_an_upstream_refusal_a_retry_cannot_fix_says_so(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, status: int, error_type: str
) -> None:
    fake_openai.enqueue(Failure(status, "no", error_type))
    with pytest.raises(anthropic.APIStatusError) as raised:
        await client.messages.create(model="claude-opus-5-5", max_tokens=20, messages=HELLO)
    assert raised.value.response.headers.get("x-should-retry") == "false"
    assert len(fake_openai.requests) == 1


async def test_the_proxys_own_400_says_so_too(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(model="claude-opus-5-5", max_tokens=0, messages=HELLO)
    assert raised.value.response.headers.get("x-should-retry") == "false"


async def test_a_rate_limit_keeps_its_retry_after_and_stays_retryable(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Failure(429, "slow", "rate_limit_exceeded", headers={"retry-after": "3"}))
    with pytest.raises(anthropic.RateLimitError) as raised:
        await client.messages.create(model="claude-opus-5-5", max_tokens=20, messages=HELLO)
    assert raised.value.response.headers["retry-after"] == "3"
    assert "x-should-retry" not in raised.value.response.headers
