"""A fake Gemini API (generativelanguage.googleapis.com) on 127.0.0.1, scripted per test.

Real LiteLLM talks to it exactly as it would to Google: `POST {base}/models/{model}:generateContent`
(JSON) and `:streamGenerateContent?alt=sse` (one GenerateContentResponse per `data:` line), the
key in the `x-goog-api-key` header. Like Gemini, it refuses what Gemini refuses, with Gemini's
own error JSON and wording: unknown fields anywhere in the request ("Invalid JSON payload
received. Unknown name ..."), tool schemas outside Gemini's `Schema` (see `schema_problems`),
turns that do not alternate, function responses that do not answer the call turn before them,
and, once it has handed out a thought signature, a function call replayed without it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "gemini-test-key-0001"
THOUGHT_SIGNATURE_DOCS = "https://ai.google.dev/gemini-api/docs/thought-signatures"

# Gemini's Schema fields (https://ai.google.dev/api/caching#Schema); proto JSON accepts the
# lowerCamel and the snake_case spelling of each.
SCHEMA_FIELDS = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)
SCHEMA_TYPES = frozenset({"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"})
STRING_FORMATS = frozenset({"enum", "date-time"})
COUNT_FIELDS = ("maxItems", "minItems", "minProperties", "maxProperties", "minLength", "maxLength")
REQUEST_FIELDS = frozenset(
    {
        "contents",
        "tools",
        "toolConfig",
        "safetySettings",
        "systemInstruction",
        "generationConfig",
        "cachedContent",
        "serviceTier",
    }
)
GENERATION_CONFIG_FIELDS = frozenset(
    {
        "stopSequences",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "responseModalities",
        "candidateCount",
        "maxOutputTokens",
        "temperature",
        "topP",
        "topK",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
        "responseLogprobs",
        "logprobs",
        "enableEnhancedCivicAnswers",
        "speechConfig",
        "thinkingConfig",
        "mediaResolution",
    }
)
PART_FIELDS = frozenset(
    {
        "text",
        "thought",
        "thoughtSignature",
        "inlineData",
        "fileData",
        "functionCall",
        "functionResponse",
        "executableCode",
        "codeExecutionResult",
        "videoMetadata",
        "mediaResolution",
    }
)
FUNCTION_DECLARATION_FIELDS = frozenset(
    {"name", "description", "parameters", "parametersJsonSchema", "response", "behavior"}
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def known(name: str, fields: frozenset[str]) -> bool:
    return camel(name) in fields


def unknown_name(name: str, path: str) -> str:
    where = f" at '{path}'" if path else ""
    return f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'


def schema_problems(schema: Any, path: str) -> list[str]:
    """What Gemini answers about a function's `parameters`, as Gemini words it; [] if accepted.

    `path` is the JSON-payload path, e.g. `tools[0].function_declarations[2].parameters`.
    Unknown names are reported as parse errors (as Gemini does, before anything else); the rest
    as `GenerateContentRequest.<path>: <problem>` lines.
    """
    unknown: list[str] = []
    semantic: list[str] = []
    _check_schema(schema, path, path, unknown, semantic)
    return unknown or [f"* GenerateContentRequest.{line}" for line in semantic]


def _check_schema(
    schema: Any, json_path: str, named_path: str, unknown: list[str], semantic: list[str]
) -> None:
    if not isinstance(schema, dict):
        unknown.append(f"Invalid value at '{json_path}' (type.googleapis.com/Schema), {schema!r}")
        return
    for key in schema:
        if not known(key, SCHEMA_FIELDS):
            unknown.append(unknown_name(key, json_path))
    fields = {camel(key): value for key, value in schema.items()}
    kind = fields.get("type")
    if isinstance(kind, list):
        unknown.append(
            f"Invalid JSON payload received. Proto field is not repeating, cannot start list. at '{json_path}.type'"
        )
        kind = None
    elif kind is not None and (not isinstance(kind, str) or kind.upper() not in SCHEMA_TYPES):
        unknown.append(
            f"Invalid value at '{json_path}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), {json.dumps(kind)}"
        )
        kind = None
    kind = kind.upper() if isinstance(kind, str) else None
    if "anyOf" in fields:
        # LiteLLM strips siblings of anyOf because Vertex refuses them (BerriAI/litellm#11164).
        others = sorted(set(fields) - {"anyOf"})
        if others:
            semantic.append(f"{named_path}: anyOf must be the only field, found {others}")
        branches = fields["anyOf"]
        if not isinstance(branches, list) or not branches:
            semantic.append(f"{named_path}.any_of: must be a non-empty list")
        else:
            for index, branch in enumerate(branches):
                _check_schema(
                    branch,
                    f"{json_path}.any_of[{index}]",
                    f"{named_path}.any_of[{index}]",
                    unknown,
                    semantic,
                )
        return
    if kind is None and "type" not in fields:
        semantic.append(f"{named_path}.type: must be specified")
    _check_string_rules(fields, kind, json_path, named_path, unknown, semantic)
    _check_object_rules(fields, kind, json_path, named_path, unknown, semantic)
    if "items" in fields:
        if kind != "ARRAY":
            semantic.append(f"{named_path}.items: only allowed for ARRAY type")
        _check_schema(
            fields["items"], f"{json_path}.items", f"{named_path}.items", unknown, semantic
        )
    elif kind == "ARRAY":
        semantic.append(f"{named_path}.items: missing field.")
    for name in COUNT_FIELDS:
        value = fields.get(name)
        if value is not None and not _is_count(value):
            unknown.append(
                f"Invalid value at '{json_path}.{name}' (TYPE_INT64), {json.dumps(value)}"
            )
    for name in ("minimum", "maximum"):
        value = fields.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            unknown.append(
                f"Invalid value at '{json_path}.{name}' (TYPE_DOUBLE), {json.dumps(value)}"
            )
    if "nullable" in fields and not isinstance(fields["nullable"], bool):
        unknown.append(
            f"Invalid value at '{json_path}.nullable' (TYPE_BOOL), {fields['nullable']!r}"
        )


def _check_string_rules(
    fields: dict[str, Any],
    kind: str | None,
    json_path: str,
    named_path: str,
    unknown: list[str],
    semantic: list[str],
) -> None:
    if "enum" in fields:
        values = fields["enum"]
        if kind != "STRING":
            semantic.append(f"{named_path}.enum: only allowed for STRING type")
        if not isinstance(values, list):
            unknown.append(
                f"Invalid value at '{json_path}.enum' (TYPE_STRING), {json.dumps(values)}"
            )
        else:
            for index, value in enumerate(values):
                if not isinstance(value, str):
                    unknown.append(
                        f"Invalid value at '{json_path}.enum[{index}]' (TYPE_STRING), {json.dumps(value)}"
                    )
                elif not value:
                    # LiteLLM rewrites "" in enums because Gemini refuses it (common_utils.py).
                    semantic.append(f"{named_path}.enum[{index}]: cannot be empty")
    if "format" in fields and kind == "STRING" and fields["format"] not in STRING_FORMATS:
        semantic.append(
            f"{named_path}.format: only 'enum' and 'date-time' are supported for STRING type"
        )
    for name in ("pattern", "title", "description", "format"):
        if name in fields and not isinstance(fields[name], str):
            unknown.append(f"Invalid value at '{json_path}.{name}' (TYPE_STRING), {fields[name]!r}")


def _check_object_rules(
    fields: dict[str, Any],
    kind: str | None,
    json_path: str,
    named_path: str,
    unknown: list[str],
    semantic: list[str],
) -> None:
    properties = fields.get("properties")
    if properties is not None:
        if kind != "OBJECT":
            semantic.append(f"{named_path}.properties: only allowed for OBJECT type")
        if not isinstance(properties, dict):
            unknown.append(f"Invalid value at '{json_path}.properties', {properties!r}")
            properties = {}
        for index, (name, value) in enumerate(properties.items()):
            _check_schema(
                value,
                f"{json_path}.properties[{index}].value",
                f"{named_path}.properties[{name}]",
                unknown,
                semantic,
            )
    required = fields.get("required")
    if required is not None:
        if kind != "OBJECT":
            semantic.append(f"{named_path}.required: only allowed for OBJECT type")
        if not isinstance(required, list):
            unknown.append(f"Invalid value at '{json_path}.required', {required!r}")
            return
        for index, name in enumerate(required):
            if not isinstance(name, str) or name not in (properties or {}):
                semantic.append(f"{named_path}.required[{index}]: property is not defined")
    ordering = fields.get("propertyOrdering")
    if ordering is not None and (
        not isinstance(ordering, list) or any(name not in (properties or {}) for name in ordering)
    ):
        semantic.append(f"{named_path}.property_ordering: must name defined properties")


def _is_count(value: Any) -> bool:
    if isinstance(value, str):
        return value.isdigit()
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- scripted answers -------------------------------------------------------------------


def text(value: str, signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"text": value}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def thought(value: str) -> dict[str, Any]:
    return {"text": value, "thought": True}


def call(name: str, args: dict[str, Any], signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


@dataclass
class Reply:
    """One GenerateContentResponse, or the stream of them that adds up to it."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "STOP"
    prompt_tokens: int = 21
    output_tokens: int = 9
    thoughts_tokens: int = 0
    cached_tokens: int = 0
    text_pieces: int = 2
    """How many stream chunks each text part is cut into."""
    first_delay: float = 0.0
    """Seconds before the JSON answer or the first stream chunk."""

    def usage_metadata(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": self.output_tokens,
            "totalTokenCount": self.prompt_tokens + self.output_tokens + self.thoughts_tokens,
        }
        if self.thoughts_tokens:
            usage["thoughtsTokenCount"] = self.thoughts_tokens
        if self.cached_tokens:
            usage["cachedContentTokenCount"] = self.cached_tokens
        return usage

    def response(self, model: str) -> dict[str, Any]:
        return self._response(model, self.parts, finish=True)

    def stream(self, model: str) -> list[dict[str, Any]]:
        pieces: list[dict[str, Any]] = []
        for part in self.parts:
            if "text" in part and part["text"] and self.text_pieces > 1:
                value = part["text"]
                size = max(1, -(-len(value) // self.text_pieces))
                cut = [value[i : i + size] for i in range(0, len(value), size)]
                # Gemini puts a text part's signature on its first chunk.
                pieces += [{**part, "text": cut[0]}]
                rest = {k: v for k, v in part.items() if k != "thoughtSignature"}
                pieces += [{**rest, "text": piece} for piece in cut[1:]]
            else:
                pieces.append(part)
        if not pieces:
            return [self._response(model, [], finish=True)]
        chunks = [self._response(model, [piece], finish=False) for piece in pieces[:-1]]
        return [*chunks, self._response(model, pieces[-1:], finish=True)]

    def _response(self, model: str, parts: list[dict[str, Any]], *, finish: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"index": 0}
        if parts:
            candidate["content"] = {"parts": parts, "role": "model"}
        if finish:
            candidate["finishReason"] = self.finish_reason
            if self.finish_reason == "SAFETY":
                candidate["safetyRatings"] = [
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
                ]
        usage = (
            self.usage_metadata()
            if finish
            else {"promptTokenCount": self.prompt_tokens, "totalTokenCount": self.prompt_tokens}
        )
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": "fake-gemini-response",
        }


@dataclass
class Failure:
    """An HTTP error in Gemini's shape: `{"error": {"code", "message", "status"}}`."""

    code: int
    status: str
    message: str = "upstream failure"
    retry_delay: str | None = None
    """For 429s: Gemini's RetryInfo detail, e.g. "17s"."""

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.retry_delay is not None:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": self.retry_delay,
                }
            ]
        return {"error": error}


