"""Tool schemas as OpenAI's Chat Completions validator accepts them (what LiteLLM 1.106 sends).

OpenAI checks tool `parameters` with Python's `jsonschema`, so two things fail a request:

- a `pattern` (or `patternProperties` key) Python's `re` cannot compile, such as the ECMA
  `\\p{Cc}` in some of Claude Code's tools: `drop_uncompilable_patterns` removes it, from
  schema positions only (a `pattern` key inside `default` or `const` is data). A dropped
  `patternProperties` entry of a closed object (`additionalProperties: false`) becomes its
  `additionalProperties`, so the names it allowed stay allowed.
- `allOf`/`anyOf`/`oneOf`/`enum`/`const`/`not` at the top level (nested ones are fine):
  `flatten_top_level` merges object branches into one object (the top level's properties
  win, then earlier branches; `required` is the union for allOf, the intersection for
  anyOf/oneOf), following local `$ref`s. A schema it cannot merge whole stays as it was.

Both return the very object they were given when nothing changes. LiteLLM applies the first
to every `openai/` request and the second only when the host is api.openai.com: other hosts
behind the openai prefix (vLLM, a gateway) may accept unions.
"""

from __future__ import annotations

import re
from typing import Any

Schema = dict[str, Any]

_MAP_KEYWORDS = frozenset(
    {"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"}
)
_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "items", "oneOf", "prefixItems"})
_ONE_KEYWORDS = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_COMBINATORS = ("allOf", "anyOf", "oneOf")
_REJECTED_AT_TOP = ("enum", "const", "not")
_REF_PREFIXES = (("#/$defs/", "$defs"), ("#/definitions/", "definitions"))
_MAX_FLATTEN_DEPTH = 32
_MAX_WALK_DEPTH = 512


def sanitize_tools(tools: list[Any], *, official_host: bool) -> list[Any]:
    """The tools with each function's parameters sanitized; `tools` itself if none changed."""
    sanitize = sanitize_for_openai_host if official_host else drop_uncompilable_patterns
    out = [sanitized_tool(tool, sanitize) if isinstance(tool, dict) else tool for tool in tools]
    return tools if all(new is old for new, old in zip(out, tools, strict=True)) else out


def sanitize_for_openai_host(schema: Schema) -> Schema:
    return flatten_top_level(drop_uncompilable_patterns(schema))


def sanitized_tool(tool: dict[str, Any], sanitize: Any) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("parameters"), dict):
        return tool
    parameters = function["parameters"]
    sanitized = sanitize(parameters)
    if sanitized is parameters:
        return tool
    return {**tool, "function": {**function, "parameters": sanitized}}


# --- patterns ----------------------------------------------------------------------------------


def is_python_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError):
        return False
    return True


def drop_uncompilable_patterns(schema: Schema, depth: int = 0) -> Schema:
    if depth > _MAX_WALK_DEPTH:
        return schema
    kept = {
        key: _rebuilt(key, value, depth)
        for key, value in schema.items()
        if key != "pattern" or not isinstance(value, str) or is_python_regex(value)
    }
    if len(kept) == len(schema) and all(kept[key] is schema[key] for key in kept):
        return schema
    before, after = schema.get("patternProperties"), kept.get("patternProperties")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return kept
    dropped = [
        drop_uncompilable_patterns(sub, depth + 1) if isinstance(sub, dict) else sub
        for name, sub in before.items()
        if name not in after
    ]
    if not dropped or kept.get("additionalProperties") is not False:
        return kept
    return {**kept, "additionalProperties": dropped[0] if len(dropped) == 1 else {"anyOf": dropped}}


