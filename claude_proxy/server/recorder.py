"""`serve --record DIR`: every exchange of the Messages API written down, for a bug report.

    DIR/manifest.json         the proxy's version and the settings that shape a translation
    DIR/0001-messages.json    one exchange: what the client sent (headers minus credentials),
    DIR/0002-count_tokens.json  the upstream calls (upstream/recording.py), what the client got
                                (status, headers, the JSON body or the SSE events)

The middleware sits outside the error middleware, so it sees the answer the client got, error
JSON included. Requests whose body was never read (refused by the access checks, too large)
are not exchanges and are not written. Keys and tokens are removed from every string of a
file: the settings' secrets, and the credentials the client sent, whose headers are dropped.
Files are readable by their owner only: they hold prompts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from claude_proxy import __version__
from claude_proxy.server.keys import LOG, SETTINGS
from claude_proxy.settings import Settings
from claude_proxy.upstream.recording import CALLS, Call, redact_all
from claude_proxy.upstream.sse_reader import SseReader

logger = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
RECORDED_PATHS = {"/v1/messages": "messages", "/v1/messages/count_tokens": "count_tokens"}
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "x-api-key", "proxy-authorization", "cookie", "anthropic-admin-api-key"}
)
MIN_CREDENTIAL = 16
TRANSLATION_SETTINGS = (
    "preferred_provider",
    "big_model",
    "small_model",
    "together_model",
    "opus_model",
    "sonnet_model",
    "haiku_model",
    "upstream_engine",
    "process_newlines",
    "preserve_openai_newlines",
    "fallback_models",
    "allowed_origins",
)
"""What decides how a request is mapped and translated: the manifest holds these, and replay
runs with exactly them (none is secret)."""

WRITTEN = web.RequestKey("recorded_writes", bytearray)
"""What a streamed answer wrote, for the exchange being recorded."""


def manifest(settings: Settings) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "proxy_version": __version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "settings": {
            **{name: getattr(settings, name) for name in TRANSLATION_SETTINGS},
            # resolved: a replay has no OPENAI_API_BASE to decide it from
            "openai_prompt_cache_key": settings.sends_prompt_cache_key(),
        },
        "api_bases_set": sorted(
            name
            for name, field in type(settings).model_fields.items()
            if name.endswith("_api_base") and getattr(settings, name) != field.default
        ),
    }


class Recorder:
    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory.expanduser()
        self.settings = settings
        self._next = 1
        self._credentials: set[str] = set()
        """Every client credential seen: removed from every later exchange as well."""

    def start(self) -> None:
        """Create the directory and write the manifest (a worker rewrites the same one)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps(manifest(self.settings), indent=2)
        temporary = self.directory / f".{MANIFEST}.{os.getpid()}"
        write_private(temporary, text)
        temporary.replace(self.directory / MANIFEST)

    def save(self, exchange: dict[str, Any], credentials: list[str]) -> Path:
        """Write one exchange under the next free number; several workers may share DIR."""
        self._credentials.update(credentials)
        secrets = sorted(
            {*self.settings.secret_values(), *self._credentials}, key=len, reverse=True
        )
        text = json.dumps(redact_all(exchange, secrets), indent=2, ensure_ascii=False)
        while True:
            path = self.directory / f"{self._next:04d}-{exchange['endpoint']}.json"
            self._next += 1
            try:
                write_private(path, text, exclusive=True)
            except FileExistsError:
                continue
            return path


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8") as file:
        file.write(text)


def record_to(app: web.Application, directory: Path) -> None:
    """Record every exchange of `app` to `directory`; the upstream is wrapped when it starts
    (`RecordingUpstream`, in app.py)."""
    recorder = Recorder(directory, app[SETTINGS])
    app.middlewares.insert(0, recording_middleware(recorder))
    app.on_response_prepare.append(tap_writes)

    async def start(app: web.Application) -> None:
        await asyncio.to_thread(recorder.start)

    app.on_startup.append(start)


