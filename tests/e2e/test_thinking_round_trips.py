"""Thinking end to end: the official SDK (and Claude Code) -> the proxy -> real LiteLLM -> the
fake OpenAI server. Reasoning comes back as signed thinking blocks, and the signature alone is
enough to send the reasoning back upstream on the next turn, even to a restarted proxy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import pytest

from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import Signed, read_signature, sign_thinking
from tests.fakes import gemini_upstream as gemini
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.claude_code import run_claude
from tests.helpers.messages import BASH, comparable
from tests.helpers.proxy import ProxyFactory

REASONING = "The user wants the files listed.\nRunning ls answers that."
LS_CALL = ToolCall("call_ls", "Bash", json.dumps({"command": "ls"}))
LS_USE = {"type": "tool_use", "id": "call_ls", "name": "Bash", "input": {"command": "ls"}}
THINKING = {"type": "enabled", "budget_tokens": 31999}  # what Claude Code sends 4.5 models


async def proxy_for(start_proxy: ProxyFactory, fake: FakeOpenAI, model: str) -> str:
    return await start_proxy(
        openai_api_key="sk-test", openai_api_base=fake.base_url, big_model=model
    )


def sdk(url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0)


async def test_reasoning_becomes_a_signed_thinking_block_streamed_or_not(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI
) -> None:
    url = await proxy_for(start_proxy, fake_openai, "o3-mini")
    answer = Answer(reasoning=REASONING, text="Two files.", text_pieces=3)
    fake_openai.enqueue(answer, answer, answer)
    kwargs: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 4000,
        "thinking": THINKING,
        "messages": [{"role": "user", "content": "what is here?"}],
    }
    async with sdk(url) as client:
        plain = await client.messages.create(**kwargs)
        async with client.messages.stream(**kwargs) as stream:
            streamed = await stream.get_final_message()
        raw = [event async for event in await client.messages.create(**kwargs, stream=True)]

    assert [block.type for block in plain.content] == ["thinking", "text"]
    thinking = plain.content[0]
    assert thinking.type == "thinking"
    assert thinking.thinking == REASONING
    assert read_signature(thinking.signature, REASONING) == Signed("openai", "openai/o3-mini")
    assert comparable(streamed) == comparable(plain)

    shape = [
        (event.type, getattr(getattr(event, "delta", None), "type", None))
        for event in raw
        if event.type.startswith("content_block")
    ]
    assert shape == [
        ("content_block_start", None),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "signature_delta"),
        ("content_block_stop", None),
        ("content_block_start", None),
        ("content_block_delta", "text_delta"),
        ("content_block_delta", "text_delta"),
        ("content_block_delta", "text_delta"),
        ("content_block_stop", None),
    ]
    start = next(event for event in raw if event.type == "content_block_start")
    assert start.type == "content_block_start"
    assert start.content_block.model_dump() == {"type": "thinking", "thinking": "", "signature": ""}


@pytest.mark.parametrize("restart", [False, True], ids=["same-proxy", "restarted-proxy"])
async def test_reasoning_goes_back_upstream_on_the_tool_turn(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, restart: bool
) -> None:
    fake_openai.enqueue(
        Answer(reasoning=REASONING, text="Listing.", tool_calls=[LS_CALL]),
        Answer(text="a.txt and b.txt."),
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": "what is here?"}]
    kwargs: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 4000,
        "thinking": THINKING,
        "tools": [BASH],
    }
    url = await proxy_for(start_proxy, fake_openai, "gpt-5-mini")
    async with sdk(url) as client, client.messages.stream(**kwargs, messages=messages) as stream:
        first = await stream.get_final_message()
    assert [block.type for block in first.content] == ["thinking", "text", "tool_use"]

    messages += [
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_ls", "content": "a.txt\nb.txt"}
            ],
        },
    ]
    if restart:  # a second proxy shares nothing with the first but the code
        url = await proxy_for(start_proxy, fake_openai, "gpt-5-mini")
    async with sdk(url) as client:
        second = await client.messages.create(**kwargs, messages=messages)
    assert second.content[0].type == "text"
    assert second.content[0].text == "a.txt and b.txt."

    replayed = fake_openai.requests[1]["messages"]
    assert replayed[1] == {
        "role": "assistant",
        "content": "Listing.",
        "reasoning_content": REASONING,
        "tool_calls": [
            {
                "id": "call_ls",
                "type": "function",
                "function": {"name": "Bash", "arguments": '{"command": "ls"}'},
            }
        ],
    }
    assert replayed[2] == {"role": "tool", "tool_call_id": "call_ls", "content": "a.txt\nb.txt"}
    assert fake_openai.requests[1]["reasoning_effort"] == "high"


FOREIGN_BLOCKS = {
    "anthropic-signature": {
        "type": "thinking",
        "thinking": "Real Claude reasoning.",
        "signature": "EqQBCkgIBxABGAIiQNm3Zb6rYhQ2nQzPXl0u7vP2eH0wFJ3Zbq9Yc1k2j3l4m5n6o7p8q9r0s1t2u3v4w5x6y7z8A9B0C1D2E3F4G5EgwQp",
    },
    "garbage-signature": {
        "type": "thinking",
        "thinking": "Fake reasoning.",
        "signature": "fake-signature-bcdce46f6cf24526a49c695392ac58dd",
    },
    "ours-with-edited-text": {
        "type": "thinking",
        "thinking": "Edited reasoning.",
        "signature": sign_thinking("Original reasoning.", Target("openai/o3-mini", "openai"), None),
    },
    "ours-from-another-model": {
        "type": "thinking",
        "thinking": "Reasoning of gpt-5-mini.",
        "signature": sign_thinking(
            "Reasoning of gpt-5-mini.", Target("openai/gpt-5-mini", "openai"), None
        ),
    },
    "redacted": {
        "type": "redacted_thinking",
        "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB9URj2pLmN3kJ6yT5uQeIBfEBR",
    },
}


@pytest.mark.parametrize("block", list(FOREIGN_BLOCKS.values()), ids=list(FOREIGN_BLOCKS))
async def test_thinking_not_signed_for_this_model_is_dropped(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, block: dict[str, Any]
) -> None:
    url = await proxy_for(start_proxy, fake_openai, "o3-mini")
    fake_openai.enqueue(Answer(text="Done."))
    async with sdk(url) as client:
        message = await client.messages.create(
            model="claude-opus-5-5",
            max_tokens=4000,
            thinking=THINKING,
            tools=[BASH],
            messages=[
                {"role": "user", "content": "what is here?"},
                {"role": "assistant", "content": [block, LS_USE]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "call_ls", "content": "x"}],
                },
            ],
        )
    assert message.content[0].type == "text"
    assert message.content[0].text == "Done."
    sent = fake_openai.requests[0]["messages"]
    assert sent[1] == {  # LiteLLM leaves out the null content
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_ls",
                "type": "function",
                "function": {"name": "Bash", "arguments": '{"command": "ls"}'},
            }
        ],
    }
    assert "reasoning_content" not in json.dumps(fake_openai.requests[0])


@pytest.mark.parametrize(
    ("model", "thinking", "output_config", "effort"),
    [
        pytest.param("o3-mini", THINKING, None, "high", id="o3-mini-budget-31999"),
        pytest.param(
            "o3-mini", {"type": "enabled", "budget_tokens": 1024}, None, "low", id="o3-mini-1024"
        ),
        pytest.param(
            "gpt-5-mini", {"type": "adaptive"}, {"effort": "medium"}, "medium", id="gpt-5-adaptive"
        ),
        pytest.param(
            "gpt-5-mini", {"type": "adaptive"}, {"effort": "max"}, "high", id="gpt-5-adaptive-max"
        ),
        pytest.param("o1", {"type": "adaptive"}, None, "high", id="o1-adaptive-default"),
        pytest.param("o3-mini", {"type": "disabled"}, None, None, id="o3-mini-disabled"),
        pytest.param("gpt-4.1", THINKING, None, None, id="gpt-4.1-does-not-reason"),
        pytest.param(
            "gpt-4.1", {"type": "adaptive"}, {"effort": "high"}, None, id="gpt-4.1-adaptive"
        ),
    ],
)
async def test_thinking_reaches_the_upstream_as_reasoning_effort(
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    model: str,
    thinking: dict[str, Any],
    output_config: dict[str, Any] | None,
    effort: str | None,
) -> None:
    url = await proxy_for(start_proxy, fake_openai, model)
    fake_openai.enqueue(Answer(text="ok"))
    extra = {"output_config": output_config} if output_config else {}
    async with sdk(url) as client:
        message = await client.messages.create(
            model="claude-opus-5-5",
            max_tokens=32000,
            timeout=60,  # the SDK refuses a non-streamed 32000-token request without one
            thinking=thinking,
            extra_body={"temperature": 0.7, "top_p": 0.9, "top_k": 5, **extra},
            messages=[{"role": "user", "content": "hi"}],
        )
    assert message.content[0].type == "text"
    sent = fake_openai.requests[0]
    assert sent["model"] == model
    assert sent.get("reasoning_effort") == effort
    if model == "gpt-4.1":
        assert set(sent) == {"model", "messages", "max_tokens", "temperature", "top_p"}
    else:
        expected = {"model", "messages", "max_completion_tokens"}
        assert set(sent) == expected | ({"reasoning_effort"} if effort else set())


async def test_gemini_thoughts_and_signatures_survive_a_tool_loop(
    start_proxy: ProxyFactory, fake_gemini: gemini.FakeGemini
) -> None:
    """Thoughts become thinking blocks; on replay Gemini gets its signatures, not the thoughts."""
    url = await start_proxy(
        gemini_api_key=gemini.API_KEY,
        gemini_api_base=fake_gemini.base_url,
        big_model="gemini/gemini-2.5-pro",
    )
    fake_gemini.enqueue(
        gemini.Reply(
            [
                gemini.thought("List the files first."),
                gemini.call("Bash", {"command": "ls"}, signature="c2lnLWNhbGw="),
            ]
        ),
        gemini.Reply(
            [
                gemini.thought("Two files."),
                gemini.text("a.txt and b.txt.", signature="c2lnLXRleHQ="),
            ]
        ),
        gemini.Reply([gemini.text("You are welcome.")]),
    )
    kwargs: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 4000,
        "thinking": THINKING,
        "tools": [BASH],
    }
    messages: list[dict[str, Any]] = [{"role": "user", "content": "what is here?"}]
    async with sdk(url) as client:
        async with client.messages.stream(**kwargs, messages=messages) as stream:
            first = await stream.get_final_message()
        assert [block.type for block in first.content] == ["thinking", "tool_use"]
        assert first.content[0].type == "thinking"
        assert first.content[0].thinking == "List the files first."
        call_id = first.content[1].id
        messages += [
            {"role": "assistant", "content": [block.model_dump() for block in first.content]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": call_id, "content": "a.txt b.txt"}
                ],
            },
        ]
        async with client.messages.stream(**kwargs, messages=messages) as stream:
            second = await stream.get_final_message()
        assert [block.type for block in second.content] == ["thinking", "text"]
        messages += [
            {"role": "assistant", "content": [block.model_dump() for block in second.content]},
            {"role": "user", "content": "thanks"},
        ]
        third = await client.messages.create(**kwargs, messages=messages)
    assert third.content[0].type == "text"
    assert third.content[0].text == "You are welcome."

    assert fake_gemini.rejections == []
    assert fake_gemini.requests[0]["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 4096,
        "includeThoughts": True,
    }
    model_turns = [c for c in fake_gemini.requests[2]["contents"] if c["role"] == "model"]
    assert model_turns == [
        {
            "role": "model",
            "parts": [
                {
                    "function_call": {"name": "Bash", "args": {"command": "ls"}},
                    "thoughtSignature": "c2lnLWNhbGw=",
                }
            ],
        },
        {
            "role": "model",
            "parts": [{"text": "a.txt and b.txt.", "thoughtSignature": "c2lnLXRleHQ="}],
        },
    ]


@pytest.mark.claude_code
async def test_claude_code_sends_the_reasoning_back_on_its_tool_turn(
    claude: str,
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    tmp_path: Path,
) -> None:
    url = await start_proxy(
        openai_api_key="sk-test",
        openai_api_base=fake_openai.base_url,
        big_model="gpt-5-mini",
        small_model="gpt-5-mini",
    )
    workdir = tmp_path / "project"
    workdir.mkdir()
    command = {"command": "echo thought-through > proof.txt", "description": "Write the proof"}
    fake_openai.enqueue(
        Answer(
            reasoning="A shell redirect writes the file.",
            tool_calls=[ToolCall("call_cc_1", "Bash", json.dumps(command))],
        ),
        Answer(text="Written."),
    )
    result = await run_claude(claude, url, workdir, "Write proof.txt with a shell command.")

    assert (workdir / "proof.txt").read_text().strip() == "thought-through"
    assert result["result"] == "Written."
    first, second = fake_openai.requests
    assert first["reasoning_effort"] == "medium"
    assistant = [m for m in second["messages"] if m["role"] == "assistant"]
    assert assistant == [
        {
            "role": "assistant",
            "reasoning_content": "A shell redirect writes the file.",
            "tool_calls": [
                {
                    "id": "call_cc_1",
                    "type": "function",
                    "function": {"name": "Bash", "arguments": json.dumps(command)},
                }
            ],
        }
    ]
