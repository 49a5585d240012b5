"""Structured outputs: Anthropic's `output_config.format` -> the upstream's JSON schema mode.

The client asks with `output_config: {format: {type: "json_schema", schema}}` (or the beta's
older top-level `output_format`), and expects one text block holding JSON that matches it.
Two ways to get there:

    the target                                     the request                the answer
    ---------------------------------------------  -------------------------  ----------------
    takes response_format with a schema            response_format json_schema text: passes as is
    (unknown models too: the upstream judges)      (strict when OpenAI's
                                                   strict rules allow it)
    says it cannot (the map's supports_response_   one more tool, `ANSWER_    its call's arguments
    schema false, or no response_format at all)    TOOL`, forced by tool_     become the text
                                                   choice                     (`AnswerTool`)

The forced tool's parameters must be an object; another root schema is wrapped in one
property, `value`, and unwrapped again. With client tools beside it, the choice is
"required" (the model calls one of the client's tools or answers), unless the client named a
tool itself.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.response import first_choice
from claude_proxy.translate.target import Target

ANSWER_TOOL = "structured_answer"
ANSWER_DESCRIPTION = (
    "Give your final answer by calling this function: its arguments are the answer."
)
SCHEMA_NAME = "answer"
WRAPPER_KEY = "value"

# OpenAI's strict mode (platform.openai.com/docs/guides/structured-outputs#supported-schemas).
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
STRICT_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
STRICT_MAX_DEPTH = 10


def output_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a validated body asks the answer to match, or None."""
    config = body.get("output_config")
    found = config.get("format") if isinstance(config, dict) else None
    if found is None:
        found = body.get("output_format")
    if isinstance(found, dict) and found.get("type") == "json_schema":
        schema = found.get("schema")
        return schema if isinstance(schema, dict) else None
    return None


def check_output_format(body: dict[str, Any]) -> None:
    """Raise `InvalidRequestError` for an output format that cannot be served."""
    config = body.get("output_config")
    if "output_config" in body and config is not None and not isinstance(config, dict):
        raise InvalidRequestError("output_config: expected an object")
    for path, found in (
        ("output_config.format", config.get("format") if isinstance(config, dict) else None),
        ("output_format", body.get("output_format")),
    ):
        if found is None:
            continue
        if not isinstance(found, dict) or found.get("type") != "json_schema":
            raise InvalidRequestError(f"{path}.type: expected json_schema")
        if not isinstance(found.get("schema"), dict):
            raise InvalidRequestError(f"{path}.schema: expected a JSON schema object")


@dataclass(frozen=True)
class AnswerTool:
    """The forced tool a request's answer comes through, and whether the schema is wrapped."""

    wrapped: bool
    name: str = ANSWER_TOOL


def answer_tool(body: dict[str, Any], target: Target) -> AnswerTool | None:
    """The forced tool serving the body's schema on this target; None when it needs none."""
    schema = output_schema(body)
    if schema is None or takes_response_schema(target):
        return None
    return AnswerTool(wrapped=schema.get("type") != "object")


def takes_response_schema(target: Target) -> bool:
    listed = not target.supported_params or "response_format" in target.supported_params
    return listed and target.supports_response_schema is not False


