"""JSON Schema -> what Gemini's function declarations accept (Gemini's `Schema` object).

Gemini answers 400 "Invalid JSON payload received. Unknown name ..." to keys outside its Schema;
LiteLLM's `build_vertex_schema`, which runs after this on every tool, deletes such keys, meaning
and all. `sanitize_schema` rewrites instead:

    const: "x"                            type: string, enum: ["x"]  (numbers: minimum = maximum)
    type: [T, "null"], anyOf [.., null]   nullable: true  (several non-null types: anyOf)
    oneOf / allOf / $ref, $defs           anyOf / merged into one schema / inlined (cycles: object)
    exclusiveMinimum / exclusiveMaximum   minimum / maximum (the next integer for integers)
    enums on non-strings, "" in an enum,  words in `description`: "(default: 5; format: uri)"
    other formats, default, examples, ...
    $schema, additionalProperties, ...    dropped

The output is a fixed point of `build_vertex_schema` (tested), so LiteLLM's three rewrites that
lose meaning never fire: a typeless `{"const": "file"}` -> `{"type": "object"}` (every node here
has a type or is a bare anyOf), oneOf/allOf -> `{}` (only anyOf, with nothing beside it), and
"" in an enum -> null (no enum here holds "").
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import unquote

Schema = dict[str, Any]

TYPES = ("string", "integer", "number", "boolean", "array", "object")
STRING_FORMATS = frozenset({"enum", "date-time"})
COUNTS = {
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
    "object": ("minProperties", "maxProperties"),
}
MINIMA = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
MAXIMA = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})
KEYWORD_TYPES = (
    ("object", ("properties", "required", "additionalProperties", "propertyNames")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")),
    ("string", ("pattern", "minLength", "maxLength", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)
# Gemini has no "any" type; LiteLLM stands in an object for it, and so does this.
ANY_TYPE = "object"
# Keywords about a whole union, not constraints each of its branches must meet.
ANNOTATIONS = frozenset(
    {"description", "title", "nullable", "default", "examples", "example", "deprecated"}
)
EXTRA_PATTERNS = "x-extra-patterns"  # allOf's patterns beyond the first, carried to the notes


def sanitize_schema(schema: Any) -> Schema:
    """Gemini's form of a tool's `parameters` JSON Schema; the input is left untouched."""
    root = schema if isinstance(schema, dict) else {}
    return _Sanitizer(root).convert(root, ())


class _Sanitizer:
    """Converts the nodes of one schema document; `root` resolves its `$ref`s."""

    def __init__(self, root: Schema) -> None:
        self.root = root

    def convert(self, node: Any, refs: tuple[str, ...]) -> Schema:
        node, refs, notes = self.expand(node, refs)
        branches = node.get("anyOf", node.get("oneOf"))
        if isinstance(branches, list) and branches:
            shared = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            return self.convert_union(shared, branches, refs, notes)
        if "const" in node:
            node, const_notes = without_const(node)
            notes += const_notes
        kinds = types_of(node)
        nullable = node.get("nullable") is True or "null" in kinds
        kinds = [kind for kind in kinds if kind != "null"]
        if len(kinds) > 1:
            shared = {k: v for k, v in node.items() if k != "type"}
            shared["nullable"] = nullable
            return self.convert_union(shared, [{"type": kind} for kind in kinds], refs, notes)
        kind = kinds[0] if kinds else inferred_type(node)
        out: Schema = {"type": kind}
        if isinstance(node.get("title"), str):
            out["title"] = node["title"]
        if "example" in node:
            out["example"] = node["example"]
        values = node.get("enum")
        if isinstance(values, list) and None in values:
            nullable = True
        if nullable:
            out["nullable"] = True
        if kind == "string":
            notes += self.string_fields(node, out)
        elif kind in ("integer", "number"):
            notes += number_fields(node, kind, out)
        elif kind == "array":
            notes += self.array_fields(node, out, refs)
        elif kind == "object":
            notes += self.object_fields(node, out, refs)
        if kind != "string" and isinstance(values, list):
            notes.append("one of: " + ", ".join(shown(v) for v in values if v is not None))
        notes += common_notes(node)
        described = with_notes(node.get("description"), notes)
        if described:
            out["description"] = described
        return out

    def expand(self, node: Any, refs: tuple[str, ...]) -> tuple[Schema, tuple[str, ...], list[str]]:
        """The node with its `$ref` inlined and its `allOf` merged in, and any notes."""
        if not isinstance(node, dict):
            return {}, refs, []  # true, false: JSON Schema's "anything" and "nothing"
        notes: list[str] = []
        while isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if ref in refs:
                name = ref.removeprefix("#").rsplit("/", 1)[-1]
                notes.append(f"same shape as {name or 'the whole input'}")
                return {"type": ANY_TYPE, **siblings}, refs, notes
            target = self.resolve(ref)
            refs = (*refs, ref)
            node = merged(siblings, target) if target else siblings
        parts = node.get("allOf")
        if isinstance(parts, list):
            node = {k: v for k, v in node.items() if k != "allOf"}
            for part in parts:
                expanded, _, part_notes = self.expand(part, refs)
                node = merged(node, expanded)
                notes += part_notes
        return node, refs, notes

    def resolve(self, ref: str) -> Schema | None:
        """The schema a local JSON pointer (`#`, `#/$defs/Name`) names; None for any other."""
        if not ref.startswith("#"):
            return None
        found: Any = self.root
        for token in filter(None, ref[1:].split("/")):
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(found, dict):
                found = found.get(token)
            elif isinstance(found, list) and token.isdigit() and int(token) < len(found):
                found = found[int(token)]
            else:
                return None
        return found if isinstance(found, dict) else None

    def convert_union(
        self, shared: Schema, branches: list[Any], refs: tuple[str, ...], notes: list[str]
    ) -> Schema:
        """`anyOf` with `shared` applied to every branch: null branches become `nullable`."""
        nullable = shared.get("nullable") is True
        constraints = {k: v for k, v in shared.items() if k not in ANNOTATIONS}
        converted: list[Schema] = []
        for branch in branches:
            expanded, branch_refs, branch_notes = self.expand(branch, refs)
            full = merged(expanded, constraints)
            if is_null(full):
                nullable = True
                continue
            result = self.convert(full, branch_refs)
            if branch_notes:
                result = annotated(result, with_notes(None, branch_notes), None, False)
            for one in result.get("anyOf", [result]):
                nullable = nullable or one.pop("nullable", False) is True
                if one not in converted:
                    converted.append(one)
        converted = collapsed_enums(converted)
        if not converted:
            out: Schema = {"type": ANY_TYPE}
        elif len(converted) == 1:
            out = converted[0]
        else:
            out = {"anyOf": converted}
        description = with_notes(shared.get("description"), notes + common_notes(shared))
        title = shared.get("title") if isinstance(shared.get("title"), str) else None
        return annotated(out, description, title, nullable)

    def string_fields(self, node: Schema, out: Schema) -> list[str]:
        notes: list[str] = []
        copy_counts(node, COUNTS["string"], out)
        values = node.get("enum")
        if isinstance(values, list):
            strings = unique(v if isinstance(v, str) else shown(v) for v in values if v is not None)
            if strings == [""]:
                out["maxLength"] = 0
            elif "" in strings:
                # Gemini refuses "" in an enum and LiteLLM would turn it into null.
                notes.append("one of: " + ", ".join(json.dumps(v) for v in strings))
            elif strings:
                out["enum"] = strings
        fmt = node.get("format")
        if fmt in STRING_FORMATS:
            out["format"] = fmt
        elif isinstance(fmt, str):
            notes.append(f"format: {fmt}")
        if isinstance(node.get("pattern"), str):
            out["pattern"] = node["pattern"]
        extra = node.get(EXTRA_PATTERNS)
        for pattern in extra if isinstance(extra, list) else []:
            notes.append(f"must also match the regular expression {json.dumps(pattern)}")
        return notes

    def array_fields(self, node: Schema, out: Schema, refs: tuple[str, ...]) -> list[str]:
        items = node.get("items", node.get("prefixItems"))
        if isinstance(items, list):
            out["items"] = self.convert_union({}, items, refs, []) if items else {"type": ANY_TYPE}
        else:
            out["items"] = self.convert(items, refs)
        copy_counts(node, COUNTS["array"], out)
        return ["items must be unique"] if node.get("uniqueItems") is True else []

    def object_fields(self, node: Schema, out: Schema, refs: tuple[str, ...]) -> list[str]:
        properties = node.get("properties")
        converted = {
            name: self.convert(schema, refs)
            for name, schema in (properties.items() if isinstance(properties, dict) else ())
            if schema is not False  # a property that can never be given
        }
        if converted:
            out["properties"] = converted
            required = node.get("required")
            names = unique(n for n in required or () if n in converted)
            if names:
                out["required"] = names
            ordering = node.get("propertyOrdering")
            if isinstance(ordering, list) and ordering and all(n in converted for n in ordering):
                out["propertyOrdering"] = list(ordering)
        copy_counts(node, COUNTS["object"], out)
        extra = node.get("additionalProperties")
        if not converted and isinstance(extra, dict) and isinstance(extra.get("type"), str):
            return [f"any keys, each value a {extra['type']}"]
        return []


def types_of(node: Schema) -> list[str]:
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return unique(k for k in kinds if isinstance(k, str) and (k in TYPES or k == "null"))


def inferred_type(node: Schema) -> str:
    """The type a typeless schema means, from its other keywords."""
    values = node.get("enum")
    kinds = (
        unique(json_type(v) for v in values if v is not None) if isinstance(values, list) else []
    )
    if kinds:
        if set(kinds) == {"integer", "number"}:
            return "number"
        return kinds[0] if len(kinds) == 1 else "string"
    return next((kind for kind, words in KEYWORD_TYPES if any(w in node for w in words)), ANY_TYPE)


def without_const(node: Schema) -> tuple[Schema, list[str]]:
    """`const` as what Gemini has: a one-value string enum, equal bounds, or words."""
    value = node["const"]
    rest = {k: v for k, v in node.items() if k != "const"}
    if isinstance(value, str) or value is None:
        return {**rest, "enum": [value]}, []
    rest.setdefault("type", json_type(value))
    if is_number(value):
        return {**rest, "minimum": value, "maximum": value}, []
    return rest, [f"always {shown(value)}"]


def json_type(value: Any) -> str:
    kinds = (("boolean", bool), ("integer", int), ("number", float), ("object", dict))
    return next(
        (kind for kind, cls in kinds if isinstance(value, cls)),
        "array" if isinstance(value, list) else "string",
    )


def is_null(node: Schema) -> bool:
    const_null = "const" in node and node["const"] is None
    return types_of(node) == ["null"] or const_null or node.get("enum") == [None]


def number_fields(node: Schema, kind: str, out: Schema) -> list[str]:
    notes: list[str] = []
    for bound, exclusive, step in (
        ("minimum", "exclusiveMinimum", 1),
        ("maximum", "exclusiveMaximum", -1),
    ):
        inclusive = node.get(bound) if is_number(node.get(bound)) else None
        strict = node.get(exclusive)
        if strict is True:  # draft 4: the bound itself is exclusive
            strict, inclusive = inclusive, None
        if not is_number(strict):
            strict = None
        if strict is not None and kind == "integer":
            strict = math.floor(strict) + 1 if step > 0 else math.ceil(strict) - 1
        elif strict is not None:
            notes.append(("greater" if step > 0 else "less") + f" than {shown(strict)}")
        candidates = [v for v in (inclusive, strict) if v is not None]
        if candidates:
            out[bound] = max(candidates) if step > 0 else min(candidates)
    if is_number(node.get("multipleOf")):
        notes.append(f"a multiple of {shown(node['multipleOf'])}")
    return notes


def common_notes(node: Schema) -> list[str]:
    notes: list[str] = []
    description = node.get("description")
    mentions_default = isinstance(description, str) and "default" in description.lower()
    if "default" in node and not mentions_default:
        notes.append(f"default: {shown(node['default'])}")
    examples = node.get("examples")
    if isinstance(examples, list) and examples and "example" not in node:
        notes.append(f"for example {shown(examples[0])}")
    if node.get("deprecated") is True:
        notes.append("deprecated")
    return notes


def with_notes(description: Any, notes: list[str]) -> str | None:
    """`description (note; note)`, or the notes alone, capitalised, when there is none."""
    text = description.strip() if isinstance(description, str) else ""
    if not notes:
        return text or None
    joined = "; ".join(notes)
    return f"{text} ({joined})" if text else joined[0].upper() + joined[1:]


def annotated(schema: Schema, description: str | None, title: str | None, nullable: bool) -> Schema:
    """The schema with an outer description, title and nullability; pushed into anyOf branches,
    because Gemini (and LiteLLM) want nothing beside an anyOf."""
    if "anyOf" in schema:
        return {"anyOf": [annotated(b, description, title, nullable) for b in schema["anyOf"]]}
    out = dict(schema)
    if title and "title" not in out:
        out["title"] = title
    if description:
        inner = out.get("description")
        out["description"] = (
            description if inner in (None, description) else f"{description} {inner}"
        )
    if nullable:
        out["nullable"] = True
    return out


def collapsed_enums(branches: list[Schema]) -> list[Schema]:
    """Branches that are all plain string enums, as one enum holding every value."""
    plain = {"type", "enum", "description", "title"}
    if len(branches) < 2 or not all(
        b.get("type") == "string" and "enum" in b and set(b) <= plain for b in branches
    ):
        return branches
    out: Schema = {"type": "string", "enum": unique(v for b in branches for v in b["enum"])}
    descriptions = unique(b["description"] for b in branches if "description" in b)
    if descriptions:
        out["description"] = " ".join(descriptions)
    return [out]


def merged(base: Schema, extra: Schema) -> Schema:
    """Both schemas at once (allOf): bounds take the tighter, lists combine, else `base` wins."""
    out = dict(base)
    for key, value in extra.items():
        mine: Any = out.get(key)
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(mine, dict) and isinstance(value, dict):
            properties = dict(mine)
            for name, schema in value.items():
                properties[name] = {"allOf": [mine[name], schema]} if name in mine else schema
            out[key] = properties
        elif key == "required" and isinstance(mine, list) and isinstance(value, list):
            out[key] = unique([*mine, *value])
        elif key == "enum" and isinstance(mine, list) and isinstance(value, list):
            out[key] = [v for v in mine if v in value] or mine
        elif key == "type" and mine != value:
            theirs = value if isinstance(value, list) else [value]
            common = [t for t in (mine if isinstance(mine, list) else [mine]) if t in theirs]
            out[key] = common[0] if len(common) == 1 else common or mine
        elif key in MINIMA and is_number(mine) and is_number(value):
            out[key] = max(mine, value)
        elif key in MAXIMA and is_number(mine) and is_number(value):
            out[key] = min(mine, value)
        elif key == "pattern" and value != mine:
            out[EXTRA_PATTERNS] = [*out.get(EXTRA_PATTERNS, []), value]
        elif key == EXTRA_PATTERNS:
            out[key] = [*mine, *value]
    return out


def copy_counts(node: Schema, names: tuple[str, ...], out: Schema) -> None:
    for name in names:
        value: Any = node.get(name)
        if is_number(value) and value >= 0 and float(value).is_integer():
            out[name] = int(value)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def unique(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
