"""Reading Anthropic SSE off the wire."""

from __future__ import annotations

import json
from typing import Any


def event_names(sse: str) -> list[str]:
    return [line.removeprefix("event: ") for line in sse.splitlines() if line.startswith("event: ")]


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in raw.decode().split("\n\n"):
        if not frame.strip():
            continue
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events
