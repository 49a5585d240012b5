"""What one API request did, in one object on the request, filled in as the request goes.

The error middleware creates it and, when the answer is complete, writes the one log line per
request from it and hands its `row()` to the usage ledger; `serve --debug-rich` renders the
same object as a rich line with tokens and cost (it travels in the log record's `extra`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from claude_proxy import errors
from claude_proxy.ledger.store import Row
from claude_proxy.model_map import ModelChoice
from claude_proxy.translate.session import session_of
from claude_proxy.upstream.model_facts import facts_for

ENDPOINTS = {"/v1/messages": "messages", "/v1/messages/count_tokens": "count_tokens"}
"""The API requests the usage ledger keeps a row of, and the name each row gives it."""


@dataclass
class RequestLog:
    request_id: str
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    choice: ModelChoice | None = None
    """Which upstream model served the requested one."""
    streamed: bool = False
    messages: int | None = None
    tools: int | None = None
    usage: dict[str, int] | None = None
    """Anthropic usage: input_tokens, output_tokens, cache_read_input_tokens, ..."""
    status: int = 0
    seconds: float = 0.0
    finished: float = 0.0
    """Unix time the answer was complete."""
    error: errors.ProxyError | None = None
    failed: list[str] = field(default_factory=list)
    """Models that failed before `choice` answered (fallbacks)."""
    session: str | None = None
    """The Claude Code session the request belongs to, when it says."""

    def count(self, body: dict[str, Any]) -> None:
        """Note what a request says about itself: its messages and tools, and its session."""
        if isinstance(body.get("messages"), list):
            self.messages = len(body["messages"])
            self.tools = len(body.get("tools") or [])
        self.session = session_of(body) or self.session

    @property
    def cost(self) -> float | None:
        """USD for the answer's usage at LiteLLM's prices; None unpriced or without usage."""
        if not self.usage or self.upstream_model is None:
            return None
        return facts_for(self.upstream_model).cost(self.usage)

    def row(self) -> Row | None:
        """The usage ledger's row of this request; None for what is not an API request."""
        endpoint = ENDPOINTS.get(self.path)
        if endpoint is None or self.method != "POST":
            return None
        usage = self.usage or {}
        return Row(
            time=self.finished,
            request_id=self.request_id,
            endpoint=endpoint,
            session=self.session,
            # Both names may be client text: a row stays small.
            requested_model=shorten(self.requested_model, 200) if self.requested_model else None,
            upstream_model=shorten(self.upstream_model, 200) if self.upstream_model else None,
            provider=self.choice.provider if self.choice is not None else None,
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            cache_read_tokens=usage.get("cache_read_input_tokens", 0),
            cache_write_tokens=usage.get("cache_creation_input_tokens", 0),
            cost=self.cost,
            latency_ms=self.seconds * 1000,
            status=self.status,
            error_type=self.error_type,
        )

    def finish(self, status: int, error: errors.ProxyError | None) -> None:
        self.status = status
        self.error = error
        self.seconds = time.perf_counter() - self.started
        self.finished = time.time()

    @property
    def requested_model(self) -> str | None:
        return self.choice.requested if self.choice is not None else None

    @property
    def upstream_model(self) -> str | None:
        return self.choice.model if self.choice is not None else None

    @property
    def error_type(self) -> str | None:
        return self.error.error_type if self.error is not None else None

    @property
    def error_message(self) -> str | None:
        return self.error.message if self.error is not None else None

    @property
    def cache_hit_rate(self) -> float | None:
        """The share of the prompt's tokens the upstream read from its cache, when it said."""
        if not self.usage:
            return None
        cached = self.usage.get("cache_read_input_tokens") or 0
        prompt = cached + (self.usage.get("input_tokens") or 0)
        prompt += self.usage.get("cache_creation_input_tokens") or 0
        return cached / prompt if prompt else None

    def line(self) -> str:
        """The plain log line: route, status, latency, request id, and the error if any.
        Client text in it is cut short: a log line must stay a line."""
        parts = [self.method, shorten(self.path)]
        if self.choice is not None:
            parts.append(f"{shorten(self.choice.requested)} -> {shorten(self.choice.model)}")
        if self.failed:
            parts.append(f"(after {', '.join(shorten(model) for model in self.failed)} failed)")
        if self.streamed:
            parts.append("stream")
        parts += [str(self.status), f"{self.seconds * 1000:.0f}ms"]
        if self.usage:
            parts.append(
                f"in={self.usage.get('input_tokens') or 0} out={self.usage.get('output_tokens') or 0}"
            )
            if (rate := self.cache_hit_rate) is not None:
                parts.append(f"cached={rate:.0%}")
        parts.append(f"[{self.request_id}]")
        if self.error is not None:
            parts.append(f"{self.error.error_type}: {shorten(self.error.message, 500)}")
        return " ".join(parts)


def shorten(text: str, limit: int = 120) -> str:
    """`text`, or its start and how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more)"
