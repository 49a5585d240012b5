"""ReplayUpstream: answers each call from the next recorded one, whatever it is asked, keeps
what it was asked, raises recorded errors alike, and never makes up an answer."""

from __future__ import annotations

import pytest

from claude_proxy import errors
from claude_proxy.upstream.recording import Call, describe_error
from claude_proxy.upstream.replaying import ReplayUpstream
from tests.fakes.scripted_upstream import ScriptedUpstream, answer, chunk

RECORDED = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
ASKED = {**RECORDED, "temperature": 0.5}


def replaying(*calls: Call) -> tuple[ScriptedUpstream, ReplayUpstream]:
    facts = ScriptedUpstream({"gpt-4.1": "openai"})
    upstream = ReplayUpstream(facts)
    upstream.load(list(calls))
    return facts, upstream


async def test_a_stream_gives_the_recorded_chunks_and_keeps_what_it_was_asked() -> None:
    facts, upstream = replaying(Call("stream", RECORDED, chunks=answer("Hi")))
    assert [c async for c in upstream.stream(ASKED)] == answer("Hi")
    assert [(c.kind, c.request) for c in upstream.asked] == [("stream", ASKED)]
    assert facts.requests == []  # the facts are asked about models, never called


async def test_a_recorded_error_mid_stream_is_raised_after_its_chunks() -> None:
    error = errors.ApiError("the upstream stream broke off")
    _, upstream = replaying(
        Call("stream", RECORDED, chunks=[chunk({"content": "a"})], error=describe_error(error))
    )
    got = []
    with pytest.raises(errors.ApiError, match="broke off"):
        async for c in upstream.stream(RECORDED):
            got.append(c)
    assert len(got) == 1


async def test_complete_and_count_tokens_answer_or_raise_as_recorded() -> None:
    refusal = errors.RateLimitError("slow down", headers={"retry-after": "7"})
    recorded = Call("complete", RECORDED, response={"choices": []})
    _, upstream = replaying(
        recorded,
        Call("complete", RECORDED, error=describe_error(refusal)),
        Call("count_tokens", RECORDED, count=12),
    )
    first = await upstream.complete(RECORDED)
    first["choices"].append("changed by the caller")
    assert recorded.response == {"choices": []}
    with pytest.raises(errors.RateLimitError) as raised:
        await upstream.complete(RECORDED)
    assert raised.value.headers == {"retry-after": "7"}
    assert await upstream.count_tokens(RECORDED) == 12


async def test_a_call_the_recording_lacks_is_an_error_never_an_invented_answer() -> None:
    _, upstream = replaying(Call("complete", RECORDED, response={"choices": []}))
    with pytest.raises(errors.ApiError, match="does not have"):
        await upstream.complete(RECORDED)
        await upstream.complete(RECORDED)
    _, upstream = replaying(Call("complete", RECORDED, response={"choices": []}))
    with pytest.raises(errors.ApiError, match="asked for stream where the recording has complete"):
        async for _ in upstream.stream(RECORDED):
            pass
    _, upstream = replaying(Call("stream", RECORDED, chunks=answer("a"), cut_off=True))
    with pytest.raises(errors.ApiError, match="cut off"):
        async for _ in upstream.stream(RECORDED):
            pass


async def test_load_starts_a_new_exchange() -> None:
    _, upstream = replaying(Call("count_tokens", RECORDED, count=1))
    await upstream.count_tokens(RECORDED)
    upstream.load([Call("count_tokens", RECORDED, count=2)])
    assert upstream.asked == []
    assert await upstream.count_tokens(RECORDED) == 2


async def test_model_facts_come_from_the_current_code() -> None:
    facts, upstream = replaying()
    assert upstream.provider_of("gpt-4.1") == "openai"
    assert upstream.is_provider("gemini") and not upstream.is_provider("nope")
    assert (await upstream.target("openai/gpt-4.1", "openai")).provider == "openai"
    await upstream.aclose()
    assert facts.closed