def fits_strict_mode(schema: Any) -> bool:
    """Whether OpenAI's strict mode takes the schema unchanged: an object at the root, every
    object closed (`additionalProperties: false`) with all its properties required, and only
    the keywords strict mode supports."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return False
    return _fits(schema, 0)


def _fits(node: Any, depth: int) -> bool:
    if not isinstance(node, dict) or depth > STRICT_MAX_DEPTH:
        return False
    if not set(node) <= STRICT_KEYWORDS:
        return False
    kinds = node.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not all(kind in STRICT_TYPES for kind in kinds):
        return False
    if "format" in node and node["format"] not in STRICT_FORMATS:
        return False
    if "object" in kinds or "properties" in node:
        properties = node.get("properties", {})
        if not isinstance(properties, dict) or node.get("additionalProperties") is not False:
            return False
        required = node.get("required", [])
        if not isinstance(required, list) or set(required) != set(properties):
            return False
        if not all(_fits(child, depth + 1) for child in properties.values()):
            return False
    children: list[Any] = []
    if "items" in node:
        children.append(node["items"])
    if "anyOf" in node:
        if not isinstance(node["anyOf"], list):
            return False
        children += node["anyOf"]
    for key in ("$defs", "definitions"):
        if key in node:
            if not isinstance(node[key], dict):
                return False
            children += node[key].values()
    return all(_fits(child, depth + 1) for child in children)


def output_params(
    body: dict[str, Any], target: Target, tools: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """The request fields serving the body's schema: `response_format`, or the forced
    `tools` and `tool_choice` (`tools` being the client's, already translated)."""
    schema = output_schema(body)
    if schema is None:
        return {}
    forced = answer_tool(body, target)
    if forced is None:
        json_schema: dict[str, Any] = {
            "name": SCHEMA_NAME,
            "schema": copy.deepcopy(schema),
            "strict": fits_strict_mode(schema),
        }
        return {"response_format": {"type": "json_schema", "json_schema": json_schema}}
    parameters = copy.deepcopy(schema)
    if forced.wrapped:
        parameters = {
            "type": "object",
            "properties": {WRAPPER_KEY: parameters},
            "required": [WRAPPER_KEY],
        }
    function = {"name": forced.name, "description": ANSWER_DESCRIPTION, "parameters": parameters}
    params: dict[str, Any] = {"tools": [*(tools or []), {"type": "function", "function": function}]}
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool":
        return params  # the client's own named tool stays forced (tool_params set it)
    if tools and choice.get("type") != "none":
        params["tool_choice"] = "required"
    else:
        params["tool_choice"] = {"type": "function", "function": {"name": forced.name}}
    return params


# --- the answer ---------------------------------------------------------------------------


def answer_text(arguments: str, forced: AnswerTool) -> str:
    """The answer's JSON text from the forced call's arguments (unwrapped when wrapped)."""
    if not forced.wrapped:
        return arguments
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(parsed, dict) and WRAPPER_KEY in parsed:
        return json.dumps(parsed[WRAPPER_KEY], ensure_ascii=False)
    return arguments


def with_text_answer(response: dict[str, Any], forced: AnswerTool) -> dict[str, Any]:
    """A completion whose forced call became text content (finish_reason stop); other tool
    calls stay as they are."""
    choice = first_choice(response.get("choices"))
    message = choice.get("message")
    if not isinstance(message, dict):
        return response
    calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    answers = [c for c in calls if (c.get("function") or {}).get("name") == forced.name]
    if not answers:
        return response
    arguments = answers[0]["function"].get("arguments")
    text = answer_text(arguments if isinstance(arguments, str) else "", forced)
    others = [c for c in calls if c not in answers]
    fixed = {**message, "content": (message.get("content") or "") + text}
    fixed["tool_calls"] = others or None
    finish = choice.get("finish_reason")
    new_choice = {**choice, "message": fixed}
    if not others and finish in ("tool_calls", "function_call"):
        new_choice["finish_reason"] = "stop"
    choices = [new_choice if c is choice else c for c in response["choices"]]
    return {**response, "choices": choices}


class TextAnswerStream:
    """A chunk filter doing `with_text_answer` on a stream: the forced call's argument
    fragments become content deltas as they come. Wrapped schemas wait for the whole call,
    since only then can `value` be unwrapped."""

    def __init__(self, forced: AnswerTool) -> None:
        self._forced = forced
        self._index: int | None = None  # the forced call's index, once its name was seen
        self._others = False
        self._held: list[str] = []

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        choices = chunk.get("choices")
        choice = first_choice(choices)
        delta = choice.get("delta")
        if not isinstance(delta, dict) or not isinstance(choices, list):
            return [chunk]
        text, kept = self._split(delta.get("tool_calls"))
        finish = choice.get("finish_reason")
        ends_answer = finish in ("tool_calls", "function_call") and self._index is not None
        if not text and kept is delta.get("tool_calls") and not ends_answer:
            return [chunk]
        fixed = {**delta, "tool_calls": kept or None}
        if text:
            fixed["content"] = (delta.get("content") or "") + text
        new_choice = {**choice, "delta": fixed}
        if ends_answer and not self._others:
            new_choice["finish_reason"] = "stop"
            if self._held:
                fixed["content"] = (fixed.get("content") or "") + self._release()
        return [{**chunk, "choices": [new_choice if c is choice else c for c in choices]}]

    def finish(self) -> list[dict[str, Any]]:
        if not self._held:
            return []
        delta = {"content": self._release()}
        return [{"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}]

    def _release(self) -> str:
        arguments, self._held = "".join(self._held), []
        return answer_text(arguments, self._forced)

    def _split(self, fragments: Any) -> tuple[str, Any]:
        if not isinstance(fragments, list):
            return "", fragments
        text: list[str] = []
        kept: list[Any] = []
        for fragment in fragments:
            function = fragment.get("function") if isinstance(fragment, dict) else None
            function = function if isinstance(function, dict) else {}
            index = fragment.get("index", 0) if isinstance(fragment, dict) else None
            if function.get("name") == self._forced.name and self._index is None:
                self._index = index
            if self._index is not None and index == self._index:
                arguments = function.get("arguments")
                if isinstance(arguments, str):
                    (self._held if self._forced.wrapped else text).append(arguments)
                continue
            self._others = True
            kept.append(fragment)
        if not text and len(kept) == len(fragments):
            return "", fragments
        return "".join(text), kept
