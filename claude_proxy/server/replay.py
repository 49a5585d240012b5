"""`claude-proxy replay DIR`: a recording's client side through the current code, its upstream
side from the recording, and what differs (replay_diff.py).

One app of the current code (`create_app`) on a loopback port serves the whole replay, the
exchanges in recorded order, so fallback cooldowns carry over as they did. Its upstream is a
`ReplayUpstream` (no network); its settings are exactly the manifest's, never this machine's
environment, `.env` or config file; and Anthropic's base URL is a closed loopback port, so not
even a passthrough the current mapping might choose leaves the machine.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from claude_proxy.errors import CommandError
from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.server.recorder import MANIFEST, response_record
from claude_proxy.server.replay_diff import Difference, differences
from claude_proxy.settings import Settings
from claude_proxy.upstream.engines import Engines
from claude_proxy.upstream.recording import Call
from claude_proxy.upstream.replaying import ReplayUpstream

NOWHERE = "http://127.0.0.1:9"
"""The discard port: connections are refused, nothing is sent anywhere."""
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "expect",
    }
)
REQUEST_BOUND = 120.0
"""Seconds one replayed request may take; answers come from memory, so this only guards."""


class RecordedSettings(Settings):
    """The values given and the defaults, nothing read from the environment or files."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass
class Recording:
    directory: Path
    manifest: dict[str, Any]
    exchanges: list[tuple[str, dict[str, Any]]]

    def settings(self) -> Settings:
        values = dict(self.manifest.get("settings") or {})
        try:
            return RecordedSettings(**values, anthropic_api_base=NOWHERE)
        except ValidationError as exc:
            raise CommandError(
                f"{self.directory / MANIFEST} holds settings this version refuses: "
                + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
                "Record it again with this version (`claude-proxy serve --record DIR`).",
                exit_code=2,
            ) from None


@dataclass
class Outcome:
    name: str
    status: Literal["same", "differs", "skipped"]
    reason: str = ""
    differences: list[Difference] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "differences": [{"part": d.part, "diff": d.diff} for d in self.differences],
        }


def load_recording(directory: Path) -> Recording:
    """The manifest and the exchanges of a `serve --record` directory, in recorded order."""
    manifest = _read_json(directory / MANIFEST, "its manifest")
    exchanges = [
        (path.stem, _read_json(path, "an exchange"))
        for path in sorted(directory.glob("[0-9]*-*.json"))
    ]
    return Recording(directory, manifest, exchanges)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    hint = "Give the directory `claude-proxy serve --record DIR` wrote (it holds manifest.json)."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(
            f"{path.parent} is not a recording: no {path.name}", hint, exit_code=2
        ) from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read {what} {path}: {exc}", hint, exit_code=2) from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} is not {what} of a recording", hint, exit_code=2)
    return data


def why_not_replayed(exchange: dict[str, Any]) -> str | None:
    model = exchange.get("model") or {}
    calls = exchange.get("upstream") or []
    if model.get("provider") == "anthropic" and not calls:
        return "relayed to Anthropic untranslated: nothing of the proxy's to replay"
    if exchange["client_response"].get("cut_off") or any(c.get("cut_off") for c in calls):
        return (
            "cut off while recording (the client left, or a timeout): its timing cannot be replayed"
        )
    return None


async def replay_recording(recording: Recording) -> list[Outcome]:
    settings = recording.settings()
    upstream = ReplayUpstream(Engines(settings))
    outcomes = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_BOUND)
    async with (
        serving_on_loopback(create_app(settings, upstream=upstream)) as url,
        aiohttp.ClientSession(timeout=timeout) as session,
    ):
        for name, exchange in recording.exchanges:
            reason = why_not_replayed(exchange)
            if reason is not None:
                outcomes.append(Outcome(name, "skipped", reason))
                continue
            upstream.load([Call.from_json(call) for call in exchange.get("upstream") or []])
            response = await send(session, url, exchange["client_request"])
            asked = [call.to_json() for call in upstream.asked]
            found = differences(exchange, asked, response)
            outcomes.append(Outcome(name, "differs" if found else "same", differences=found))
    return outcomes


async def send(session: aiohttp.ClientSession, url: str, request: dict[str, Any]) -> dict[str, Any]:
    """The recorded client request, sent again; the answer as a recording holds one."""
    if "body" in request:
        data = json.dumps(request["body"], ensure_ascii=False).encode()
    elif "body_text" in request:
        data = str(request["body_text"]).encode()
    else:
        data = base64.b64decode(request.get("body_base64", ""))
    headers = {
        name: value
        for name, value in (request.get("headers") or {}).items()
        if name.lower() not in HOP_HEADERS
    }
    target = url + request["path"] + (f"?{request['query']}" if request.get("query") else "")
    async with session.request(
        request.get("method", "POST"), target, data=data, headers=headers
    ) as response:
        return response_record(response.status, response.headers, await response.read())
