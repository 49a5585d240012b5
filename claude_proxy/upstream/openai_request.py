"""The Chat Completions body for a translated request, as LiteLLM 1.106 would send it.

The translator builds an OpenAI-style request with a LiteLLM model string; LiteLLM then
rewrites it before it leaves. The native upstream must send the same body, so this module
does what LiteLLM does to the requests the translator can produce:

- `model` loses its provider prefix; `stream: false` is not sent to openai (Together gets it).
- parameters the model does not take are dropped and the family rewrites applied
  (`openai_params.map_params`: max_completion_tokens, temperature and top_p rules, refused
  effort levels, Together's effort spelling).
- messages: None fields removed; `developer` becomes `system` (not for o-series); o-series
  models the map does not mark `supports_system_messages` get their system turns as user
  turns; `tool_reference` parts leave tool messages; image parts get the object form; a
  file without a filename gets LiteLLM's `my_file.pdf`; Together loses LiteLLM-internal
  assistant fields.
- `cache_control` is removed everywhere, except for openai behind a custom base (a gateway
  may honour it); `tool_choice` goes when no tools are left.
- openai tools' schemas are sanitized (`openai_schema.py`): uncompilable regexes always,
  top-level unions only on api.openai.com.

`response_format` (structured outputs) passes unchanged, as LiteLLM passes it for openai and
together_ai. What LiteLLM does for requests the translator never builds (pdf URLs fetched and
inlined, images inside tool messages, functions) is not repeated here.
`needs_responses_api` says when LiteLLM would not use Chat Completions at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from claude_proxy.upstream.model_facts import ModelFacts, model_info
from claude_proxy.upstream.openai_params import (
    family_of,
    gpt_version,
    is_gpt_5,
    is_gpt_5_search,
    map_params,
    refuses_effort,
)
from claude_proxy.upstream.openai_schema import sanitize_tools

OPENAI_DOMAIN = "openai.com"
OPENAI_API_HOST = "api.openai.com"
LITELLM_INTERNAL_FIELDS = ("thinking_blocks", "provider_specific_fields")
DEFAULT_FILENAME = "my_file.pdf"


def is_on_host(base_url: str, domain: str) -> bool:
    host = urlsplit(base_url).hostname
    return host is None or host == domain or host.endswith("." + domain)


def to_chat_body(request: dict[str, Any], facts: ModelFacts, *, base_url: str) -> dict[str, Any]:
    # LiteLLM's tests for "this is OpenAI itself" differ: *.openai.com here, *.api.openai.com
    # in `needs_responses_api`.
    openai_host = is_on_host(base_url, OPENAI_DOMAIN)
    family = family_of(facts)
    params = {
        key: value
        for key, value in request.items()
        if key not in ("model", "messages") and value is not None
    }
    streaming = params.get("stream") is True
    if not streaming:
        params.pop("stream_options", None)
        if facts.provider == "openai":
            params.pop("stream", None)
    params = map_params(params, facts)
    messages = [cleaned(message) for message in request.get("messages") or []]
    messages = [without_developer_role(m) if family != "o_series" else m for m in messages]
    if family == "o_series" and not facts.supports("supports_system_messages"):
        messages = [as_user_turn(m) if m.get("role") == "system" else m for m in messages]
    messages = [transformed_message(m, facts) for m in messages]
    if not (facts.provider == "openai" and not openai_host):
        messages = [without_key(m, "cache_control") for m in messages]
        if isinstance(params.get("tools"), list):
            params["tools"] = [without_key(tool, "cache_control") for tool in params["tools"]]
    if not params.get("tools") and not params.get("functions"):
        params.pop("tool_choice", None)
    if facts.provider == "openai" and isinstance(params.get("tools"), list):
        params["tools"] = sanitize_tools(params["tools"], official_host=openai_host)
    return {"model": facts.bare, "messages": messages, **params}


def cleaned(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    message = {key: value for key, value in message.items() if value is not None}
    message.setdefault("role", "assistant")
    return message


def without_developer_role(message: Any) -> Any:
    if isinstance(message, dict) and message.get("role") == "developer":
        return {"role": "system", "content": message.get("content")}
    return message


def as_user_turn(message: dict[str, Any]) -> dict[str, Any]:
    return {"content": message.get("content"), "role": "user"}


def transformed_message(message: Any, facts: ModelFacts) -> Any:
    if not isinstance(message, dict):
        return message
    role, content = message.get("role"), message.get("content")
    if role == "tool" and isinstance(content, list) and any(map(is_tool_reference, content)):
        kept = [part for part in content if not is_tool_reference(part)]
        message = {**message, "content": kept or ""}
    if role == "user" and isinstance(content, list) and content:
        message = {**message, "content": [content_part(part) for part in content]}
    if facts.provider == "together_ai" and role == "assistant":
        message = {k: v for k, v in message.items() if k not in LITELLM_INTERNAL_FIELDS}
    return message


def is_tool_reference(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "tool_reference"


def content_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, str):
            return {**part, "image_url": {"url": image}}
        if isinstance(image, dict) and "format" in image:
            return {**part, "image_url": {k: v for k, v in image.items() if k != "format"}}
    if kind == "file" and isinstance(part.get("file"), dict):
        file = {k: v for k, v in part["file"].items() if k != "format"}
        if file.get("file_data") is not None and file.get("filename") is None:
            file["filename"] = DEFAULT_FILENAME
        return {**part, "file": file}
    return part


def without_key(value: Any, key: str, depth: int = 0) -> Any:
    """`value` without `key` at any depth of its dicts (LiteLLM's `filter_value_from_dict`)."""
    if depth > 100:
        return value
    if isinstance(value, dict):
        return {k: without_key(v, key, depth + 1) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [without_key(item, key, depth + 1) for item in value]
    return value


def needs_responses_api(request: dict[str, Any], facts: ModelFacts, *, base_url: str) -> bool:
    """Whether LiteLLM would send this request to the Responses API instead (its
    `responses_api_bridge_check`): models the map lists as `responses` only, and gpt-5.4+
    with function tools while reasoning is on, which Chat Completions refuses."""
    found = model_info(facts.model_map, facts.provider, facts.bare, prefixed=False)
    if found is not None and found[1].get("mode") == "responses":
        return True
    if facts.provider != "openai" or not is_gpt_5(facts.bare) or is_gpt_5_search(facts.bare):
        return False
    version = gpt_version(facts.bare)
    if version is None or version < (5, 4):
        return False
    tools = request.get("tools") or []
    has_function_tool = any(
        isinstance(tool, dict)
        and tool.get("type") == "function"
        and (isinstance(tool.get("function"), dict) or "name" in tool)
        for tool in tools
    )
    effort = request.get("reasoning_effort")
    effort = effort.get("effort") if isinstance(effort, dict) else effort
    reasoning_on = effort != "none" or refuses_effort(facts, "none")
    enforcing = is_on_host(base_url, OPENAI_API_HOST)
    return has_function_tool and reasoning_on and (effort is not None or enforcing)
