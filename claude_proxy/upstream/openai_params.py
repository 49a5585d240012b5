"""Which Chat Completions parameters a model takes, and how LiteLLM 1.106 rewrites them.

LiteLLM picks a config class per model and each class has its parameter list and its
rewrites. For the `openai` provider (`ProviderConfigManager.get_provider_chat_config`):

    family     chosen when                                  rewrites
    ---------  -------------------------------------------  ----------------------------------
    o_series   o<digit>..., and the map lists it for openai  max_tokens -> max_completion_tokens;
                                                            temperature only when it is 1
    gpt_5      the name holds gpt-5 or gpt-6, not gpt-5-chat max_tokens -> max_completion_tokens;
                                                            temperature only when it is 1 or
                                                            reasoning resolves to "none"; top_p
                                                            likewise; refused effort levels dropped
    unknown    the map does not list it (a local model)     none; reasoning_effort allowed
    gpt        every other listed model                     none

`together_ai` uses the gpt lists plus `reasoning_effort` for reasoning models, and spells the
effort its own way (`together_effort`). Parameters a model does not take are dropped
(LiteLLM runs with drop_params). The facts come from `model_facts`, never from litellm.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal

from claude_proxy.upstream.model_facts import ModelFacts, ModelMap, catalogue_declares

Family = Literal["o_series", "gpt_5", "unknown", "gpt", "together_ai"]

BASE_PARAMS = (
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
)
GPT_5_SEARCH_PARAMS = (
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "response_format",
    "user",
    "store",
    "verbosity",
    "max_retries",
    "extra_headers",
)
O_SERIES_UNSUPPORTED = (
    "logprobs",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "top_logprobs",
)
GPT_5_UNSUPPORTED = (
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "logit_bias",
    "modalities",
    "prediction",
    "audio",
    "web_search_options",
)
GPT_5_SAMPLING = ("logprobs", "top_logprobs", "top_p")
TOOL_PARAMS = ("tools", "tool_choice", "function_call", "functions")
# Effort levels LiteLLM's gpt-5 gate refuses unless the map says true (opt-in) or never judges.
OPT_IN_EFFORTS = frozenset({"xhigh"})
ROUTE_SPECIFIC_EFFORTS = frozenset({"max"})
_GPT_VERSION = re.compile(r"^gpt-(\d+)(?:\.(\d+))?(?=[.-]|$)")

# Together: LiteLLM's own model lists (llms/together_ai/chat/transformation.py).
TOGETHER_ADJUSTABLE_EFFORT = frozenset({"openai/gpt-oss-120b", "openai/gpt-oss-20b"})
TOGETHER_HYBRID_REASONING = frozenset(
    {
        "MiniMaxAI/MiniMax-M3",
        "Qwen/Qwen3.5-9B",
        "Qwen/Qwen3.6-Plus",
        "deepseek-ai/DeepSeek-V4-Pro",
        "moonshotai/Kimi-K3",
        "nvidia/nemotron-3-ultra-550b-a55b",
        "zai-org/GLM-5.2",
    }
)
TOGETHER_HIGH_MAX_PREFIX = "deepseek-ai/DeepSeek-V4-Pro"
TOGETHER_EFFORTS = {"minimal": "low", "xhigh": "high", "max": "high"}
TOGETHER_HIGH_MAX_EFFORTS = {"minimal": "high", "low": "high", "medium": "high", "xhigh": "max"}


# --- families ----------------------------------------------------------------------------------


def family_of(facts: ModelFacts) -> Family:
    if facts.provider == "together_ai":
        return "together_ai"
    bare = facts.bare
    if is_o_series(facts):
        return "o_series"
    if is_gpt_5(bare):
        return "gpt_5"
    if not is_catalog_model(facts):
        return "unknown"
    return "gpt"


def openai_models(facts: ModelFacts) -> frozenset[str]:
    """LiteLLM's `open_ai_chat_completion_models`: every openai key but pricing-only fine-tunes."""
    return _openai_models(facts.model_map)


@functools.lru_cache(maxsize=8)
def _openai_models(model_map: ModelMap) -> frozenset[str]:
    return frozenset(
        key
        for key, entry in model_map.entries.items()
        if entry.get("litellm_provider") == "openai"
        and not (key.startswith("ft:") and key.count(":") == 1)
    )


