"""An `Upstream` that answers from a recording (`claude-proxy replay`), with no network.

Each call gets the next recorded call's answer, whatever it asks, and what it was asked is
kept (`asked`), so the replay can show how the current translation's requests differ from the
recorded ones as well as its answers. Model facts (`target`, the registry questions) come from
`facts`, the current code's engines: replay checks today's translation, limits included.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

from claude_proxy import errors
from claude_proxy.translate.target import Target
from claude_proxy.upstream.base import Upstream
from claude_proxy.upstream.recording import Call, CallKind, rebuild_error, snapshot


class ReplayUpstream:
    def __init__(self, facts: Upstream) -> None:
        self.facts = facts
        self._queue: list[Call] = []
        self.asked: list[Call] = []
        """The calls the current code made, with its requests, in order."""

    def load(self, calls: list[Call]) -> None:
        """Answer the next calls from these (one exchange's upstream side)."""
        self._queue = list(calls)
        self.asked = []

    def _next(self, kind: CallKind, request: dict[str, Any]) -> Call:
        self.asked.append(Call(kind, snapshot(request)))
        if not self._queue:
            raise errors.ApiError(
                f"replay: the current code made upstream call {len(self.asked)} ({kind}), "
                "which the recording does not have"
            )
        call = self._queue.pop(0)
        if call.kind != kind:
            raise errors.ApiError(
                f"replay: the current code asked for {kind} where the recording has {call.kind}"
            )
        if call.cut_off:
            raise errors.ApiError("replay: the recorded call was cut off before it ended")
        return call

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        call = self._next("complete", request)
        if call.error is not None:
            raise rebuild_error(call.error)
        if call.response is None:
            raise errors.ApiError("replay: the recorded call has no response")
        return copy.deepcopy(call.response)

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        call = self._next("stream", request)
        for chunk in call.chunks:
            yield copy.deepcopy(chunk)
        if call.error is not None:
            raise rebuild_error(call.error)

    async def count_tokens(self, request: dict[str, Any]) -> int:
        call = self._next("count_tokens", request)
        if call.error is not None:
            raise rebuild_error(call.error)
        if call.count is None:
            raise errors.ApiError("replay: the recorded call has no token count")
        return call.count

    async def target(self, model: str, provider: str) -> Target:
        return await self.facts.target(model, provider)

    def provider_of(self, model: str) -> str | None:
        return self.facts.provider_of(model)

    def is_provider(self, prefix: str) -> bool:
        return self.facts.is_provider(prefix)

    async def aclose(self) -> None:
        await self.facts.aclose()
