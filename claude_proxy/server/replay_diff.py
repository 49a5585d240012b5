"""What differs between a recorded exchange and its replay, as readable unified diffs.

Both sides are turned into the same text view first: the status and the headers that mean
something (not the date, the length, the request id), then the JSON body pretty-printed or
one line per SSE event (pings left out: they mark time, not content). Ids minted per run
(`msg_`, `toolu_`, `req_`, generated `call_` ids) become `msg_1`, `toolu_1`, ... numbered by
first appearance, so they never count as a difference while two blocks that share an id, or
stop sharing one, still do.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

VOLATILE_HEADERS = frozenset(
    {
        "date",
        "server",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "request-id",
        "vary",
    }
)
_ID = re.compile(r"\b(msg|toolu|srvtoolu|req|call)_[A-Za-z0-9_-]{8,}")


@dataclass(frozen=True)
class Difference:
    part: str
    """Which part differs: `client response`, `upstream request 1`, ..."""
    diff: str
    """A unified diff, recorded (-) against replayed (+)."""


class _Ids:
    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def __call__(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if found not in self.seen:
            kind = match.group(1)
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.seen[found] = f"{kind}_{self.counts[kind]}"
        return self.seen[found]


def normalise(value: Any, ids: _Ids | None = None) -> Any:
    """`value` with per-run ids numbered by first appearance (keys walked in sorted order)."""
    ids = ids or _Ids()
    if isinstance(value, str):
        return _ID.sub(ids, value)
    if isinstance(value, list):
        return [normalise(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: normalise(value[key], ids) for key in sorted(value)}
    return value


def response_view(record: dict[str, Any]) -> list[str]:
    """A client answer (`recorder.response_record`) as lines to compare."""
    record = normalise(record)
    lines = [f"status {record.get('status')}"]
    for name, value in sorted((k.lower(), v) for k, v in (record.get("headers") or {}).items()):
        if name not in VOLATILE_HEADERS and not name.startswith("access-control-"):
            lines.append(f"{name}: {value}")
    lines.append("")
    if "events" in record:
        for event in record["events"]:
            if event.get("event") == "ping":
                continue
            lines.append(f"event: {event.get('event')}")
            lines.append(
                "data: " + json.dumps(event.get("data"), ensure_ascii=False, sort_keys=True)
            )
    else:
        lines += _pretty(record.get("body", record.get("body_text", record.get("body_base64"))))
    return lines


def call_view(call: dict[str, Any] | None) -> list[str]:
    """An upstream call's request as lines to compare; the answers are the recording's own."""
    if call is None:
        return ["(no call)"]
    return [str(call.get("kind")), *_pretty(normalise(call.get("request")))]


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True).splitlines()


def unified(part: str, recorded: list[str], replayed: list[str]) -> Difference | None:
    if recorded == replayed:
        return None
    lines = difflib.unified_diff(recorded, replayed, "recorded", "replayed", n=2, lineterm="")
    return Difference(part, "\n".join(lines))


def differences(
    recorded: dict[str, Any], calls: list[dict[str, Any]], response: dict[str, Any]
) -> list[Difference]:
    """Every part of an exchange where the replay (`calls` the current code made, the
    `response` its client got) differs from the recording."""
    found = []
    recorded_calls = recorded.get("upstream") or []
    for index in range(max(len(recorded_calls), len(calls))):
        was = recorded_calls[index] if index < len(recorded_calls) else None
        now = calls[index] if index < len(calls) else None
        found.append(unified(f"upstream request {index + 1}", call_view(was), call_view(now)))
    found.append(
        unified(
            "client response", response_view(recorded["client_response"]), response_view(response)
        )
    )
    return [difference for difference in found if difference is not None]