def _rebuilt(key: str, value: Any, depth: int) -> Any:
    if key in _MAP_KEYWORDS and isinstance(value, dict):
        kept = {
            name: drop_uncompilable_patterns(sub, depth + 1) if isinstance(sub, dict) else sub
            for name, sub in value.items()
            if key != "patternProperties" or not isinstance(name, str) or is_python_regex(name)
        }
        unchanged = len(kept) == len(value) and all(kept[name] is value[name] for name in kept)
        return value if unchanged else kept
    if key in _LIST_KEYWORDS and isinstance(value, list):
        items = [
            drop_uncompilable_patterns(sub, depth + 1) if isinstance(sub, dict) else sub
            for sub in value
        ]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    if key in _ONE_KEYWORDS and isinstance(value, dict):
        return drop_uncompilable_patterns(value, depth + 1)
    return value


# --- top-level combinators ---------------------------------------------------------------------


def flatten_top_level(schema: Schema) -> Schema:
    return _flatten(schema, schema, frozenset(), 0, {})


def _flatten(
    schema: Schema, root: Schema, seen: frozenset[str], depth: int, memo: dict[str, Schema | None]
) -> Schema:
    groups = [
        (name, [_mergeable(root, branch, seen, depth + 1, memo) for branch in schema[name]])
        for name in _COMBINATORS
        if isinstance(schema.get(name), list)
    ]
    dropped = {name for name, _ in groups} | {key for key in _REJECTED_AT_TOP if key in schema}
    if not dropped:
        return schema
    if any(branch is None for _, group in groups for branch in group):
        return schema
    branches = [branch for _, group in groups for branch in group if branch is not None]
    is_object = is_object_schema(schema) or (
        "type" not in schema and bool(branches) and all(map(is_object_schema, branches))
    )
    if not is_object:
        return schema
    properties = {
        name: value
        for source in (*reversed(branches), schema)
        for name, value in properties_of(source).items()
    }
    required = required_of(schema).union(
        *(_combined_required(name, [b for b in group if b is not None]) for name, group in groups)
    )
    kept = {key: value for key, value in schema.items() if key not in dropped}
    flat: Schema = {**kept, "type": "object", "properties": properties}
    if required:
        flat["required"] = sorted(required)
    return flat


def _mergeable(
    root: Schema, branch: Any, seen: frozenset[str], depth: int, memo: dict[str, Schema | None]
) -> Schema | None:
    """The branch as an object schema free of combinators, or None when it cannot be merged."""
    if not isinstance(branch, dict) or depth > _MAX_FLATTEN_DEPTH:
        return None
    ref = branch.get("$ref")
    if not isinstance(ref, str):
        flat = _flatten(branch, root, seen, depth, memo)
        return None if any(name in flat for name in _COMBINATORS) else flat
    if ref in memo:
        return memo[ref]
    if ref in seen:
        return None  # a cycle
    target = resolve_local_ref(root, ref)
    expanded = None if target is None else _mergeable(root, target, seen | {ref}, depth + 1, memo)
    memo[ref] = expanded
    return expanded


def resolve_local_ref(root: Schema, ref: str) -> Schema | None:
    for prefix, container in _REF_PREFIXES:
        if ref.startswith(prefix):
            definitions = root.get(container)
            if not isinstance(definitions, dict):
                return None
            target = definitions.get(ref[len(prefix) :])
            return target if isinstance(target, dict) else None
    return None


def is_object_schema(schema: Schema) -> bool:
    return schema.get("type") == "object" or ("type" not in schema and "properties" in schema)


def properties_of(schema: Schema) -> dict[str, Any]:
    properties = schema.get("properties")
    return properties if isinstance(properties, dict) else {}


def required_of(schema: Schema) -> frozenset[str]:
    required = schema.get("required")
    if not isinstance(required, list):
        return frozenset()
    return frozenset(name for name in required if isinstance(name, str))


def _combined_required(combinator: str, branches: list[Schema]) -> frozenset[str]:
    names = [required_of(branch) for branch in branches]
    if not names:
        return frozenset()
    if combinator == "allOf":
        return names[0].union(*names[1:])
    return names[0].intersection(*names[1:])
