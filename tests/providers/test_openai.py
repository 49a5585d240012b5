"""OpenAI quirks: the newline setting, on its own and end to end through real LiteLLM."""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic
import pytest

from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.providers.openai import OpenAIQuirks
from claude_proxy.translate.target import Target
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.messages import BASH
from tests.helpers.proxy import ProxyFactory

GPT = Target(model="openai/gpt-4.1", provider="openai")
ESCAPE = ProviderOptions(preserve_openai_newlines=False)
WRITE_ARGS = json.dumps({"command": "printf 'a\\nb\\n' > f.txt\necho done"})


def response(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def delta_chunk(delta: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_openai_targets_get_the_openai_quirks() -> None:
    assert type(quirks_for(GPT, ESCAPE)) is OpenAIQuirks


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(
            {"content": "line 1\nline 2\n\n", "reasoning_content": "a\nb"},
            {"content": "line 1\\nline 2\\n\\n", "reasoning_content": "a\nb"},
            id="text-escaped-reasoning-untouched",
        ),
        pytest.param(
            {
                "content": "run:\n",
                "tool_calls": [{"id": "t", "function": {"name": "Bash", "arguments": WRITE_ARGS}}],
            },
            {
                "content": "run:\\n",
                "tool_calls": [{"id": "t", "function": {"name": "Bash", "arguments": WRITE_ARGS}}],
            },
            id="tool-arguments-untouched",
        ),
        pytest.param(
            {"content": [{"type": "text", "text": "a\nb"}, {"type": "image_url", "image_url": {}}]},
            {
                "content": [
                    {"type": "text", "text": "a\\nb"},
                    {"type": "image_url", "image_url": {}},
                ]
            },
            id="text-parts",
        ),
        pytest.param({"content": None}, {"content": None}, id="no-content"),
        pytest.param({"content": "no newline"}, {"content": "no newline"}, id="nothing-to-do"),
    ],
)
def test_fix_response_escapes_text_newlines(
    message: dict[str, Any], expected: dict[str, Any]
) -> None:
    upstream = response(message)
    before = copy.deepcopy(upstream)
    fixed = quirks_for(GPT, ESCAPE).fix_response(upstream, {})
    assert fixed == response(expected)
    assert upstream == before


def test_stream_filter_escapes_delta_content_only() -> None:
    chunk_filter = quirks_for(GPT, ESCAPE).filter_stream({})
    assert chunk_filter is not None
    tool_delta = {"tool_calls": [{"index": 0, "function": {"arguments": '{"command": "a\\nb\n"}'}}]}
    chunks = [
        delta_chunk({"role": "assistant", "content": "", "reasoning_content": "x\ny"}),
        delta_chunk({"content": "one\n"}),
        delta_chunk({"content": "\ntwo"}),
        delta_chunk(tool_delta),
        {"id": "c", "choices": [], "usage": {"prompt_tokens": 1}},
    ]
    before = copy.deepcopy(chunks)
    out = [item for c in chunks for item in chunk_filter.feed(c)] + chunk_filter.finish()
    assert out == [
        delta_chunk({"role": "assistant", "content": "", "reasoning_content": "x\ny"}),
        delta_chunk({"content": "one\\n"}),
        delta_chunk({"content": "\\ntwo"}),
        delta_chunk(tool_delta),
        {"id": "c", "choices": [], "usage": {"prompt_tokens": 1}},
    ]
    assert chunks == before


def test_newlines_are_preserved_by_default() -> None:
    quirks = quirks_for(GPT, ProviderOptions())
    upstream = response({"content": "a\nb"})
    assert quirks.fix_response(upstream, {}) is upstream
    assert quirks.filter_stream({}) is None


@pytest.mark.parametrize("preserve", [True, False], ids=["preserve", "escape"])
async def test_newline_setting_end_to_end(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, preserve: bool
) -> None:
    url = await start_proxy(
        openai_api_key="sk-test",
        openai_api_base=fake_openai.base_url,
        preserve_openai_newlines=preserve,
    )
    answer = Answer(
        text="First line.\nSecond line.\n", tool_calls=[ToolCall("call_w", "Bash", WRITE_ARGS)]
    )
    fake_openai.enqueue(answer, answer)
    kwargs: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 500,
        "tools": [BASH],
        "messages": [{"role": "user", "content": "write it"}],
    }
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        plain = await client.messages.create(**kwargs)
        async with client.messages.stream(**kwargs) as stream:
            streamed = await stream.get_final_message()
    expected_text = "First line.\nSecond line.\n" if preserve else "First line.\\nSecond line.\\n"
    for message in (plain, streamed):
        text, tool = message.content
        assert text.type == "text" and text.text == expected_text
        assert tool.type == "tool_use" and tool.input == json.loads(WRITE_ARGS)