def rate_limited() -> Failure:
    return Failure(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        retry_delay="17s",
    )


def overloaded() -> Failure:
    return Failure(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def invalid(message: str) -> Failure:
    return Failure(400, "INVALID_ARGUMENT", message)


class FakeGemini:
    """Serves queued replies; records every request body, header set and model/method.

    `require_signatures`: a function call it answered with a thought signature must come back
    with exactly that signature, as Gemini 3 requires.
    """

    def __init__(self, *, require_signatures: bool = True) -> None:
        self.queue: list[Reply | Failure] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.calls: list[tuple[str, str]] = []
        """(model, method) per request, e.g. ("gemini-2.5-pro", "streamGenerateContent")."""
        self.rejections: list[str] = []
        """Every 400 it answered on its own (not queued), in order."""
        self.require_signatures = require_signatures
        self.signatures: dict[tuple[str, str], str] = {}
        self.base_url = ""

    def enqueue(self, *replies: Reply | Failure) -> None:
        self.queue.extend(replies)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1beta/models/{target}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["target"].partition(":")
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        self.calls.append((model, method))
        key = request.headers.get("x-goog-api-key")
        if "key" in request.query or key is None:
            return self.error(
                Failure(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
                )
            )
        if key != API_KEY:
            return self.error(invalid("API key not valid. Please pass a valid API key."))
        if method not in ("generateContent", "streamGenerateContent"):
            return self.error(Failure(404, "NOT_FOUND", f"Method {method} not found."))
        problems = self.request_problems(body)
        if problems:
            self.rejections.append("\n".join(problems))
            return self.error(invalid("\n".join(problems)))
        answer = self.queue.pop(0) if self.queue else Reply([text("(no reply queued)")])
        if isinstance(answer, Failure):
            return self.error(answer)
        self.remember_signatures(answer)
        await asyncio.sleep(answer.first_delay)
        if method == "generateContent":
            return web.json_response(answer.response(model))
        if request.query.get("alt") != "sse":
            return self.error(invalid("this fake streams only with alt=sse"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in answer.stream(model):
            await response.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
        return response

    @staticmethod
    def error(failure: Failure) -> web.Response:
        return web.json_response(failure.body(), status=failure.code)

    def remember_signatures(self, reply: Reply) -> None:
        for part in reply.parts:
            if "functionCall" in part and "thoughtSignature" in part:
                self.signatures[call_key(part["functionCall"])] = part["thoughtSignature"]

    # --- what Gemini refuses --------------------------------------------------------------

    def request_problems(self, body: dict[str, Any]) -> list[str]:
        unknown = [unknown_name(key, "") for key in body if not known(key, REQUEST_FIELDS)]
        config = body.get("generationConfig", body.get("generation_config")) or {}
        unknown += [
            unknown_name(key, "generation_config")
            for key in config
            if not known(key, GENERATION_CONFIG_FIELDS)
        ]
        unknown += tools_problems(body.get("tools") or [])
        unknown += contents_unknown_fields(body.get("contents") or [])
        if unknown:
            return unknown
        contents = body.get("contents") or []
        problems = turn_problems(contents)
        if not problems and self.require_signatures:
            problems = self.signature_problems(contents)
        return problems

    def signature_problems(self, contents: list[dict[str, Any]]) -> list[str]:
        for content in contents:
            if content.get("role") != "model":
                continue
            for position, part in enumerate(content.get("parts") or [], start=1):
                function_call = part.get("functionCall", part.get("function_call"))
                if function_call is None:
                    continue
                issued = self.signatures.get(call_key(function_call))
                given = part.get("thoughtSignature", part.get("thought_signature"))
                if issued is None:
                    continue
                if given is None:
                    return [
                        "Function call is missing a thought_signature in functionCall parts. "
                        "This is required for tools to work correctly, and missing "
                        "thought_signature may lead to degraded model performance. Additional "
                        f"data, function call `default_api:{function_call['name']}` , position "
                        f"{position}. Please refer to {THOUGHT_SIGNATURE_DOCS} for more details."
                    ]
                if given != issued:
                    return ["Corrupted thought signature."]
        return []


def call_key(function_call: dict[str, Any]) -> tuple[str, str]:
    return function_call["name"], json.dumps(function_call.get("args") or {}, sort_keys=True)


def tools_problems(tools: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for index, tool in enumerate(tools):
        declarations = tool.get("functionDeclarations", tool.get("function_declarations")) or []
        for number, declaration in enumerate(declarations):
            path = f"tools[{index}].function_declarations[{number}]"
            problems += [
                unknown_name(key, path)
                for key in declaration
                if not known(key, FUNCTION_DECLARATION_FIELDS)
            ]
            if "parameters" in declaration:
                problems += schema_problems(declaration["parameters"], f"{path}.parameters")
    return problems


def contents_unknown_fields(contents: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for index, content in enumerate(contents):
        for number, part in enumerate(content.get("parts") or []):
            problems += [
                unknown_name(key, f"contents[{index}].parts[{number}]")
                for key in part
                if not known(key, PART_FIELDS)
            ]
    return problems


def turn_problems(contents: list[dict[str, Any]]) -> list[str]:
    """Gemini's checks on the shape of the conversation, in its words."""
    previous: dict[str, Any] | None = None
    for index, content in enumerate(contents):
        parts = content.get("parts") or []
        role = content.get("role", "user")
        if role not in ("user", "model"):
            return [f"* GenerateContentRequest.contents[{index}].role: must be user or model"]
        if not parts:
            return [
                f"* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty."
            ]
        if previous is not None and previous.get("role", "user") == role:
            # Reported by Gemini and Vertex users; LiteLLM merges same-role turns for this reason.
            return ["Please ensure that multiturn requests alternate between user and model."]
        responses = [p for p in parts if "functionResponse" in p or "function_response" in p]
        if responses:
            calls = [
                p
                for p in (previous or {}).get("parts") or []
                if "functionCall" in p or "function_call" in p
            ]
            if not calls:
                return [
                    "Please ensure that function response turn comes immediately after a function call turn."
                ]
            if len(responses) != len(calls):
                return [
                    "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn."
                ]
            if len(responses) != len(parts):
                # Gemini splits turns at the function-response content; other parts in it
                # break that (reported for Gemini 3 as a 400, for 2.5 as garbled answers).
                return [
                    f"* GenerateContentRequest.contents[{index}].parts: a function response turn holds only functionResponse parts."
                ]
        previous = content
    return []
