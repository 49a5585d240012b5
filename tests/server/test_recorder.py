"""`serve --record DIR` through the real server: the official SDK as the client, the fake OpenAI
upstream (both engines), one file per exchange holding each side, and no key or token in any."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest

from claude_proxy import __version__
from claude_proxy.server.app import create_app
from claude_proxy.settings import load_settings
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.scripted_upstream import Gate, ScriptedUpstream, answer, chunk
from tests.helpers.proxy import ProxyFactory
from tests.helpers.recording import EXCHANGES, KEY, TOKEN, record_session, written


def exchange(directory: Path, name: str) -> dict[str, Any]:
    return json.loads((directory / f"{name}.json").read_text())


async def test_each_exchange_is_one_file_with_both_sides(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str, tmp_path: Path
) -> None:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory, upstream_engine=engine)
    assert sorted(p.name for p in directory.iterdir()) == [
        *(f"{name}.json" for name in EXCHANGES),
        "manifest.json",
    ]
    text, streamed, tool, refused = (exchange(directory, name) for name in EXCHANGES)

    assert text["client_request"]["body"]["messages"][0]["content"] == "Say hello to Ada Lovelace"
    assert text["model"] == {
        "requested": "claude-sonnet-5-5",
        "upstream": "openai/gpt-4.1",
        "provider": "openai",
    }
    [call] = text["upstream"]
    assert call["kind"] == "complete"
    assert call["request"]["model"] == "openai/gpt-4.1"
    assert call["request"]["messages"] == [{"role": "user", "content": "Say hello to Ada Lovelace"}]
    assert call["response"]["choices"][0]["message"]["content"] == "Hello there, from JSON."
    assert text["client_response"]["status"] == 200
    assert text["client_response"]["body"]["content"] == [
        {"type": "text", "text": "Hello there, from JSON."}
    ]

    [call] = streamed["upstream"]
    assert call["kind"] == "stream" and call["request"]["stream"] is True
    deltas = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in call["chunks"] if c["choices"]
    )
    assert deltas == "Hello there, streamed."
    events = streamed["client_response"]["events"]
    assert events[0]["event"] == "message_start" and events[-1]["event"] == "message_stop"
    assert streamed["client_response"]["headers"]["Content-Type"].startswith("text/event-stream")

    assert tool["upstream"][0]["request"]["tools"][0]["function"]["name"] == "get_weather"
    starts = [
        e["data"] for e in tool["client_response"]["events"] if e["event"] == "content_block_start"
    ]
    assert starts[-1]["content_block"]["type"] == "tool_use"
    assert starts[-1]["content_block"]["name"] == "get_weather"

    [call] = refused["upstream"]
    assert call["error"]["class"] == "RateLimitError"
    assert call["error"]["message"] == "Rate limit reached for gpt-4.1"
    assert refused["client_response"]["status"] == 429
    assert refused["client_response"]["headers"]["retry-after"] == "7"
    assert refused["client_response"]["body"]["error"]["type"] == "rate_limit_error"


async def test_no_file_holds_a_key_or_token(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str, tmp_path: Path
) -> None:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory, upstream_engine=engine)
    assert KEY in json.dumps(fake_openai.requests)  # the prompt did carry it upstream
    for path in directory.iterdir():
        raw = path.read_bytes()
        assert KEY.encode() not in raw, path.name
        assert TOKEN.encode() not in raw, path.name
    for name in EXCHANGES:
        headers = {h.lower() for h in exchange(directory, name)["client_request"]["headers"]}
        assert not headers & {"authorization", "x-api-key"}
    tool = exchange(directory, EXCHANGES[2])
    assert tool["client_request"]["body"]["messages"][0]["content"].endswith("My key is ***")


async def test_files_are_readable_by_their_owner_only(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


async def test_the_manifest_says_the_version_and_the_settings_that_translate(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory, big_model="gpt-4o")
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["proxy_version"] == __version__
    assert manifest["settings"]["preferred_provider"] == "openai"
    assert manifest["settings"]["big_model"] == "gpt-4o"
    assert manifest["settings"]["upstream_engine"] == "native"
    assert manifest["api_bases_set"] == ["openai_api_base"]
    assert not {"openai_api_key", "proxy_auth_token", "openai_api_base"} & set(manifest["settings"])


async def test_requests_refused_before_their_body_is_read_are_not_exchanges(
    start_proxy: ProxyFactory, tmp_path: Path
) -> None:
    directory = tmp_path / "rec"
    url = await start_proxy(proxy_auth_token=TOKEN, record_dir=directory, openai_api_key=KEY)
    async with anthropic.AsyncAnthropic(base_url=url, api_key="wrong", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError):
            await client.messages.create(
                model="claude-sonnet-5-5",
                max_tokens=10,
                messages=[{"role": "user", "content": "x"}],
            )
    async with aiohttp.ClientSession() as session, session.get(url + "/health") as health:
        assert health.status == 200
    assert [p.name for p in directory.iterdir()] == ["manifest.json"]


async def recording_app(aiohttp_server: Any, directory: Path, upstream: ScriptedUpstream) -> str:
    settings = load_settings({"record_dir": directory, "openai_api_key": KEY}, env_file=None)
    server = await aiohttp_server(create_app(settings, upstream=upstream))
    return str(server.make_url("")).rstrip("/")


async def test_count_tokens_is_recorded(aiohttp_server: Any, tmp_path: Path) -> None:
    upstream = ScriptedUpstream()
    upstream.token_count = 17
    url = await recording_app(aiohttp_server, tmp_path / "rec", upstream)
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        counted = await client.messages.count_tokens(
            model="claude-sonnet-5-5", messages=[{"role": "user", "content": "count me"}]
        )
    assert counted.input_tokens == 17
    recorded = exchange(tmp_path / "rec", "0001-count_tokens")
    assert recorded["upstream"][0]["kind"] == "count_tokens"
    assert recorded["upstream"][0]["count"] == 17
    assert recorded["client_response"]["body"] == {"input_tokens": 17}


async def test_a_client_that_leaves_mid_stream_leaves_a_cut_off_exchange(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    upstream = ScriptedUpstream()
    upstream.enqueue_stream(chunk({"role": "assistant", "content": "Hel"}), Gate(), *answer("lo"))
    directory = tmp_path / "rec"
    url = await recording_app(aiohttp_server, directory, upstream)
    body = {
        "model": "claude-sonnet-5-5",
        "max_tokens": 10,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/v1/messages", json=body) as response:
            assert b"message_start" in await response.content.readuntil(b"\n\n")
    await asyncio.wait_for(upstream.streams[0].ended.wait(), timeout=20)
    await written(directory, 1)
    recorded = exchange(directory, "0001-messages")
    assert recorded["client_response"]["cut_off"] is True
    assert recorded["client_response"]["events"][0]["event"] == "message_start"
    assert recorded["upstream"][0]["cut_off"] is True
    assert len(recorded["upstream"][0]["chunks"]) == 1


async def test_the_clients_own_credentials_are_removed_where_they_reappear(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    """No PROXY_AUTH_TOKEN: the client's key is no setting, yet a real key (16 characters or
    more) is removed from the whole file, and from the later ones; a short placeholder such
    as `claude-proxy` is not."""
    upstream = ScriptedUpstream()
    upstream.token_count = 3
    client_key = "sk-ant-client-own-key-31415926"
    url = await recording_app(aiohttp_server, tmp_path / "rec", upstream)
    prompt = f"is {client_key} safe? ask claude-proxy"
    async with anthropic.AsyncAnthropic(base_url=url, api_key=client_key, max_retries=0) as c:
        await c.messages.count_tokens(
            model="claude-sonnet-5-5", messages=[{"role": "user", "content": prompt}]
        )
    async with anthropic.AsyncAnthropic(
        base_url=url, auth_token="claude-proxy", max_retries=0
    ) as c:
        await c.messages.count_tokens(
            model="claude-sonnet-5-5", messages=[{"role": "user", "content": prompt}]
        )
    first = (tmp_path / "rec" / "0001-count_tokens.json").read_text()
    assert client_key not in first
    assert "is *** safe? ask claude-proxy" in first
    second = exchange(tmp_path / "rec", "0002-count_tokens")
    assert second["client_request"]["body"]["messages"][0]["content"] == (
        "is *** safe? ask claude-proxy"
    )


async def test_a_recording_that_cannot_be_written_costs_the_client_nothing(
    aiohttp_server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upstream = ScriptedUpstream()
    upstream.token_count = 5
    directory = tmp_path / "rec"
    url = await recording_app(aiohttp_server, directory, upstream)
    (directory / "manifest.json").unlink()
    directory.rmdir()
    directory.write_text("a file where the directory was")
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        counted = await client.messages.count_tokens(
            model="claude-sonnet-5-5", messages=[{"role": "user", "content": "hi"}]
        )
    assert counted.input_tokens == 5
    assert "could not record POST /v1/messages/count_tokens" in caplog.text
