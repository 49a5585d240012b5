"""Server-sent-event framing: `event: <name>`, one line of compact JSON, a blank line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def encode_event(name: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    try:
        return f"event: {name}\ndata: {payload}\n\n".encode()
    except UnicodeEncodeError:
        # A lone surrogate (upstream JSON may carry "\ud83d" alone) cannot be UTF-8 encoded;
        # as an ASCII escape it is still valid JSON for every client.
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
        return f"event: {name}\ndata: {payload}\n\n".encode()


def encode_events(events: Iterable[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(encode_event(name, data) for name, data in events)
