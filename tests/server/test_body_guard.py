"""`body_guard`: hostile bodies become a 400 that says what is wrong; large legal ones parse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_proxy.errors import InvalidRequestError
from claude_proxy.server.body_guard import (
    MAX_BODY_DEPTH,
    MAX_SCHEMA_DEPTH,
    check_depth,
    check_tool_schemas,
    nesting_depth,
    read_body,
)

DATA = Path(__file__).parents[1] / "data" / "claude-code"


def nested_arrays(levels: int) -> bytes:
    return b'{"a":' + b"[" * levels + b"]" * levels + b"}"


def nested_objects(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


HOSTILE = [
    ("empty", b"", "request body is empty"),
    ("only whitespace", b" \r\n\t ", "request body is empty"),
    ("array at the top", b"[1, 2]", "must be a JSON object, got an array"),
    ("string at the top", b'"hi"', "must be a JSON object, got a string"),
    ("number at the top", b"42", "must be a JSON object, got a number"),
    ("null at the top", b"null", "must be a JSON object, got null"),
    ("not JSON", b"model=claude", "not valid JSON"),
    ("truncated", b'{"model": "claude', "not valid JSON"),
    ("unterminated escapes", b'{"a":"' + b'a\\"' * 100_000, "not valid JSON"),
    ("invalid UTF-8", b'{"a": "\xff"}', "not valid UTF-8: byte 0xff at offset 7"),
    ("UTF-16", '{"a": 1}'.encode("utf-16"), "not valid UTF-8"),
    ("encoded surrogate", b'{"a": "\xed\xa0\x80"}', "not valid UTF-8"),
    ("1,000 levels of arrays", nested_arrays(1_000), "1001 levels deep; at most 64"),
    ("100,000 levels of arrays", nested_arrays(100_000), "100001 levels deep"),
    ("1,000 levels of objects", nested_objects(1_000), "1000 levels deep"),
    ("100,000 levels of objects", nested_objects(100_000), "100000 levels deep"),
    ("100,000 unclosed brackets", b"[" * 100_000, "levels deep"),
    ("65 levels", nested_arrays(64), "65 levels deep"),
    ("integer of 5,000 digits", b'{"max_tokens": ' + b"9" * 5_000 + b"}", "5000 digits"),
    ("negative integer of 5,000 digits", b'{"a": -' + b"9" * 5_000 + b"}", "5000 digits"),
    ("integer of a million digits", b'{"a": ' + b"1" * 1_000_000 + b"}", "1000000 digits"),
    ("NaN", b'{"temperature": NaN}', "NaN, which is not JSON"),
    ("Infinity", b'{"temperature": Infinity}', "Infinity, which is not JSON"),
    ("-Infinity", b'{"a": [-Infinity]}', "-Infinity, which is not JSON"),
    ("a float beyond a double", b'{"a": 1e999}', "1e999, too large for a double"),
    ("a long float beyond a double", b'{"a": -1e' + b"9" * 10_000 + b"}", "too large"),
    ("lone high surrogate", b'{"a": "\\ud800"}', "lone surrogate escape (such as \\ud800) at a"),
    ("lone low surrogate", b'{"a": ["x", "\\uDC00"]}', "at a[1]"),
    ("reversed pair", b'{"a": "\\ude00\\ud83d"}', "lone surrogate"),
    ("surrogate in a key", b'{"messages": [{"\\ud800": 1}]}', "at messages[0].\\ud800:"),
    (
        "surrogate deep in a message",
        b'{"messages": [{"role": "user", "content": [{"type": "text", "text": "hi \\udbff"}]}]}',
        "at messages[0].content[0].text",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_are_invalid_requests(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        read_body(raw)
    assert expected in caught.value.message
    assert caught.value.status == 400
    assert len(caught.value.message) < 300  # never echoes the body back


LEGAL = [
    ("64 levels", nested_arrays(63)),
    ("brackets inside strings", json.dumps({"a": "[" * 100_000 + "{" * 100_000}).encode()),
    ("escaped quotes before brackets", b'{"a": "\\"[[[[[[\\\\", "b": "]]]]"}'),
    ("escaped backslash before ud800", b'{"a": "\\\\ud800"}'),
    ("a surrogate pair", b'{"a": "\\ud83d\\ude00"}'),
    ("raw UTF-8 text", '{"a": "é 😀 中文"}'.encode()),
    ("100-digit integer", b'{"a": ' + b"9" * 100 + b"}"),
    ("large finite float", b'{"a": 1.7976931348623157e308, "b": 1.' + b"5" * 10_000 + b"}"),
    ("unicode escapes", b'{"a": "\\u0000\\u00e9\\uffff"}'),
]


@pytest.mark.parametrize("raw", [legal[1] for legal in LEGAL], ids=[legal[0] for legal in LEGAL])
def test_legal_bodies_parse(raw: bytes) -> None:
    assert read_body(raw) == json.loads(raw)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda path: path.stem)
def test_recorded_claude_code_bodies_parse_with_room_to_spare(path: Path) -> None:
    raw = path.read_bytes()
    body = read_body(raw)
    assert body == json.loads(raw)
    assert nesting_depth(raw.decode()) * 4 < MAX_BODY_DEPTH
    check_tool_schemas(body)
    for tool in body.get("tools", []):
        check_depth(tool["input_schema"], MAX_SCHEMA_DEPTH // 4)


def large_bodies() -> list[tuple[str, dict[str, Any]]]:
    message = {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    schema = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "lines": {"type": "array", "items": {}}},
        "required": ["path"],
    }
    text = 'a "quoted" [bracket] {brace} \\ back\nslash é 😀 ' * 650_000  # about 30 MB
    return [
        ("100k messages", {"model": "claude", "max_tokens": 1, "messages": [message] * 100_000}),
        (
            "50k tools",
            {
                "model": "claude",
                "messages": [message],
                "tools": [
                    {"name": f"tool_{i}", "description": "d", "input_schema": schema}
                    for i in range(50_000)
                ],
            },
        ),
        ("30 MB of text", {"model": "claude", "messages": [{"role": "user", "content": text}]}),
    ]


@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["utf-8", "ascii-escaped"])
@pytest.mark.parametrize("body", [b[1] for b in large_bodies()], ids=[b[0] for b in large_bodies()])
def test_large_legal_bodies_parse(body: dict[str, Any], ensure_ascii: bool) -> None:
    raw = json.dumps(body, ensure_ascii=ensure_ascii).encode()
    assert read_body(raw) == body
    check_tool_schemas(body)


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("x", 0), ([], 1), ({"a": [1]}, 2), ([[[]], []], 3), ({"a": {"b": {"c": {}}}}, 4)],
)
def test_check_depth_counts_containers(value: Any, depth: int) -> None:
    check_depth(value, depth)
    if depth:
        with pytest.raises(InvalidRequestError, match=f"more than {depth - 1} levels"):
            check_depth(value, depth - 1)


def test_check_depth_is_iterative() -> None:
    value: Any = {}
    for _ in range(100_000):
        value = {"properties": value}
    with pytest.raises(InvalidRequestError, match="the schema nests more than 32 levels"):
        check_depth(value, 32, "the schema")


def test_a_tool_schema_400_levels_deep_is_refused_with_its_place() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(400):
        schema = {"type": "object", "properties": {"x": schema}}
    body = {"tools": [{"name": "ok", "input_schema": {"type": "object"}}, {"input_schema": schema}]}
    with pytest.raises(InvalidRequestError) as caught:
        check_tool_schemas(body)
    assert caught.value.message.startswith("tools[1].input_schema nests more than 32 levels")


@pytest.mark.parametrize("tools", [None, "x", [None, 1, {"name": "no schema"}]])
def test_check_tool_schemas_leaves_malformed_tools_to_validation(tools: Any) -> None:
    check_tool_schemas({"tools": tools})


def test_the_body_depth_limit_can_be_set() -> None:
    assert read_body(nested_arrays(9), max_depth=10) == json.loads(nested_arrays(9))
    with pytest.raises(InvalidRequestError, match="11 levels deep; at most 10"):
        read_body(nested_arrays(10), max_depth=10)
