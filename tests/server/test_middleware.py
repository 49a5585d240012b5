"""The error middleware: a request id and a `RequestLog` on every request, Anthropic's error JSON
for every failure before the first byte (aiohttp's own HTTP errors and bugs included), and one
log line per API request."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.fakes.openai_upstream import FakeOpenAI

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

        def target(self, model: str, provider: str) -> Target:
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
