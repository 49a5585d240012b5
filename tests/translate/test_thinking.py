from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import (
    Signed,
    check_of,
    effort_for,
    opaque_data,
    read_signature,
    reasoning_for,
    reasoning_params,
    reasoning_text,
    sign_thinking,
    thinking_blocks,
)

O3 = Target(
    model="openai/o3-mini",
    provider="openai",
    supported_params=frozenset({"reasoning_effort", "max_completion_tokens", "tools"}),
    supports_reasoning=True,
)
GPT5 = Target(
    model="openai/gpt-5-mini",
    provider="openai",
    supported_params=frozenset({"reasoning_effort", "max_completion_tokens"}),
    supports_reasoning=True,
    supports_minimal_reasoning=True,
)
GPT41 = Target(
    model="openai/gpt-4.1", provider="openai", supported_params=frozenset({"temperature", "tools"})
)
GPT5_CHAT = Target(
    model="openai/gpt-5-chat-latest",
    provider="openai",
    supported_params=frozenset({"temperature", "tools"}),
    supports_reasoning=True,
)
GEMINI = Target(
    model="gemini/gemini-2.5-pro",
    provider="gemini",
    supports_reasoning=True,
    supports_minimal_reasoning=True,
)
DEEPSEEK = Target(model="openai/deepseek-reasoner", provider="openai")


# --- effort --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("thinking", "output_config", "effort"),
    [
        pytest.param({"type": "enabled", "budget_tokens": 31999}, None, "high", id="claude-code"),
        pytest.param({"type": "enabled", "budget_tokens": 4096}, None, "high", id="4096"),
        pytest.param({"type": "enabled", "budget_tokens": 4095}, None, "medium", id="4095"),
        pytest.param({"type": "enabled", "budget_tokens": 2048}, None, "medium", id="2048"),
        pytest.param({"type": "enabled", "budget_tokens": 2047}, None, "low", id="2047"),
        pytest.param({"type": "enabled", "budget_tokens": 1024}, None, "low", id="1024"),
        pytest.param({"type": "enabled", "budget_tokens": 1023}, None, "minimal", id="1023"),
        pytest.param({"type": "enabled"}, None, "high", id="enabled-without-budget"),
        pytest.param({"type": "enabled", "budget_tokens": True}, None, "high", id="bool-budget"),
        pytest.param({"type": "adaptive"}, None, "high", id="adaptive-default"),
        pytest.param({"type": "adaptive"}, {"effort": "low"}, "low", id="adaptive-low"),
        pytest.param({"type": "adaptive"}, {"effort": "medium"}, "medium", id="adaptive-medium"),
        pytest.param({"type": "adaptive"}, {"effort": "high"}, "high", id="adaptive-high"),
        pytest.param({"type": "adaptive"}, {"effort": "xhigh"}, "high", id="adaptive-xhigh"),
        pytest.param({"type": "adaptive"}, {"effort": "max"}, "high", id="adaptive-max"),
        pytest.param({"type": "adaptive"}, {"effort": "turbo"}, "high", id="adaptive-unknown"),
        pytest.param({"type": "adaptive"}, {"format": {}}, "high", id="adaptive-no-effort"),
        pytest.param(
            {"type": "adaptive", "display": "omitted"}, {"effort": "medium"}, "medium", id="display"
        ),
        pytest.param(
            {"type": "enabled", "budget_tokens": 5000}, {"effort": "low"}, "high", id="budget-wins"
        ),
        pytest.param({"type": "disabled"}, {"effort": "high"}, None, id="disabled"),
        pytest.param(None, {"effort": "high"}, None, id="absent"),
        pytest.param({"type": "sometimes"}, None, None, id="unknown-type"),
        pytest.param("enabled", None, None, id="not-an-object"),
    ],
)
def test_effort_for(thinking: Any, output_config: Any, effort: str | None) -> None:
    assert effort_for(thinking, output_config) == effort


@pytest.mark.parametrize(
    ("thinking", "target", "expected"),
    [
        pytest.param({"type": "adaptive"}, O3, {"reasoning_effort": "high"}, id="o3"),
        pytest.param(
            {"type": "enabled", "budget_tokens": 500},
            O3,
            {"reasoning_effort": "low"},
            id="o3-no-minimal",
        ),
        pytest.param(
            {"type": "enabled", "budget_tokens": 500},
            GPT5,
            {"reasoning_effort": "minimal"},
            id="gpt-5-minimal",
        ),
        pytest.param(
            {"type": "enabled", "budget_tokens": 2048},
            GEMINI,
            {"reasoning_effort": "medium"},
            id="gemini",
        ),
        pytest.param({"type": "adaptive"}, GPT41, {}, id="gpt-4.1-does-not-reason"),
        pytest.param({"type": "adaptive"}, GPT5_CHAT, {}, id="reasoning-model-refusing-the-param"),
        pytest.param({"type": "adaptive"}, DEEPSEEK, {}, id="unknown-model"),
        pytest.param({"type": "disabled"}, O3, {}, id="disabled"),
    ],
)
def test_reasoning_params(thinking: Any, target: Target, expected: dict[str, str]) -> None:
    assert reasoning_params({"thinking": thinking}, target) == expected


