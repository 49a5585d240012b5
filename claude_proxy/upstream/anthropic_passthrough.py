"""Anthropic as the upstream: the client's request goes to Anthropic untranslated.

The OpenAI translation would lose cache_control, thinking signatures, betas and every block
type it does not know, so for `anthropic/...` models the body is forwarded as it came (only
`model` replaced when the mapping changed it) and Anthropic's answer comes back as it is: its
status and JSON, or its SSE bytes as they arrive. The proxy's ANTHROPIC_API_KEY goes upstream,
never the client's credentials. ANTHROPIC_BASE_URL is never read: it is how Claude Code finds
this proxy, so following it would make the proxy call itself.

Nothing here writes to the client: `server/messages.py` turns a `Reply` into the HTTP response, so
aiohttp.web stays on the server side.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from claude_proxy import __version__, errors
from claude_proxy.providers.table import provider_named
from claude_proxy.settings import Settings
from claude_proxy.translate.sse import encode_event
from claude_proxy.translate.thinking import without_proxy_thinking

logger = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.anthropic.com"
DEFAULT_VERSION = "2023-06-01"
MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
MODEL_PREFIX = "anthropic/"

# Clients decide whether and when to retry from these; they must survive the hop.
RETRY_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")


@dataclass
class Reply:
    """Anthropic's answer, to be sent to the client unchanged."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: SseRelay | None = None
    """The SSE byte stream of a streamed 200; `body` is empty then."""
    counted: bool = False
    """A count_tokens answer: its body has no usage."""

    @property
    def usage(self) -> dict[str, Any] | None:
        """The answer's usage, for the request log: a stream's once it has been relayed."""
        if self.events is not None:
            return self.events.usage
        if self.status == 200 and not self.counted:
            return usage_of(self.body)
        return None


