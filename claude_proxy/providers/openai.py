"""OpenAI quirks: a prompt cache key per session; optionally escape the newlines of answer text.

OpenAI caches prompt prefixes on the machine a request is routed to; `prompt_cache_key` routes
every turn of one Claude Code session alike, so turn N+1 finds turn N's prefix cached
(translate/session.py derives it from `metadata.user_id`). Only OpenAI's own API gets it.

With `preserve_openai_newlines` off, every newline in the answer's text becomes the two
characters backslash-n, for clients that want OpenAI answers on one line. Reasoning and
tool-call arguments are never touched: escaping them would change a tool's input.

Reasoning models' parameters need nothing here: the translation sends only parameters
LiteLLM lists for the model (no temperature, top_p or top_k for o-series and gpt-5), and
LiteLLM renames max_tokens to max_completion_tokens for them.
"""

from __future__ import annotations

from typing import Any

from claude_proxy.providers.base import ChunkFilter, Quirks
from claude_proxy.translate.session import prompt_cache_key


def escape_newlines(text: str) -> str:
    return text.replace("\n", "\\n")


def with_escaped_content(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of a message or delta whose text content has its newlines escaped."""
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": escape_newlines(content)}
    if isinstance(content, list):
        parts = [
            {**part, "text": escape_newlines(part["text"])}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
        return {**message, "content": parts}
    return message


def with_escaped_choices(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of a response (`key` "message") or chunk (`key` "delta") with text escaped."""
    choices = data.get("choices")
    if not isinstance(choices, list):
        return data
    escaped = [
        {**choice, key: with_escaped_content(choice[key])}
        if isinstance(choice, dict) and isinstance(choice.get(key), dict)
        else choice
        for choice in choices
    ]
    return {**data, "choices": escaped}


class NewlineEscaper:
    """Escapes newlines in each chunk's `delta.content`; a newline is one character, so no
    chunk needs holding back."""

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return [with_escaped_choices(chunk, "delta")]

    def finish(self) -> list[dict[str, Any]]:
        return []


class OpenAIQuirks(Quirks):
    def prepare_request(self, request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if (
            self.options.openai_cache_keys
            and "prompt_cache_key" in self.target.supported_params
            and (key := prompt_cache_key(body)) is not None
        ):
            return {**request, "prompt_cache_key": key}
        return request

    def fix_response(self, response: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if self.options.preserve_openai_newlines:
            return response
        return with_escaped_choices(response, "message")

    def filter_stream(self, body: dict[str, Any]) -> ChunkFilter | None:
        if self.options.preserve_openai_newlines:
            return None
        return NewlineEscaper()
