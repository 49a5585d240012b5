"""The native upstream: OpenAI-compatible Chat Completions over aiohttp's client, no LiteLLM.

It implements `Upstream` (base.py) for the providers whose row in providers/table.py has a `native_base`: the
translated request becomes the body LiteLLM would send (`openai_request.py`), goes out on one
pooled session, and the answer comes back as plain dicts parsed from the bytes (a stream
through `sse_reader.py`, one `json.loads` per event), shaped as LiteLLM's `model_dump()`
where the translator reads them (`openai_answers.py`). Errors become the proxy's error tree
as on the LiteLLM path (`openai_errors.py`).

Timeouts are those of the LiteLLM path's HTTP client: REQUEST_TIMEOUT bounds connecting and
each wait for bytes, not the whole answer, so a long stream that keeps talking lives on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from claude_proxy import __version__, errors
from claude_proxy.settings import Settings
from claude_proxy.upstream.endpoints import Endpoint, endpoint_for, native_base, native_provider
from claude_proxy.upstream.error_text import redact
from claude_proxy.upstream.model_facts import ModelFacts, facts_for
from claude_proxy.upstream.openai_answers import normalized_chunk, normalized_completion
from claude_proxy.upstream.openai_errors import (
    error_for_status,
    error_in_body,
    unprocessable_params,
)
from claude_proxy.upstream.openai_request import needs_responses_api, to_chat_body
from claude_proxy.upstream.sse_reader import SseReader

logger = logging.getLogger(__name__)

# An error page may be megabytes of HTML; its first 64 KiB say all there is to say.
MAX_ERROR_BYTES = 64 * 1024
SNIPPET_CHARS = 300


class NativeOpenAIUpstream:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: aiohttp.ClientSession | None = None
        self._secrets = settings.secret_values()

    def serves(self, request: dict[str, Any]) -> bool:
        """Whether this request can go the native way (else LiteLLM must take it)."""
        row = native_provider(request["model"])
        if row is None:
            return False
        base = native_base(row, self._settings)
        return not needs_responses_api(request, facts_for(request["model"]), base_url=base)

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        response = await self._open({**request, "stream": False})
        try:
            async with response:
                payload = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.transport_error(exc) from exc
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("error"):
            raise error_in_body(data, self.redact, streamed=False)
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise self.not_an_answer(response, payload, "a chat completion")
        return normalized_completion(data)

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        response = await self._open(request)
        del request  # sent: not held for as long as the answer streams (memory per stream)
        try:
            reader = SseReader()
            head = b""  # the first bytes, quoted when the body is no event stream
            events = 0
            async for data in response.content.iter_any():
                if len(head) < SNIPPET_CHARS:
                    head += data[:SNIPPET_CHARS]
                for event in reader.feed(data):
                    events += 1
                    yield self._chunk(event.data, response)
            if events == 0 and not reader.done:
                raise self.not_an_answer(response, head, "an event stream")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.transport_error(exc, mid_stream=True) from exc
        finally:
            # close(), not release(): when the client left, the upstream must see us leave too.
            response.close()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # --- internals ---------------------------------------------------------------------------

    async def _open(self, request: dict[str, Any]) -> aiohttp.ClientResponse:
        """The upstream's 200 response, headers read; a refusal raised as the proxy's error."""
        model = request["model"]
        row = native_provider(model)
        if row is None:
            raise errors.ApiError(f"{model} is not served by the native engine")
        endpoint = endpoint_for(row, self._settings)
        facts = facts_for(model)
        if needs_responses_api(request, facts, base_url=endpoint.base_url):
            raise errors.ApiError(
                f"{model} needs OpenAI's Responses API for this request (tools while reasoning),"
                " which the native engine does not speak",
                headers={"x-should-retry": "false"},
            )
        body = to_chat_body(request, facts, base_url=endpoint.base_url)
        stream = body.get("stream") is True
        response = await self._post(endpoint, body, stream=stream)
        if response.status == 422 and row.litellm == "openai":
            # As LiteLLM's OpenAI path: retry once without the parameters a 422 names
            # (vLLM and other FastAPI servers refuse parameters they do not know).
            refused = await self._read_error(response)
            names = unprocessable_params(refused)
            body = {key: value for key, value in body.items() if key not in names}
            response = await self._post(endpoint, body, stream=stream)
        if response.status >= 400:
            raise self._refusal(response, await self._read_error(response), facts)
        return response

    async def _post(
        self, endpoint: Endpoint, body: dict[str, Any], *, stream: bool
    ) -> aiohttp.ClientResponse:
        headers = {
            "Authorization": f"Bearer {endpoint.key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"claude-proxy/{__version__}",
        }
        seconds = self._settings.request_timeout
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            return await self._session().post(
                endpoint.url, data=data, headers=headers, timeout=timeout
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.transport_error(exc) from exc

    async def _read_error(self, response: aiohttp.ClientResponse) -> bytes:
        """At most `MAX_ERROR_BYTES` of an error body; the connection is closed after it."""
        body = b""
        try:
            while len(body) < MAX_ERROR_BYTES:
                piece = await response.content.read(MAX_ERROR_BYTES - len(body))
                if not piece:
                    break
                body += piece
        except (aiohttp.ClientError, TimeoutError):
            pass  # what arrived is the message
        finally:
            response.close()
        return body

    def _refusal(
        self, response: aiohttp.ClientResponse, body: bytes, facts: ModelFacts
    ) -> errors.ProxyError:
        error = error_for_status(
            response.status,
            body,
            response.headers,
            self.redact,
            max_input_tokens=facts.max_input_tokens,
        )
        logger.debug("upstream refused: %d %s", response.status, error.message[:500])
        return error

    def _chunk(self, data: str, response: aiohttp.ClientResponse) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise self.not_an_answer(response, data.encode(), "JSON events") from None
        if not isinstance(chunk, dict):
            raise self.not_an_answer(response, data.encode(), "JSON objects")
        if chunk.get("error"):
            raise error_in_body(chunk, self.redact, streamed=True)
        return normalized_chunk(chunk)

    def not_an_answer(
        self, response: aiohttp.ClientResponse, body: bytes, expected: str
    ) -> errors.IncompleteAnswerError:
        kind = response.headers.get("content-type", "no content type")
        text = self.redact(body.decode("utf-8", "replace").strip())[:SNIPPET_CHARS]
        return errors.IncompleteAnswerError(
            f"the upstream answered {response.status} ({kind}) but not with {expected}, so the"
            f" answer may be cut off: {text or '(empty body)'}"
        )

    def transport_error(self, exc: BaseException, *, mid_stream: bool = False) -> errors.ProxyError:
        if isinstance(exc, TimeoutError):
            seconds = self._settings.request_timeout
            return errors.UpstreamTimeoutError(
                f"upstream timed out: no answer within {seconds:g} s"
            )
        reason = self.redact(str(getattr(exc, "os_error", None) or exc) or type(exc).__name__)
        if mid_stream:
            return errors.ApiError(f"the upstream stream broke off: {reason}")
        return errors.ApiError(f"could not reach the upstream: {reason}")

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _session(self) -> aiohttp.ClientSession:
        if self._client is None:
            # Each stream holds one upstream connection, so the pool is as large as the client
            # side's cap (MAX_CONNECTIONS); aiohttp's default of 100 made the 101st concurrent
            # stream wait for another to end. trust_env: HTTPS_PROXY applies here as it does
            # to the other providers' clients.
            connector = aiohttp.TCPConnector(limit=self._settings.max_connections)
            self._client = aiohttp.ClientSession(connector=connector, trust_env=True)
        return self._client
