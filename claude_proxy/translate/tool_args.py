"""Tool-call arguments: upstream JSON text -> the `input` object of a `tool_use` block.

Models get this wrong in a few recurring ways: a ```json fence, text after the object, a
double-encoded string, or an object cut off by `max_tokens`. `parse_tool_arguments` repairs
those when the intent is unambiguous. `completion_suffix` serves streams, where fragments
already went out and the only possible repair is to append.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_LITERALS = ("true", "false", "null")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_TOKEN_CHARS = frozenset("0123456789+-.eEtruefalsn")
_TOKEN_STARTS = frozenset("-0123456789tfn")
_SIMPLE_ESCAPES = frozenset('"\\/bfnrt')
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_WHITESPACE = frozenset(" \t\r\n")
_FENCE = re.compile(r"^```[\w-]*[ \t]*\n?(?P<body>.*?)\n?[ \t]*(?:```)?\s*$", re.DOTALL)
# Models emit raw newlines inside strings; Python can read them, so the non-stream path does.
_LENIENT = json.JSONDecoder(strict=False)

# What the scanner expects next.
_VALUE = "value"
_VALUE_OR_CLOSE = "value_or_close"
_KEY = "key"
_KEY_OR_CLOSE = "key_or_close"
_COLON = "colon"
_COMMA_OR_CLOSE = "comma_or_close"
_DONE = "done"
_CLOSABLE = frozenset({_VALUE_OR_CLOSE, _KEY_OR_CLOSE, _COMMA_OR_CLOSE})


def parse_tool_arguments(raw: str | dict[str, Any] | None, *, tool_name: str) -> dict[str, Any]:
    """The arguments as an object; `{}` (with a warning) when they cannot be read as one."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return {}
    value, repair = decode_leniently(raw.strip())
    if isinstance(value, dict):
        if repair == "truncated":
            logger.warning(
                "tool %s: arguments were cut off (%d chars); closed them", tool_name, len(raw)
            )
        elif repair is not None:
            logger.info("tool %s: repaired arguments (%s, %d chars)", tool_name, repair, len(raw))
        return value
    logger.warning(
        "tool %s: arguments are not a JSON object (%d chars); using {}", tool_name, len(raw)
    )
    return {}


def decode_leniently(text: str) -> tuple[Any, str | None]:
    """The JSON value in `text` and the name of the repair it needed (None: none)."""
    value, repair = decode_json_prefix(text)
    if repair == "failed" and text.startswith("```"):
        value, repair = decode_json_prefix(strip_fence(text))
        repair = "failed" if repair == "failed" else "fenced"
    if isinstance(value, str):
        inner, inner_repair = decode_json_prefix(value.strip())
        if isinstance(inner, dict) and inner_repair is None:
            return inner, "double-encoded"
    return value, repair


def decode_json_prefix(text: str) -> tuple[Any, str | None]:
    try:
        return _LENIENT.decode(text), None
    except ValueError:
        pass
    try:
        value, _ = _LENIENT.raw_decode(text)
        return value, "trailing text"
    except ValueError:
        pass
    closed = close_truncated(text)
    if closed is not None:
        try:
            return _LENIENT.decode(closed), "truncated"
        except ValueError:
            pass
    return None, "failed"


def strip_fence(text: str) -> str:
    match = _FENCE.match(text)
    return match.group("body").strip() if match else text


def close_truncated(text: str) -> str | None:
    """`text` completed into a JSON object, dropping an unfinished trailing member if needed."""
    tail = scan_json_object(text)
    if tail is None:
        return None
    suffix = suffix_for(tail)
    if suffix is not None:
        return text + suffix
    if not tail.frames:
        return None
    # A dangling comma, a key without value, or `"key":` with nothing after it: keep only
    # the complete members of the innermost container.
    return text[: tail.frames[-1].safe_end] + closers_of(tail.frames)


def completion_suffix(partial: str) -> str | None:
    """What to append so `partial + suffix` is a JSON object: "" if it already is, None if
    no appended text can make it one (a dangling key or comma, trailing text, not an object)."""
    try:
        return "" if isinstance(json.loads(partial), dict) else None
    except ValueError:
        pass
    tail = scan_json_object(partial)
    suffix = None if tail is None else suffix_for(tail)
    if suffix is None:
        return None
    try:
        return suffix if isinstance(json.loads(partial + suffix), dict) else None
    except ValueError:
        return None


