"""The error middleware: a request id and a `RequestLog` on every request, Anthropic's error JSON
for every failure before the first byte (aiohttp's own HTTP errors and bugs included), and one
log line per API request."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from claude_proxy import errors
from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.server.keys import LOG
from claude_proxy.server.middleware import error_middleware
from claude_proxy.server.request_log import RequestLog
from claude_proxy.settings import load_settings
from claude_proxy.upstream.model_facts import facts_for
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.scripted_upstream import ScriptedUpstream, answer, usage_chunk
from tests.helpers.ledger import ledger_rows
from tests.helpers.repo import DATA, body_of

HELLO = [{"role": "user", "content": "hello"}]


async def test_body_too_large_is_413(start_proxy: Any, fake_openai: FakeOpenAI) -> None:
    url = await start_proxy(
        openai_api_key="sk-x", openai_api_base=fake_openai.base_url, max_request_bytes=1000
    )
    payload = {
        "model": "claude-opus-5-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "x" * 2000}],
    }
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/v1/messages", json=payload)
        body = await response.json()
    assert response.status == 413
    assert body["error"]["type"] == "request_too_large"


async def test_unknown_route_is_anthropic_404(proxy_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{proxy_url}/v1/complete", json={})
        body = await response.json()
    assert response.status == 404
    assert body["error"]["type"] == "not_found_error"


async def test_a_bug_in_the_proxy_is_a_json_500_not_a_traceback(aiohttp_client: Any) -> None:
    from claude_proxy.server.app import create_app
    from claude_proxy.settings import load_settings
    from claude_proxy.translate.target import Target

    class BrokenUpstream:
        def provider_of(self, model: str) -> str | None:
            return None

        def is_provider(self, prefix: str) -> bool:
            return False

        async def target(self, model: str, provider: str) -> Target:
            return Target(model=model, provider=provider)

        async def count_tokens(self, request: dict[str, Any]) -> int:
            raise RuntimeError("tokenizer exploded")

        async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("bug")

        def stream(self, request: dict[str, Any]) -> Any:
            raise RuntimeError("bug")

        async def aclose(self) -> None:
            pass

    broken = BrokenUpstream()
    app = create_app(load_settings(env_file=None), upstream=broken)
    client = await aiohttp_client(app)
    response = await client.post(
        "/v1/messages", json={"model": "claude-opus-5-5", "max_tokens": 5, "messages": HELLO}
    )
    body = await response.json()
    assert response.status == 500
    assert body["error"]["type"] == "api_error"
    assert body["request_id"] in body["error"]["message"]
    counted = await client.post(
        "/v1/messages/count_tokens", json={"model": "claude-opus-5-5", "messages": HELLO}
    )
    assert counted.status == 500
    assert "tokenizer exploded" in (await counted.json())["error"]["message"]


def app_raising(exc: BaseException | None) -> web.Application:
    """An app whose one route raises `exc` (or answers "ok"), behind the error middleware."""

    async def handler(request: web.Request) -> web.StreamResponse:
        request[LOG].count({"messages": HELLO, "tools": [{}, {}]})
        if exc is not None:
            raise exc
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[error_middleware])
    for path in ("/v1/messages", "/health"):
        app.router.add_route("*", path, handler)
    return app


@pytest.mark.parametrize(
    ("exc", "status", "error_type"),
    [
        (errors.RateLimitError("slow down", headers={"retry-after": "3"}), 429, "rate_limit_error"),
        (errors.MissingKeyError("No key for OpenAI"), 401, "authentication_error"),
        (web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20), 413, "request_too_large"),
        (web.HTTPBadRequest(text="bad framing"), 400, "invalid_request_error"),
        (RuntimeError("a bug"), 500, "api_error"),
    ],
    ids=["proxy-error", "missing-key", "too-large", "http-400", "bug"],
)
async def test_failures_become_anthropic_error_json_with_a_request_id(
    aiohttp_client: Any,
    caplog: pytest.LogCaptureFixture,
    exc: BaseException,
    status: int,
    error_type: str,
) -> None:
    caplog.set_level(logging.INFO, logger="claude_proxy")
    client = await aiohttp_client(app_raising(exc))
    response = await client.post("/v1/messages", json={})
    body = await response.json()
    assert response.status == status
    assert body["type"] == "error" and body["error"]["type"] == error_type
    request_id = response.headers["request-id"]
    assert request_id.startswith("req_") and body["request_id"] == request_id
    if isinstance(exc, errors.ProxyError):
        assert body["error"]["message"] == exc.message
        for name, value in exc.headers.items():
            assert response.headers[name] == value
    if isinstance(exc, RuntimeError):
        assert "a bug" not in body["error"]["message"]  # the log has it, not the client
        assert request_id in body["error"]["message"]
    [line] = [
        r
        for r in caplog.records
        if r.name == "claude_proxy.server.middleware" and r.levelno == logging.WARNING
    ]
    assert line.getMessage().startswith(f"POST /v1/messages {status} ")
    assert f"[{request_id}] {error_type}: " in line.getMessage()


async def test_a_wrong_method_is_an_invalid_request(aiohttp_client: Any) -> None:
    async def only_post(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application(middlewares=[error_middleware])
    app.router.add_post("/only-post", only_post)
    client = await aiohttp_client(app)
    response = await client.get("/only-post")
    body = await response.json()
    assert response.status == 400
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": "GET is not allowed on /only-post",
    }


async def test_every_api_request_gets_one_log_line_and_probes_none(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="claude_proxy")
    client = await aiohttp_client(app_raising(None))
    ok = await client.post("/v1/messages", json={})
    await client.get("/health")
    await client.head("/v1/messages")
    assert ok.status == 200 and ok.headers["request-id"].startswith("req_")
    lines = [r for r in caplog.records if r.name == "claude_proxy.server.middleware"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert lines[0].getMessage().startswith("POST /v1/messages 200 ")
    log = lines[0].request_log  # type: ignore[attr-defined]
    assert isinstance(log, RequestLog)
    assert (log.status, log.messages, log.tools, log.error) == (200, 1, 2, None)


async def test_request_ids_are_fresh(aiohttp_client: Any) -> None:
    client = await aiohttp_client(app_raising(None))
    ids = {(await client.post("/v1/messages", json={})).headers["request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_a_body_that_cannot_be_decoded_is_the_clients_error(
    fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the runner and site `serve` uses (test servers log aiohttp's own traceback)."""
    caplog.set_level(logging.INFO, logger="claude_proxy")
    settings = load_settings(
        {"openai_api_key": "sk-test", "openai_api_base": fake_openai.base_url}, env_file=None
    )
    async with (
        serving_on_loopback(create_app(settings)) as proxy_url,
        aiohttp.ClientSession(auto_decompress=False) as session,
    ):
        response = await session.post(
            f"{proxy_url}/v1/messages",
            data=b"this is not gzip",
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        body = await response.json()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert response.status == 400
    assert body["error"]["type"] == "invalid_request_error"


# --- the usage ledger's row --------------------------------------------------------------


async def test_each_api_request_leaves_one_ledger_row(tmp_path: Path) -> None:
    upstream = ScriptedUpstream()
    cached = {**usage_chunk(1000, 40), "usage": {**usage_chunk(1000, 40)["usage"]}}
    cached["usage"]["prompt_tokens_details"] = {"cached_tokens": 600}
    upstream.enqueue_stream(*answer("hi")[:-1], cached)
    recorded = DATA / "claude-code" / "01-say-hi.json"
    body = body_of(recorded)
    headers = json.loads((DATA / "claude-code" / "09-count-tokens.json").read_text())["_headers"]
    settings = load_settings({"data_dir": tmp_path, "openai_api_key": "sk-x"}, env_file=None)
    async with serving_on_loopback(create_app(settings, upstream=upstream)) as url:
        async with aiohttp.ClientSession() as session:
            streamed = await session.post(f"{url}/v1/messages", json=body)
            await streamed.read()
            counted = await session.post(
                f"{url}/v1/messages/count_tokens",
                json={"model": "claude-haiku-4-5", "messages": HELLO},
                headers={"x-claude-code-session-id": headers["x-claude-code-session-id"]},
            )
            refused = await session.post(f"{url}/v1/messages", json={"model": "claude-opus-5-5"})
            await session.get(f"{url}/v1/models")
            await session.get(f"{url}/health")
    assert (streamed.status, counted.status, refused.status) == (200, 200, 400)
    rows = ledger_rows(tmp_path)
    assert [row["endpoint"] for row in rows] == ["messages", "count_tokens", "messages"]
    first, count, error = rows
    usage = {
        "input_tokens": 400,
        "output_tokens": 40,
        "cache_read_input_tokens": 600,
        "cache_creation_input_tokens": 0,
    }
    assert first == {
        **first,
        "session": "00000000-0000-4000-8000-000000000001",
        "requested_model": "claude-opus-5-5",
        "upstream_model": "openai/gpt-4.1",
        "provider": "openai",
        "input_tokens": 400,
        "output_tokens": 40,
        "cache_read_tokens": 600,
        "cache_write_tokens": 0,
        "cost": pytest.approx(facts_for("openai/gpt-4.1").cost(usage)),
        "status": 200,
        "error_type": None,
    }
    assert first["latency_ms"] > 0 and first["request_id"].startswith("req_")
    assert count["session"] == "00000000-0000-4000-8000-000000000009"
    assert count["upstream_model"] == "openai/gpt-4.1-mini"
    assert (error["status"], error["error_type"]) == (400, "invalid_request_error")
    assert error["session"] is None


async def test_the_ledger_keeps_no_text_of_the_request(tmp_path: Path) -> None:
    upstream = ScriptedUpstream()
    upstream.enqueue_stream(*answer("the-secret-answer"))
    settings = load_settings(
        {"data_dir": tmp_path, "openai_api_key": "sk-secret-key-123"}, env_file=None
    )
    prompt = [{"role": "user", "content": "the-secret-prompt"}]
    async with serving_on_loopback(create_app(settings, upstream=upstream)) as url:
        async with aiohttp.ClientSession() as session:
            payload = {"model": "claude-opus-5-5", "max_tokens": 5, "messages": prompt}
            response = await session.post(
                f"{url}/v1/messages",
                json={**payload, "stream": True},
                headers={"x-api-key": "sk-client-key-456"},
            )
            await response.read()
    assert len(ledger_rows(tmp_path)) == 1
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    for text in (b"the-secret", b"sk-secret-key-123", b"sk-client-key-456"):
        assert text not in stored


async def test_a_session_header_that_is_not_an_id_is_not_kept(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, env_file=None)
    async with serving_on_loopback(create_app(settings, upstream=ScriptedUpstream())) as url:
        async with aiohttp.ClientSession() as session:
            await session.post(
                f"{url}/v1/messages",
                json={"model": "claude-opus-5-5"},
                headers={"x-claude-code-session-id": "x" * 500},
            )
    assert [row["session"] for row in ledger_rows(tmp_path)] == [None]