class SseRelay:
    """The SSE bytes of one upstream response, as they arrive; `aclose` drops the connection.

    A failure after the first byte cannot change the status any more, so it ends the stream
    with an Anthropic `error` event, written only between events (never inside a cut one).
    """

    def __init__(self, response: aiohttp.ClientResponse, passthrough: AnthropicPassthrough) -> None:
        self._response = response
        self._passthrough = passthrough
        self._tail = b"\n\n"
        self._line = b""
        self.usage: dict[str, Any] = {}
        """Cumulative usage read from `message_start` and `message_delta`, for the request log."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._relay()

    async def _relay(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.content.iter_any():
                self._tail = (self._tail + data)[-2:]
                self._read_usage(data)
                yield data
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = self._passthrough.transport_error(exc)
            logger.warning("Anthropic stream failed mid-way: %s", error.message)
            if self._tail == b"\n\n":
                yield encode_event("error", error.to_body())

    def _read_usage(self, data: bytes) -> None:
        *lines, self._line = (self._line + data).split(b"\n")
        for line in lines:
            if line.startswith(b"data: ") and b'"usage"' in line:
                self.usage.update(usage_of(line[6:]))

    async def aclose(self) -> None:
        # close(), not release(): a client that left must make the upstream see us leave too.
        self._response.close()


class AnthropicPassthrough:
    """Posts Anthropic Messages requests to Anthropic over one lazily opened client session."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: aiohttp.ClientSession | None = None
        self.base_url = (settings.anthropic_api_base or DEFAULT_BASE).rstrip("/")
        secret = settings.anthropic_api_key
        self._key = secret.get_secret_value() if secret is not None else ""

    async def messages(
        self, body: dict[str, Any], raw: bytes, model: str, client_headers: Mapping[str, str]
    ) -> Reply:
        """`POST /v1/messages` to Anthropic as `model` (with or without `anthropic/`).

        `raw` is the client's body as it came; it is sent byte for byte when the model name
        does not change. A stream's status is Anthropic's: a refusal (429, 529, ...) is a
        whole JSON reply, so clients can retry on it.
        """
        return await self._send(MESSAGES_PATH, body, raw, model, client_headers)

    async def count_tokens(
        self, body: dict[str, Any], raw: bytes, model: str, client_headers: Mapping[str, str]
    ) -> Reply:
        """`POST /v1/messages/count_tokens` to Anthropic as `model`."""
        reply = await self._send(COUNT_TOKENS_PATH, body, raw, model, client_headers)
        reply.counted = True
        return reply

    async def _send(
        self,
        path: str,
        body: dict[str, Any],
        raw: bytes,
        model: str,
        client_headers: Mapping[str, str],
    ) -> Reply:
        upstream_model = model.removeprefix(MODEL_PREFIX)
        cleaned = without_proxy_thinking(body)
        unchanged = cleaned is body and body.get("model") == upstream_model
        data = raw if unchanged else encode_body(cleaned, upstream_model)
        stream = path == MESSAGES_PATH and body.get("stream") is True
        try:
            response = await self._session().post(
                self.base_url + path,
                data=data,
                headers=self.upstream_headers(client_headers),
                timeout=self._timeout(stream),
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.transport_error(exc) from exc
        logger.debug(
            "Anthropic answered %s %d [upstream %s]",
            path,
            response.status,
            response.headers.get("request-id", "no request-id"),
        )
        if stream and response.status == 200:
            return Reply(200, events=SseRelay(response, self))
        try:
            async with response:
                payload = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.transport_error(exc) from exc
        return self._whole_reply(response, payload)

    def upstream_headers(self, client_headers: Mapping[str, str]) -> dict[str, str]:
        """Our key, the client's API version and betas; nothing else of the client's."""
        if not self._key and self.base_url == DEFAULT_BASE:
            raise errors.MissingKeyError(provider_named("anthropic").missing_key())
        headers = {
            "content-type": "application/json",
            "anthropic-version": client_headers.get("anthropic-version") or DEFAULT_VERSION,
            "user-agent": f"claude-proxy/{__version__}",
        }
        if beta := all_values(client_headers, "anthropic-beta"):
            headers["anthropic-beta"] = beta
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    def transport_error(self, exc: BaseException) -> errors.ProxyError:
        """A connection that failed or went silent, as the error the client gets."""
        if isinstance(exc, TimeoutError):
            return errors.UpstreamTimeoutError(
                f"Anthropic did not answer within {self._settings.request_timeout:g} s"
            )
        reason = str(getattr(exc, "os_error", None) or exc) or type(exc).__name__
        return errors.ApiError(
            f"the connection to Anthropic at {self.base_url} failed: {self.redact(reason)}"
        )

    def redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _session(self) -> aiohttp.ClientSession:
        if self._client is None:
            # trust_env: HTTPS_PROXY applies here as it does to the other providers' clients.
            self._client = aiohttp.ClientSession(trust_env=True)
        return self._client

    def _timeout(self, stream: bool) -> aiohttp.ClientTimeout:
        seconds = self._settings.request_timeout
        if stream:
            # A stream may last longer than any fixed total; silence is what times it out.
            return aiohttp.ClientTimeout(sock_connect=seconds, sock_read=seconds)
        return aiohttp.ClientTimeout(total=seconds)

    def _whole_reply(self, response: aiohttp.ClientResponse, payload: bytes) -> Reply:
        headers = {
            name: response.headers[name] for name in RETRY_HEADERS if name in response.headers
        }
        headers["content-type"] = response.headers.get("content-type", "application/json")
        if response.status < 400:
            return Reply(response.status, headers, payload)
        if self._key:
            # Anthropic never echoes a key, but a gateway in front of it might.
            payload = payload.replace(self._key.encode(), b"***")
        error = error_of(payload)
        if error is None:
            # A gateway's HTML page or an empty body: still Anthropic's error shape, same status.
            text = self.redact(payload.decode("utf-8", "replace").strip())[:500]
            message = f"Anthropic answered {response.status}: {text or response.reason}"
            error = {"type": errors.for_status(response.status).error_type, "message": message}
            payload = json.dumps({"type": "error", "error": error}).encode()
            headers["content-type"] = "application/json"
        logger.warning(
            "Anthropic refused the request: %d %s: %s",
            response.status,
            error.get("type"),
            self.redact(str(error.get("message")))[:500],
        )
        return Reply(response.status, headers, payload)


def encode_body(body: dict[str, Any], model: str) -> bytes:
    """The client's body with another model name; ASCII escapes keep lone surrogates valid."""
    return json.dumps({**body, "model": model}, separators=(",", ":")).encode()


def usage_of(payload: bytes) -> dict[str, Any]:
    """The usage counters of a Message, or of a `message_start`/`message_delta` event's data."""
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    usage = data.get("usage") or (data.get("message") or {}).get("usage")
    return {k: v for k, v in usage.items() if isinstance(v, int)} if isinstance(usage, dict) else {}


def error_of(payload: bytes) -> dict[str, Any] | None:
    """The `error` object of an Anthropic error body, or None when it is not one."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "error":
        return None
    error = data.get("error")
    return error if isinstance(error, dict) else None


def all_values(headers: Mapping[str, str], name: str) -> str:
    """Every value of a header joined by commas (a client may repeat `anthropic-beta`)."""
    getall = getattr(headers, "getall", None)
    values = getall(name, []) if getall is not None else [headers.get(name, "")]
    return ",".join(value for value in values if value)
