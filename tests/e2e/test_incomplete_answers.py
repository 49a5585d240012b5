"""A cut-off or empty upstream answer reaches the client as an error, never as a complete
`end_turn` message: Claude Code would take it as done. Through the real server and the
official SDK, to an upstream on loopback that answers with raw bytes."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from aiohttp import web

HELLO = [{"role": "user", "content": "hello"}]
CHUNK = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4.1"}


def sse(*chunks: dict[str, Any], done: bool = False) -> bytes:
    body = b"".join(f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks)
    return body + (b"data: [DONE]\n\n" if done else b"")


def delta(content: str, finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": {"role": "assistant", "content": content}}
    return {**CHUNK, "choices": [{**choice, "finish_reason": finish}]}


COMPLETION = {"id": "c", "object": "chat.completion", "created": 0, "model": "gpt-4.1"}

STREAMS = {
    "ends-without-finish": (sse(delta("Half an ans")), "text/event-stream"),
    "done-without-finish": (sse(delta("Half an ans"), done=True), "text/event-stream"),
    "html-page": (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    "empty-body": (b"", "text/event-stream"),
}
ANSWERS = {
    "no-choices": {**COMPLETION, "choices": []},
    "message-null": {**COMPLETION, "choices": [{"index": 0, "message": None}]},
}


@pytest.fixture
async def raw_upstream(aiohttp_server: Any) -> dict[str, Any]:
    """An OpenAI base URL whose answer is `state["body"]` with `state["type"]`."""
    state: dict[str, Any] = {}

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=state["body"], content_type=state["type"])

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    server = await aiohttp_server(app)
    state["base_url"] = str(server.make_url("/v1"))
    return state


@pytest.fixture
async def sdk(start_proxy: Any, raw_upstream: dict[str, Any]) -> Any:
    url = await start_proxy(openai_api_key="sk-test", openai_api_base=raw_upstream["base_url"])
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        yield client


@pytest.mark.parametrize("case", list(STREAMS))
async def test_a_stream_the_upstream_did_not_finish_is_an_error(
    sdk: anthropic.AsyncAnthropic, raw_upstream: dict[str, Any], case: str
) -> None:
    raw_upstream["body"], raw_upstream["type"] = STREAMS[case]
    with pytest.raises(anthropic.APIError) as raised:
        async with sdk.messages.stream(model="claude-opus-5-5", max_tokens=50, messages=HELLO) as s:
            await s.get_final_message()
    assert "finish_reason" in str(raised.value) or "cut off" in str(raised.value)


async def test_a_cut_stream_with_text_already_sent_ends_with_an_error_event(
    start_proxy: Any, raw_upstream: dict[str, Any], aiohttp_client: Any
) -> None:
    import aiohttp

    raw_upstream["body"], raw_upstream["type"] = STREAMS["ends-without-finish"]
    url = await start_proxy(openai_api_key="sk-test", openai_api_base=raw_upstream["base_url"])
    body = {"model": "claude-opus-5-5", "max_tokens": 50, "stream": True, "messages": HELLO}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/v1/messages", json=body) as response:
            text = await response.text()
    events = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
    assert response.status == 200
    assert "text_delta" in text and events[-1] == "error"
    assert "message_stop" not in events and '"end_turn"' not in text


@pytest.mark.parametrize("case", list(ANSWERS))
async def test_a_json_answer_without_a_message_is_a_502(
    sdk: anthropic.AsyncAnthropic, raw_upstream: dict[str, Any], case: str
) -> None:
    raw_upstream["body"], raw_upstream["type"] = (
        json.dumps(ANSWERS[case]).encode(),
        "application/json",
    )
    with pytest.raises(anthropic.APIStatusError) as raised:
        await sdk.messages.create(model="claude-opus-5-5", max_tokens=50, messages=HELLO)
    assert raised.value.status_code in (500, 502)
    assert "Traceback" not in raised.value.message and "site-packages" not in raised.value.message
