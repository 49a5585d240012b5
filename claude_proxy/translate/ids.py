"""Fresh Anthropic-style ids (`^[a-zA-Z0-9_-]+$`, as the real API's patterns require)."""

from __future__ import annotations

import secrets


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def new_tool_use_id() -> str:
    return "toolu_" + secrets.token_urlsafe(18)
