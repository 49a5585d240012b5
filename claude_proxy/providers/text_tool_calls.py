"""Tool calls a model wrote into its text instead of `tool_calls`: found, parsed and cut out.

Open-weight models behind OpenAI-compatible hosts (Together, vLLM, Ollama...) often print a
call in their chat template's own syntax, which the host leaves in `content`:

    <function=Bash>{"command": "ls"}</function>                  Llama 3.x/4 (closing tag optional)
    <function=Bash><parameter=command>ls</parameter></function>  Qwen3-Coder
    <tool_call>{"name": "Bash", "arguments": {...}}</tool_call>  Hermes, Qwen (may wrap the above)
    <|python_tag|>{"name": "Bash", "parameters": {...}}          Llama 3.1; also `bash.call(command="ls")`
    {"name": "Bash", "parameters": {...}}                        a bare object opening the answer
    [Bash(command="ls"), Read(file_path="a")]                    Llama pythonic, opening the answer
    ```json {"name": "Bash", "arguments": {...}} ```             either object form in a code fence

Only tools the request offered count (exact name, else the one that matches ignoring case);
everything else stays text. Text around calls stays text; whitespace and `;` between or after
calls is dropped, so no whitespace-only text block is left.

`TextToolCallParser` is incremental so that a stream holds back only what may still turn out
to be a call: `feed(text)` returns what is decided, in order (text and calls), `finish()` the
rest. What it holds: a suffix that may begin a marker (`<`, `<func`, "``", `<|python`), a
marker until its call is complete or refuted, at the start of the answer (or right after a
call) an object or list until it closes, and trailing whitespace. Pure: no I/O.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from claude_proxy.providers.text_scan import (
    FENCE,
    FUNCTION,
    MARKERS,
    PYTHON_TAG,
    TOOL_CALL,
    WHITESPACE,
    Scan,
    advance,
    match_end,
    partial_marker_length,
    skip,
    starts,
)
from claude_proxy.translate.tool_args import decode_leniently

GAP_AFTER_CALL = WHITESPACE + ";"
PYTHON_TAG_ENDS = ("<|eom_id|>", "<|eot_id|>")

_NAME = re.compile(r"[\w.\-]*")
_DOT_CALL = re.compile(r"[A-Za-z_]\w*\.call\(")
_PARTIAL_DOT_CALL = re.compile(r"[A-Za-z_]\w*(?:\.(?:c(?:a(?:l(?:l)?)?)?)?)?")
_PYTHONIC = re.compile(r"\[\s*([A-Za-z_]\w*)\s*\(")
_PARTIAL_PYTHONIC = re.compile(r"\[\s*(?:[A-Za-z_]\w*\s*)?")
_FENCE_LANGUAGE = re.compile(r"[A-Za-z_\-]*")
_LENIENT = json.JSONDecoder(strict=False)  # models put raw newlines inside strings


@dataclass(frozen=True)
class TextToolCall:
    name: str
    arguments: str
    """The input as a JSON object text."""


Piece = str | TextToolCall


@dataclass(frozen=True)
class Found:
    calls: list[TextToolCall]
    end: int


@dataclass(frozen=True)
class NotCall:
    length: int
    """How many characters from the candidate's start are decided to be text."""


Outcome = Found | NotCall | None
"""None: undecided until more text arrives."""


def parse_text_tool_calls(text: str, tools: Mapping[str, Mapping[str, Any]]) -> list[Piece]:
    """A whole answer as text and calls, in order."""
    parser = TextToolCallParser(tools)
    return merge_text([*parser.feed(text), *parser.finish()])


