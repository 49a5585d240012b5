"""`doctor --online`: one streamed request with a tool per configured model, through the proxy
started in-process on loopback, to a fake upstream; and how a stream is judged."""

from __future__ import annotations

import json

import pytest

from tests.fakes.in_thread import serve_in_thread
from tests.fakes.openai_upstream import Answer, Failure, FakeOpenAI, ToolCall
from tests.fakes.web_services import FakeWeb
from tests.helpers.doctor import OPENAI_KEY, doctor


def test_online_makes_one_request_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeOpenAI()
    weather = ToolCall("call_1", "get_weather", json.dumps({"city": "Paris"}))
    fake.enqueue(
        Answer(tool_calls=[weather]),  # opus: gpt-4o
        Answer(text="It is sunny in Paris."),  # sonnet: gpt-4.1
        Failure(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
    )
    with serve_in_thread(fake.app()) as upstream:
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        monkeypatch.setenv("OPENAI_API_BASE", f"{upstream}/v1")
        monkeypatch.setenv("OPUS_MODEL", "gpt-4o")
        result, checks = doctor("--online")
    assert result.exit_code == 1
    opus, sonnet, haiku = (checks[f"online {a}"][0] for a in ("opus", "sonnet", "haiku"))
    assert opus["status"] == "pass"
    assert opus["message"].startswith('openai/gpt-4o called get_weather({"city": "Paris"}) in ')
    assert (
        sonnet["status"] == "warn" and "answered in text, not with a tool call" in sonnet["message"]
    )
    assert haiku["status"] == "fail"
    assert "401 authentication_error: Incorrect API key provided" in haiku["message"]
    assert [r["model"] for r in fake.requests] == ["gpt-4o", "gpt-4.1", "gpt-4.1-mini"]
    assert all(
        r["stream"] is True and r["tools"][0]["function"]["name"] == "get_weather"
        for r in fake.requests
    )


def test_online_tries_one_web_search(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, web = FakeOpenAI(), FakeWeb()
    fake.enqueue(*(Answer(text="hi") for _ in range(3)))
    with serve_in_thread(fake.app()) as upstream, serve_in_thread(web.app()) as search:
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        monkeypatch.setenv("OPENAI_API_BASE", f"{upstream}/v1")
        monkeypatch.setenv("BRAVE_API_KEY", "brave-k")
        monkeypatch.setenv("BRAVE_API_BASE", search)
        _, checks = doctor("--online")
        (found,) = checks["online web search (brave)"]
        assert found["status"] == "pass" and found["message"].startswith("3 results in ")
        assert web.requests[0]["query"]["q"] == "claude-proxy"
        web.status = 429
        _, checks = doctor("--online")
    (limited,) = checks["online web search (brave)"]
    assert limited["status"] == "fail" and limited["message"].startswith("too_many_requests")
