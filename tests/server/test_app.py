"""The app factory: its routes, `/health` (what the launcher and doctor read), the upstream it
is given closed at shutdown, and serving on a free loopback port for a block."""

from __future__ import annotations

import aiohttp


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
