"""Together quirks: tool calls written as text become real ones; escaped newlines are unescaped.

Open models on Together often answer a tool call in their template's text syntax instead of
`tool_calls` (LiteLLM passes that through as content with finish_reason "stop"), and some
write the two characters backslash-n where they mean a newline. So:

- `fix_response` cuts the calls out of `message.content` (`text_tool_calls.py` finds them)
  and adds them as `message.tool_calls` with fresh `call_` ids, finish_reason "tool_calls".
- `filter_stream` does the same to chunks: content that may still become a call is held
  back, a finished call goes out as one `tool_calls` delta, and the final chunk's
  finish_reason becomes "tool_calls".
- With `process_newlines` (the default), backslash-n in text becomes a newline; an escaped
  backslash (`\\\\n`) is left alone, and tool inputs are never touched. Calls are cut out
  first, so a JSON `\\n` inside a call keeps its meaning.

When the upstream sends real `tool_calls`, text is left as text: the model is not writing
calls into it. `tool_choice: none` switches the parsing off.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from claude_proxy.providers.base import ChunkFilter, Quirks
from claude_proxy.providers.text_tool_calls import (
    TextToolCall,
    TextToolCallParser,
    parse_text_tool_calls,
)
from claude_proxy.translate.request import to_openai_tool
from claude_proxy.translate.response import first_choice

_ESCAPED = re.compile(r"\\\\|\\n")
# Chunk keys a synthesized chunk copies from the upstream chunk it stands in for.
_CHUNK_KEYS = ("id", "object", "created", "model", "system_fingerprint")


class TogetherQuirks(Quirks):
    def fix_response(self, response: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        tools = offered_tools(body)
        if tools:
            response = with_text_tool_calls(response, tools)
        if self.options.process_newlines:
            response = with_unescaped_content(response)
        return response

    def filter_stream(self, body: dict[str, Any]) -> ChunkFilter | None:
        filters: list[ChunkFilter] = []
        tools = offered_tools(body)
        if tools:
            filters.append(TextToolCallFilter(tools))
        if self.options.process_newlines:
            filters.append(NewlineFilter())
        if not filters:
            return None
        return filters[0] if len(filters) == 1 else FilterChain(filters)


def offered_tools(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Name -> parameter schema of each tool the upstream is offered (server tools are not)."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "none":
        return {}
    functions = [to_openai_tool(tool) for tool in body.get("tools") or [] if isinstance(tool, dict)]
    return {
        function["function"]["name"]: function["function"]["parameters"]
        for function in functions
        if function is not None
    }


def new_call_id() -> str:
    return "call_" + secrets.token_hex(12)


def to_openai_tool_call(call: TextToolCall) -> dict[str, Any]:
    return {
        "id": new_call_id(),
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


# --- non-stream ------------------------------------------------------------------------------


def with_text_tool_calls(
    response: dict[str, Any], tools: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The response with the calls written in `message.content` moved to `message.tool_calls`."""
    choice = first_choice(response.get("choices"))
    message = choice.get("message")
    if not isinstance(message, dict) or message.get("tool_calls"):
        return response
    content = message.get("content")
    if not isinstance(content, str) or not content:
        return response
    pieces = parse_text_tool_calls(content, tools)
    calls = [piece for piece in pieces if isinstance(piece, TextToolCall)]
    if not calls:
        return response
    # A message has one content string: text written after a call joins the text before it.
    text = "\n\n".join(piece for piece in pieces if isinstance(piece, str))
    fixed_message = {
        **message,
        "content": text or None,
        "tool_calls": [to_openai_tool_call(call) for call in calls],
    }
    fixed = {**choice, "message": fixed_message}
    if choice.get("finish_reason") in (None, "stop"):
        fixed["finish_reason"] = "tool_calls"
    return {**response, "choices": [fixed if c is choice else c for c in response["choices"]]}


def unescape_newlines(text: str) -> str:
    """Backslash-n -> newline; an escaped backslash stays as it is (`\\\\n` is not a newline)."""
    if "\\" not in text:
        return text
    return _ESCAPED.sub(lambda match: "\n" if match.group() == "\\n" else match.group(), text)


def with_unescaped_content(response: dict[str, Any]) -> dict[str, Any]:
    choice = first_choice(response.get("choices"))
    message = choice.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("content"), str):
        return response
    fixed = {**choice, "message": {**message, "content": unescape_newlines(message["content"])}}
    return {**response, "choices": [fixed if c is choice else c for c in response["choices"]]}


# --- stream ----------------------------------------------------------------------------------