@dataclass
class Frame:
    closer: str
    """`}` or `]`."""
    safe_end: int
    """`text[:safe_end]` holds only complete members of this container."""


@dataclass
class Tail:
    """Where a prefix of a JSON object stops: the open containers and the unfinished token."""

    frames: list[Frame] = field(default_factory=list)
    expect: str = _VALUE
    in_string: bool = False
    string_is_key: bool = False
    escape: str = ""
    """"" outside an escape, `\\` right after a backslash, `\\u` plus the hex digits so far."""
    token: str = ""
    """An unfinished number or literal at the very end."""


def suffix_for(tail: Tail) -> str | None:
    """The text that completes `tail` by appending only, or None when that would invent data."""
    parts: list[str] = []
    expect = tail.expect
    if tail.in_string:
        parts.append(complete_escape(tail.escape) + '"')
        if tail.string_is_key:
            return None
        expect = _COMMA_OR_CLOSE
    elif tail.token:
        rest = complete_token(tail.token)
        if rest is None:
            return None
        parts.append(rest)
        expect = _COMMA_OR_CLOSE
    if not tail.frames:
        return "" if expect == _DONE else "{}"
    if expect not in _CLOSABLE:
        return None
    return "".join(parts) + closers_of(tail.frames)


def complete_escape(escape: str) -> str:
    if escape == "\\":
        return "\\"
    if escape:
        return "0" * (6 - len(escape))
    return ""


def complete_token(token: str) -> str | None:
    for literal in _LITERALS:
        if literal.startswith(token):
            return literal[len(token) :]
    for rest in ("", "0"):
        if _NUMBER.fullmatch(token + rest):
            return rest
    return None


def closers_of(frames: list[Frame]) -> str:
    return "".join(frame.closer for frame in reversed(frames))


def scan_json_object(text: str) -> Tail | None:
    """How `text` ends as a prefix of a JSON object, or None when it is not such a prefix.

    Checks structure only; the caller confirms the result with a real JSON parser.
    """
    tail = Tail()
    position = 0
    while position < len(text):
        char = text[position]
        if tail.in_string:
            if not scan_string_char(tail, char, position):
                return None
        elif tail.token and char in _TOKEN_CHARS:
            tail.token += char
        elif tail.token:
            if tail.token not in _LITERALS and not _NUMBER.fullmatch(tail.token):
                return None
            tail.token = ""
            close_value(tail, position)
            continue
        elif char not in _WHITESPACE and not scan_structural_char(tail, char, position):
            return None
        position += 1
    return tail


def scan_string_char(tail: Tail, char: str, position: int) -> bool:
    if tail.escape == "\\":
        if char == "u":
            tail.escape = "\\u"
        elif char in _SIMPLE_ESCAPES:
            tail.escape = ""
        else:
            return False
    elif tail.escape:
        if char not in _HEX_DIGITS:
            return False
        tail.escape = "" if len(tail.escape) == 5 else tail.escape + char
    elif char == "\\":
        tail.escape = "\\"
    elif char == '"':
        tail.in_string = False
        if tail.string_is_key:
            tail.expect = _COLON
        else:
            close_value(tail, position + 1)
    return True


def scan_structural_char(tail: Tail, char: str, position: int) -> bool:
    expect = tail.expect
    wants_value = expect in (_VALUE, _VALUE_OR_CLOSE)
    if wants_value and not tail.frames and char != "{":
        return False
    if char in "{[" and wants_value:
        tail.frames.append(Frame("}" if char == "{" else "]", position + 1))
        tail.expect = _KEY_OR_CLOSE if char == "{" else _VALUE_OR_CLOSE
    elif char in "}]" and tail.frames and tail.frames[-1].closer == char and expect in _CLOSABLE:
        tail.frames.pop()
        close_value(tail, position + 1)
    elif char == '"' and (wants_value or expect in (_KEY, _KEY_OR_CLOSE)):
        tail.in_string = True
        tail.string_is_key = not wants_value
    elif char == "," and expect == _COMMA_OR_CLOSE:
        tail.expect = _KEY if tail.frames[-1].closer == "}" else _VALUE
    elif char == ":" and expect == _COLON:
        tail.expect = _VALUE
    elif char in _TOKEN_STARTS and wants_value:
        tail.token = char
    else:
        return False
    return True


def close_value(tail: Tail, end: int) -> None:
    if tail.frames:
        tail.frames[-1].safe_end = end
        tail.expect = _COMMA_OR_CLOSE
    else:
        tail.expect = _DONE
