"""Reading a request body safely: bytes in, a JSON object out, or a 400 that says what is wrong.

`json.loads` alone turns several client mistakes into 500s or worse. Nesting a few thousand
levels deep raises RecursionError (and translation recurses further: a tool schema 400 levels
deep broke `copy.deepcopy`); an integer of 5,000 digits raises ValueError, and where Python's
digit limit is switched off it takes quadratic time; NaN, Infinity and 1e999 parse but cannot be
forwarded as JSON; a lone surrogate escape (`"\\ud800"`) parses into a str no encoder accepts.

Every check runs in time linear in the body. The depth is measured on the raw text *before*
`json.loads`, by one regex pass that drops string literals and a count over the brackets left,
so no input can make the parser itself recurse deeply.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from itertools import accumulate
from typing import Any, NoReturn

from claude_proxy.errors import InvalidRequestError

MAX_BODY_DEPTH = 64
"""Claude Code's bodies nest 10 levels (tests/data/claude-code/); tool inputs the model wrote
add their own depth inside messages, so the limit leaves six times that."""
MAX_SCHEMA_DEPTH = 32
"""Claude Code's tool schemas nest at most 7 levels; MCP servers' deeper ones still fit."""
MAX_INT_DIGITS = 100
"""No provider reads an integer beyond 64 bits (20 digits); this only stops the absurd ones."""

# A JSON string literal, possessive so it never backtracks: it always matches from a quote to
# the closing quote or, for an unterminated string, to the end (then the body is invalid JSON
# anyway), so one pass over the text drops every string without ever retrying a position.
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = _DEPTH_STEP[ord("{")] = 1
_DEPTH_STEP[ord("]")] = _DEPTH_STEP[ord("}")] = -1
# Cheap pre-check on the raw text; a hit (a real pair, or an escaped backslash before "ud8..")
# only means the parsed strings get the precise check below.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_body(raw: bytes, *, max_depth: int = MAX_BODY_DEPTH) -> dict[str, Any]:
    """The request body as a JSON object, or InvalidRequestError naming what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"request body is not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None
    if not text.strip():
        raise InvalidRequestError("request body is empty: expected a JSON object")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise InvalidRequestError(
            f"request body nests JSON {depth} levels deep; at most {max_depth} are accepted"
        )
    try:
        body = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:  # unreachable after the depth scan; kept so it can never be a 500
        raise InvalidRequestError(
            f"request body nests JSON too deeply; at most {max_depth} levels are accepted"
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequestError(f"request body must be a JSON object, got {_json_kind(body)}")
    if _SURROGATE_ESCAPE.search(text):
        check_surrogates(body)
    return body


def nesting_depth(text: str) -> int:
    """How deep JSON arrays and objects nest in `text`, brackets inside strings not counted."""
    brackets = _STRING.sub("", text).encode("utf-8").translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def check_depth(value: Any, limit: int, what: str = "the value") -> None:
    """Raise InvalidRequestError when `value` nests lists and dicts more than `limit` levels."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        current, depth = stack.pop()
        children = current.values() if isinstance(current, dict) else current
        if depth > limit:
            raise InvalidRequestError(
                f"{what} nests more than {limit} levels deep; at most {limit} are accepted"
            )
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def check_tool_schemas(body: Mapping[str, Any], limit: int = MAX_SCHEMA_DEPTH) -> None:
    """Each tool's `input_schema` nests at most `limit` levels (translation walks schemas)."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return
    for index, tool in enumerate(tools):
        schema = tool.get("input_schema") if isinstance(tool, dict) else None
        if isinstance(schema, dict | list):
            check_depth(schema, limit, f"tools[{index}].input_schema")


def check_surrogates(value: Any) -> None:
    """Raise InvalidRequestError when a string (or key) holds a lone UTF-16 surrogate.

    json.loads joins escaped surrogate pairs into one character, so any surrogate left in a
    parsed string is unpaired: it cannot be encoded as UTF-8, and forwarding it fails upstream.
    """
    for path, text in _strings(value):
        if _SURROGATE.search(text):
            # The path holds client keys, maybe the surrogate itself: escaped and cut short, so
            # the message can be encoded, logged and rendered.
            shown = path.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            shown = shown if len(shown) <= 120 else shown[:120] + "..."
            raise InvalidRequestError(
                f"request body has a lone surrogate escape (such as \\ud800) at {shown or 'the top'}: "
                "it is not a character; send the character itself or a complete surrogate pair"
            )


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every string and key in `value` with its path (`messages[0].content`), iteratively."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            yield path, current
        elif isinstance(current, dict):
            for key, child in current.items():
                child_path = f"{path}.{key}" if path else str(key)
                yield child_path, key
                stack.append((child_path, child))
        elif isinstance(current, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(current))


def _parse_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise InvalidRequestError(
            f"request body has an integer of {digits} digits; at most {MAX_INT_DIGITS} are accepted"
        )
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        shown = literal if len(literal) <= 24 else literal[:24] + "..."
        raise InvalidRequestError(
            f"request body has the number {shown}, too large for a double; send a smaller one"
        )
    return value


def _reject_constant(name: str) -> NoReturn:
    raise InvalidRequestError(
        f"request body has {name}, which is not JSON; send null or a finite number"
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
