"""Which Claude Code session a request belongs to, from `metadata.user_id` (or its header).

Claude Code 2.1 sends `user_id` as a JSON string (`{"device_id": ..., "account_uuid": ...,
"session_id": "<uuid>"}`); 1.x and 2.0 sent `user_<hash>_account_<uuid>_session_<uuid>`; its
requests also carry the `x-claude-code-session-id` header. Any other user id is the client's
business: then there is no session. The usage ledger keeps the session of each row, and
OpenAI's `prompt_cache_key` is derived from it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

SESSION_HEADER = "x-claude-code-session-id"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
MAX_USER_ID = 2000
"""Longer `user_id` values are not Claude Code's and are not parsed."""
MAX_CACHE_KEY = 64


def session_id(value: Any) -> str | None:
    """`value` if it looks like a session id (a UUID, or any short token), else None."""
    return value if isinstance(value, str) and SESSION_ID.fullmatch(value) else None


def session_of_user_id(user_id: Any) -> str | None:
    """The session inside Claude Code's `metadata.user_id`, either form."""
    if not isinstance(user_id, str) or len(user_id) > MAX_USER_ID:
        return None
    if user_id.startswith("{"):
        try:
            parsed = json.loads(user_id)
        except ValueError:
            return None
        return session_id(parsed.get("session_id")) if isinstance(parsed, dict) else None
    _, marker, session = user_id.rpartition("_session_")
    return session_id(session) if marker else None


def session_of(body: dict[str, Any]) -> str | None:
    """The session of an Anthropic request body, from its `metadata.user_id`."""
    metadata = body.get("metadata")
    return session_of_user_id(metadata.get("user_id")) if isinstance(metadata, dict) else None


def prompt_cache_key(body: dict[str, Any]) -> str | None:
    """OpenAI's `prompt_cache_key` for the request: one per Claude Code session, so every turn
    of a conversation is routed to the cache that holds its prefix."""
    session = session_of(body)
    if session is None:
        return None
    key = f"claude-code-{session}"
    if len(key) <= MAX_CACHE_KEY:
        return key
    return f"claude-code-{hashlib.sha256(session.encode()).hexdigest()[:32]}"
