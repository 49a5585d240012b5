from __future__ import annotations

import aiohttp
import anthropic

from tests.fakes.openai_upstream import FakeOpenAI


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


async def test_models_list_and_one(client: anthropic.AsyncAnthropic) -> None:
    page = await client.models.list()
    ids = [model.id for model in page.data]
    assert "claude-opus-5-5" in ids and "claude-3-5-haiku-20241022" in ids
    assert all(model.type == "model" for model in page.data)
    opus = await client.models.retrieve("claude-opus-5-5")
    assert opus.display_name == "Claude Opus 5.5 (served by openai/gpt-4.1)"
    haiku = await client.models.retrieve("claude-haiku-5-5")
    assert "gpt-4.1-mini" in haiku.display_name


async def test_models_pagination(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        first = await (await session.get(f"{proxy_url}/v1/models?limit=2")).json()
        second = await (
            await session.get(f"{proxy_url}/v1/models?limit=2&after_id={first['last_id']}")
        ).json()
        back = await (
            await session.get(f"{proxy_url}/v1/models?limit=2&before_id={second['first_id']}")
        ).json()
        bad = await session.get(f"{proxy_url}/v1/models?limit=0")
        missing = await session.get(f"{proxy_url}/v1/models/gpt-4o")
    assert len(first["data"]) == 2 and first["has_more"] is True
    assert first["first_id"] == "claude-opus-5-5"
    assert second["data"][0]["id"] not in [m["id"] for m in first["data"]]
    assert back["data"] == first["data"]
    assert bad.status == 400 and (await bad.json())["error"]["type"] == "invalid_request_error"
    assert missing.status == 404 and (await missing.json())["error"]["type"] == "not_found_error"


async def test_both_auth_styles_and_versions_are_accepted(
    proxy_url: str, fake_openai: FakeOpenAI
) -> None:
    payload = {
        "model": "claude-opus-5-5",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
    }
    header_sets = [
        {"x-api-key": "k1", "anthropic-version": "2023-06-01"},
        {
            "Authorization": "Bearer t1",
            "anthropic-version": "2026-10-21",
            "anthropic-beta": "future-beta-2030-01-01,x",
        },
        {},
    ]
    async with aiohttp.ClientSession() as session:
        for headers in header_sets:
            response = await session.post(
                f"{proxy_url}/v1/messages?beta=true", json=payload, headers=headers
            )
            assert response.status == 200, await response.text()
            assert response.headers["request-id"].startswith("req_")
