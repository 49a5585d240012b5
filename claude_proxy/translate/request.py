"""Anthropic Messages request -> OpenAI chat-completions request, and request validation.

`validate_request` checks only what the translation relies on; unknown fields and block types
are accepted, because Claude Code adds new ones with every release. `to_openai_request` expects
a validated body.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from typing import Any, NoReturn, TypeGuard

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.content import TEXT_SEPARATOR
from claude_proxy.translate.conversation import to_openai_messages
from claude_proxy.translate.structured import check_output_format, output_params
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import reasoning_params

logger = logging.getLogger(__name__)

TRANSLATED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "stream",
        "stop_sequences",
        "temperature",
        "top_p",
        "top_k",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "output_format",
    }
)
ROLES = ("user", "assistant", "system")
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
SERVER_TOOL_PREFIXES = ("web_search_", "web_fetch_", "code_execution_", "tool_search_tool_")
BILLING_PREFIX = "x-anthropic-billing-header:"
MAX_STOP_SEQUENCES = 4  # OpenAI's limit
MAX_USER_LENGTH = 64  # OpenAI rejects longer `user` values; Claude Code's user_id is ~150 chars
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


# --- validation ---------------------------------------------------------------------------


def validate_request(body: Any) -> None:
    """Raise `InvalidRequestError` naming the field when a Messages body cannot be translated."""
    _validate(body, require_max_tokens=True)


def validate_count_tokens_request(body: Any) -> None:
    """Like `validate_request`, for `count_tokens` bodies, which carry no `max_tokens`."""
    _validate(body, require_max_tokens=False)


def requested_model(body: Any) -> str:
    """The model a body asks for: the first thing validation checks, and all that the
    Anthropic passthrough (which leaves the rest to Anthropic) needs."""
    if not isinstance(body, dict):
        fail("body", f"expected a JSON object, got {shown(body)}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        fail("model", required_or(body, "model", "expected a non-empty string"))
    return model


def _validate(body: Any, *, require_max_tokens: bool) -> None:
    requested_model(body)
    if require_max_tokens or "max_tokens" in body:
        check_max_tokens(body)
    if not isinstance(body.get("messages"), list):
        fail("messages", required_or(body, "messages", "expected an array of messages"))
    for index, message in enumerate(body["messages"]):
        check_message(message, f"messages.{index}")
    check_system(body)
    check_tools(body)
    check_scalars(body)
    if "tool_choice" in body:
        check_tool_choice(body["tool_choice"])
    check_output_format(body)


def fail(path: str, problem: str) -> NoReturn:
    raise InvalidRequestError(f"{path}: {problem}")


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return json.dumps(value)[:60]


def required_or(container: dict[str, Any], key: str, problem: str) -> str:
    if key not in container:
        return "field required"
    return f"{problem}, got {shown(container[key])}"


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_max_tokens(body: dict[str, Any]) -> None:
    value = body.get("max_tokens")
    if not is_int(value) or value < 1:
        fail("max_tokens", required_or(body, "max_tokens", "expected a positive integer"))


def check_message(message: Any, path: str) -> None:
    if not isinstance(message, dict):
        fail(path, f"expected a message object, got {shown(message)}")
    if message.get("role") not in ROLES:
        fail(f"{path}.role", required_or(message, "role", "expected user, assistant or system"))
    check_content(message, "content", path)


def check_content(container: dict[str, Any], key: str, path: str) -> None:
    content = container.get(key)
    path = f"{path}.{key}" if path else key
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        fail(path, required_or(container, key, "expected a string or an array of blocks"))
    for index, block in enumerate(content):
        check_block(block, f"{path}.{index}")


def check_block(block: Any, path: str) -> None:
    if not isinstance(block, dict):
        fail(path, f"expected a content block object, got {shown(block)}")
    kind = block.get("type")
    if not isinstance(kind, str):
        fail(f"{path}.type", required_or(block, "type", "expected a string"))
    if kind == "text":
        check_strings(block, path, "text")
    elif kind in ("image", "document"):
        check_source(block, path)
    elif kind == "tool_use":
        check_strings(block, path, "id", "name")
        if not isinstance(block.get("input"), dict):
            fail(f"{path}.input", required_or(block, "input", "expected an object"))
    elif kind == "tool_result":
        check_tool_result(block, path)
    elif kind == "tool_reference":
        check_strings(block, path, "tool_name")


def check_strings(container: dict[str, Any], path: str, *keys: str) -> None:
    for key in keys:
        if not isinstance(container.get(key), str):
            fail(f"{path}.{key}", required_or(container, key, "expected a string"))


def check_source(block: dict[str, Any], path: str) -> None:
    source = block.get("source")
    if not isinstance(source, dict):
        fail(f"{path}.source", required_or(block, "source", "expected an object"))
    path = f"{path}.source"
    kind = source.get("type")
    if kind == "base64" and block["type"] == "image":
        if source.get("media_type") not in IMAGE_MEDIA_TYPES:
            problem = f"expected one of {', '.join(IMAGE_MEDIA_TYPES)}"
            fail(f"{path}.media_type", required_or(source, "media_type", problem))
        check_strings(source, path, "data")
    elif kind in ("base64", "text"):
        check_strings(source, path, "data")
    elif kind == "url":
        check_strings(source, path, "url")
    elif kind == "content":
        check_content(source, "content", path)
    elif not isinstance(kind, str):
        fail(f"{path}.type", required_or(source, "type", "expected a string"))


def check_tool_result(block: dict[str, Any], path: str) -> None:
    check_strings(block, path, "tool_use_id")
    if "content" in block:
        check_content(block, "content", path)
    if "is_error" in block and not isinstance(block["is_error"], bool):
        fail(f"{path}.is_error", f"expected a boolean, got {shown(block['is_error'])}")


def check_system(body: dict[str, Any]) -> None:
    if "system" in body and not isinstance(body["system"], str):
        check_content(body, "system", "")


def check_tools(body: dict[str, Any]) -> None:
    if "tools" not in body:
        return
    if not isinstance(body["tools"], list):
        fail("tools", f"expected an array of tools, got {shown(body['tools'])}")
    for index, tool in enumerate(body["tools"]):
        path = f"tools.{index}"
        if not isinstance(tool, dict):
            fail(path, f"expected a tool object, got {shown(tool)}")
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            fail(f"{path}.name", required_or(tool, "name", "expected a non-empty string"))
        schema = tool.get("input_schema")
        if schema is not None and not isinstance(schema, dict):
            fail(f"{path}.input_schema", f"expected an object, got {shown(schema)}")


def check_scalars(body: dict[str, Any]) -> None:
    if "stream" in body and not isinstance(body["stream"], bool):
        fail("stream", f"expected a boolean, got {shown(body['stream'])}")
    for key in ("temperature", "top_p", "top_k"):
        if key in body and not is_number(body[key]):
            fail(key, f"expected a number, got {shown(body[key])}")
    stops = body.get("stop_sequences", [])
    if not isinstance(stops, list) or not all(isinstance(stop, str) for stop in stops):
        fail("stop_sequences", f"expected an array of strings, got {shown(stops)}")


def check_tool_choice(choice: Any) -> None:
    if not isinstance(choice, dict):
        fail("tool_choice", f"expected an object, got {shown(choice)}")
    if choice.get("type") not in TOOL_CHOICE_TYPES:
        fail("tool_choice.type", required_or(choice, "type", "expected auto, any, tool or none"))
    if choice["type"] == "tool" and (not isinstance(choice.get("name"), str) or not choice["name"]):
        fail("tool_choice.name", required_or(choice, "name", "expected a non-empty string"))


# --- translation --------------------------------------------------------------------------


def to_openai_request(body: dict[str, Any], target: Target) -> dict[str, Any]:
    """The OpenAI chat-completions request (plain dicts) for a validated Anthropic body."""
    log_ignored_fields(body)
    messages: list[dict[str, Any]] = []
    system = system_text(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    messages.extend(to_openai_messages(body["messages"], target))
    request: dict[str, Any] = {"model": target.model, "messages": messages}
    if "max_tokens" in body:
        request["max_tokens"] = clamp_max_tokens(body["max_tokens"], target)
    request["stream"] = body.get("stream") is True
    if request["stream"]:
        request["stream_options"] = {"include_usage": True}
    request.update(sampling_params(body, target))
    request.update(reasoning_params(body, target))
    request.update(tool_params(body, target))
    request.update(output_params(body, target, request.get("tools")))
    return request


def log_ignored_fields(body: dict[str, Any]) -> None:
    ignored = sorted(key for key in body if key not in TRANSLATED_FIELDS)
    if ignored:
        logger.debug("ignoring request fields: %s", ", ".join(ignored))


def system_text(system: str | list[dict[str, Any]] | None) -> str:
    if system is None or isinstance(system, str):
        return system or ""
    texts = []
    for block in system:
        text = block.get("text")
        if block.get("type") != "text" or not isinstance(text, str):
            logger.debug("ignoring a %s block in system", block.get("type"))
        elif text.startswith(BILLING_PREFIX):
            # Its hash changes with the first prompt, so it would break upstream prefix caches.
            logger.debug("dropping Claude Code's billing block from system: %s", text)
        else:
            texts.append(text)
    return TEXT_SEPARATOR.join(texts)


def clamp_max_tokens(requested: int, target: Target) -> int:
    limit = target.max_output_tokens
    if limit is not None and requested > limit:
        logger.debug("max_tokens %d > %s's limit; clamping to %d", requested, target.model, limit)
        return limit
    return requested


def supports(target: Target, param: str) -> bool:
    # An empty set means LiteLLM could not tell; sending the param beats silently losing it.
    return not target.supported_params or param in target.supported_params


def sampling_params(body: dict[str, Any], target: Target) -> dict[str, Any]:
    params: dict[str, Any] = {}
    stops = body.get("stop_sequences") or []
    if stops and supports(target, "stop"):
        if len(stops) > MAX_STOP_SEQUENCES:
            logger.debug(
                "keeping the first %d of %d stop sequences", MAX_STOP_SEQUENCES, len(stops)
            )
        params["stop"] = list(stops[:MAX_STOP_SEQUENCES])
    for name in ("temperature", "top_p", "top_k"):
        if name not in body:
            continue
        if supports(target, name):
            params[name] = body[name]
        else:
            logger.debug("dropping %s: %s does not support it", name, target.model)
    metadata = body.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if isinstance(user_id, str) and user_id and supports(target, "user"):
        params["user"] = to_openai_user(user_id)
    return params


def to_openai_user(user_id: str) -> str:
    """`user_id` itself, or a stable hash of it when it is too long for OpenAI."""
    if len(user_id) <= MAX_USER_LENGTH:
        return user_id
    return hashlib.sha256(user_id.encode()).hexdigest()


def tool_params(body: dict[str, Any], target: Target) -> dict[str, Any]:
    tools = [tool for tool in map(to_openai_tool, body.get("tools") or []) if tool is not None]
    if not tools:
        return {}
    params: dict[str, Any] = {"tools": tools}
    choice = body.get("tool_choice")
    if choice is None:
        return params
    if supports(target, "tool_choice"):
        params["tool_choice"] = to_openai_tool_choice(
            choice, {t["function"]["name"] for t in tools}
        )
    if choice.get("disable_parallel_tool_use") is True and supports(target, "parallel_tool_calls"):
        params["parallel_tool_calls"] = False
    return params


def to_openai_tool(tool: dict[str, Any]) -> dict[str, Any] | None:
    kind = tool.get("type")
    if isinstance(kind, str) and kind.startswith(SERVER_TOOL_PREFIXES):
        # web_search and web_fetch never get here: server/server_tools.py runs them.
        logger.debug("removing server tool %s (%s): no upstream can run it", tool["name"], kind)
        return None
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = copy.deepcopy(tool.get("input_schema") or EMPTY_SCHEMA)
    return {"type": "function", "function": function}


def to_openai_tool_choice(choice: dict[str, Any], names: set[str]) -> str | dict[str, Any]:
    kind = choice["type"]
    if kind != "tool":
        return {"auto": "auto", "any": "required", "none": "none"}[kind]
    if choice["name"] not in names:
        logger.debug(
            "tool_choice names %s, which is not among the tools; using auto", choice["name"]
        )
        return "auto"
    return {"type": "function", "function": {"name": choice["name"]}}
