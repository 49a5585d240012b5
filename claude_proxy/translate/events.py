"""Constructors of the Anthropic SSE events a stream is made of, as `(name, data)` pairs."""

from __future__ import annotations

from typing import Any

Event = tuple[str, dict[str, Any]]


def block_delta(index: int, delta: dict[str, Any]) -> Event:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def text_delta(index: int, text: str) -> Event:
    return block_delta(index, {"type": "text_delta", "text": text})


def thinking_delta(index: int, thinking: str) -> Event:
    return block_delta(index, {"type": "thinking_delta", "thinking": thinking})


def signature_delta(index: int, signature: str) -> Event:
    return block_delta(index, {"type": "signature_delta", "signature": signature})


def json_delta(index: int, partial_json: str) -> Event:
    return block_delta(index, {"type": "input_json_delta", "partial_json": partial_json})


def block_stop(index: int) -> Event:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def add_delta(block: dict[str, Any], delta: dict[str, Any], partial_json: list[str]) -> None:
    """Apply one `content_block_delta` to the block it belongs to; a tool's JSON fragments
    go to `partial_json`, to be parsed once the block stops."""
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta["text"]
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta["thinking"]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    elif kind == "input_json_delta":
        partial_json.append(delta["partial_json"])
    elif kind == "citations_delta":
        block["citations"] = [*(block.get("citations") or []), delta["citation"]]
