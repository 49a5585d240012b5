from __future__ import annotations

from claude_proxy.settings import load_settings
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from claude_proxy.upstream.model_facts import bundled_model_map
from claude_proxy.upstream.native_target import target_for


async def test_targets_equal_the_litellm_catalogs() -> None:
    catalog = LiteLLMUpstream(load_settings(env_file=None))
    models = [
        key
        if key.startswith(f"{entry['litellm_provider']}/")
        else f"{entry['litellm_provider']}/{key}"
        for key, entry in bundled_model_map().entries.items()
        if entry.get("litellm_provider") in ("openai", "together_ai")
    ] + [
        "openai/my-local-model",
        "openai/gpt-5.9-preview",
        "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    ]
    different = [
        model
        for model in models
        if target_for(model) != await catalog.target(model, model.partition("/")[0])
    ]
    assert different == []


def test_other_providers_are_not_answered() -> None:
    assert target_for("gemini/gemini-2.5-pro") is None
    assert target_for("anthropic/claude-sonnet-4-5") is None


def test_a_model_s_target_is_built_once() -> None:
    # Rebuilt per request, its parameter set (about 2 KB) was held by every in-flight stream.
    assert target_for("openai/gpt-4.1") is target_for("openai/gpt-4.1")
