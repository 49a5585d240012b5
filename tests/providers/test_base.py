from __future__ import annotations

from typing import Any

from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.providers.base import chained
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


class Numberer:
    def __init__(self) -> None:
        self.seen = 0

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        self.seen += 1
        return [{**chunk, "n": self.seen}]

    def finish(self) -> list[dict[str, Any]]:
        return [{"last": self.seen}]


def test_chained_filters_feed_the_first_into_the_second() -> None:
    assert chained(None, None) is None
    one = Doubler()
    assert chained(one, None) is one
    assert chained(None, one) is one
    both = chained(Doubler(), Numberer())
    assert both is not None
    assert both.feed({"a": 1}) == [{"a": 1, "n": 1}, {"a": 1, "n": 2}]
    # the first's leftovers go through the second before the second's own
    assert both.finish() == [{"end": True, "n": 3}, {"last": 3}]