def is_catalog_model(facts: ModelFacts) -> bool:
    name = facts.bare.split("responses/", 1)[1] if "responses/" in facts.bare else facts.bare
    if name in openai_models(facts):
        return True
    entry = facts.model_map.entries.get(name)
    return entry is not None and entry.get("litellm_provider") == "text-completion-openai"


def is_o_series(facts: ModelFacts) -> bool:
    name = facts.bare.split("/")[-1]
    return len(name) > 1 and name[0] == "o" and name[1].isdigit() and name in openai_models(facts)


def is_gpt_5(bare: str) -> bool:
    return ("gpt-5" in bare or "gpt-6" in bare) and "gpt-5-chat" not in bare.split("/")[-1]


def is_gpt_5_search(bare: str) -> bool:
    return "gpt-5" in bare and "search" in bare


def gpt_version(bare: str) -> tuple[int, int] | None:
    match = _GPT_VERSION.match(bare.split("/")[-1])
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


# --- supported parameters ----------------------------------------------------------------------


def supported_params(facts: ModelFacts) -> list[str]:
    """LiteLLM's `get_supported_openai_params(bare, provider)` for openai and together_ai."""
    return list(_supported_params(facts))


@functools.lru_cache(maxsize=1024)
def _supported_params(facts: ModelFacts) -> tuple[str, ...]:
    return tuple(_params_of(facts))


def _params_of(facts: ModelFacts) -> list[str]:
    family = family_of(facts)
    bare = facts.bare
    if family == "gpt_5" and is_gpt_5_search(bare):
        return list(GPT_5_SEARCH_PARAMS)
    params = list(BASE_PARAMS)
    if bare not in ("gpt-3.5-turbo-16k", "gpt-4"):
        params.append("response_format")
    if is_catalog_model(facts):
        params.append("user")
    if family == "unknown":
        return [*params, "reasoning_effort"]
    if family == "together_ai":
        return [*params, "reasoning_effort"] if together_reasons(facts) else params
    if family == "o_series":
        unsupported = set(O_SERIES_UNSUPPORTED)
        if not facts.supports("supports_function_calling"):
            unsupported.update(TOOL_PARAMS)
        if not facts.supports("supports_parallel_function_calling"):
            unsupported.add("parallel_tool_calls")
        if not facts.supports("supports_response_schema"):
            unsupported.add("response_format")
        return [p for p in [*params, "reasoning_effort"] if p not in unsupported]
    if family == "gpt_5":
        params += ["reasoning_effort", "verbosity"]
        if not facts.supports("supports_tool_choice"):
            params.remove("tool_choice")
        unsupported = set(GPT_5_UNSUPPORTED)
        if not facts.supports("supports_none_reasoning_effort"):
            unsupported.update(GPT_5_SAMPLING)
        return [p for p in params if p not in unsupported]
    return params


def together_reasons(facts: ModelFacts) -> bool:
    bare = facts.bare
    if bare in TOGETHER_ADJUSTABLE_EFFORT or bare in TOGETHER_HYBRID_REASONING:
        return True
    return bare.startswith(TOGETHER_HIGH_MAX_PREFIX) or facts.supports("supports_reasoning")


# --- rewrites ----------------------------------------------------------------------------------


def map_params(params: dict[str, Any], facts: ModelFacts) -> dict[str, Any]:
    """The optional parameters (everything but model and messages) as LiteLLM sends them."""
    supported = set(_supported_params(facts))
    # drop_params: what the model does not take goes (n=1 is the default, so it may stay).
    params = {k: v for k, v in params.items() if k in supported or (k == "n" and v == 1)}
    family = family_of(facts)
    if family == "o_series":
        return map_o_series(params)
    if family == "gpt_5" and not is_gpt_5_search(facts.bare):
        return map_gpt_5(params, facts)
    if family == "gpt_5":
        return renamed_max_tokens(params)
    if family == "together_ai":
        return map_together(params, facts)
    return params


def renamed_max_tokens(params: dict[str, Any]) -> dict[str, Any]:
    if "max_tokens" not in params:
        return params
    params = dict(params)
    params["max_completion_tokens"] = params.pop("max_tokens")
    return params


