"""`GET /v1/models` and `GET /v1/models/{id}`: the Claude names this proxy serves.

Each entry's display name says which upstream model answers for it, so a model picker shows
what the user actually gets. Claude Code's gateway model discovery
(`CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1`, which `run claude` sets) asks for
`/v1/models?limit=1000`, keeps the ids that contain `claude` or `anthropic`, and reads only
`id`, `display_name` (the picker's label) and `description` (the line under it, cut at 100
characters); the limits are in Anthropic's own `max_input_tokens` and `max_tokens` fields,
for the SDKs' `models.list()`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from claude_proxy import errors
from claude_proxy.model_map import alias_of, map_model
from claude_proxy.server.keys import SETTINGS, UPSTREAM
from claude_proxy.upstream.model_facts import facts_for

# (id, display name, created_at): current and legacy ids Claude Code and the SDKs send.
CLAUDE_MODELS: tuple[tuple[str, str, str], ...] = (
    ("claude-opus-5-5", "Claude Opus 5.5", "2026-09-01T00:00:00Z"),
    ("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-01T00:00:00Z"),
    ("claude-haiku-5-5", "Claude Haiku 5.5", "2026-09-01T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
)


async def model_entries(request: web.Request) -> list[dict[str, Any]]:
    return [
        await model_entry(request, model_id, name, created)
        for model_id, name, created in CLAUDE_MODELS
    ]


async def model_entry(
    request: web.Request, model_id: str, name: str, created: str
) -> dict[str, Any]:
    upstream = request.app[UPSTREAM]
    choice = map_model(model_id, request.app[SETTINGS], upstream)
    target = await upstream.target(choice.model, choice.provider)
    bare = choice.model.split("/", 1)[1] if "/" in choice.model else choice.model
    return {
        "type": "model",
        "id": model_id,
        "display_name": f"{name} → {bare}",
        "description": describe(choice.model, target.max_input_tokens, target.max_output_tokens),
        "created_at": created,
        "lifecycle": "active",
        "max_input_tokens": target.max_input_tokens,
        "max_tokens": target.max_output_tokens,
    }


def describe(model: str, window: int | None, output: int | None) -> str:
    """`openai/gpt-4.1 · 1M context · 32K out · $2/$8 per Mtok`: what the picker shows under
    the name, in place of Anthropic's prices."""
    parts = [model]
    if window:
        parts.append(f"{size(window)} context")
    if output:
        parts.append(f"{size(output)} out")
    prices = facts_for(model).prices
    if "input" in prices and "output" in prices:
        per_million = [
            f"${prices[kind] * 1e6:.2f}".replace(".00", "") for kind in ("input", "output")
        ]
        parts.append(f"{'/'.join(per_million)} per Mtok")
    return " · ".join(parts)[:100]


def size(tokens: int) -> str:
    """1047576 -> 1M, 128000 -> 128K, 32768 -> 33K."""
    if tokens >= 1_000_000:
        return f"{tokens / 1e6:.1f}".removesuffix(".0") + "M"
    return f"{round(tokens / 1000)}K" if tokens >= 1000 else str(tokens)


def paginate(
    entries: list[dict[str, Any]], *, limit: int, after_id: str | None, before_id: str | None
) -> dict[str, Any]:
    ids = [entry["id"] for entry in entries]
    start = ids.index(after_id) + 1 if after_id in ids else 0
    end = ids.index(before_id) if before_id in ids else len(entries)
    window = entries[start:end]
    # Paging backwards (before_id alone) takes the entries right before the cursor.
    page = window[-limit:] if before_id is not None and after_id is None else window[:limit]
    has_more = len(window) > limit
    return {
        "data": page,
        "has_more": has_more,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return 20
    try:
        limit = int(raw)
    except ValueError:
        raise errors.InvalidRequestError(
            f"limit: expected an integer from 1 to 1000, got {raw!r}"
        ) from None
    if not 1 <= limit <= 1000:
        raise errors.InvalidRequestError(f"limit: expected an integer from 1 to 1000, got {limit}")
    return limit


async def handle_models(request: web.Request) -> web.Response:
    query = request.query
    page = paginate(
        await model_entries(request),
        limit=parse_limit(query.get("limit")),
        after_id=query.get("after_id"),
        before_id=query.get("before_id"),
    )
    return web.json_response(page)


async def handle_model(request: web.Request) -> web.Response:
    model_id = request.match_info["model_id"]
    for known_id, name, created in CLAUDE_MODELS:
        if known_id == model_id:
            return web.json_response(await model_entry(request, known_id, name, created))
    if alias_of(model_id) is not None:
        return web.json_response(
            await model_entry(request, model_id, model_id, "2026-01-01T00:00:00Z")
        )
    raise errors.NotFoundError(f"model: {model_id!r} is not a Claude model this proxy serves")
