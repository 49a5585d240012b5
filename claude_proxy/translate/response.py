"""OpenAI chat-completions response -> Anthropic message (the `stream: false` path).

The stop-reason helpers here are shared with `stream.py`, so both paths report the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from claude_proxy.errors import IncompleteAnswerError
from claude_proxy.translate.ids import new_message_id, new_tool_use_id
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import thinking_blocks
from claude_proxy.translate.tool_args import parse_tool_arguments
from claude_proxy.translate.usage import to_anthropic_usage

_FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
# Where upstreams say which stop sequence ended the text: vLLM `stop_reason`, SGLang
# `matched_stop`, either on the choice or moved by LiteLLM into `provider_specific_fields`.
_MATCHED_STOP_KEYS = ("matched_stop", "stop_reason")


def to_anthropic_message(
    response: dict[str, Any],
    *,
    requested_model: str,
    stop_sequences: list[str] | None = None,
    target: Target | None = None,
) -> dict[str, Any]:
    """The Anthropic message for an OpenAI response; `target` (the model that answered) goes
    into the signatures of thinking blocks, so they can be replayed to it."""
    choice = first_choice(response.get("choices"))
    if not choice:
        raise IncompleteAnswerError("the upstream answered without a message (no choices)")
    message = choice.get("message")
    if not isinstance(message, dict):
        raise IncompleteAnswerError(
            f"the upstream answered without a message (message: {json.dumps(message)[:40]})"
        )
    text = text_of(message.get("content"))
    tool_uses = [
        to_tool_use_block(call)
        for call in message.get("tool_calls") or []
        if isinstance(call, dict)
    ]
    finish_reason = choice.get("finish_reason")
    matched = None
    if stop_sequences:
        text, matched = cut_at_stop(text, stop_sequences)
        if matched is not None:
            # The upstream ran past the sequence (it ignored `stop`): Anthropic would have
            # stopped there, before any tool call after it.
            finish_reason, tool_uses = "stop", []
        elif finish_reason == "stop":
            sources = (
                choice,
                choice.get("provider_specific_fields"),
                message.get("provider_specific_fields"),
            )
            matched = find_matched_stop(stop_sequences, sources)
    stop_reason, stop_sequence = to_stop_reason(
        finish_reason, has_tool_use=bool(tool_uses), matched_stop=matched
    )
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    return {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": requested_model,
        "content": [*thinking_blocks(message, target), *content, *tool_uses],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": to_anthropic_usage(response.get("usage")),
    }


def first_choice(choices: Any) -> dict[str, Any]:
    """The choice with index 0 (the proxy asks for n=1), or {} when there is none."""
    for choice in choices or []:
        if isinstance(choice, dict) and (choice.get("index") or 0) == 0:
            return choice
    return {}


def text_of(content: Any) -> str:
    """Message or delta content as text; some providers send a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text") or ""
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def to_tool_use_block(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    name = function.get("name") or ""
    return {
        "type": "tool_use",
        "id": tool_use_id(call.get("id")),
        "name": name,
        "input": parse_tool_arguments(function.get("arguments"), tool_name=name),
    }


def tool_use_id(upstream_id: Any) -> str:
    """The upstream id verbatim (Gemini hides its thought signature in it), else a new one."""
    if isinstance(upstream_id, str) and upstream_id:
        return upstream_id
    return new_tool_use_id()


def to_stop_reason(
    finish_reason: Any, *, has_tool_use: bool, matched_stop: str | None = None
) -> tuple[str, str | None]:
    """Anthropic `(stop_reason, stop_sequence)` for an OpenAI `finish_reason`.

    Upstreams sometimes end a tool call with "stop", and clients run tools only on
    `tool_use`, so emitted tool blocks decide it; only a cut-off answer stays `max_tokens`.
    """
    stop_reason = _FINISH_TO_STOP.get(finish_reason, "end_turn")
    if stop_reason == "max_tokens":
        return stop_reason, None
    if has_tool_use:
        return "tool_use", None
    if stop_reason == "tool_use":
        # The upstream announced tool calls but sent none: there is nothing for the client to run.
        return "end_turn", None
    if finish_reason == "stop" and matched_stop:
        return "stop_sequence", matched_stop
    return stop_reason, None


def find_matched_stop(stop_sequences: list[str], sources: Iterable[Any]) -> str | None:
    """The stop sequence an upstream reports as matched, if it is one the client asked for."""
    for source in sources:
        if not isinstance(source, dict):
            continue
        for key in _MATCHED_STOP_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value and value in stop_sequences:
                return value
    return None


def cut_at_stop(text: str, stop_sequences: list[str]) -> tuple[str, str | None]:
    """The text before the first stop sequence in it, and that sequence; `(text, None)` when
    none occurs. "First" is the one that would have ended generation first: the earliest end,
    and of two ending together the longer."""
    best: tuple[int, int, str] | None = None  # (end, -length, stop)
    for stop in stop_sequences:
        start = text.find(stop) if stop else -1
        if start >= 0:
            found = (start + len(stop), -len(stop), stop)
            best = found if best is None else min(best, found)
    if best is None:
        return text, None
    end, negative_length, stop = best
    return text[: end + negative_length], stop


def held_prefix(text: str, stop_sequences: list[str]) -> int:
    """How many characters at the end of `text` could still begin a stop sequence (the
    longest ending of `text` that is a proper beginning of one): a stream holds them back."""
    longest = 0
    for stop in stop_sequences:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest
