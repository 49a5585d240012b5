from __future__ import annotations

import logging

import pytest

from claude_proxy.settings import load_settings
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from claude_proxy.upstream.warmup import loopback_openai_server


async def test_warm_up_goes_through_litellm_and_its_http_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="claude_proxy")
    upstream = LiteLLMUpstream(load_settings(env_file=None))
    await upstream.warm_up()
    assert "warm-up failed" not in caplog.text


@pytest.mark.parametrize("stream", [False, True])
async def test_the_loopback_server_speaks_openai(stream: bool) -> None:
    async with loopback_openai_server() as base:
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
