"""The tool-schema sanitizers give what LiteLLM's own give, for Claude Code's tools and a table
of the shapes they rewrite."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from claude_proxy.upstream.litellm_client import import_litellm
from claude_proxy.upstream.openai_schema import (
    drop_uncompilable_patterns,
    flatten_top_level,
    sanitize_for_openai_host,
    sanitize_tools,
)
from tests.helpers.repo import DATA

OBJ: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "string"}}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "plain": OBJ,
    "ecma pattern": {
        "type": "object",
        "properties": {"name": {"type": "string", "pattern": "^[^\\p{Cc}]+$"}},
    },
    "good pattern": {"type": "object", "properties": {"x": {"type": "string", "pattern": "^a+$"}}},
    "pattern as data": {
        "type": "object",
        "properties": {"x": {"type": "string", "default": {"pattern": "\\p{L}"}}},
    },
    "nested patterns": {
        "type": "object",
        "properties": {
            "list": {"type": "array", "items": {"type": "string", "pattern": "\\p{L}"}},
            "union": {"anyOf": [{"type": "string", "pattern": "(?<n>x)"}, {"type": "null"}]},
        },
        "$defs": {"d": {"type": "string", "pattern": "\\p{N}"}},
    },
    "pattern properties, closed": {
        "type": "object",
        "patternProperties": {"^\\p{L}+$": {"type": "string"}, "^x": {"type": "number"}},
        "additionalProperties": False,
    },
    "pattern properties, two dropped": {
        "type": "object",
        "patternProperties": {"^\\p{L}+$": {"type": "string"}, "\\p{N}": {"type": "number"}},
        "additionalProperties": False,
    },
    "pattern properties, open": {
        "type": "object",
        "patternProperties": {"^\\p{L}+$": {"type": "string"}},
    },
    "top-level anyOf": {
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "c"]},
            {"type": "object", "properties": {"b": {"type": "number"}}, "required": ["c"]},
        ]
    },
    "top-level allOf with type": {
        "type": "object",
        "properties": {"z": {"type": "string"}},
        "required": ["z"],
        "allOf": [
            {"properties": {"a": {"type": "string"}, "z": {"type": "number"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string"}}, "required": ["b"]},
        ],
    },
    "oneOf with refs": {
        "oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/definitions/B"}],
        "$defs": {"A": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "definitions": {"B": {"type": "object", "properties": {"b": {"type": "string"}}}},
    },
    "cyclic ref": {
        "anyOf": [{"$ref": "#/$defs/A"}],
        "$defs": {"A": {"anyOf": [{"$ref": "#/$defs/A"}]}},
    },
    "dangling ref": {"anyOf": [{"$ref": "#/$defs/missing"}, OBJ]},
    "external ref": {"anyOf": [{"$ref": "https://example.com/s.json"}]},
    "non-object union": {"anyOf": [{"type": "string"}, {"type": "number"}]},
    "boolean branch": {"anyOf": [True, OBJ]},
    "nested combinators": {
        "anyOf": [{"allOf": [OBJ, {"properties": {"b": {"type": "string"}}}]}, OBJ]
    },
    "enum at the top": {"type": "object", "properties": {}, "enum": [{}]},
    "const and not at the top": {"type": "object", "const": {}, "not": {"required": ["x"]}},
    "enum on a non-object": {"type": "string", "enum": ["a"]},
    "nested combinator only": {"type": "object", "properties": {"u": {"oneOf": [OBJ, OBJ]}}},
    "both rewrites": {"anyOf": [{"type": "object", "properties": {"p": {"pattern": "\\p{L}"}}}]},
}


@pytest.fixture(scope="module")
def sanitizers() -> Any:
    import_litellm()
    from litellm.litellm_core_utils.prompt_templates import common_utils

    return common_utils


def claude_code_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for path in sorted((DATA / "claude-code").glob("*.json")):
        for tool in json.loads(path.read_text()).get("tools", []):
            schemas[f"{path.stem}:{tool['name']}"] = tool.get("input_schema") or {}
    return schemas


ALL = {**SCHEMAS, **claude_code_schemas()}


@pytest.mark.parametrize("name", list(ALL))
def test_same_as_litellm(name: str, sanitizers: Any) -> None:
    schema = ALL[name]
    original = copy.deepcopy(schema)
    assert drop_uncompilable_patterns(schema) == sanitizers.drop_non_python_regex_patterns(schema)
    assert flatten_top_level(schema) == sanitizers.flatten_top_level_schema_combinators(schema)
    assert sanitize_for_openai_host(schema) == (
        sanitizers.flatten_combinators_and_drop_non_python_regex_patterns(schema)
    )
    assert schema == original  # never mutated


def test_unchanged_schemas_come_back_as_the_same_object() -> None:
    for name in ("plain", "good pattern", "pattern as data", "non-object union", "cyclic ref"):
        schema = SCHEMAS[name]
        assert sanitize_for_openai_host(schema) is schema, name
    tools = [{"type": "function", "function": {"name": "t", "parameters": OBJ}}]
    assert sanitize_tools(tools, official_host=True) is tools


def test_examples_of_what_changes() -> None:
    assert drop_uncompilable_patterns(SCHEMAS["ecma pattern"]) == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    }
    assert drop_uncompilable_patterns(SCHEMAS["pattern properties, closed"]) == {
        "type": "object",
        "patternProperties": {"^x": {"type": "number"}},
        "additionalProperties": {"type": "string"},
    }
    assert flatten_top_level(SCHEMAS["top-level anyOf"]) == {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "number"}},
        "required": ["c"],
    }


def test_only_official_hosts_get_flattened() -> None:
    tool = {"type": "function", "function": {"name": "t", "parameters": SCHEMAS["both rewrites"]}}
    custom = sanitize_tools([tool], official_host=False)[0]["function"]["parameters"]
    official = sanitize_tools([tool], official_host=True)[0]["function"]["parameters"]
    assert custom == {"anyOf": [{"type": "object", "properties": {"p": {}}}]}
    assert official == {"type": "object", "properties": {"p": {}}}
