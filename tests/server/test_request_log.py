"""What one API request did, in one object: filled in as the request goes, and rendered as the
one plain log line (and, by `serve --debug-rich`, as a rich one)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from claude_proxy import errors
from claude_proxy.model_map import ModelChoice
from claude_proxy.server.request_log import RequestLog
from claude_proxy.upstream.model_facts import facts_for
from tests.helpers.repo import DATA, body_of

CHOICE = ModelChoice("claude-opus-5-5", "openai/gpt-4.1", "openai", "opus -> default big_model")


def test_a_fresh_log_knows_only_the_request() -> None:
    log = RequestLog("req_1", "GET", "/v1/models")
    assert (log.requested_model, log.upstream_model) == (None, None)
    assert (log.error_type, log.error_message) == (None, None)
    assert (log.messages, log.tools, log.usage, log.streamed) == (None, None, None, False)
    assert log.line().startswith("GET /v1/models 0 ")


def test_count_notes_messages_and_tools() -> None:
    log = RequestLog("req_1", "POST", "/v1/messages")
    log.count({"messages": [{}, {}, {}], "tools": [{}]})
    assert (log.messages, log.tools) == (3, 1)
    log.count({"messages": [{}], "tools": None})
    assert (log.messages, log.tools) == (1, 0)


def test_count_ignores_a_body_without_a_message_list() -> None:
    log = RequestLog("req_1", "POST", "/v1/messages")
    log.count({"messages": "not a list", "tools": [{}]})
    assert (log.messages, log.tools) == (None, None)


def test_finish_records_the_outcome_and_when(monkeypatch: pytest.MonkeyPatch) -> None:
    log = RequestLog("req_1", "POST", "/v1/messages", started=100.0)
    monkeypatch.setattr(time, "perf_counter", lambda: 102.5)
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    error = errors.RateLimitError("slow down")
    log.finish(429, error)
    assert (log.status, log.error) == (429, error)
    assert log.seconds == 2.5  # from the monotonic clock
    assert log.finished == 1_700_000_000.0  # Unix time, for the rich line's clock
    assert (log.error_type, log.error_message) == ("rate_limit_error", "slow down")


def test_the_line_names_the_route_the_status_and_the_error() -> None:
    log = RequestLog("req_abc", "POST", "/v1/messages")
    log.choice = CHOICE
    log.streamed = True
    log.finish(200, None)
    log.seconds = 0.0123
    assert (
        log.line()
        == "POST /v1/messages claude-opus-5-5 -> openai/gpt-4.1 stream 200 12ms [req_abc]"
    )
    assert (log.requested_model, log.upstream_model) == ("claude-opus-5-5", "openai/gpt-4.1")

    failed = RequestLog("req_def", "POST", "/v1/messages")
    failed.choice = CHOICE
    failed.finish(404, errors.NotFoundError("model: 'x' is not known"))
    failed.seconds = 1.5
    assert failed.line() == (
        "POST /v1/messages claude-opus-5-5 -> openai/gpt-4.1 404 1500ms [req_def] "
        "not_found_error: model: 'x' is not known"
    )


@pytest.mark.parametrize(
    ("usage", "rate", "shown"),
    [
        ({"input_tokens": 100, "output_tokens": 7}, 0.0, "in=100 out=7 cached=0%"),
        (
            {"input_tokens": 25, "output_tokens": 7, "cache_read_input_tokens": 75},
            0.75,
            "in=25 out=7 cached=75%",
        ),
        (
            {
                "input_tokens": 10,
                "output_tokens": 1,
                "cache_read_input_tokens": 60,
                "cache_creation_input_tokens": 30,
            },
            0.6,
            "in=10 out=1 cached=60%",
        ),
        ({"input_tokens": 0, "output_tokens": 0}, None, "in=0 out=0"),
    ],
)
def test_the_line_shows_tokens_and_the_cache_hit_rate(
    usage: dict[str, int], rate: float | None, shown: str
) -> None:
    log = RequestLog("req_abc", "POST", "/v1/messages")
    log.choice = CHOICE
    log.usage = usage
    log.finish(200, None)
    log.seconds = 0.002
    assert log.cache_hit_rate == rate
    assert log.line() == (
        f"POST /v1/messages claude-opus-5-5 -> openai/gpt-4.1 200 2ms {shown} [req_abc]"
    )


def test_no_usage_no_rate() -> None:
    assert RequestLog("req_abc", "POST", "/v1/messages").cache_hit_rate is None


# --- what the usage ledger takes from it -------------------------------------------------


@pytest.mark.parametrize("recorded", sorted((DATA / "claude-code").glob("*.json")))
def test_the_session_of_every_recorded_claude_code_request(recorded: Path) -> None:
    body = body_of(recorded)
    log = RequestLog("req_1", "POST", "/v1/messages")
    log.count(body)
    header = json.loads(recorded.read_text())["_headers"]["x-claude-code-session-id"]
    if "metadata" in body:
        assert log.session == header
    else:  # count_tokens carries no metadata: the middleware takes the header
        assert log.session is None


def test_a_later_body_without_a_session_keeps_the_headers() -> None:
    log = RequestLog("req_1", "POST", "/v1/messages", session="from-header")
    log.count({"messages": [], "metadata": {"user_id": "someone"}})
    assert log.session == "from-header"


def test_cost_needs_usage_and_a_priced_model() -> None:
    log = RequestLog("req_1", "POST", "/v1/messages", choice=CHOICE)
    assert log.cost is None
    log.usage = {"input_tokens": 1000, "output_tokens": 100}
    assert log.cost == facts_for("openai/gpt-4.1").cost(log.usage)
    assert log.cost is not None and log.cost > 0
    log.choice = ModelChoice("claude-opus-5-5", "openai/not-a-model", "openai", "test")
    assert log.cost is None


def test_only_api_requests_have_a_row() -> None:
    assert RequestLog("req_1", "GET", "/v1/models").row() is None
    assert RequestLog("req_1", "GET", "/v1/messages").row() is None
    log = RequestLog("req_1", "POST", "/v1/messages/count_tokens", session="s")
    log.finish(200, None)
    row = log.row()
    assert row is not None
    assert (row.endpoint, row.session, row.status, row.requested_model) == (
        "count_tokens",
        "s",
        200,
        None,
    )
    assert row.time == log.finished


def test_the_row_carries_the_usage_and_the_error() -> None:
    log = RequestLog("req_1", "POST", "/v1/messages", choice=CHOICE)
    log.usage = {
        "input_tokens": 5,
        "output_tokens": 6,
        "cache_read_input_tokens": 7,
        "cache_creation_input_tokens": 8,
    }
    log.finish(529, errors.OverloadedError("busy"))
    row = log.row()
    assert row is not None
    assert (row.input_tokens, row.output_tokens, row.cache_read_tokens) == (5, 6, 7)
    assert row.cache_write_tokens == 8
    assert (row.upstream_model, row.provider) == ("openai/gpt-4.1", "openai")
    assert (row.status, row.error_type) == (529, "overloaded_error")
    assert row.cost == log.cost


def test_a_huge_model_name_is_cut_short_in_the_row() -> None:
    name = "gpt-" + "x" * 30_000
    choice = ModelChoice(name, f"openai/{name}", "openai", "passed through")
    log = RequestLog("req_1", "POST", "/v1/messages", choice=choice)
    row = log.row()
    assert row is not None and row.requested_model is not None and row.upstream_model is not None
    assert len(row.requested_model) < 250 and len(row.upstream_model) < 250
