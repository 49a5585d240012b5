"""RecordingUpstream: every call passes through unchanged and is noted in the exchange of its
task; errors are described well enough to be raised again; secrets leave every string."""

from __future__ import annotations

from typing import Any

import pytest

from claude_proxy import errors
from claude_proxy.upstream.recording import (
    CALLS,
    Call,
    RecordingUpstream,
    describe_error,
    rebuild_error,
    redact_all,
)
from tests.fakes.scripted_upstream import ScriptedUpstream, answer, chunk

REQUEST = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


def recording() -> tuple[ScriptedUpstream, RecordingUpstream, list[Call]]:
    inner = ScriptedUpstream()
    calls: list[Call] = []
    CALLS.set(calls)
    return inner, RecordingUpstream(inner), calls


async def test_a_stream_is_passed_through_and_noted_chunk_by_chunk() -> None:
    inner, upstream, calls = recording()
    inner.enqueue_stream(*answer("Hel", "lo"))
    got = [c async for c in upstream.stream(REQUEST)]
    assert got == answer("Hel", "lo")
    [call] = calls
    assert (call.kind, call.request, call.chunks) == ("stream", REQUEST, got)
    assert call.error is None and not call.cut_off


async def test_a_chunk_changed_after_it_passed_stays_as_it_came() -> None:
    inner, upstream, calls = recording()
    inner.enqueue_stream(chunk({"content": "as sent"}, "stop"))
    async for passed in upstream.stream(REQUEST):
        passed["choices"][0]["delta"]["content"] = "edited downstream"
    assert calls[0].chunks[0]["choices"][0]["delta"]["content"] == "as sent"


async def test_an_error_mid_stream_is_noted_after_the_chunks_before_it() -> None:
    inner, upstream, calls = recording()
    inner.enqueue_stream(chunk({"content": "par"}), errors.ApiError("the stream broke off"))
    with pytest.raises(errors.ApiError):
        async for _ in upstream.stream(REQUEST):
            pass
    assert len(calls[0].chunks) == 1
    assert calls[0].error == describe_error(errors.ApiError("the stream broke off"))


async def test_closing_the_recorded_stream_closes_the_upstream_and_marks_it_cut_off() -> None:
    inner, upstream, calls = recording()
    inner.enqueue_stream(*answer("a", "b", "c"))
    stream = upstream.stream(REQUEST)
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert inner.streams[0].closed
    assert calls[0].cut_off


async def test_complete_and_count_tokens_are_noted() -> None:
    inner, upstream, calls = recording()
    completion = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    inner.enqueue_answer(completion)
    inner.enqueue_answer(errors.RateLimitError("slow down", headers={"retry-after": "3"}))
    inner.token_count = 42
    assert await upstream.complete(REQUEST) == completion
    with pytest.raises(errors.RateLimitError):
        await upstream.complete(REQUEST)
    assert await upstream.count_tokens(REQUEST) == 42
    assert [c.kind for c in calls] == ["complete", "complete", "count_tokens"]
    assert calls[0].response == completion
    assert calls[1].error is not None and calls[1].error["headers"] == {"retry-after": "3"}
    assert calls[2].count == 42


async def test_outside_an_exchange_nothing_is_noted() -> None:
    inner = ScriptedUpstream({"gpt-4.1": "openai"})
    CALLS.set(None)
    upstream = RecordingUpstream(inner)
    inner.enqueue_stream(*answer("x"))
    stream = upstream.stream(REQUEST)
    assert stream is inner.streams[0].iterator  # no layer in between
    assert upstream.provider_of("gpt-4.1") == "openai"
    assert (await upstream.target("openai/gpt-4.1", "openai")).model == "openai/gpt-4.1"
    await upstream.aclose()
    assert inner.closed


@pytest.mark.parametrize(
    "error",
    [
        errors.RateLimitError("slow down", headers={"retry-after": "7"}),
        errors.ContextWindowExceededError(300_000, 200_000),
        errors.MissingKeyError("No key for OpenAI"),
        errors.IncompleteAnswerError("cut off"),
    ],
)
def test_an_error_of_the_tree_is_raised_again_alike(error: errors.ProxyError) -> None:
    again = rebuild_error(describe_error(error))
    assert type(again) is type(error)
    assert isinstance(again, errors.ProxyError)
    assert (again.message, again.headers, again.status) == (
        error.message,
        error.headers,
        error.status,
    )
    assert vars(again) == vars(error)


def test_any_other_error_comes_back_as_a_runtime_error_with_its_message() -> None:
    again = rebuild_error(describe_error(KeyError("choices")))
    assert isinstance(again, RuntimeError) and str(again) == "'choices'"
    assert isinstance(rebuild_error({"class": "Error", "message": "m"}), RuntimeError)


def test_a_call_survives_its_json() -> None:
    call = Call("stream", REQUEST, chunks=answer("x"), error={"class": "ApiError"}, cut_off=True)
    assert Call.from_json(call.to_json()) == call
    with pytest.raises(ValueError, match="unknown upstream call kind"):
        Call.from_json({"kind": "embed", "request": {}})


def test_secrets_leave_every_string_keys_included() -> None:
    value: Any = {"a sk-1 b": ["sk-1", {"x": "Bearer sk-1"}], "n": 3, "t": True, "z": None}
    assert redact_all(value, ["sk-1"]) == {
        "a *** b": ["***", {"x": "Bearer ***"}],
        "n": 3,
        "t": True,
        "z": None,
    }
    assert redact_all(value, []) is value
