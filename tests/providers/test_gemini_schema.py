"""sanitize_schema: what Gemini accepts, what LiteLLM leaves alone, and what each rewrite keeps.

`schema_problems` (tests/fakes/gemini_upstream.py) checks a schema the way Gemini does; the
fake Gemini server runs the same check on every request. LiteLLM's own `build_vertex_schema`
runs after the sanitizer on every request, so its output must come back unchanged from it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from claude_proxy.providers.gemini_schema import sanitize_schema
from claude_proxy.upstream.litellm_client import import_litellm
from tests.fakes.gemini_upstream import schema_problems
from tests.helpers.repo import DATA

Schema = dict[str, Any]
PATH = "tools[0].function_declarations[0].parameters"


def claude_code_tools() -> list[tuple[str, Schema]]:
    """(fixture:tool, input_schema) for every tool of every recorded Claude Code request."""
    tools = []
    for path in sorted((DATA / "claude-code").glob("*.json")):
        for tool in json.loads(path.read_text()).get("tools", []):
            tools.append((f"{path.stem}:{tool['name']}", tool["input_schema"]))
    return tools


TOOLS = claude_code_tools()


def tool_schema(fixture: str, name: str) -> Schema:
    return dict(TOOLS)[f"{fixture}:{name}"]


@pytest.fixture(scope="module")
def build_vertex_schema() -> Callable[[Schema], Schema]:
    import_litellm()  # LiteLLM with its network switches off
    from litellm.llms.vertex_ai.common_utils import build_vertex_schema as build

    def run(schema: Schema) -> Schema:
        result: Schema = build(copy.deepcopy(schema))
        return result

    return run


def test_the_recorded_requests_hold_claude_codes_tools() -> None:
    names = {name.split(":")[1] for name, _ in TOOLS}
    assert {"Bash", "Read", "Edit", "Write", "TaskUpdate", "SendMessage", "WebFetch"} <= names


@pytest.mark.parametrize(("name", "schema"), TOOLS, ids=[name for name, _ in TOOLS])
def test_gemini_accepts_every_claude_code_tool_schema_and_litellm_keeps_it(
    name: str, schema: Schema, build_vertex_schema: Callable[[Schema], Schema]
) -> None:
    before = copy.deepcopy(schema)
    sanitized = sanitize_schema(schema)

    assert schema_problems(sanitized, PATH) == []
    assert build_vertex_schema(sanitized) == sanitized
    assert schema == before


def test_the_validator_refuses_claude_codes_raw_schema_as_gemini_does() -> None:
    assert schema_problems(tool_schema("01-say-hi", "Read"), PATH) == [
        f"Invalid JSON payload received. Unknown name \"$schema\" at '{PATH}': Cannot find field.",
        f"Invalid JSON payload received. Unknown name \"additionalProperties\" at '{PATH}': Cannot find field.",
        f"Invalid JSON payload received. Unknown name \"exclusiveMinimum\" at '{PATH}.properties[2].value': Cannot find field.",
    ]
    assert schema_problems(
        {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}}, PATH
    ) == [
        f"* GenerateContentRequest.{PATH}.properties[url].format: only 'enum' and 'date-time' are supported for STRING type"
    ]


def test_claude_codes_tricky_tools_keep_their_meaning() -> None:
    task_update = sanitize_schema(tool_schema("06-legacy-claude-3-5-haiku", "TaskUpdate"))
    send_message = sanitize_schema(tool_schema("05-toolsearch-roundtrip", "SendMessage"))
    read = sanitize_schema(tool_schema("01-say-hi", "Read"))
    web_fetch = sanitize_schema(tool_schema("05-toolsearch-roundtrip", "WebFetch"))
    task_create = sanitize_schema(tool_schema("06-legacy-claude-3-5-haiku", "TaskCreate"))

    # anyOf [enum, const] -> one enum: the const branch is not lost.
    assert task_update["properties"]["status"] == {
        "type": "string",
        "enum": ["pending", "in_progress", "completed", "deleted"],
        "description": "New status for the task",
    }
    # allOf of two patterns: one stays a pattern, the other is said in words.
    to = tool_schema("05-toolsearch-roundtrip", "SendMessage")["properties"]["to"]
    assert send_message["properties"]["to"] == {
        "type": "string",
        "pattern": "^[^\\n\\r]*$",
        "description": to["description"]
        + ' (must also match the regular expression "^[\\\\s\\\\S]{0,300}$")',
    }
    message = tool_schema("05-toolsearch-roundtrip", "SendMessage")["properties"]["message"]
    assert send_message["properties"]["message"] == {
        "type": "string",
        "description": message["description"] + ' (default: "")',
    }
    assert send_message["required"] == ["to", "message"]
    # exclusiveMinimum 0 on an integer is minimum 1.
    assert {k: v for k, v in read["properties"]["limit"].items() if k != "description"} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 9007199254740991,
    }
    assert web_fetch["properties"]["url"] == {
        "type": "string",
        "description": "The URL to fetch content from (format: uri)",
    }
    assert task_create["properties"]["metadata"] == {
        "type": "object",
        "description": "Arbitrary metadata to attach to the task",
    }


def prop(schema: Schema) -> Schema:
    return {"type": "object", "properties": {"x": schema}}


REWRITES: list[tuple[str, Schema, Schema]] = [
    (
        "$schema and additionalProperties dropped",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": False,
        },
        {"type": "object", "properties": {"a": {"type": "string"}}},
    ),
    ("string const", prop({"const": "file"}), {"type": "string", "enum": ["file"]}),
    ("empty string const", prop({"const": ""}), {"type": "string", "maxLength": 0}),
    ("number const", prop({"const": 3}), {"type": "integer", "minimum": 3, "maximum": 3}),
    (
        "boolean const",
        prop({"const": True, "description": "Flag"}),
        {"type": "boolean", "description": "Flag (always true)"},
    ),
    (
        "exclusive bounds on an integer",
        prop({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}),
        {"type": "integer", "minimum": 1, "maximum": 9},
    ),
    (
        "exclusive bound on a number",
        prop({"type": "number", "exclusiveMinimum": 0.5}),
        {"type": "number", "minimum": 0.5, "description": "Greater than 0.5"},
    ),
    (
        "draft-4 exclusive bound",
        prop({"type": "number", "minimum": 2, "exclusiveMinimum": True}),
        {"type": "number", "minimum": 2, "description": "Greater than 2"},
    ),
    (
        "unsupported string format",
        prop({"type": "string", "format": "uri", "description": "The URL"}),
        {"type": "string", "description": "The URL (format: uri)"},
    ),
    (
        "supported string format",
        prop({"type": "string", "format": "date-time"}),
        {"type": "string", "format": "date-time"},
    ),
    (
        "type with null",
        prop({"type": ["string", "null"], "description": "d"}),
        {"type": "string", "nullable": True, "description": "d"},
    ),
    (
        "several types",
        prop({"type": ["string", "integer"], "minLength": 2, "minimum": 1}),
        {"anyOf": [{"type": "string", "minLength": 2}, {"type": "integer", "minimum": 1}]},
    ),
    (
        "anyOf with null",
        prop(
            {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "description": "n"}
        ),
        {"type": "integer", "nullable": True, "description": "n (default: null)"},
    ),
    (
        "anyOf of several types with null",
        prop({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}], "title": "V"}),
        {
            "anyOf": [
                {"type": "string", "title": "V", "nullable": True},
                {"type": "integer", "title": "V", "nullable": True},
            ]
        },
    ),
    (
        "oneOf",
        prop(
            {
                "oneOf": [
                    {"type": "string"},
                    {"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"]},
                ],
                "description": "s or k",
            }
        ),
        {
            "anyOf": [
                {"type": "string", "description": "s or k"},
                {
                    "type": "object",
                    "properties": {"k": {"type": "integer"}},
                    "required": ["k"],
                    "description": "s or k",
                },
            ]
        },
    ),
    (
        "allOf",
        prop(
            {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "integer", "minimum": 0}}, "required": ["b"]},
                    {"properties": {"a": {"maxLength": 3}}},
                ]
            }
        ),
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "maxLength": 3},
                "b": {"type": "integer", "minimum": 0},
            },
            "required": ["a", "b"],
        },
    ),
    (
        "$ref into $defs, with a sibling description",
        {
            "type": "object",
            "$defs": {"P": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "properties": {"p": {"$ref": "#/$defs/P", "description": "who"}},
        },
        {
            "type": "object",
            "properties": {
                "p": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "description": "who",
                }
            },
        },
    ),
    (
        "a cycle through definitions",
        {
            "type": "object",
            "definitions": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "v": {"type": "integer"},
                        "next": {"$ref": "#/definitions/Node"},
                    },
                }
            },
            "properties": {"head": {"$ref": "#/definitions/Node"}},
        },
        {
            "type": "object",
            "properties": {
                "head": {
                    "type": "object",
                    "properties": {
                        "v": {"type": "integer"},
                        "next": {"type": "object", "description": "Same shape as Node"},
                    },
                }
            },
        },
    ),
    (
        "a cycle through the root",
        {"type": "object", "properties": {"child": {"$ref": "#"}, "n": {"type": "string"}}},
        {
            "type": "object",
            "properties": {
                "child": {
                    "type": "object",
                    "properties": {
                        "child": {"type": "object", "description": "Same shape as the whole input"},
                        "n": {"type": "string"},
                    },
                },
                "n": {"type": "string"},
            },
        },
    ),
    (
        "enum on an integer",
        prop({"type": "integer", "enum": [1, 2, 3]}),
        {"type": "integer", "description": "One of: 1, 2, 3"},
    ),
    (
        "empty string in an enum",
        prop({"type": "string", "enum": ["", "r", "w"]}),
        {"type": "string", "description": 'One of: "", "r", "w"'},
    ),
    (
        "null in an enum",
        prop({"enum": ["a", None]}),
        {"type": "string", "nullable": True, "enum": ["a"]},
    ),
    (
        "enum values as strings",
        prop({"type": "string", "enum": ["a", 1, True]}),
        {"type": "string", "enum": ["a", "1", "true"]},
    ),
    (
        "default, examples, multipleOf",
        prop(
            {
                "type": "integer",
                "default": 5,
                "examples": [7],
                "multipleOf": 5,
                "description": "Count",
            }
        ),
        {"type": "integer", "description": "Count (a multiple of 5; default: 5; for example 7)"},
    ),
    (
        "default already described",
        prop({"type": "boolean", "default": False, "description": "Replace all (default false)"}),
        {"type": "boolean", "description": "Replace all (default false)"},
    ),
    (
        "array without items",
        prop({"type": "array", "uniqueItems": True, "minItems": 1}),
        {
            "type": "array",
            "items": {"type": "object"},
            "minItems": 1,
            "description": "Items must be unique",
        },
    ),
    (
        "tuple items",
        prop({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}),
        {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
    ),
    (
        "map of any values",
        prop({"type": "object", "propertyNames": {"type": "string"}, "additionalProperties": {}}),
        {"type": "object"},
    ),
    (
        "map of typed values",
        prop({"type": "object", "additionalProperties": {"type": "string"}}),
        {"type": "object", "description": "Any keys, each value a string"},
    ),
    (
        "required names a missing property",
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "zzz"]},
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
    ),
    ("no schema at all", {}, {"type": "object"}),
    ("no properties", {"type": "object", "properties": {}, "required": []}, {"type": "object"}),
    (
        "object keywords on a string",
        prop({"type": "string", "properties": {"q": {"type": "string"}}, "items": {}}),
        {"type": "string"},
    ),
    (
        "a property that can never be given",
        {"type": "object", "properties": {"a": {"type": "string"}, "b": False}, "required": ["b"]},
        {"type": "object", "properties": {"a": {"type": "string"}}},
    ),
    (
        "deprecated",
        prop({"type": "string", "deprecated": True}),
        {"type": "string", "description": "Deprecated"},
    ),
]


@pytest.mark.parametrize(("rule", "schema", "expected"), REWRITES, ids=[r[0] for r in REWRITES])
def test_each_rewrite_keeps_the_meaning_gemini_can_hold(
    rule: str, schema: Schema, expected: Schema, build_vertex_schema: Callable[[Schema], Schema]
) -> None:
    sanitized = sanitize_schema(schema)
    got = (
        sanitized["properties"]["x"] if schema.get("properties", {}).keys() == {"x"} else sanitized
    )

    assert got == expected
    assert schema_problems(sanitized, PATH) == []
    assert build_vertex_schema(sanitized) == sanitized


def test_litellms_lossy_rewrites_never_trigger_on_sanitized_schemas(
    build_vertex_schema: Callable[[Schema], Schema],
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"const": "file"},
            "either": {
                "oneOf": [{"type": "string"}, {"type": "integer"}],
                "description": "a name or a number",
            },
            "both": {"allOf": [{"type": "string"}, {"maxLength": 5}]},
            "mode": {"type": "string", "enum": ["", "r", "w"]},
        },
    }
    # What LiteLLM alone makes of it: the const, the oneOf, the allOf and the "" are gone.
    assert build_vertex_schema(schema)["properties"] == {
        "kind": {"type": "object"},
        "either": {"description": "a name or a number"},
        "both": {},
        "mode": {"type": "string", "enum": [None, "r", "w"]},
    }
    sanitized = sanitize_schema(schema)
    assert sanitized["properties"] == {
        "kind": {"type": "string", "enum": ["file"]},
        "either": {
            "anyOf": [
                {"type": "string", "description": "a name or a number"},
                {"type": "integer", "description": "a name or a number"},
            ]
        },
        "both": {"type": "string", "maxLength": 5},
        "mode": {"type": "string", "description": 'One of: "", "r", "w"'},
    }
    assert build_vertex_schema(sanitized) == sanitized
