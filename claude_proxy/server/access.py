"""Who may use the proxy: the token a client sends, the Host it addressed, the page it came from.

A proxy on 127.0.0.1 is reachable from every web page the user opens: a page may POST
`text/plain` (no CORS preflight) and spend the user's upstream key, or rebind its own domain to
127.0.0.1 (DNS rebinding) and then read the answers too. Hence three checks, in this order:

1. Host: bound to loopback, only requests addressed to a loopback name or address are served
   (a rebound page still sends its own domain as Host).
2. Origin: browsers send `Origin` with every cross-origin request, so any request carrying one
   is refused unless ALLOWED_ORIGINS lists it. CORS preflights from listed origins get 204.
3. Token: with PROXY_AUTH_TOKEN set, every request but `/`, `/health` and Claude Code's
   `HEAD /api/hello` probe needs it, as `x-api-key` or `Authorization: Bearer`.

The decisions are pure (`decide`); `access_middleware` raises what `decide` refuses, for the
error middleware (which runs outside it) to render, and `cors_headers` adds the CORS headers to
every answer to a listed origin, streams and error answers included.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from claude_proxy import errors
from claude_proxy.settings import Settings

ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]

PUBLIC_PATHS = frozenset({"/", "/health", "/api/hello"})
"""Answered without a token: the launcher probes `/health`, Claude Code `HEAD /api/hello`."""
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
EXPOSED_HEADERS = "request-id, retry-after, x-should-retry"
PREFLIGHT_MAX_AGE = "600"
_HEADER_LIST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*")


@dataclass(frozen=True)
class AccessPolicy:
    token: bytes | None
    allowed_origins: frozenset[str]
    check_host: bool
    """True when bound to loopback: then only loopback Host headers are served."""

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        token = settings.proxy_auth_token
        return cls(
            token=token.get_secret_value().encode() if token is not None else None,
            allowed_origins=frozenset(settings.allowed_origins),
            check_host=is_loopback_host(settings.host),
        )


@dataclass(frozen=True)
class Preflight:
    """A CORS preflight from an allowed origin: answer 204 with these headers."""

    headers: dict[str, str]


def decide(
    policy: AccessPolicy, method: str, path: str, headers: Mapping[str, str]
) -> Preflight | None:
    """None to serve the request, a Preflight to answer, or a raised ProxyError to refuse it."""
    check_host(policy, headers.get("Host"))
    origin = headers.get("Origin")
    if origin is not None:
        check_origin(policy, origin)
        if method == "OPTIONS" and "Access-Control-Request-Method" in headers:
            return Preflight(preflight_headers(origin, headers))
    if path not in PUBLIC_PATHS:
        check_token(policy, headers)
    return None


def is_loopback_host(host: str) -> bool:
    """Whether `host` names this machine's loopback: a bind address (`127.0.0.1`, `::1`,
    `localhost`) or a Host header with or without its port (`[::1]:8082`, `localhost:8082`)."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    name = name.removesuffix(".")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_host(policy: AccessPolicy, host: str | None) -> None:
    # A missing Host is no browser (browsers always send one), so there is nothing to rebind.
    if not policy.check_host or not host or is_loopback_host(host):
        return
    raise errors.PermissionDeniedError(
        f"Host {_shown(host)} is not this machine: a proxy bound to loopback answers only "
        "requests addressed to localhost or a loopback address (this blocks DNS rebinding); "
        "use http://127.0.0.1:PORT"
    )


def check_origin(policy: AccessPolicy, origin: str) -> None:
    if origin.lower() in policy.allowed_origins:
        return
    raise errors.PermissionDeniedError(
        f"requests from web pages are refused: the origin {_shown(origin)} is not in "
        "ALLOWED_ORIGINS; add it there if this page may use the proxy"
    )


def check_token(policy: AccessPolicy, headers: Mapping[str, str]) -> None:
    if policy.token is None:
        return
    sent = _sent_tokens(headers)
    # Every candidate is compared, so the time taken does not tell which header was close.
    matches = [
        hmac.compare_digest(token.encode("utf-8", "surrogateescape"), policy.token)
        for token in sent
    ]
    if any(matches):
        return
    if not sent:
        message = (
            "this proxy needs its token (PROXY_AUTH_TOKEN): send it as x-api-key or as "
            "Authorization: Bearer; for Claude Code set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN to it"
        )
    else:
        message = "the token sent is not this proxy's PROXY_AUTH_TOKEN"
    raise errors.AuthenticationError(message, headers={"x-should-retry": "false"})


def preflight_headers(origin: str, headers: Mapping[str, str]) -> dict[str, str]:
    answer = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    }
    # The origin is trusted by the user, so whatever headers its page asks for (the SDKs send
    # many x-stainless-* ones) are allowed; only a well-formed list is echoed.
    requested = headers.get("Access-Control-Request-Headers", "").strip()
    if requested and _HEADER_LIST.fullmatch(requested):
        answer["Access-Control-Allow-Headers"] = requested
    # Chrome's Private Network Access: a public page calling a loopback address asks for this.
    if headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
        answer["Access-Control-Allow-Private-Network"] = "true"
    return answer


def access_middleware(settings: Settings) -> Middleware:
    """The checks above as middleware; it must run inside `server.error_middleware`."""
    policy = AccessPolicy.from_settings(settings)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        answer = decide(policy, request.method, request.path, request.headers)
        if answer is not None:
            return web.Response(status=204, headers=answer.headers)
        return await handler(request)

    return middleware


def cors_headers(settings: Settings) -> ResponseHook:
    """An `on_response_prepare` hook: every answer to an allowed origin says so.

    A hook rather than the middleware, because the error middleware builds its answers outside
    the access middleware, and a stream's headers are sent before its handler returns.
    """
    allowed = frozenset(settings.allowed_origins)

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin is None or origin.lower() not in allowed:
            return
        if "Access-Control-Allow-Origin" in response.headers:  # a preflight answer
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.setdefault("Access-Control-Expose-Headers", EXPOSED_HEADERS)
        response.headers.add("Vary", "Origin")

    return hook


def _sent_tokens(headers: Mapping[str, str]) -> list[str]:
    sent = []
    if api_key := headers.get("x-api-key", "").strip():
        sent.append(api_key)
    scheme, _, credentials = headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        sent.append(credentials.strip())
    return sent


def _shown(text: str) -> str:
    """Client text for a message: printable ASCII, cut short (it reaches the log too)."""
    safe = text.encode("ascii", "backslashreplace").decode("ascii")
    return safe if len(safe) <= 80 else safe[:80] + "..."