class TextToolCallParser:
    def __init__(self, tools: Mapping[str, Mapping[str, Any]]) -> None:
        """`tools`: name -> JSON schema of the parameters, of every tool the request offered."""
        self._tools = tools
        self._folded = {name.casefold(): name for name in tools}
        self._buffer = ""
        self._gap = ""
        self._held = False
        """The buffer starts with a candidate that is not decided yet."""
        self._at_start = True
        """Only whitespace since the answer began or the last call ended."""
        self._after_call = False
        self._scans: dict[int, Scan] = {}

    def feed(self, text: str) -> list[Piece]:
        self._buffer += text
        return self._drain(final=False)

    def finish(self) -> list[Piece]:
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[Piece]:
        out: list[Piece] = []
        while self._buffer:
            start = self._candidate()
            if start is None:
                keep = 0 if final else partial_marker_length(self._buffer)
                self._add_text(self._buffer[: len(self._buffer) - keep], out)
                self._consume(len(self._buffer) - keep)
                break
            self._add_text(self._buffer[:start], out)
            self._consume(start)
            outcome = self._parse(final)
            if outcome is None and final:
                outcome = NotCall(len(self._buffer))
            self._held = outcome is None
            if outcome is None:
                break
            if isinstance(outcome, Found):
                out += outcome.calls
                self._gap, self._after_call, self._at_start = "", True, True
                self._consume(outcome.end)
            else:
                self._add_text(self._buffer[: outcome.length], out)
                self._consume(outcome.length)
        if final and self._gap:
            if not self._after_call:
                out.append(self._gap)
            self._gap = ""
        return merge_text(out)

    def _candidate(self) -> int | None:
        if self._held:
            return 0
        found = [i for i in (self._buffer.find(marker) for marker in MARKERS) if i >= 0]
        if self._at_start:
            skippable = GAP_AFTER_CALL if self._after_call else WHITESPACE
            first = len(self._buffer) - len(self._buffer.lstrip(skippable))
            if self._buffer[first : first + 1] in ("{", "["):
                found.append(first)
        return min(found, default=None)

    def _add_text(self, text: str, out: list[Piece]) -> None:
        if not text:
            return
        combined = self._gap + text
        if self._after_call:  # text after a call starts a block of its own
            combined = combined.lstrip(GAP_AFTER_CALL)
        body = combined.rstrip(WHITESPACE)
        if body:
            out.append(body)
            self._after_call = self._at_start = False
        self._gap = combined[len(body) :]

    def _consume(self, length: int) -> None:
        if length:
            self._buffer = self._buffer[length:]
            self._scans.clear()

    # --- the forms ---------------------------------------------------------------------------

    def _parse(self, final: bool) -> Outcome:
        text = self._buffer
        if text.startswith(FUNCTION):
            return self._parse_function(0, final)
        if text.startswith(TOOL_CALL):
            return self._parse_tool_call(final)
        if text.startswith(PYTHON_TAG):
            return self._parse_python_tag(final)
        if text.startswith(FENCE):
            return self._parse_fence(final)
        if text.startswith("["):
            return self._parse_pythonic(final)
        return self._parse_bare_object(final)

    def _parse_function(self, start: int, final: bool) -> Outcome:
        text = self._buffer
        name_end = match_end(_NAME, text, start + len(FUNCTION))
        if name_end == len(text):
            return None
        name = self._resolve(text[start + len(FUNCTION) : name_end])
        if text[name_end] != ">" or name is None:
            return NotCall(1)
        body = skip(text, name_end + 1)
        if body == len(text):
            return None
        if text[body] == "{":
            end = self._closing_index(body)
            if end is None:
                return None
            arguments, _ = decode_leniently(text[body:end])
            if not isinstance(arguments, dict):
                return NotCall(1)
        else:
            parsed = self._parse_parameters(body, name, final)
            if not isinstance(parsed, tuple):
                return parsed
            arguments, end = parsed
        closed = self._after_closing(end, ("</function>",), final)
        return None if closed is None else Found([make_call(name, arguments)], closed)

    def _parse_parameters(self, position: int, name: str, final: bool) -> Outcome | tuple[Any, int]:
        """Qwen3-Coder's `<parameter=key>value</parameter>...</function>` body."""
        text, arguments = self._buffer, dict[str, Any]()
        properties = self._tools[name].get("properties") or {}
        while True:
            position = skip(text, position)
            closing = starts(text, position, "</function>")
            if closing is not False:
                if closing or (final and position == len(text)):
                    return arguments, position
                return None
            opening = starts(text, position, "<parameter=")
            if opening is None:
                return None
            key_end = match_end(_NAME, text, position + len("<parameter="))
            if not opening or (key_end < len(text) and text[key_end] != ">"):
                return NotCall(1)
            value_end = text.find("</parameter>", key_end)
            if value_end < 0:
                return None
            key = text[position + len("<parameter=") : key_end]
            value = text[key_end + 1 : value_end].removeprefix("\n").removesuffix("\n")
            arguments[key] = typed_value(value, properties.get(key))
            position = value_end + len("</parameter>")

    def _parse_tool_call(self, final: bool) -> Outcome:
        text = self._buffer
        body = skip(text, len(TOOL_CALL))
        if body == len(text):
            return None
        if text[body] == "{":
            end = self._closing_index(body)
            if end is None:
                return None
            call = self._call_from_json(text[body:end], needs_arguments=False)
            if call is None:
                return NotCall(1)
            calls = [call]
        elif (inner := starts(text, body, FUNCTION)) is not False:
            outcome = self._parse_function(body, final) if inner else None
            if not isinstance(outcome, Found):
                return outcome if outcome is None else NotCall(1)
            calls, end = outcome.calls, outcome.end
        else:
            return NotCall(1)
        closed = self._after_closing(end, ("</tool_call>",), final)
        return None if closed is None else Found(calls, closed)

    def _parse_python_tag(self, final: bool) -> Outcome:
        text = self._buffer
        body = skip(text, len(PYTHON_TAG))
        if body == len(text):
            return None
        if text[body] == "{":
            end = self._closing_index(body)
            if end is None:
                return None
            call = self._call_from_json(text[body:end], needs_arguments=False)
        elif _DOT_CALL.match(text, body):
            end = self._closing_index(text.index("(", body))
            if end is None:
                return None
            call = self._call_from_python(text[body:end])
        else:
            partial = _PARTIAL_DOT_CALL.match(text, body)
            return None if partial and partial.end() == len(text) else NotCall(1)
        if call is None:
            return NotCall(1)
        closed = self._after_closing(end, PYTHON_TAG_ENDS, final)
        return None if closed is None else Found([call], closed)

    def _parse_fence(self, final: bool) -> Outcome:
        text = self._buffer
        language_end = match_end(_FENCE_LANGUAGE, text, len(FENCE))
        language = text[len(FENCE) : language_end].lower()
        if not "json".startswith(language):
            return NotCall(len(FENCE))
        body = skip(text, language_end)
        if body == len(text):
            return None
        if text[body] != "{":
            return NotCall(len(FENCE))
        end = self._closing_index(body)
        if end is None:
            return None
        call = self._call_from_json(text[body:end], needs_arguments=True)
        if call is None:
            return NotCall(len(FENCE))
        closing = skip(text, end)
        fence_closed = starts(text, closing, FENCE)
        if fence_closed:
            return Found([call], closing + len(FENCE))
        if fence_closed is None:
            return Found([call], end) if final else None
        return NotCall(len(FENCE))

    def _parse_pythonic(self, final: bool) -> Outcome:
        text = self._buffer
        match = _PYTHONIC.match(text)
        if match is None:
            partial = _PARTIAL_PYTHONIC.match(text)
            return None if partial and partial.end() == len(text) else NotCall(1)
        if self._resolve(match.group(1)) is None:
            return NotCall(1)
        end = self._closing_index(0)
        if end is None:
            return None
        try:
            tree = ast.parse(text[:end], mode="eval").body
        except SyntaxError:
            return NotCall(end)
        calls = [self._call_from_node(node) for node in getattr(tree, "elts", [])]
        found = [call for call in calls if call is not None]
        if not found or len(found) != len(calls):
            return NotCall(end)
        return Found(found, end)

    def _parse_bare_object(self, final: bool) -> Outcome:
        text = self._buffer
        key = skip(text, 1)
        if key < len(text) and text[key] != '"':
            return NotCall(1)
        end = self._closing_index(0)
        if end is None:
            return None
        call = self._call_from_json(text[:end], needs_arguments=True)
        return NotCall(end) if call is None else Found([call], end)

    # --- helpers -----------------------------------------------------------------------------

    def _resolve(self, name: str) -> str | None:
        """The offered tool `name` means: exact, else the one equal ignoring case."""
        if name in self._tools:
            return name
        return self._folded.get(name.casefold())

    def _after_closing(self, end: int, tags: tuple[str, ...], final: bool) -> int | None:
        """Where the call ends: after an optional closing tag; None while that is undecided."""
        position = skip(self._buffer, end)
        seen = [starts(self._buffer, position, tag) for tag in tags]
        for tag, present in zip(tags, seen, strict=True):
            if present:
                return position + len(tag)
        if None in seen and not final:
            return None
        return end

    def _closing_index(self, start: int) -> int | None:
        """The index after the bracket opening at `start` closes, or None while it is open."""
        scan = self._scans.setdefault(start, Scan(start))
        if scan.end is None:
            scan.end = advance(scan, self._buffer)
        return scan.end

    def _call_from_json(self, text: str, *, needs_arguments: bool) -> TextToolCall | None:
        try:
            value = _LENIENT.decode(text)
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
        if value.get("type") == "function" and isinstance(value.get("function"), dict):
            value = value["function"]  # the OpenAI shape, copied from the tool definitions
        name = self._resolve(value["name"]) if isinstance(value.get("name"), str) else None
        if name is None or set(value) - {"name", "parameters", "arguments", "type", "id"}:
            return None
        if "parameters" not in value and "arguments" not in value and needs_arguments:
            return None
        arguments = value.get("parameters", value.get("arguments", {}))
        if isinstance(arguments, str):
            arguments, _ = decode_leniently(arguments)
        return make_call(name, arguments) if isinstance(arguments, dict) else None

    def _call_from_python(self, source: str) -> TextToolCall | None:
        try:
            tree = ast.parse(source, mode="eval").body
        except SyntaxError:
            return None
        return self._call_from_node(tree)

    def _call_from_node(self, node: ast.expr) -> TextToolCall | None:
        """`Name(k=literal, ...)`, or `name.call(k=literal, ...)` (Llama 3.1's built-in style)."""
        if not isinstance(node, ast.Call) or node.args:
            return None
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr == "call":
            function = function.value
        if not isinstance(function, ast.Name) or (name := self._resolve(function.id)) is None:
            return None
        arguments: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                return None
            try:
                arguments[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
        try:
            return make_call(name, arguments)
        except (TypeError, ValueError):  # a literal JSON cannot hold (bytes, sets, complex)
            return None


def make_call(name: str, arguments: dict[str, Any]) -> TextToolCall:
    return TextToolCall(name, json.dumps(arguments, ensure_ascii=False))


def typed_value(value: str, schema: Any) -> Any:
    """A `<parameter>` value as its schema types it: strings stay text, the rest is JSON."""
    kinds = schema.get("type") if isinstance(schema, Mapping) else None
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "string" in kinds or kinds == [None]:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def merge_text(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        elif piece != "":
            merged.append(piece)
    return merged
