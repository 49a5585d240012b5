"""Which Claude Code session a request belongs to, from `metadata.user_id`.

Claude Code 2.1 sends `user_id` as a JSON string (`{"device_id": ..., "account_uuid": ...,
"session_id": "<uuid>"}`); older versions sent `user_<hash>_account_<uuid>_session_<uuid>`.
Other clients send what they like, or nothing: then there is no session.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

MAX_USER_ID = 4096
"""Longer `user_id` values are not Claude Code's and are not parsed."""
OLD_FORM = re.compile(r"_session_([0-9a-fA-F-]{8,64})$")
MAX_CACHE_KEY = 64


def session_id(body: dict[str, Any]) -> str | None:
    metadata = body.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID:
        return None
    if user_id.startswith("{"):
        try:
            fields = json.loads(user_id)
        except ValueError:
            return None
        session = fields.get("session_id") if isinstance(fields, dict) else None
        return session if isinstance(session, str) and session else None
    match = OLD_FORM.search(user_id)
    return match.group(1) if match else None


def prompt_cache_key(body: dict[str, Any]) -> str | None:
    """OpenAI's `prompt_cache_key` for the request: one per Claude Code session, so every turn
    of a conversation is routed to the cache that holds its prefix."""
    session = session_id(body)
    if session is None:
        return None
    key = f"claude-code-{session}"
    if len(key) <= MAX_CACHE_KEY:
        return key
    return f"claude-code-{hashlib.sha256(session.encode()).hexdigest()[:32]}"
