"""`GET /v1/models` and `/v1/models/{id}`: the Claude names served, each saying which upstream
model answers for it, paged as Anthropic pages."""

from __future__ import annotations

import re

import aiohttp
import anthropic
import pytest

from claude_proxy import errors
from claude_proxy.server.models import CLAUDE_MODELS, describe, paginate, parse_limit, size
from claude_proxy.upstream.model_facts import facts_for

ENTRIES = [{"id": f"m{n}"} for n in range(5)]


async def test_models_list_and_one(client: anthropic.AsyncAnthropic) -> None:
    page = await client.models.list()
    ids = [model.id for model in page.data]
    assert "claude-opus-5-5" in ids and "claude-3-5-haiku-20241022" in ids
    assert all(model.type == "model" for model in page.data)
    opus = await client.models.retrieve("claude-opus-5-5")
    assert opus.display_name == "Claude Opus 5.5 → gpt-4.1"
    haiku = await client.models.retrieve("claude-haiku-5-5")
    assert haiku.display_name == "Claude Haiku 5.5 → gpt-4.1-mini"


async def test_the_sdk_parses_every_field_with_the_upstreams_limits(
    client: anthropic.AsyncAnthropic,
) -> None:
    models = {model.id: model async for model in client.models.list(limit=1000)}
    opus = models["claude-opus-5-5"]
    assert isinstance(opus, anthropic.types.ModelInfo)
    assert opus.lifecycle == "active" and opus.created_at.year == 2026
    facts = facts_for("openai/gpt-4.1")
    assert (opus.max_input_tokens, opus.max_tokens) == (
        facts.max_input_tokens,
        facts.max_output_tokens,
    )
    assert models["claude-haiku-4-5-20251001"].max_tokens == 32768  # gpt-4.1-mini's


async def test_what_claude_codes_model_discovery_reads(proxy_url: str) -> None:
    """Claude Code 2.1.330 asks for `?limit=1000`, keeps ids matching /(claude|anthropic)/i,
    labels each with `display_name` and shows `description` (cut at 100) under it."""
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{proxy_url}/v1/models?limit=1000")
        body = await response.json()
    assert body["has_more"] is False
    listed = {entry["id"]: entry for entry in body["data"]}
    assert {model_id for model_id, _, _ in CLAUDE_MODELS} == set(listed)
    assert all(re.search("claude|anthropic", model_id, re.I) for model_id in listed)
    sonnet = listed["claude-sonnet-4-5-20250929"]
    assert sonnet["display_name"] == "Claude Sonnet 4.5 → gpt-4.1"
    assert sonnet["description"] == "openai/gpt-4.1 · 1M context · 33K out · $2/$8 per Mtok"
    assert all(len(entry["description"]) <= 100 for entry in body["data"])
    for entry in body["data"]:  # the SDK's model, validated, not merely constructed
        anthropic.types.ModelInfo.model_validate(entry)


@pytest.mark.parametrize(
    ("model", "window", "output", "text"),
    [
        ("openai/gpt-4.1", 1_047_576, 32_768, "openai/gpt-4.1 · 1M context · 33K out · $2/$8 per Mtok"),
        ("gemini/gemini-2.5-flash", 1_048_576, 65_535,
         "gemini/gemini-2.5-flash · 1M context · 66K out · $0.30/$2.50 per Mtok"),
        ("openai/unknown-model", None, None, "openai/unknown-model"),
        ("openai/gpt-4o", 128_000, 16_384, "openai/gpt-4o · 128K context · 16K out · $2.50/$10 per Mtok"),
    ],
)  # fmt: skip
def test_describe(model: str, window: int | None, output: int | None, text: str) -> None:
    assert describe(model, window, output) == text


@pytest.mark.parametrize(
    ("tokens", "text"),
    [(999, "999"), (8192, "8K"), (128_000, "128K"), (1_000_000, "1M"), (2_097_152, "2.1M")],
)
def test_size(tokens: int, text: str) -> None:
    assert size(tokens) == text


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
    assert body["id"] == "sonnet" and body["display_name"] == "sonnet → gpt-4.1"
