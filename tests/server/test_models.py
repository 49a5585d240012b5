"""`GET /v1/models` and `/v1/models/{id}`: the Claude names served, each saying which upstream
model answers for it, paged as Anthropic pages."""

from __future__ import annotations

import aiohttp
import anthropic
import pytest

from claude_proxy import errors
from claude_proxy.server.models import CLAUDE_MODELS, paginate, parse_limit

ENTRIES = [{"id": f"m{n}"} for n in range(5)]


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


@pytest.mark.parametrize(
    ("limit", "after", "before", "ids", "has_more"),
    [
        (2, None, None, ["m0", "m1"], True),
        (5, None, None, ["m0", "m1", "m2", "m3", "m4"], False),
        (2, "m1", None, ["m2", "m3"], True),
        (2, "m3", None, ["m4"], False),
        (2, None, "m3", ["m1", "m2"], True),  # backwards: the entries right before the cursor
        (9, None, "m2", ["m0", "m1"], False),
        (9, "m0", "m3", ["m1", "m2"], False),
        (2, "unknown", None, ["m0", "m1"], True),  # an unknown cursor starts at the start
        (2, "m4", None, [], False),
    ],
)
def test_paginate(
    limit: int, after: str | None, before: str | None, ids: list[str], has_more: bool
) -> None:
    page = paginate(ENTRIES, limit=limit, after_id=after, before_id=before)
    assert [entry["id"] for entry in page["data"]] == ids
    assert page["has_more"] is has_more
    assert page["first_id"] == (ids[0] if ids else None)
    assert page["last_id"] == (ids[-1] if ids else None)


@pytest.mark.parametrize(("raw", "limit"), [(None, 20), ("1", 1), ("1000", 1000), ("37", 37)])
def test_parse_limit(raw: str | None, limit: int) -> None:
    assert parse_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "1001", "-3", "ten", "2.5", ""])
def test_parse_limit_refuses_what_anthropic_refuses(raw: str) -> None:
    with pytest.raises(
        errors.InvalidRequestError, match="limit: expected an integer from 1 to 1000"
    ):
        parse_limit(raw)


def test_the_ids_are_unique_and_each_names_a_claude_alias() -> None:
    from claude_proxy.model_map import alias_of

    ids = [model_id for model_id, _, _ in CLAUDE_MODELS]
    assert len(ids) == len(set(ids))
    assert all(alias_of(model_id) is not None for model_id in ids)


async def test_an_alias_is_a_model_too(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{proxy_url}/v1/models/sonnet")
        body = await response.json()
    assert response.status == 200
    assert body["id"] == "sonnet" and body["display_name"] == "sonnet (served by openai/gpt-4.1)"
