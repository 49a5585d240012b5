"""REQUEST_TIMEOUT is a total per request, FIRST_BYTE_TIMEOUT and IDLE_TIMEOUT bound a stream's
silences; each failure names the setting. The fake upstream is far slower than each limit, so
the outcome does not depend on how fast the machine is."""

from __future__ import annotations

from typing import Any

import aiohttp
import anthropic
import pytest

from tests.fakes.openai_upstream import Answer, FakeOpenAI

HELLO = [{"role": "user", "content": "hello"}]
BODY = {"model": "claude-opus-5-5", "max_tokens": 50, "stream": True, "messages": HELLO}


async def proxy(start_proxy: Any, fake: FakeOpenAI, **timeouts: float) -> str:
    url: str = await start_proxy(
        openai_api_key="sk-test", openai_api_base=fake.base_url, **timeouts
    )
    return url


async def test_a_json_request_gets_a_504_after_request_timeout(
    start_proxy: Any, fake_openai: FakeOpenAI
) -> None:
    url = await proxy(start_proxy, fake_openai, request_timeout=0.3)
    fake_openai.enqueue(Answer(text="late", first_delay=8))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        with pytest.raises(anthropic.APIStatusError) as raised:
            await sdk.messages.create(model="claude-opus-5-5", max_tokens=50, messages=HELLO)
    assert raised.value.status_code == 504
    assert "REQUEST_TIMEOUT" in raised.value.message


async def test_a_stream_without_a_first_chunk_gets_a_504_naming_first_byte_timeout(
    start_proxy: Any, fake_openai: FakeOpenAI
) -> None:
    url = await proxy(start_proxy, fake_openai, first_byte_timeout=0.3, ping_interval=60)
    fake_openai.enqueue(Answer(text="late", first_delay=8))
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=BODY) as response:
            error = (await response.json())["error"]
    assert response.status == 504
    assert error["type"] == "timeout_error" and "FIRST_BYTE_TIMEOUT" in error["message"]
    await fake_openai.disconnected.wait()  # the upstream request was closed


async def sse_of(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=BODY) as response:
            return response.status, await response.text()


async def test_a_stream_that_goes_silent_ends_with_an_error_naming_idle_timeout(
    start_proxy: Any, fake_openai: FakeOpenAI
) -> None:
    url = await proxy(start_proxy, fake_openai, idle_timeout=0.3)
    fake_openai.enqueue(Answer(text="one two three", text_pieces=3, delay=8))
    status, sse = await sse_of(url)
    assert status == 200
    assert sse.rstrip().splitlines()[-2] == "event: error"
    assert "IDLE_TIMEOUT" in sse and "timeout_error" in sse and "message_stop" not in sse


async def test_a_stream_that_runs_past_request_timeout_ends_with_an_error(
    start_proxy: Any, fake_openai: FakeOpenAI
) -> None:
    url = await proxy(start_proxy, fake_openai, request_timeout=0.5, idle_timeout=60)
    fake_openai.enqueue(Answer(text="x" * 400, text_pieces=400, delay=0.2))
    status, sse = await sse_of(url)
    assert status == 200
    assert "text_delta" in sse and "REQUEST_TIMEOUT" in sse and "message_stop" not in sse