class TextToolCallFilter:
    """Chunks in, chunks out, with the calls written in `delta.content` as `tool_calls` deltas.

    Each upstream chunk becomes: itself with the content decided so far (dropped when that is
    empty and the chunk carries nothing else), then one chunk per further piece (a call, or
    text after a call), then its `tool_calls` and `finish_reason` if it had them. The final
    chunk decides everything still held.
    """

    def __init__(self, tools: dict[str, dict[str, Any]]) -> None:
        self._parser = TextToolCallParser(tools)
        self._calls = 0
        self._parsing = True
        self._template: dict[str, Any] = {}

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        choice = first_choice(chunk.get("choices"))
        if not choice:
            return [chunk]
        self._template = chunk
        delta = choice.get("delta") or {}
        text = delta["content"] if isinstance(delta.get("content"), str) else ""
        native = delta.get("tool_calls")
        finish_reason = choice.get("finish_reason")
        pieces: list[str | TextToolCall] = [text] if text else []
        if self._parsing:
            pieces = self._parser.feed(text) if text else []
            if native or finish_reason:
                # Real tool calls mean the text holds none; the last chunk decides the rest.
                pieces += self._parser.finish()
                self._parsing = False
        if not native and pieces == ([text] if text else []):
            return [self._finished(chunk, choice)]
        lead = pieces.pop(0) if pieces and isinstance(pieces[0], str) else ""
        head = {key: value for key, value in delta.items() if key != "tool_calls"}
        head["content"] = lead
        out = []
        if lead or carries_more(head):
            stripped = {key: value for key, value in chunk.items() if key != "usage"}
            out.append(with_choice(stripped, {"delta": head, "finish_reason": None}))
        out += [self._piece_chunk(piece) for piece in pieces]
        if native or finish_reason or chunk.get("usage"):
            tail = {"tool_calls": [self._shifted(call) for call in native]} if native else {}
            out.append(self._finished(with_delta(chunk, tail), choice))
        return out

    def finish(self) -> list[dict[str, Any]]:
        if not self._parsing:
            return []
        self._parsing = False
        return [self._piece_chunk(piece) for piece in self._parser.finish()]

    def _piece_chunk(self, piece: str | TextToolCall) -> dict[str, Any]:
        template = {key: self._template[key] for key in _CHUNK_KEYS if key in self._template}
        if isinstance(piece, str):
            return {**template, "choices": [choice_of({"content": piece})]}
        call = {"index": self._calls, **to_openai_tool_call(piece)}
        self._calls += 1
        return {**template, "choices": [choice_of({"tool_calls": [call]})]}

    def _shifted(self, fragment: Any) -> Any:
        """A real tool-call fragment, its index moved past the calls found in the text."""
        if isinstance(fragment, dict) and isinstance(fragment.get("index"), int):
            return {**fragment, "index": fragment["index"] + self._calls}
        return fragment

    def _finished(self, chunk: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
        """`chunk`, its finish_reason "tool_calls" when calls were found in text."""
        if self._calls and choice.get("finish_reason") == "stop":
            return with_choice(chunk, {"finish_reason": "tool_calls"})
        return chunk


class NewlineFilter:
    """Unescapes backslash-n in `delta.content`; a backslash ending a chunk waits for the next."""

    def __init__(self) -> None:
        self._held = ""
        self._template: dict[str, Any] = {}

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        choice = first_choice(chunk.get("choices"))
        if not choice:
            return [chunk]
        self._template = chunk
        delta = choice.get("delta") or {}
        text = delta["content"] if isinstance(delta.get("content"), str) else ""
        if not text and not self._held:
            return [chunk]
        text, self._held = self._held + text, ""
        final = bool(choice.get("finish_reason") or chunk.get("usage"))
        if (len(text) - len(text.rstrip("\\"))) % 2 and not final:
            text, self._held = text[:-1], "\\"
        fixed = {**delta, "content": unescape_newlines(text)}
        if not fixed["content"] and not carries_more(fixed) and not final:
            return []
        return [with_delta(chunk, fixed)]

    def finish(self) -> list[dict[str, Any]]:
        if not self._held:
            return []
        template = {key: self._template[key] for key in _CHUNK_KEYS if key in self._template}
        held, self._held = self._held, ""
        return [{**template, "choices": [choice_of({"content": held})]}]


class FilterChain:
    """Filters applied in order: each one's output is the next one's input."""

    def __init__(self, filters: list[ChunkFilter]) -> None:
        self._filters = filters

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return self._through([chunk], 0)

    def finish(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for index, chunk_filter in enumerate(self._filters):
            out = self._through(out, index) + chunk_filter.finish()
        return out

    def _through(self, chunks: list[dict[str, Any]], first: int) -> list[dict[str, Any]]:
        for chunk_filter in self._filters[first:]:
            chunks = [out for chunk in chunks for out in chunk_filter.feed(chunk)]
        return chunks


def choice_of(delta: dict[str, Any]) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": None}


def with_choice(chunk: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`chunk` with its choice 0 updated by `changes`."""
    target = first_choice(chunk.get("choices"))
    choices = [
        {**target, **changes} if choice is target else choice
        for choice in chunk.get("choices") or []
    ]
    return {**chunk, "choices": choices}


def with_delta(chunk: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    return with_choice(chunk, {"delta": delta})


def carries_more(delta: dict[str, Any]) -> bool:
    """Whether a delta holds anything besides its content (a role, reasoning, ...)."""
    return any(value not in (None, "", [], {}) for key, value in delta.items() if key != "content")
