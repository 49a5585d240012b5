"""Message threads (beta `message-threads-2026-08-12`), the pure part: the `thread` field,
the whole request a `continue` stands for, and what is kept for the next turn.

A thread's first turn sends `thread: {type: create}` with everything; the reply's `id` names
the conversation from then on. A later turn sends `thread: {type: continue,
previous_message_id}` with only the new messages and without `system` and `tools`, which
the thread keeps. Every other field (model, max_tokens, tool_choice, thinking, ...) is the
turn's own: the SDKs send them on every turn. The upstreams have no threads, so each turn
goes upstream whole, rebuilt from what was kept (`server/thread_store.py` keeps it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.events import Event, add_delta

THREADS_BETA = "message-threads-2026-08-12"
KEPT_FIELDS = ("system", "tools")
"""What a thread keeps from its first turn; a `continue` may not send them again."""


@dataclass(frozen=True)
class Thread:
    """A request's `thread` field."""

    type: Literal["create", "continue"]
    previous_message_id: str | None = None


def read_thread(body: dict[str, Any]) -> Thread | None:
    """The body's `thread` field, checked; None when it has none (or `null`)."""
    value = body.get("thread")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequestError("thread: expected an object")
    kind = value.get("type")
    if kind == "create":
        return Thread("create")
    if kind != "continue":
        raise InvalidRequestError('thread.type: expected "create" or "continue"')
    previous = value.get("previous_message_id")
    if not isinstance(previous, str) or not previous:
        raise InvalidRequestError(
            "thread.previous_message_id: a continue needs the id of the reply it follows"
        )
    return Thread("continue", previous)


def without_thread(body: dict[str, Any]) -> dict[str, Any]:
    """The body as an unthreaded request: what the translation and the upstream see."""
    return {key: value for key, value in body.items() if key != "thread"}


def continued_request(body: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    """The whole request a `continue` stands for: the thread's system, tools and history,
    then this turn's messages, with this turn's other fields."""
    repeated = [field for field in KEPT_FIELDS if field in body]
    if repeated:
        names = " and ".join(f"`{field}`" for field in repeated)
        raise InvalidRequestError(
            f"{names}: a thread keeps the ones it was created with; send a continue without "
            'them, or start a new thread (`thread: {"type": "create"}`) to change them'
        )
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequestError("messages: expected an array of messages")
    whole = without_thread(body)
    whole["messages"] = [*kept["messages"], *messages]
    for field in KEPT_FIELDS:
        if field in kept:
            whole[field] = kept[field]
    return whole


def kept_conversation(request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """What the thread keeps after `reply` answered the whole `request`: its system, tools
    and history, the reply last."""
    kept: dict[str, Any] = {field: request[field] for field in KEPT_FIELDS if field in request}
    answer = {"role": "assistant", "content": reply["content"]}
    kept["messages"] = [*request.get("messages", []), answer]
    return kept


def streamed_message(message_id: str, events: list[Event]) -> dict[str, Any] | None:
    """The message (`id`, `content`, `stop_reason`) of the events a stream sent after its
    `message_start`, or None unless they end with `message_stop` and carry no `error`."""
    message: dict[str, Any] = {"id": message_id, "content": []}
    blocks: dict[int, dict[str, Any]] = {}
    partial_json: dict[int, list[str]] = {}
    stopped = False
    for name, data in events:
        if name == "content_block_start":
            blocks[data["index"]] = dict(data["content_block"])
        elif name == "content_block_delta":
            add_delta(
                blocks[data["index"]], data["delta"], partial_json.setdefault(data["index"], [])
            )
        elif name == "message_delta":
            message["stop_reason"] = data.get("delta", {}).get("stop_reason")
        elif name == "message_stop":
            stopped = True
        elif name == "error":
            return None
    if not stopped:
        return None
    for index, block in sorted(blocks.items()):
        if block.get("type") == "tool_use" and partial_json.get(index):
            block["input"] = json.loads("".join(partial_json[index]))
        message["content"].append(block)
    return message
