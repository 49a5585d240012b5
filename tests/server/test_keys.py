"""The typed keys of what the application and each request hold: the app factory puts the
settings, the upstream and the passthrough under them, the middleware a `RequestLog`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from claude_proxy.server.app import create_app
from claude_proxy.server.keys import ANTHROPIC, LOG, SETTINGS, UPSTREAM
from claude_proxy.server.request_log import RequestLog
from claude_proxy.settings import load_settings
from claude_proxy.upstream.anthropic_passthrough import AnthropicPassthrough
from tests.fakes.scripted_upstream import ScriptedUpstream


async def test_the_app_holds_its_state_under_the_keys(aiohttp_client: Any) -> None:
    settings = load_settings({"port": 9}, env_file=None)
    upstream = ScriptedUpstream()
    app = create_app(settings, upstream=upstream)
    seen: dict[str, Any] = {}

    async def probe(request: web.Request) -> web.Response:
        seen.update(
            settings=request.app[SETTINGS],
            upstream=request.app[UPSTREAM],
            anthropic=request.app[ANTHROPIC],
            log=request[LOG],
        )
        return web.json_response({})

    app.router.add_get("/probe", probe)
    client = await aiohttp_client(app)
    assert (await client.get("/probe")).status == 200
    assert seen["settings"] is settings
    assert seen["upstream"] is upstream
    assert isinstance(seen["anthropic"], AnthropicPassthrough)
    assert isinstance(seen["log"], RequestLog) and seen["log"].path == "/probe"
    await client.close()
    assert upstream.closed  # the app closes the upstream it was given when it shuts down
