"""The aiohttp application: routes, the error middleware, start-up and shutdown.

`create_app(settings)` builds everything; nothing is read at import. The upstream defaults to
LiteLLM, created (and warmed up) when the app starts; tests may pass their own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from claude_proxy import __version__, errors
from claude_proxy.messages import handle_count_tokens, handle_messages
from claude_proxy.model_map import ALIASES, map_model
from claude_proxy.models_list import handle_model, handle_models
from claude_proxy.request_record import request_record
from claude_proxy.settings import Settings
from claude_proxy.state import ANTHROPIC, CATALOG, REQUEST_ID, ROUTE, SETTINGS, STREAMED, UPSTREAM
from claude_proxy.upstream.anthropic_passthrough import AnthropicPassthrough
from claude_proxy.upstream.base import Catalog, Upstream

logger = logging.getLogger("claude_proxy.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_request_id() -> str:
    return "req_" + secrets.token_urlsafe(18)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as Anthropic's error JSON, with the status its type stands for.

    Errors after a stream has started are written as SSE `error` events by the stream writer;
    this middleware only sees errors raised before the first byte.
    """
    request_id = new_request_id()
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    error: errors.ProxyError | None = None
    try:
        response = await handler(request)
    except Exception as exc:
        error = to_proxy_error(exc, request)
        response = error_response(error, request_id)
    if not response.prepared:
        response.headers["request-id"] = request_id
    log_request(request, response, time.perf_counter() - started, error)
    return response


def to_proxy_error(exc: Exception, request: web.Request) -> errors.ProxyError:
    """aiohttp's own HTTP errors and unexpected failures, as members of the error tree."""
    if isinstance(exc, errors.ProxyError):
        return exc
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return errors.RequestTooLargeError(exc.text or "request body too large")
    if isinstance(exc, web.HTTPNotFound):
        return errors.NotFoundError(f"{request.method} {request.path} is not a route of this proxy")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return errors.InvalidRequestError(f"{request.method} is not allowed on {request.path}")
    if isinstance(exc, web.HTTPException):
        return errors.ApiError(exc.text or exc.reason)
    request_id = request[REQUEST_ID]
    logger.exception("unexpected error in %s %s [%s]", request.method, request.path, request_id)
    return errors.ApiError(f"internal error in claude-proxy (request {request_id}); see its log")


def error_response(exc: errors.ProxyError, request_id: str) -> web.Response:
    response = web.json_response(exc.to_body(request_id), status=exc.status)
    response.headers.update(exc.headers)
    return response


def log_request(
    request: web.Request,
    response: web.StreamResponse,
    seconds: float,
    error: errors.ProxyError | None,
) -> None:
    """One quiet line per API request: route, status, latency, and the error if there was one."""
    if request.path in ("/health", "/") or request.method == "HEAD":
        return
    parts = [request.method, request.path]
    if route := request.get(ROUTE):
        parts.append(route)
    if request.get(STREAMED):
        parts.append("stream")
    parts += [str(response.status), f"{seconds * 1000:.0f}ms", f"[{request[REQUEST_ID]}]"]
    if error is not None:
        parts.append(f"{error.error_type}: {error.message}")
    logger.log(
        logging.WARNING if error is not None else logging.INFO,
        " ".join(parts),
        extra={"request_record": request_record(request, response, seconds, error)},
    )


async def handle_health(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    catalog = request.app[CATALOG]
    choices = {alias: map_model(alias, settings, catalog) for alias in ALIASES}
    targets = {alias: catalog.target(c.model, c.provider) for alias, c in choices.items()}
    return web.json_response(
        {
            "status": "ok",
            "service": "claude-proxy",
            "version": __version__,
            "provider": settings.preferred_provider,
            "models": {alias: choice.model for alias, choice in choices.items()},
            "limits": {
                alias: {
                    "max_input_tokens": target.max_input_tokens,
                    "max_output_tokens": target.max_output_tokens,
                }
                for alias, target in targets.items()
            },
        }
    )


async def handle_root(request: web.Request) -> web.Response:
    return web.json_response({"service": "claude-proxy", "version": __version__})


def create_app(
    settings: Settings, *, upstream: Upstream | None = None, catalog: Catalog | None = None
) -> web.Application:
    """Build the proxy. Without `upstream`/`catalog`, LiteLLM serves both, created on start-up."""
    app = web.Application(
        middlewares=[error_middleware], client_max_size=settings.max_request_bytes
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_upstream_context(upstream, catalog))
    app.router.add_get("/", handle_root)
    app.router.add_route("HEAD", "/api/hello", handle_root)
    app.router.add_get("/health", handle_health)
    app.router.add_post("/v1/messages", handle_messages)
    app.router.add_post("/v1/messages/count_tokens", handle_count_tokens)
    app.router.add_get("/v1/models", handle_models)
    app.router.add_get("/v1/models/{model_id}", handle_model)
    return app


def _upstream_context(
    upstream: Upstream | None, catalog: Catalog | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        if upstream is None or catalog is None:
            from claude_proxy.upstream.litellm_client import LiteLLMUpstream

            litellm_upstream = LiteLLMUpstream(app[SETTINGS])
            await litellm_upstream.warm_up()
        app[UPSTREAM] = upstream or litellm_upstream
        app[CATALOG] = catalog or litellm_upstream
        app[ANTHROPIC] = AnthropicPassthrough(app[SETTINGS])
        try:
            yield
        finally:
            await app[ANTHROPIC].close()
            await app[UPSTREAM].aclose()

    return context


async def run_server(settings: Settings, app: web.Application | None = None) -> None:
    """Serve until cancelled. Handlers are cancelled when their client goes away."""
    runner = web.AppRunner(app or create_app(settings), handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
