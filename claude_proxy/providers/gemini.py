"""Gemini quirks (`gemini/` models): tool schemas, tool-result turns, thought signatures.

Request (`prepare_request`):
- Every tool's `parameters` goes through `sanitize_schema`, because Gemini refuses JSON Schema
  keys outside its `Schema` with a 400 (gemini_schema.py).
- A `response_format` JSON schema (structured outputs) goes through `sanitize_schema` too,
  then `nullable` back to JSON Schema's `type: [T, "null"]`: LiteLLM sends it to Gemini 2+ as
  `responseJsonSchema`, which is JSON Schema, not the `Schema` object.
- `user` goes: Gemini has no such field.
- A user message right after tool results is folded into the last tool result. LiteLLM would
  make it a second user turn after the function-response turn, and Gemini wants turns to
  alternate and a function-response turn to hold function responses only. Its images travel
  as the function response's own parts.
- Tool-call ids go back to LiteLLM's form (below), so the signature reaches Gemini again.

Responses (`fix_response`, `filter_stream`): LiteLLM hides a function call's thought signature
in its id, `call_<hex>__thought__<standard base64>`, and reads it back from there on the next
turn (Gemini 3 refuses a function call replayed without it). Standard base64 has `+`, `/` and
`=`, which Anthropic's tool-use ids (`^[a-zA-Z0-9_-]+$`) do not allow, so the client sees
`call_<hex>__sig__<base64url>`: the same bytes, an id any Anthropic endpoint accepts.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from claude_proxy.providers.base import ChunkFilter, Quirks
from claude_proxy.providers.gemini_schema import sanitize_schema
from claude_proxy.translate.content import TEXT_SEPARATOR

LITELLM_SEPARATOR = "__thought__"
CLIENT_SEPARATOR = "__sig__"
DROPPED_FIELDS = ("user",)


def to_client_id(upstream_id: Any) -> Any:
    """LiteLLM's tool-call id as the client sees it: the signature in base64url, unpadded."""
    if not isinstance(upstream_id, str) or LITELLM_SEPARATOR not in upstream_id:
        return upstream_id
    prefix, _, signature = upstream_id.partition(LITELLM_SEPARATOR)
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return upstream_id
    if base64.b64encode(raw).decode() != signature:
        return upstream_id  # not canonical base64: only the verbatim id restores it exactly
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{prefix}{CLIENT_SEPARATOR}{encoded}"


def to_upstream_id(client_id: Any) -> Any:
    """The id LiteLLM made, back from the client's form (other ids are returned unchanged)."""
    if not isinstance(client_id, str) or CLIENT_SEPARATOR not in client_id:
        return client_id
    prefix, _, encoded = client_id.partition(CLIENT_SEPARATOR)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return client_id
    return f"{prefix}{LITELLM_SEPARATOR}{base64.b64encode(raw).decode()}"


def with_client_ids(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of a response (`key` "message") or chunk (`key` "delta") with client tool ids."""
    choices = data.get("choices")
    if not isinstance(choices, list):
        return data
    fixed = []
    for choice in choices:
        inner = choice.get(key) if isinstance(choice, dict) else None
        if not isinstance(inner, dict) or not isinstance(inner.get("tool_calls"), list):
            fixed.append(choice)
            continue
        calls = inner["tool_calls"]
        calls = [
            {**call, "id": to_client_id(call.get("id"))}
            if isinstance(call, dict) and call.get("id")
            else call
            for call in calls
        ]
        fixed.append({**choice, key: {**inner, "tool_calls": calls}})
    return {**data, "choices": fixed}


def with_upstream_ids(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of a history message with its tool-call ids back in LiteLLM's form."""
    if message.get("role") == "tool":
        return {**message, "tool_call_id": to_upstream_id(message.get("tool_call_id"))}
    calls = message.get("tool_calls")
    if message.get("role") != "assistant" or not isinstance(calls, list):
        return message
    return {**message, "tool_calls": [{**c, "id": to_upstream_id(c.get("id"))} for c in calls]}


def fold_into_tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with each user message that follows tool results moved into the last one.

    System messages in between do not count: LiteLLM lifts them all into Gemini's
    `system_instruction`.
    """
    out: list[dict[str, Any]] = []
    last: int | None = None  # where the last message that is not a system one is in `out`
    for message in messages:
        if message.get("role") == "user" and last is not None and out[last]["role"] == "tool":
            out[last] = with_user_content(out[last], message.get("content"))
            continue
        out.append(message)
        if message.get("role") != "system":
            last = len(out) - 1
    return out


def with_user_content(tool_message: dict[str, Any], content: Any) -> dict[str, Any]:
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    texts = [tool_text(tool_message.get("content"))]
    texts += [p["text"] for p in parts if p.get("type") == "text" and p.get("text")]
    others = [p for p in parts if p.get("type") != "text"]
    text = TEXT_SEPARATOR.join(t for t in texts if t)
    if not others:
        return {**tool_message, "content": text}
    return {**tool_message, "content": [{"type": "text", "text": text}, *others]}


def tool_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return TEXT_SEPARATOR.join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def with_sanitized_parameters(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, dict) or "parameters" not in function:
        return tool
    return {**tool, "function": {**function, "parameters": sanitize_schema(function["parameters"])}}


def with_sanitized_response_format(response_format: Any) -> Any:
    json_schema = response_format.get("json_schema") if isinstance(response_format, dict) else None
    if not isinstance(json_schema, dict) or not isinstance(json_schema.get("schema"), dict):
        return response_format
    schema = with_null_types(sanitize_schema(json_schema["schema"]))
    return {**response_format, "json_schema": {**json_schema, "schema": schema}}


def with_null_types(node: Any) -> Any:
    """A sanitized schema with each `nullable: true` as JSON Schema says it: "null" among the
    types, or a null branch of an anyOf."""
    if isinstance(node, list):
        return [with_null_types(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: with_null_types(value) for key, value in node.items() if key != "nullable"}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {k: with_null_types(v) for k, v in node["properties"].items()}
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif isinstance(out.get("anyOf"), list):
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    return out


class ClientToolIds:
    """Gives each streamed tool call its client id; LiteLLM sends Gemini's calls whole, id
    included, so every chunk converts on its own."""

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return [with_client_ids(chunk, "delta")]

    def finish(self) -> list[dict[str, Any]]:
        return []


class GeminiQuirks(Quirks):
    def prepare_request(self, request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        prepared = {k: v for k, v in request.items() if k not in DROPPED_FIELDS}
        if isinstance(request.get("tools"), list):
            prepared["tools"] = [with_sanitized_parameters(tool) for tool in request["tools"]]
        if "response_format" in request:
            prepared["response_format"] = with_sanitized_response_format(request["response_format"])
        messages = [with_upstream_ids(message) for message in request.get("messages", [])]
        prepared["messages"] = fold_into_tool_results(messages)
        return prepared

    def fix_response(self, response: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        return with_client_ids(response, "message")

    def filter_stream(self, body: dict[str, Any]) -> ChunkFilter | None:
        return ClientToolIds()