def map_o_series(params: dict[str, Any]) -> dict[str, Any]:
    params = renamed_max_tokens(params)
    if "temperature" in params and params["temperature"] != 1:
        params = {k: v for k, v in params.items() if k != "temperature"}
    return params


def map_gpt_5(params: dict[str, Any], facts: ModelFacts) -> dict[str, Any]:
    params = dict(params)
    effort = params.get("reasoning_effort")
    if isinstance(effort, dict):
        effort = effort.get("effort")
        if effort is not None:
            params["reasoning_effort"] = effort
    if isinstance(effort, str) and refuses_effort(facts, effort):
        params.pop("reasoning_effort", None)
    effective = params.get("reasoning_effort")
    params = renamed_max_tokens(params)
    takes_none = facts.supports("supports_none_reasoning_effort")
    resolves_none = effort_resolves_to_none(facts, effective)
    if takes_none and not resolves_none:
        for name in GPT_5_SAMPLING:
            params.pop(name, None)
    if "temperature" in params:
        temperature = params["temperature"]
        if not ((takes_none and resolves_none) or temperature == 1):
            del params["temperature"]
    return params


def refuses_effort(facts: ModelFacts, level: str) -> bool:
    if level in ROUTE_SPECIFIC_EFFORTS:
        return False
    if level in OPT_IN_EFFORTS:
        return not facts.supports(f"supports_{level}_reasoning_effort")
    return facts.disables(f"supports_{level}_reasoning_effort")


def effort_resolves_to_none(facts: ModelFacts, effort: Any) -> bool:
    """Whether the effort the model will use is "none": the explicit one, else its default."""
    if isinstance(effort, str):
        return effort == "none"
    declared = facts.declared("default_reasoning_effort")
    if declared is not None:
        return declared == "none"
    if not catalogue_declares(facts.model_map, "default_reasoning_effort"):
        return facts.supports("supports_none_reasoning_effort")
    return False


def map_together(params: dict[str, Any], facts: ModelFacts) -> dict[str, Any]:
    params = dict(params)
    if together_drops_tools(facts):
        for name in TOOL_PARAMS:
            params.pop(name, None)
    effort = params.get("reasoning_effort")
    if not isinstance(effort, str):
        return params
    del params["reasoning_effort"]
    for key, value in together_effort(effort, facts).items():
        params.setdefault(key, value)
    return params


def together_drops_tools(facts: ModelFacts) -> bool:
    """Only an entry that says supports_function_calling false loses its tools."""
    if facts.supports("supports_function_calling"):
        return False
    entry = facts.model_map.entries.get(f"together_ai/{facts.bare}")
    return isinstance(entry, dict) and entry.get("supports_function_calling") is False


def together_effort(effort: str, facts: ModelFacts) -> dict[str, Any]:
    bare = facts.bare
    if effort == "default":
        return {}
    if bare in TOGETHER_ADJUSTABLE_EFFORT:
        return {
            "reasoning_effort": "low" if effort == "none" else TOGETHER_EFFORTS.get(effort, effort)
        }
    if effort == "none":
        return {"reasoning": {"enabled": False}}
    if effort in together_declared_efforts(facts):
        return {"reasoning_effort": effort}
    if bare.startswith(TOGETHER_HIGH_MAX_PREFIX):
        return {"reasoning_effort": TOGETHER_HIGH_MAX_EFFORTS.get(effort, effort)}
    return {"reasoning_effort": TOGETHER_EFFORTS.get(effort, effort)}


def together_declared_efforts(facts: ModelFacts) -> tuple[str, ...]:
    """The entry's `reasoning_effort_levels` (LiteLLM's `declared_reasoning_efforts_for_model`,
    which reads the entry straight off the map); () when it declares none."""
    entries = facts.model_map.entries
    entry = entries.get(f"together_ai/{facts.bare}") or entries.get(facts.bare)
    levels = entry.get("reasoning_effort_levels") if isinstance(entry, dict) else None
    if not isinstance(levels, list | tuple):
        return ()
    return tuple(effort for effort in levels if isinstance(effort, str))
