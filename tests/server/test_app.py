"""The app factory: its routes, `/health` (what the launcher and doctor read), the upstream it
is given closed at shutdown, and serving on a free loopback port for a block."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.settings import load_settings
from tests.fakes.scripted_upstream import ScriptedUpstream, answer
from tests.helpers.ledger import ledger_rows


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


# --- the usage ledger ------------------------------------------------------------------


def scripted(answers: int) -> ScriptedUpstream:
    upstream = ScriptedUpstream()
    for _ in range(answers):
        upstream.enqueue_stream(*answer("hi"))
    return upstream


async def ask(url: str, session_id: str, times: int = 1) -> None:
    payload = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 5,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "metadata": {"user_id": json.dumps({"device_id": "d", "session_id": session_id})},
    }
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            response = await session.post(f"{url}/v1/messages", json=payload)
            await response.read()
            assert response.status == 200

        await asyncio.gather(*(one() for _ in range(times)))


async def test_the_ledger_keeps_its_rows_across_a_restart(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, env_file=None)
    async with serving_on_loopback(create_app(settings, upstream=scripted(1))) as url:
        await ask(url, "first-run")
    async with serving_on_loopback(create_app(settings, upstream=scripted(1))) as url:
        await ask(url, "second-run")
    assert [row["session"] for row in ledger_rows(tmp_path)] == ["first-run", "second-run"]


async def test_two_apps_writing_at_once_land_every_row(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, env_file=None)
    first = create_app(settings, upstream=scripted(25))
    second = create_app(settings, upstream=scripted(25))
    async with serving_on_loopback(first) as one, serving_on_loopback(second) as two:
        await asyncio.gather(ask(one, "worker-1", 25), ask(two, "worker-2", 25))
    rows = ledger_rows(tmp_path)
    assert len({row["request_id"] for row in rows}) == 50
    assert sorted({row["session"] for row in rows}) == ["worker-1", "worker-2"]


async def test_usage_ledger_false_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings({"data_dir": data, "usage_ledger": False}, env_file=None)
    async with serving_on_loopback(create_app(settings, upstream=scripted(1))) as url:
        await ask(url, "unrecorded")
    assert not data.exists()


async def test_the_ledger_lives_in_the_data_dir_by_default(isolated_settings: Path) -> None:
    settings = load_settings(env_file=None)
    async with serving_on_loopback(create_app(settings, upstream=scripted(1))) as url:
        await ask(url, "default-place")
    assert settings.data_path().is_relative_to(isolated_settings)
    assert [row["session"] for row in ledger_rows(settings.data_path())] == ["default-place"]
