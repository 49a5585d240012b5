"""The hooks a provider's quirks implement; the defaults change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from claude_proxy.translate.target import Target


@dataclass(frozen=True)
class ProviderOptions:
    """The settings provider quirks read, passed in as a value (quirks never read settings)."""

    process_newlines: bool = True
    """Together: turn the two characters backslash-n in answers into real newlines."""
    preserve_openai_newlines: bool = True
    """OpenAI: keep real newlines in answers (False escapes them as backslash-n)."""
    openai_cache_keys: bool = True
    """OpenAI: send a `prompt_cache_key` per Claude Code session (off for an OPENAI_API_BASE
    server, which may not be OpenAI's)."""


class ChunkFilter(Protocol):
    """Rewrites a stream of OpenAI chunk dicts: may hold chunks back, split or merge them."""

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


class ChainedFilter:
    """Two filters in a row: what the first gives out goes through the second."""

    def __init__(self, first: ChunkFilter, second: ChunkFilter) -> None:
        self.first = first
        self.second = second

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return [out for mid in self.first.feed(chunk) for out in self.second.feed(mid)]

    def finish(self) -> list[dict[str, Any]]:
        out = [later for mid in self.first.finish() for later in self.second.feed(mid)]
        return out + self.second.finish()


def chained(first: ChunkFilter | None, second: ChunkFilter | None) -> ChunkFilter | None:
    """`first` then `second`, either of which may be None (no filter)."""
    if first is None or second is None:
        return first or second
    return ChainedFilter(first, second)


class Quirks:
    """No quirks: the OpenAI request, response and chunks pass unchanged."""

    def __init__(self, target: Target, options: ProviderOptions) -> None:
        self.target = target
        self.options = options

    def prepare_request(self, request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Adjust the translated OpenAI request; `body` is the client's Anthropic request."""
        return request

    def fix_response(self, response: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Adjust a non-streamed OpenAI response before it becomes an Anthropic message."""
        return response

    def filter_stream(self, body: dict[str, Any]) -> ChunkFilter | None:
        """A filter for this request's chunk stream, or None to pass chunks unchanged."""
        return None
