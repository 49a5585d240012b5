"""`access`: the token, the Host check and the Origin check, through a real aiohttp server and
the real error middleware, with requests written byte for byte as a browser or an attacker
sends them."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from claude_proxy import errors
from claude_proxy.server.access import (
    AccessPolicy,
    Preflight,
    access_middleware,
    cors_headers,
    decide,
    is_loopback_host,
)
from claude_proxy.server.app import create_app
from claude_proxy.server.middleware import error_middleware
from claude_proxy.settings import load_settings
from tests.fakes.openai_upstream import Answer, FakeOpenAI
from tests.helpers.raw_http import RawResponse, exchange, request_bytes

TOKEN = "proxy-token-0123456789"
PAGE = "https://app.example"
MESSAGE = json.dumps(
    {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.1:8082", True),
        ("127.9.8.7:1", True),
        ("localhost", True),
        ("LocalHost:8082", True),
        ("localhost.", True),
        ("localhost.:8082", True),
        ("::1", True),
        ("[::1]", True),
        ("[::1]:8082", True),
        ("[::ffff:127.0.0.1]:8082", True),
        (" 127.0.0.1 ", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("attacker.example", False),
        ("attacker.example:8082", False),
        ("localhost.attacker.example", False),
        ("127.0.0.1.attacker.example", False),
        ("sub.localhost", False),
        ("192.168.1.5:8082", False),
        ("[::2]:8082", False),
        ("[::1", True),  # what urllib sends for nothing; the address is still loopback
        ("localhost:8082:1", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def policy(**overrides: Any) -> AccessPolicy:
    return AccessPolicy.from_settings(load_settings(overrides, env_file=None))


def headers(**values: str) -> CIMultiDict[str]:
    return CIMultiDict({name.replace("_", "-"): value for name, value in values.items()})


def test_decide_order_host_then_origin_then_token() -> None:
    strict = policy(proxy_auth_token=TOKEN)
    everything_wrong = headers(Host="attacker.example", Origin="https://evil.example")
    with pytest.raises(errors.PermissionDeniedError, match=re.escape("Host attacker.example")):
        decide(strict, "POST", "/v1/messages", everything_wrong)
    with pytest.raises(
        errors.PermissionDeniedError, match=re.escape("origin https://evil.example")
    ):
        decide(
            strict, "POST", "/v1/messages", headers(Host="127.0.0.1", Origin="https://evil.example")
        )
    with pytest.raises(errors.AuthenticationError):
        decide(strict, "POST", "/v1/messages", headers(Host="127.0.0.1"))
    assert (
        decide(strict, "POST", "/v1/messages", headers(Host="127.0.0.1", x_api_key=TOKEN)) is None
    )


def test_decide_answers_a_preflight_from_an_allowed_origin_without_a_token() -> None:
    allowing = policy(proxy_auth_token=TOKEN, allowed_origins=PAGE)
    answer = decide(
        allowing,
        "OPTIONS",
        "/v1/messages",
        headers(
            Host="localhost:8082",
            Origin=PAGE,
            Access_Control_Request_Method="POST",
            Access_Control_Request_Headers="content-type, x-api-key, x-stainless-os",
            Access_Control_Request_Private_Network="true",
        ),
    )
    assert isinstance(answer, Preflight)
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE
    assert (
        answer.headers["Access-Control-Allow-Headers"] == "content-type, x-api-key, x-stainless-os"
    )
    assert answer.headers["Access-Control-Allow-Private-Network"] == "true"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_a_malformed_header_list_is_not_echoed() -> None:
    answer = decide(
        policy(allowed_origins=PAGE),
        "OPTIONS",
        "/v1/messages",
        headers(
            Origin=PAGE,
            Access_Control_Request_Method="POST",
            Access_Control_Request_Headers="a b;c",
        ),
    )
    assert isinstance(answer, Preflight) and "Access-Control-Allow-Headers" not in answer.headers


def test_messages_never_echo_long_or_odd_client_text() -> None:
    with pytest.raises(errors.PermissionDeniedError) as caught:
        decide(policy(), "GET", "/", headers(Host="é" + "x" * 5000))
    assert "\\xe9" in caught.value.message and len(caught.value.message) < 400


StartApp = Callable[..., Awaitable[int]]


@pytest.fixture
async def start_app(aiohttp_server: Any) -> StartApp:
    """A small app behind the real error middleware and the access checks; returns its port."""

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"event: ping\ndata: {}\n\n")
        return response

    async def start(**overrides: Any) -> int:
        settings = load_settings(overrides, env_file=None)
        app = web.Application(middlewares=[error_middleware, access_middleware(settings)])
        app.on_response_prepare.append(cors_headers(settings))
        app.router.add_get("/", ok)
        app.router.add_get("/health", ok)
        app.router.add_route("HEAD", "/api/hello", ok)
        app.router.add_post("/v1/messages", ok)
        app.router.add_get("/v1/stream", stream)
        server: TestServer = await aiohttp_server(app, host="127.0.0.1")
        assert server.port is not None
        return server.port

    return start


def assert_error(response: RawResponse, status: int, error_type: str) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type
    assert body["request_id"] == response.headers["request-id"]
    return body


async def test_a_browser_text_plain_post_from_another_page_is_refused(start_app: StartApp) -> None:
    port = await start_app()
    response = await exchange(
        port,
        request_bytes(
            "POST",
            "/v1/messages",
            {
                "Origin": "https://evil.example",
                "Content-Type": "text/plain;charset=UTF-8",
                "Sec-Fetch-Site": "cross-site",
                "Sec-Fetch-Mode": "no-cors",
            },
            MESSAGE.encode(),
            host=f"127.0.0.1:{port}",
        ),
    )
    body = assert_error(response, 403, "permission_error")
    assert "https://evil.example is not in ALLOWED_ORIGINS" in body["error"]["message"]
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("path", ["/v1/messages", "/health", "/"])
async def test_dns_rebinding_is_refused_even_on_health(start_app: StartApp, path: str) -> None:
    port = await start_app()
    method = "POST" if path == "/v1/messages" else "GET"
    response = await exchange(port, request_bytes(method, path, host="attacker.example"))
    body = assert_error(response, 403, "permission_error")
    assert "Host attacker.example is not this machine" in body["error"]["message"]


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST", "127.0.0.2"])
async def test_loopback_host_names_are_served(start_app: StartApp, host: str) -> None:
    port = await start_app()
    response = await exchange(
        port, request_bytes("POST", "/v1/messages", host=host.format(port=port))
    )
    assert response.status == 200 and response.json() == {"ok": True}


async def test_a_request_without_host_is_served(start_app: StartApp) -> None:
    port = await start_app()
    response = await exchange(port, b"GET /health HTTP/1.0\r\n\r\n")
    assert response.status == 200


async def test_bound_to_all_interfaces_any_host_is_served_with_the_token(
    start_app: StartApp,
) -> None:
    port = await start_app(host="0.0.0.0", proxy_auth_token=TOKEN)
    response = await exchange(
        port, request_bytes("POST", "/v1/messages", {"x-api-key": TOKEN}, host="my-box.lan:8082")
    )
    assert response.status == 200


TOKEN_CASES = [
    ("missing", {}, "missing"),
    ("wrong-x-api-key", {"x-api-key": "wrong"}, "wrong"),
    ("longer-x-api-key", {"x-api-key": TOKEN + "x"}, "wrong"),
    ("wrong-bearer", {"Authorization": f"Bearer {TOKEN[:-1]}"}, "wrong"),
    ("basic", {"Authorization": f"Basic {TOKEN}"}, "missing"),
    ("no-scheme", {"Authorization": TOKEN}, "missing"),
    ("non-ascii", {"x-api-key": "é-not-ascii"}, "wrong"),
    ("right-x-api-key", {"x-api-key": TOKEN}, "served"),
    ("right-bearer", {"Authorization": f"Bearer {TOKEN}"}, "served"),
    ("bearer-any-case", {"Authorization": f"bearer  {TOKEN} "}, "served"),
    (
        "right-bearer-wrong-x-api-key",
        {"x-api-key": "k", "Authorization": f"Bearer {TOKEN}"},
        "served",
    ),
    ("right-x-api-key-wrong-bearer", {"x-api-key": TOKEN, "Authorization": "Bearer old"}, "served"),
]
REFUSALS = {"missing": "needs its token", "wrong": "not this proxy's PROXY_AUTH_TOKEN"}


@pytest.mark.parametrize(
    ("sent", "outcome"), [case[1:] for case in TOKEN_CASES], ids=[case[0] for case in TOKEN_CASES]
)
async def test_the_token_in_either_header(
    start_app: StartApp, sent: dict[str, str], outcome: str
) -> None:
    port = await start_app(proxy_auth_token=TOKEN)
    response = await exchange(
        port, request_bytes("POST", "/v1/messages", sent, host=f"localhost:{port}")
    )
    if outcome == "served":
        assert response.status == 200 and response.json() == {"ok": True}
        return
    body = assert_error(response, 401, "authentication_error")
    assert response.headers["x-should-retry"] == "false"
    assert REFUSALS[outcome] in body["error"]["message"]
    assert TOKEN not in response.body.decode()


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("GET", "/health"), ("HEAD", "/api/hello")]
)
async def test_probes_need_no_token(start_app: StartApp, method: str, path: str) -> None:
    port = await start_app(proxy_auth_token=TOKEN)
    response = await exchange(port, request_bytes(method, path, host=f"127.0.0.1:{port}"))
    assert response.status == 200


async def test_without_a_token_setting_any_key_is_served(start_app: StartApp) -> None:
    port = await start_app()
    response = await exchange(
        port, request_bytes("POST", "/v1/messages", {"x-api-key": "anything"})
    )
    assert response.status == 200


def preflight(port: int, origin: str) -> bytes:
    return request_bytes(
        "OPTIONS",
        "/v1/messages",
        {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "anthropic-version,content-type,x-api-key",
        },
        host=f"localhost:{port}",
    )


async def test_preflight_from_an_allowed_origin(start_app: StartApp) -> None:
    port = await start_app(proxy_auth_token=TOKEN, allowed_origins=f"{PAGE}, http://localhost:3000")
    response = await exchange(port, preflight(port, PAGE))
    assert response.status == 204 and response.body == b""
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert (
        response.headers["Access-Control-Allow-Headers"]
        == "anthropic-version,content-type,x-api-key"
    )
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) >= {"POST", "GET"}
    assert "Origin" in response.headers["Vary"]


async def test_preflight_from_another_origin_is_refused(start_app: StartApp) -> None:
    port = await start_app(proxy_auth_token=TOKEN, allowed_origins=PAGE)
    response = await exchange(port, preflight(port, "https://evil.example"))
    assert_error(response, 403, "permission_error")
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_answers_to_an_allowed_origin_carry_cors_headers(start_app: StartApp) -> None:
    port = await start_app(proxy_auth_token=TOKEN, allowed_origins=PAGE)
    sent = {"Origin": PAGE, "Content-Type": "application/json"}
    served = await exchange(
        port, request_bytes("POST", "/v1/messages", {**sent, "x-api-key": TOKEN}, MESSAGE.encode())
    )
    refused = await exchange(port, request_bytes("POST", "/v1/messages", sent, MESSAGE.encode()))
    streamed = await exchange(
        port, request_bytes("GET", "/v1/stream", {**sent, "x-api-key": TOKEN})
    )
    assert served.status == 200 and streamed.status == 200
    assert_error(refused, 401, "authentication_error")  # the page can read why
    for response in (served, refused, streamed):
        assert response.headers["Access-Control-Allow-Origin"] == PAGE
        assert "request-id" in response.headers["Access-Control-Expose-Headers"]
        assert "Origin" in response.headers.getall("Vary")
    assert streamed.body.startswith(b"event: ping")


async def test_answers_without_origin_carry_no_cors_headers(start_app: StartApp) -> None:
    port = await start_app(allowed_origins=PAGE)
    response = await exchange(port, request_bytes("POST", "/v1/messages"))
    assert response.status == 200 and "Access-Control-Allow-Origin" not in response.headers


async def test_on_the_real_proxy_a_web_page_never_reaches_the_upstream(
    aiohttp_server: Any, fake_openai: FakeOpenAI
) -> None:
    """The wiring create_app is to get: the access middleware inside the error middleware."""
    settings = load_settings(
        {
            "openai_api_key": "sk-test-key-0001",
            "openai_api_base": fake_openai.base_url,
            "proxy_auth_token": TOKEN,
        },
        env_file=None,
    )
    app = create_app(settings)
    app.middlewares.append(access_middleware(settings))
    app.on_response_prepare.append(cors_headers(settings))
    server: TestServer = await aiohttp_server(app, host="127.0.0.1")
    assert server.port is not None
    port = server.port

    drive_by = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    refused = [
        await exchange(port, request_bytes("POST", "/v1/messages", drive_by, MESSAGE.encode())),
        await exchange(
            port,
            request_bytes("POST", "/v1/messages", {}, MESSAGE.encode(), host="attacker.example"),
        ),
        await exchange(
            port,
            request_bytes("POST", "/v1/messages", {"x-api-key": "client-key"}, MESSAGE.encode()),
        ),
    ]
    assert [response.status for response in refused] == [403, 403, 401]
    assert fake_openai.requests == []

    fake_openai.enqueue(Answer(text="hello"))
    served = await exchange(
        port,
        request_bytes(
            "POST",
            "/v1/messages",
            {"x-api-key": TOKEN, "Content-Type": "application/json"},
            MESSAGE.encode(),
        ),
    )
    assert served.status == 200, served.body
    assert served.json()["content"][0]["text"] == "hello"
    assert len(fake_openai.requests) == 1
    health = await exchange(port, request_bytes("GET", "/health"))
    assert health.status == 200 and health.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        (
            "https://app.example,http://localhost:3000",
            ["https://app.example", "http://localhost:3000"],
        ),
        (" https://App.Example/ , ", ["https://app.example"]),
        ('["https://app.example"]', ["https://app.example"]),
        ("", []),
    ],
)
def test_allowed_origins_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, origins: list[str]
) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", raw)
    assert load_settings(env_file=None).allowed_origins == origins


def test_allowed_origins_from_the_config_file() -> None:
    from claude_proxy.settings import config_file_path

    config_file_path().write_text('allowed_origins = ["https://app.example"]\n')
    assert load_settings(env_file=None).allowed_origins == ["https://app.example"]


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("app.example", "e.g. https://app.example"),
        ("https://app.example/path", "e.g. https://app.example"),
        ("*", "not an origin"),
        ("null", "sandboxed frame"),
    ],
)
def test_allowed_origins_that_are_not_origins_are_refused(
    monkeypatch: pytest.MonkeyPatch, raw: str, hint: str
) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("ALLOWED_ORIGINS", raw)
    with pytest.raises(ValidationError, match=re.escape(hint)):
        load_settings(env_file=None)


def test_the_token_comes_from_the_environment_and_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROXY_AUTH_TOKEN", TOKEN)
    settings = load_settings(env_file=None)
    assert settings.proxy_auth_token is not None
    assert settings.proxy_auth_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
    assert AccessPolicy.from_settings(settings).token == TOKEN.encode()


@pytest.mark.parametrize(
    ("host", "only_here"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_bind_addresses_on_loopback(host: str, only_here: bool) -> None:
    assert is_loopback_host(host) is only_here
