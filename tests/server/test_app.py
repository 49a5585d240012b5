"""The app factory: its routes, `/health` (what the launcher and doctor read), the upstream it
is given closed at shutdown, and serving on a free loopback port for a block."""

from __future__ import annotations

import aiohttp
import pytest

from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.settings import load_settings
from tests.fakes.scripted_upstream import ScriptedUpstream


async def test_health_reports_provider_and_mapping(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{proxy_url}/health")
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok"
    assert body["provider"] == "openai"
    assert body["models"] == {
        "opus": "openai/gpt-4.1",
        "sonnet": "openai/gpt-4.1",
        "haiku": "openai/gpt-4.1-mini",
    }


async def test_root_and_probe_answer(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for method, path in (("GET", "/"), ("HEAD", "/"), ("HEAD", "/api/hello")):
            response = await session.request(method, f"{proxy_url}{path}")
            assert response.status == 200, (method, path)


async def test_health_reports_each_aliases_limits(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        body = await (await session.get(f"{proxy_url}/health")).json()
    assert body["service"] == "claude-proxy" and body["version"]
    assert body["limits"]["opus"] == {"max_input_tokens": 1_047_576, "max_output_tokens": 32_768}
    assert set(body["limits"]) == {"opus", "sonnet", "haiku"}


async def test_serving_on_loopback_lives_for_the_block_and_closes_the_upstream() -> None:
    upstream = ScriptedUpstream()
    app = create_app(load_settings(env_file=None), upstream=upstream)
    async with serving_on_loopback(app) as url:
        assert url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session:
            root = await (await session.get(f"{url}/")).json()
        assert root["service"] == "claude-proxy"
    assert upstream.closed
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{url}/")