# --- signatures ----------------------------------------------------------------------------


def test_signature_round_trip() -> None:
    signature = sign_thinking("Let me think.\nYes.", O3, None)
    assert re.fullmatch(r"cpx1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}", signature)
    assert read_signature(signature, "Let me think.\nYes.") == Signed("openai", "openai/o3-mini")
    payload = signature.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(payload + "==")) == {
        "p": "openai",
        "m": "openai/o3-mini",
    }


def test_signature_carries_opaque_data() -> None:
    opaque = {"thought_signatures": ["c2lnLTE="], "reasoning_items": [{"id": "rs_1"}]}
    signature = sign_thinking("Thought.", GEMINI, opaque)
    assert read_signature(signature, "Thought.") == Signed(
        "gemini", "gemini/gemini-2.5-pro", opaque
    )


def test_signature_without_target() -> None:
    assert read_signature(sign_thinking("x", None, {}), "x") == Signed("", "")


@pytest.mark.parametrize("thinking", ["Zürich ✓ 思考", "lone \ud800 surrogate", ""])
def test_signature_of_any_text(thinking: str) -> None:
    signature = sign_thinking(thinking, O3, {"thought_signatures": ["é"]})
    assert signature.isascii()
    assert read_signature(signature, thinking) == Signed(
        "openai", "openai/o3-mini", {"thought_signatures": ["é"]}
    )


def forged(payload: bytes, thinking: str) -> str:
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"cpx1.{encoded}.{check_of(encoded, thinking)}"


OURS = sign_thinking("Original.", O3, None)


@pytest.mark.parametrize(
    ("signature", "thinking"),
    [
        pytest.param(OURS, "Edited.", id="text-edited"),
        pytest.param(OURS + "x", "Original.", id="check-edited"),
        pytest.param(OURS.replace("cpx1.", "cpx1.e", 1), "Original.", id="payload-edited"),
        pytest.param(OURS.replace("cpx1.", "cpx2.", 1), "Original.", id="other-version"),
        pytest.param("EqQBCkgIBxABGAIiQNm3Zb6rYhQ2nQzPXl0u7vP2eH0w", "Original.", id="anthropic"),
        pytest.param("fake-signature-bcdce46f", "Original.", id="garbage"),
        pytest.param("", "Original.", id="empty"),
        pytest.param("cpx1.", "Original.", id="prefix-only"),
        pytest.param("cpx1.abc", "Original.", id="no-check"),
        pytest.param(None, "Original.", id="null"),
        pytest.param(OURS, None, id="null-text"),
        pytest.param(forged(b"not json", "t"), "t", id="payload-not-json"),
        pytest.param(forged(b"[1]", "t"), "t", id="payload-not-object"),
        pytest.param(forged(b'{"p": 1, "m": "x"}', "t"), "t", id="provider-not-string"),
        pytest.param(forged(b'{"p": "a", "m": "b", "x": []}', "t"), "t", id="opaque-not-object"),
        pytest.param(forged(b"\xff\xfe", "t"), "t", id="payload-not-utf8"),
        pytest.param("cpx1.abc.é", "t", id="non-ascii-check"),
        pytest.param("cpx1.é.abc", "t", id="non-ascii-payload"),
    ],
)
def test_signatures_that_are_not_ours(signature: Any, thinking: Any) -> None:
    assert read_signature(signature, thinking) is None


# --- response ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "text"),
    [
        pytest.param({"reasoning_content": "a"}, "a", id="reasoning-content"),
        pytest.param({"reasoning": "b"}, "b", id="reasoning"),
        pytest.param(
            {"reasoning_content": "a", "reasoning": "b"}, "a", id="reasoning-content-first"
        ),
        pytest.param({"reasoning_content": "", "reasoning": "b"}, "b", id="empty-falls-through"),
        pytest.param(
            {
                "reasoning_content": None,
                "thinking_blocks": [
                    {"type": "thinking", "thinking": "x", "signature": "s"},
                    {"type": "redacted_thinking", "data": "d"},
                    {"type": "thinking", "thinking": "y"},
                    "junk",
                ],
            },
            "xy",
            id="thinking-blocks",
        ),
        pytest.param(
            {"reasoning_content": "a", "thinking_blocks": [{"type": "thinking", "thinking": "a"}]},
            "a",
            id="thinking-blocks-repeat-reasoning",
        ),
        pytest.param({"reasoning_content": None, "content": "c"}, "", id="none"),
        pytest.param({"reasoning_content": 3, "thinking_blocks": "x"}, "", id="junk"),
    ],
)
def test_reasoning_text(message: dict[str, Any], text: str) -> None:
    assert reasoning_text(message) == text


