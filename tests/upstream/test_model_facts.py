"""Model facts from the bundled map equal LiteLLM's own answers, and finding the map does not
import litellm."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_proxy.upstream.model_facts import (
    ModelFacts,
    bundled_model_map,
    facts_for,
    model_map_path,
    parse_model_map,
)

REPO = Path(__file__).resolve().parents[2]
PROVIDERS = ("openai", "together_ai")
# Names the map does not hold as such: dated snapshots, case, fine-tunes, local models, and
# names only the capability rules describe.
UNLISTED = [
    "openai/my-local-llm",
    "openai/GPT-4.1",
    "openai/gpt-4.1-2099-01-01",
    "openai/gpt-5.9-turbo",
    "openai/o7",
    "openai/ft:gpt-4o-2024-08-06:org::abc",
    "together_ai/unknown/model",
    "together_ai/qwen/qwen3.5-9b",
    "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
]
FLAGS = (
    "supports_system_messages",
    "supports_function_calling",
    "supports_tool_choice",
    "supports_parallel_function_calling",
    "supports_response_schema",
    "supports_none_reasoning_effort",
    "supports_minimal_reasoning_effort",
    "supports_low_reasoning_effort",
    "supports_xhigh_reasoning_effort",
)


def mapped_models() -> list[str]:
    models = []
    for key, entry in bundled_model_map().entries.items():
        provider = entry.get("litellm_provider")
        if provider in PROVIDERS:
            models.append(key if key.startswith(f"{provider}/") else f"{provider}/{key}")
    return sorted(set(models))


@pytest.fixture(scope="module")
def litellm() -> Any:
    from claude_proxy.upstream.litellm_client import import_litellm

    return import_litellm()


def test_the_map_is_found_and_holds_both_providers() -> None:
    path = model_map_path()
    assert path is not None and path.name == "model_prices_and_context_window_backup.json"
    models = mapped_models()
    assert sum(m.startswith("openai/") for m in models) > 100
    assert sum(m.startswith("together_ai/") for m in models) > 50


def test_target_facts_equal_litellms(litellm: Any) -> None:
    from claude_proxy.upstream.litellm_client import _target_cached

    different = []
    for model in mapped_models() + UNLISTED:
        provider = model.partition("/")[0]
        target = _target_cached(litellm, model, provider)
        facts = facts_for(model)
        theirs = (
            target.max_output_tokens,
            target.max_input_tokens,
            target.supports_vision,
            target.supports_reasoning,
            target.supports_minimal_reasoning,
        )
        mine = (
            facts.max_output_tokens,
            facts.max_input_tokens,
            facts.supports_vision,
            facts.supports_reasoning,
            facts.supports_minimal_reasoning,
        )
        if mine != theirs:
            different.append((model, mine, theirs))
    assert different == []


def test_capability_flags_equal_litellms(litellm: Any) -> None:
    from litellm.utils import (
        declared_value_factory,
        is_explicitly_disabled_factory,
        supports_factory,
    )

    different = []
    for model in mapped_models() + UNLISTED:
        provider, _, bare = model.partition("/")
        facts = facts_for(model)
        for flag in FLAGS:
            if facts.supports(flag) != supports_factory(bare, provider, flag):
                different.append((model, flag, "supports"))
            if facts.disables(flag) != is_explicitly_disabled_factory(bare, provider, flag):
                different.append((model, flag, "disables"))
        declared = declared_value_factory(bare, provider, "default_reasoning_effort")
        if facts.declared("default_reasoning_effort") != declared:
            different.append((model, "default_reasoning_effort", declared))
    assert different == []


def test_prices_come_from_the_entry() -> None:
    facts = facts_for("openai/gpt-4.1")
    entry = bundled_model_map().entries["gpt-4.1"]
    assert facts.prices["input"] == entry["input_cost_per_token"]
    assert facts.prices["output"] == entry["output_cost_per_token"]
    assert facts_for("openai/never-heard-of-it").prices == {}


PRICED = [
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "openai/gpt-4o",
    "openai/o3",
    "gemini/gemini-2.5-flash",
    "gemini/gemini-2.5-pro",
    "anthropic/claude-sonnet-4-5-20250929",
    "together_ai/Qwen/QwQ-32B",
]


@pytest.mark.parametrize("model", PRICED)
@pytest.mark.parametrize(
    "usage",
    [
        {"input_tokens": 1200, "output_tokens": 300},
        {
            "input_tokens": 800,
            "output_tokens": 50,
            "cache_read_input_tokens": 4000,
            "cache_creation_input_tokens": 700,
        },
    ],
)
def test_cost_equals_litellms(litellm: Any, model: str, usage: dict[str, int]) -> None:
    read = usage.get("cache_read_input_tokens", 0)
    written = usage.get("cache_creation_input_tokens", 0)
    prompt, completion = litellm.cost_per_token(
        model=model,
        prompt_tokens=usage["input_tokens"] + read + written,
        completion_tokens=usage["output_tokens"],
        cache_read_input_tokens=read,
        cache_creation_input_tokens=written,
    )
    assert facts_for(model).cost(usage) == pytest.approx(prompt + completion, rel=1e-9)


def test_an_unpriced_model_has_no_cost() -> None:
    assert facts_for("openai/never-heard-of-it").cost({"input_tokens": 10}) is None
    maverick = "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
    assert facts_for(maverick).cost({"input_tokens": 10}) is None  # LiteLLM: not mapped


def test_unknown_models_have_no_limits() -> None:
    facts = facts_for("together_ai/some/unlisted-model")
    assert isinstance(facts, ModelFacts)
    assert facts.key is None and facts.max_output_tokens is None
    assert facts.supports_vision and not facts.supports_reasoning


def test_aliases_and_rules_of_a_small_map() -> None:
    model_map = parse_model_map(
        {
            "m-1": {"litellm_provider": "openai", "max_tokens": 10, "aliases": ["m-one"]},
            "fallback_generalizations": {
                "rules": [
                    {"pattern": "^o9", "model_info": {"supports_reasoning": True}},
                    {"pattern": "^route", "model_info": {"litellm_provider": "openai"}},
                ]
            },
        }
    )
    assert facts_for("openai/m-one", model_map).max_output_tokens == 10
    assert facts_for("openai/M-1", model_map).key == "m-1"
    assert facts_for("openai/o9-mini", model_map).supports_reasoning
    assert facts_for("openai/route-x", model_map).key is None


def test_finding_the_map_does_not_import_litellm() -> None:
    script = (
        "import sys\n"
        "from claude_proxy.upstream.model_facts import facts_for\n"
        "assert facts_for('openai/gpt-4.1').max_output_tokens\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'openai')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert not any(name.split(".")[0] == "litellm" for name in imported)
