"""The warm-up: LiteLLM's whole path, HTTP client included, run once against a throwaway
OpenAI-compatible server on loopback; the requests that server received are counted."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from claude_proxy.settings import load_settings
from claude_proxy.upstream import warmup
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from claude_proxy.upstream.warmup import loopback_openai_server


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The request bodies the loopback server answers, recorded as they arrive."""
    bodies: list[dict[str, object]] = []
    answer = warmup._answer

    async def recording(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        body = await reader.readexactly(length)
        bodies.append(json.loads(body or b"{}"))
        replay = asyncio.StreamReader()
        replay.feed_data(head + body)
        replay.feed_eof()
        await answer(replay, writer)

    monkeypatch.setattr(warmup, "_answer", recording)
    return bodies


async def test_warm_up_goes_through_litellm_and_its_http_client(
    caplog: pytest.LogCaptureFixture, received: list[dict[str, object]]
) -> None:
    caplog.set_level(logging.DEBUG, logger="claude_proxy")
    upstream = LiteLLMUpstream(load_settings(env_file=None))
    await upstream.warm_up()
    assert "warm-up failed" not in caplog.text
    assert [body.get("stream", False) for body in received] == [False, True]
    assert all(body["model"] == "gpt-4.1-mini" for body in received)
    assert all(body["tools"] for body in received)  # the tool path is warmed up as well
    assert received[1].get("stream_options") == {"include_usage": True}


@pytest.mark.parametrize("stream", [False, True])
async def test_the_loopback_server_speaks_openai(
    stream: bool, received: list[dict[str, object]]
) -> None:
    async with loopback_openai_server() as base:
        assert base.startswith("http://127.0.0.1:") and base.endswith("/v1")
        upstream = LiteLLMUpstream(load_settings({"openai_api_base": base}, env_file=None))
        request = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
        if stream:
            chunks = [c async for c in upstream.stream({**request, "stream": True})]
            text = "".join(
                c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
            )
        else:
            text = (await upstream.complete(request))["choices"][0]["message"]["content"]
    assert text == "ok"
    assert len(received) == 1 and bool(received[0].get("stream")) is stream


async def test_the_loopback_server_is_gone_after_the_block() -> None:
    async with loopback_openai_server() as base:
        port = int(base.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
