from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.server.stream_writer import filtered
from claude_proxy.translate.target import Target


def test_a_provider_without_quirks_changes_nothing() -> None:
    quirks = quirks_for(Target(model="ollama/llama3", provider="ollama"), ProviderOptions())
    request = {"model": "ollama/llama3", "messages": []}
    assert quirks.prepare_request(request, {}) is request
    assert quirks.fix_response({"choices": []}, {}) == {"choices": []}
    assert quirks.filter_stream({}) is None


class Doubler:
    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return [chunk, chunk]

    def finish(self) -> list[dict[str, Any]]:
        return [{"end": True}]


async def test_filtered_applies_the_filter_then_its_finish() -> None:
    async def upstream() -> AsyncIterator[dict[str, Any]]:
        for n in range(3):
            yield {"n": n}

    out = [chunk async for chunk in filtered(upstream(), Doubler())]
    assert out == [{"n": 0}, {"n": 0}, {"n": 1}, {"n": 1}, {"n": 2}, {"n": 2}, {"end": True}]