def recording_middleware(recorder: Recorder) -> Any:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        endpoint = RECORDED_PATHS.get(request.path)
        if endpoint is None or request.method != "POST":
            return await handler(request)
        calls: list[Call] = []
        token = CALLS.set(calls)
        request[WRITTEN] = bytearray()
        response: web.StreamResponse | None = None
        try:
            response = await handler(request)
        finally:
            CALLS.reset(token)
            if request.content.at_eof():  # the body was read: an exchange took place
                await save(recorder, request, endpoint, calls, response)
        return response

    return record


async def save(
    recorder: Recorder,
    request: web.Request,
    endpoint: str,
    calls: list[Call],
    response: web.StreamResponse | None,
) -> None:
    """Write the exchange; a recording that fails (a full disk) costs the client nothing."""
    try:
        exchange = await exchange_of(request, endpoint, calls, response)
        credentials = credentials_in(request.headers)
        if response is None:  # cancelled: the client left; write it before going
            recorder.save(exchange, credentials)
        else:
            await asyncio.to_thread(recorder.save, exchange, credentials)
    except Exception as exc:
        logger.warning("could not record %s %s: %s", request.method, request.path, exc)


async def tap_writes(request: web.Request, response: web.StreamResponse) -> None:
    """On prepare: a streamed answer's bytes are kept as they are written."""
    written = request.get(WRITTEN)
    if written is None or isinstance(response, web.Response):
        return
    write = response.write

    async def keep(data: bytes | bytearray | memoryview) -> None:
        await write(data)
        written.extend(data)

    response.write = keep  # type: ignore[method-assign]


async def exchange_of(
    request: web.Request, endpoint: str, calls: list[Call], response: web.StreamResponse | None
) -> dict[str, Any]:
    log = request.get(LOG)
    choice = log.choice if log is not None else None
    if response is None:
        answer: dict[str, Any] = {"cut_off": True, **events_record(bytes(request[WRITTEN]))}
    elif isinstance(response, web.Response):
        body = response.body if isinstance(response.body, bytes) else b""
        answer = response_record(response.status, response.headers, body)
    else:
        answer = response_record(response.status, response.headers, bytes(request[WRITTEN]))
    return {
        "format": FORMAT,
        "endpoint": endpoint,
        "request_id": log.request_id if log is not None else None,
        "model": None
        if choice is None
        else {"requested": choice.requested, "upstream": choice.model, "provider": choice.provider},
        "client_request": {
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "headers": {
                name: value
                for name, value in request.headers.items()
                if name.lower() not in CREDENTIAL_HEADERS
            },
            **body_record(await request.read()),
        },
        "upstream": [call.to_json() for call in calls],
        "client_response": answer,
    }


def credentials_in(headers: Any) -> list[str]:
    """The credentials a client sent, to be removed wherever else they occur: the values of
    the headers that are dropped, and the token alone after `Bearer`. Shorter ones are
    placeholders, not secrets (`run claude` sends `claude-proxy`): removing every "k" or
    "claude-proxy" from a prompt would garble it and protect nothing."""
    found = []
    for name, value in headers.items():
        if name.lower() in CREDENTIAL_HEADERS and value:
            scheme, _, token = value.partition(" ")
            found.append(token.strip() if scheme.lower() in ("bearer", "basic") else value)
    return [value for value in found if len(value) >= MIN_CREDENTIAL]


def response_record(status: int, headers: Any, body: bytes) -> dict[str, Any]:
    """An answer as a recording holds it: the SSE events of a stream, else the body."""
    record: dict[str, Any] = {"status": status, "headers": dict(headers.items())}
    if str(headers.get("Content-Type", "")).startswith("text/event-stream"):
        return {**record, **events_record(body)}
    return {**record, **body_record(body)}


def events_record(body: bytes) -> dict[str, Any]:
    reader = SseReader()
    events = []
    for event in reader.feed(body):
        try:
            data: Any = json.loads(event.data)
        except ValueError:
            data = event.data
        events.append({"event": event.event, "data": data})
    return {"events": events}


def body_record(body: bytes) -> dict[str, Any]:
    """JSON as JSON, so the file reads (and edits) easily; other text as text; bytes as base64."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode()}
    try:
        return {"body": json.loads(text, parse_constant=_refuse)}
    except ValueError:
        return {"body_text": text}


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")
