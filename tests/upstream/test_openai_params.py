"""Which parameters a model takes and how they are spelled for it, as LiteLLM decides."""

from __future__ import annotations

from claude_proxy.upstream.model_facts import facts_for
from claude_proxy.upstream.openai_params import family_of, map_params, supported_params


def test_model_families() -> None:
    assert family_of(facts_for("openai/o3-mini")) == "o_series"
    assert family_of(facts_for("openai/gpt-4.1")) == "gpt"
    assert (
        family_of(facts_for("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo")) == "together_ai"
    )


def test_gpt_4_1_takes_sampling_and_keeps_max_tokens() -> None:
    facts = facts_for("openai/gpt-4.1")
    assert {"temperature", "top_p", "tools", "max_tokens"} <= set(supported_params(facts))
    params = {"max_tokens": 100, "temperature": 0.3, "top_k": 5}
    assert map_params(params, facts) == {"max_tokens": 100, "temperature": 0.3}


def test_o_series_renames_max_tokens_and_drops_temperature_but_one() -> None:
    facts = facts_for("openai/o3-mini")
    assert map_params({"max_tokens": 100, "temperature": 0.3}, facts) == {
        "max_completion_tokens": 100
    }
    assert map_params({"max_tokens": 9, "temperature": 1}, facts) == {
        "max_completion_tokens": 9,
        "temperature": 1,
    }
