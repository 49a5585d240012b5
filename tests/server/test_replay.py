"""Replaying a recording through the current code, offline: a session recorded through the
real server replays with no difference on either engine; a planted translation change, or an
edited upstream chunk, shows as a difference in the part it changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from claude_proxy.errors import CommandError
from claude_proxy.server import messages
from claude_proxy.server.replay import (
    NOWHERE,
    load_recording,
    replay_recording,
)
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.proxy import ProxyFactory
from tests.helpers.recording import EXCHANGES, record_session, written
from tests.helpers.repo import DATA, body_of

HOP = ("host", "content-length", "accept-encoding", "connection")


@pytest.fixture
async def recorded(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path) -> Path:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory)
    return directory


async def statuses(directory: Path) -> dict[str, str]:
    return {o.name: o.status for o in await replay_recording(load_recording(directory))}


async def test_a_recording_replays_with_no_difference(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str, tmp_path: Path
) -> None:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory, upstream_engine=engine)
    requests_before = len(fake_openai.requests)
    assert await statuses(directory) == dict.fromkeys(EXCHANGES, "same")
    assert len(fake_openai.requests) == requests_before  # the upstream side came from the files


async def test_a_changed_answer_translation_shows_in_the_client_response(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    translate = messages.to_anthropic_message

    def shouting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        message = translate(*args, **kwargs)
        for block in message["content"]:
            if block["type"] == "text":
                block["text"] = block["text"].upper()
        return message

    monkeypatch.setattr(messages, "to_anthropic_message", shouting)
    outcomes = {o.name: o for o in await replay_recording(load_recording(recorded))}
    assert [n for n, o in outcomes.items() if o.status == "differs"] == ["0001-messages"]
    [difference] = outcomes["0001-messages"].differences
    assert difference.part == "client response"
    assert '-      "text": "Hello there, from JSON.",' in difference.diff.splitlines()
    assert '+      "text": "HELLO THERE, FROM JSON.",' in difference.diff.splitlines()


async def test_a_changed_request_translation_shows_in_every_upstream_request(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    translate = messages.translate
    monkeypatch.setattr(
        messages, "translate", lambda *args: {**translate(*args), "temperature": 0.25}
    )
    outcomes = await replay_recording(load_recording(recorded))
    assert [o.status for o in outcomes] == ["differs"] * 4
    for outcome in outcomes:
        [difference] = outcome.differences
        assert difference.part == "upstream request 1"
        lines = [line.rstrip(",") for line in difference.diff.splitlines()]
        added = {line[1:] for line in lines if line.startswith("+ ")}
        removed = {line[1:] for line in lines if line.startswith("- ")}
        assert added - removed == {'  "temperature": 0.25'}
        assert removed <= added  # nothing else changed but a comma


async def test_an_edited_upstream_chunk_shows_in_the_stream_it_feeds(recorded: Path) -> None:
    path = recorded / "0002-messages.json"
    exchange = json.loads(path.read_text())
    exchange["upstream"][0]["chunks"][1]["choices"][0]["delta"]["content"] = "Howdy th"
    path.write_text(json.dumps(exchange))
    outcomes = {o.name: o for o in await replay_recording(load_recording(recorded))}
    assert outcomes["0002-messages"].status == "differs"
    assert {o.status for n, o in outcomes.items() if n != "0002-messages"} == {"same"}
    [difference] = outcomes["0002-messages"].differences
    assert difference.part == "client response"
    assert any(
        line.startswith("+data: ") and "Howdy th" in line for line in difference.diff.splitlines()
    )


async def test_what_cannot_be_replayed_is_skipped_and_says_why(recorded: Path) -> None:
    first = json.loads((recorded / "0001-messages.json").read_text())
    passthrough = {**first, "model": {**first["model"], "provider": "anthropic"}, "upstream": []}
    (recorded / "0005-messages.json").write_text(json.dumps(passthrough))
    cut = {**first, "client_response": {"cut_off": True, "events": []}}
    (recorded / "0006-messages.json").write_text(json.dumps(cut))
    outcomes = {o.name: o for o in await replay_recording(load_recording(recorded))}
    assert outcomes["0005-messages"].status == "skipped"
    assert "relayed to Anthropic untranslated" in outcomes["0005-messages"].reason
    assert outcomes["0006-messages"].status == "skipped"
    assert "cut off while recording" in outcomes["0006-messages"].reason


async def test_replay_runs_on_the_manifests_settings_alone(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIG_MODEL", "gpt-4o")  # this machine's settings must not count
    monkeypatch.setenv("PREFERRED_PROVIDER", "google")
    settings = load_recording(recorded).settings()
    assert (settings.big_model, settings.preferred_provider) == (None, "openai")
    assert settings.anthropic_api_base == NOWHERE
    assert settings.record_dir is None
    assert set((await statuses(recorded)).values()) == {"same"}


def test_a_directory_that_is_no_recording_says_so(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"is not a recording: no manifest\.json") as raised:
        load_recording(tmp_path)
    assert "serve --record DIR" in (raised.value.hint or "")
    (tmp_path / "manifest.json").write_text("{nope")
    with pytest.raises(CommandError, match="cannot read its manifest"):
        load_recording(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"settings": {"upstream_engine": "x"}}))
    with pytest.raises(CommandError, match="upstream_engine"):
        load_recording(tmp_path).settings()


async def test_every_recorded_claude_code_body_replays_with_no_difference(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Claude Code's real bodies (system blocks, cache_control, thinking, dozens of tools,
    `?beta=true`), each answered with a tool call, recorded and replayed: nothing differs."""
    directory = tmp_path / "rec"
    url = await start_proxy(
        openai_api_key="sk-test-key-0001",
        openai_api_base=fake_openai.base_url,
        record_dir=directory,
    )
    fixtures = sorted((DATA / "claude-code").glob("*.json"))
    async with aiohttp.ClientSession() as session:
        for fixture in fixtures:
            call = ToolCall("call_cc1", "Bash", '{"command": "ls -la"}')
            fake_openai.enqueue(Answer(text="Looking.", tool_calls=[call]))
            headers = json.loads(fixture.read_text())["_headers"]
            wire = {k: v for k, v in headers.items() if k.lower() not in HOP}
            path = "/v1/messages/count_tokens" if "count-tokens" in fixture.name else "/v1/messages"
            async with session.post(
                f"{url}{path}?beta=true", json=body_of(fixture), headers=wire
            ) as response:
                assert response.status == 200, await response.text()
                await response.read()
    await written(directory, len(fixtures))
    outcomes = await replay_recording(load_recording(directory))
    assert len(outcomes) == len(fixtures)
    assert [(o.name, o.status, o.differences) for o in outcomes if o.status != "same"] == []