@pytest.mark.parametrize(
    ("message", "opaque"),
    [
        pytest.param(
            {"provider_specific_fields": {"thought_signatures": ["s1", "s2"], "other": 1}},
            {"thought_signatures": ["s1", "s2"]},
            id="gemini-thought-signatures",
        ),
        pytest.param(
            {"reasoning_items": [{"id": "rs_1", "encrypted_content": "enc"}]},
            {"reasoning_items": [{"id": "rs_1", "encrypted_content": "enc"}]},
            id="openai-reasoning-items",
        ),
        pytest.param(
            {"provider_specific_fields": {"thought_signatures": []}, "reasoning_items": None},
            {},
            id="empty",
        ),
        pytest.param({"provider_specific_fields": None}, {}, id="none"),
    ],
)
def test_opaque_data(message: dict[str, Any], opaque: dict[str, Any]) -> None:
    assert opaque_data(message) == opaque


def test_thinking_blocks_sign_the_reasoning_for_the_target() -> None:
    message = {
        "content": "Hi.",
        "reasoning_content": "Greet back.",
        "provider_specific_fields": {"thought_signatures": ["sig"]},
    }
    [block] = thinking_blocks(message, GEMINI)
    assert block == {
        "type": "thinking",
        "thinking": "Greet back.",
        "signature": sign_thinking("Greet back.", GEMINI, {"thought_signatures": ["sig"]}),
    }
    assert thinking_blocks({"content": "Hi.", "reasoning_content": None}, GEMINI) == []
    # Opaque data without reasoning text makes no block: a client that did not ask for
    # thinking would not expect one.
    assert (
        thinking_blocks({"provider_specific_fields": {"thought_signatures": ["s"]}}, GEMINI) == []
    )


# --- history -------------------------------------------------------------------------------


def ours(text: str, target: Target = O3, opaque: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "thinking", "thinking": text, "signature": sign_thinking(text, target, opaque)}


REDACTED = {"type": "redacted_thinking", "data": "EmwKAhgB"}
FOREIGN = {"type": "thinking", "thinking": "Claude's.", "signature": "EqQBCkgIBxAB"}


@pytest.mark.parametrize(
    ("blocks", "target", "fields"),
    [
        pytest.param([ours("Think.")], O3, {"reasoning_content": "Think."}, id="ours"),
        pytest.param(
            [ours("One."), ours("Two.")], O3, {"reasoning_content": "One.\n\nTwo."}, id="two-joined"
        ),
        pytest.param(
            [FOREIGN, ours("Mine."), REDACTED],
            O3,
            {"reasoning_content": "Mine."},
            id="others-dropped",
        ),
        pytest.param([ours("Think.", GPT5)], O3, {}, id="another-model"),
        pytest.param(
            [ours("Think.", Target("together_ai/x", "together_ai"))],
            Target("openai/x", "openai"),
            {},
            id="another-provider",
        ),
        pytest.param([FOREIGN, REDACTED], O3, {}, id="foreign-only"),
        pytest.param([ours("")], O3, {}, id="empty-text"),
        pytest.param([{**ours("Think."), "thinking": "Thought."}], O3, {}, id="edited"),
        pytest.param(
            [
                ours(
                    "Think.", opaque={"reasoning_items": [{"id": "rs_1", "encrypted_content": "e"}]}
                )
            ],
            O3,
            {
                "reasoning_content": "Think.",
                "reasoning_items": [{"id": "rs_1", "encrypted_content": "e"}],
            },
            id="openai-reasoning-items",
        ),
        pytest.param(
            [ours("Think.", GEMINI, {"thought_signatures": ["s1"]})],
            GEMINI,
            {"provider_specific_fields": {"thought_signatures": ["s1"]}},
            id="gemini-gets-signatures-not-text",
        ),
        pytest.param([ours("Think.", GEMINI)], GEMINI, {}, id="gemini-without-signatures"),
        pytest.param(
            [ours("Think.", GEMINI, {"thought_signatures": 7})],
            GEMINI,
            {},
            id="gemini-malformed-opaque-ignored",
        ),
        pytest.param(
            [ours("Think.", opaque={"reasoning_items": "x"})],
            O3,
            {"reasoning_content": "Think."},
            id="malformed-reasoning-items-ignored",
        ),
        pytest.param(
            [ours("Think.", Target("together_ai/deepseek-ai/DeepSeek-R1", "together_ai"))],
            Target("together_ai/deepseek-ai/DeepSeek-R1", "together_ai"),
            {"reasoning_content": "Think."},
            id="together",
        ),
    ],
)
def test_reasoning_for(
    blocks: list[dict[str, Any]], target: Target, fields: dict[str, Any]
) -> None:
    assert reasoning_for(blocks, target) == fields
