"""The upstream interface: what every implementation must offer, and closing a chunk stream
(which cancels its upstream request) without ever masking the outcome that made us close."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from claude_proxy.upstream.base import Upstream, close_stream
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from tests.fakes.scripted_upstream import ScriptedUpstream

METHODS = sorted(
    name
    for name, value in vars(Upstream).items()
    if inspect.isfunction(value) and not name.startswith("_")
)


def test_the_interface_is_the_calls_and_the_registry() -> None:
    assert METHODS == [
        "aclose",
        "complete",
        "count_tokens",
        "is_provider",
        "provider_of",
        "stream",
        "target",
    ]


@pytest.mark.parametrize("implementation", [LiteLLMUpstream, ScriptedUpstream])
def test_each_implementation_has_every_method_with_its_parameters(implementation: type) -> None:
    for name in METHODS:
        wanted = inspect.signature(getattr(Upstream, name))
        got = inspect.signature(getattr(implementation, name))
        assert list(got.parameters) == list(wanted.parameters), (implementation, name)
        declared = inspect.iscoroutinefunction(getattr(Upstream, name))
        assert inspect.iscoroutinefunction(getattr(implementation, name)) is declared, name


async def test_close_stream_closes_an_async_generator_where_it_waits() -> None:
    seen: list[str] = []

    async def chunks() -> AsyncIterator[dict[str, Any]]:
        try:
            yield {"n": 1}
            yield {"n": 2}
        except GeneratorExit:
            seen.append("closed")
            raise

    stream = chunks()
    assert await anext(stream) == {"n": 1}
    await close_stream(stream)
    assert seen == ["closed"]
    assert stream.ag_frame is None
    await close_stream(stream)  # closing twice is harmless


async def test_close_stream_never_raises() -> None:
    class Failing:
        def __aiter__(self) -> Failing:
            return self

        async def __anext__(self) -> dict[str, Any]:
            raise StopAsyncIteration

        async def aclose(self) -> None:
            raise RuntimeError("the connection was already gone")

    await close_stream(Failing())


async def test_close_stream_accepts_an_iterator_without_aclose() -> None:
    class Plain:
        def __aiter__(self) -> Plain:
            return self

        async def __anext__(self) -> dict[str, Any]:
            raise StopAsyncIteration

    await close_stream(Plain())
