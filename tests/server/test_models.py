"""`GET /v1/models` and `/v1/models/{id}`: the Claude names served, each saying which upstream
model answers for it, paged as Anthropic pages."""

from __future__ import annotations

import aiohttp
import anthropic


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
