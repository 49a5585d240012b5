"""Upstream answers shaped as the LiteLLM path hands them to the translator.

The translator was written against LiteLLM's `model_dump()` of responses and chunks. Most of
what LiteLLM adds is None-valued fields the translator reads as absent, so the upstream's
dicts go through as they are, except where LiteLLM changes what the translator sees:

- `finish_reason` is normalized (`tool_use` -> `tool_calls`, `max_tokens` -> `length`, ...;
  unknown values, Together's `eos` among them, -> `stop`), streamed or not.
- `reasoning` (vLLM, Ollama, OpenRouter spell it so) becomes `reasoning_content`.
- Not streamed: `<think>...</think>` leading the content becomes `reasoning_content` when
  the message has no reasoning field (DeepSeek-R1 style servers), and choices are numbered
  by position.

Two things LiteLLM does are deliberately not done. When an upstream reports no usage, LiteLLM
counts tokens itself on every stream; here usage stays absent (counting is the CPU this path
removes, and OpenAI, Together, vLLM and Ollama report usage when asked). And a streamed
choice keeps fields LiteLLM drops (vLLM's `stop_reason`, list-of-parts `content`), so the
translator sees the matched stop sequence and the text LiteLLM loses.
"""

from __future__ import annotations

import re
from typing import Any

# LiteLLM's finish-reason map, the entries that do not mean "stop" (core_helpers.py).
FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "function_call",
    "content_filter": "content_filter",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "compaction": "length",
    "tool_use": "tool_calls",
    **dict.fromkeys(
        (
            "refusal",
            "content_filtered",
            "sensitive",
            "guardrail_intervened",
            "ERROR_TOXIC",
            "SAFETY",
            "RECITATION",
            "LANGUAGE",
            "OTHER",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "NO_IMAGE",
            "IMAGE_RECITATION",
            "IMAGE_OTHER",
            "ESCALATION",
        ),
        "content_filter",
    ),
}
_THINK = re.compile(
    r"<(?:think|thinking|budget:thinking)>(.*?)</(?:think|thinking|budget:thinking)>(.*)", re.DOTALL
)


def finish_reason_of(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    return FINISH_REASONS.get(value, "stop")


def normalized_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices:
        return chunk
    return {**chunk, "choices": [normalized_stream_choice(choice) for choice in choices]}


def normalized_stream_choice(choice: Any) -> Any:
    if not isinstance(choice, dict):
        return choice
    fixed = dict(choice)
    if "finish_reason" in fixed:
        fixed["finish_reason"] = finish_reason_of(fixed["finish_reason"])
    delta = fixed.get("delta")
    if isinstance(delta, dict) and "reasoning" in delta:
        delta = dict(delta)
        delta["reasoning_content"] = delta.pop("reasoning")
        fixed["delta"] = delta
    return fixed


def normalized_completion(data: dict[str, Any]) -> dict[str, Any]:
    choices = [
        normalized_choice(choice, position)
        for position, choice in enumerate(data.get("choices") or [])
        if isinstance(choice, dict)
    ]
    return {**data, "choices": choices}


def normalized_choice(choice: dict[str, Any], position: int) -> dict[str, Any]:
    fixed = {**choice, "index": position}
    fixed["finish_reason"] = finish_reason_of(choice.get("finish_reason"))
    message = choice.get("message")
    if isinstance(message, dict):
        fixed["message"] = with_reasoning_content(message)
    return fixed


def with_reasoning_content(message: dict[str, Any]) -> dict[str, Any]:
    if "reasoning_content" in message:
        return message
    if "reasoning" in message:
        fixed = {k: v for k, v in message.items() if k != "reasoning"}
        return {**fixed, "reasoning_content": message["reasoning"]}
    content = message.get("content")
    match = _THINK.match(content) if isinstance(content, str) else None
    if match is None:
        return message
    return {**message, "reasoning_content": match.group(1), "content": match.group(2)}
