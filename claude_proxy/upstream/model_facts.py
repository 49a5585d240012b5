"""Model limits, capabilities and prices from LiteLLM's bundled model map, without LiteLLM.

`import litellm` costs seconds and ~190 MB; the facts the native path needs are one JSON file
in LiteLLM's wheel (`model_prices_and_context_window_backup.json`, the same copy LiteLLM reads
with LITELLM_LOCAL_MODEL_COST_MAP). `importlib.util.find_spec("litellm")` locates the package
without executing it, and the file loads in ~15 ms.

The lookups reproduce LiteLLM 1.106's `get_model_info` and `supports_*` answers for the
provider-prefixed names the proxy uses (`openai/gpt-4.1`, `together_ai/Qwen/...`): the same
candidate names in the same order, case-insensitive keys, the provider check, the
`fill_missing_for_providers` rules that backfill known entries and the capability rules that
describe unknown ones. tests/upstream/test_model_facts.py compares them with LiteLLM's own
answers for every openai and together_ai model in the map.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAP_FILE = "model_prices_and_context_window_backup.json"
RULES_KEY = "fallback_generalizations"
# Only entries of these modes are backfilled by `fill_missing_for_providers` rules.
BACKFILL_MODES = frozenset({"chat", "responses"})
_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_FINETUNE_SUFFIX = re.compile(r"(:[^:]*){3}$")

Entry = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    info: Entry
    fill_missing_for: frozenset[str] = frozenset()


@dataclass(frozen=True, eq=False)
class ModelMap:
    entries: dict[str, Entry]
    rules: tuple[Rule, ...] = ()
    lowercase: dict[str, str] = field(default_factory=dict)

    def key_of(self, name: str) -> str | None:
        """The map's key for `name`: exact, else case-insensitive."""
        if name in self.entries:
            return name
        return self.lowercase.get(name.lower())


def model_map_path() -> Path | None:
    """Where the installed litellm keeps its bundled map; the package is not imported."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MAP_FILE
    return path if path.is_file() else None


@functools.cache
def bundled_model_map() -> ModelMap:
    path = model_map_path()
    if path is None:
        logger.warning("LiteLLM's model map is not installed; no model limits are known")
        return ModelMap({})
    return parse_model_map(json.loads(path.read_bytes()))


def parse_model_map(raw: dict[str, Any]) -> ModelMap:
    """The map as LiteLLM holds it after loading: rules taken out, aliases added as keys."""
    raw = dict(raw)
    block = raw.pop(RULES_KEY, None)
    entries = {key: value for key, value in raw.items() if isinstance(value, dict)}
    for key, entry in list(entries.items()):
        aliases = entry.pop("aliases", None) if "aliases" in entry else None
        for alias in aliases if isinstance(aliases, list) else []:
            if isinstance(alias, str) and alias not in entries:
                entries[alias] = entry
        if aliases is not None:
            entries[key] = entry
    rules = parse_rules(block.get("rules") if isinstance(block, dict) else None)
    lowercase: dict[str, str] = {}
    for key in entries:
        lowercase.setdefault(key.lower(), key)
    return ModelMap(entries, rules, lowercase)


def parse_rules(raw: Any) -> tuple[Rule, ...]:
    """Capability rules (routing-only rules, whose info is just a provider, are not facts)."""
    rules = []
    for rule in raw if isinstance(raw, list) else []:
        if not isinstance(rule, dict):
            continue
        pattern, info = rule.get("pattern"), rule.get("model_info")
        if not isinstance(pattern, str) or not isinstance(info, dict):
            continue
        if set(info) == {"litellm_provider"}:
            continue
        providers = rule.get("fill_missing_for_providers", [])
        if not isinstance(providers, list):
            continue
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error:
            continue
        rules.append(
            Rule(compiled, dict(info), frozenset(p for p in providers if isinstance(p, str)))
        )
    return tuple(rules)


# --- get_model_info ----------------------------------------------------------------------------


def strip_model_name(name: str) -> str:
    """LiteLLM's `_strip_model_name` for openai-like providers: fine-tune ids and dated snapshots."""
    if "ft:" in name:
        return _FINETUNE_SUFFIX.sub("", name)
    return _DATED_SUFFIX.sub("", name)


def candidates(provider: str, bare: str, *, prefixed: bool) -> list[str]:
    """The names LiteLLM tries, in order. `prefixed`: it was given `provider/bare` and no
    provider (as `get_model_info("openai/gpt-4.1")` is called); else `bare` and the provider
    (as the `supports_*` helpers call it)."""
    full = f"{provider}/{bare}"
    if prefixed:
        stripped = strip_model_name(full)
        return [full, full, full, bare, stripped, stripped, full]
    stripped = strip_model_name(bare)
    return [full, bare, full, bare, f"{provider}/{stripped}", stripped, full]


def model_info(
    model_map: ModelMap, provider: str, bare: str, *, prefixed: bool = True
) -> tuple[str, Entry] | None:
    """(key, info) as LiteLLM's `get_model_info_helper` resolves it; None when unmapped."""
    names = candidates(provider, bare, prefixed=prefixed)
    for name in names:
        key = model_map.key_of(name)
        if key is None:
            continue
        entry = model_map.entries[key]
        if entry.get("litellm_provider") not in (None, provider):
            continue
        if entry.get("mode", "chat") in BACKFILL_MODES:
            entry = {**fill_missing(model_map, key, entry.get("litellm_provider", "")), **entry}
        return key, entry
    if any(model_map.key_of(name) is not None for name in names):
        return None  # known, under another provider: rules never override a real entry
    for name in names:
        matched = [rule.info for rule in model_map.rules if rule.pattern.search(name)]
        if matched:
            info = {key: value for entry in matched for key, value in entry.items()}
            return name, {**info, "litellm_provider": provider}
    return None


def fill_missing(model_map: ModelMap, key: str, provider: Any) -> Entry:
    if not key or not isinstance(provider, str) or not provider:
        return {}
    matched = [
        rule.info
        for rule in model_map.rules
        if provider in rule.fill_missing_for and rule.pattern.search(key)
    ]
    return {k: v for info in matched for k, v in info.items() if k != "litellm_provider"}


# --- the facts the proxy asks for ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ModelFacts:
    """What the map says about one `provider/model`; {} info when the map does not know it."""

    model: str
    provider: str
    key: str | None
    info: Entry
    model_map: ModelMap

    @property
    def bare(self) -> str:
        return self.model.removeprefix(f"{self.provider}/")

    @property
    def max_output_tokens(self) -> int | None:
        value = self.info.get("max_output_tokens") or self.info.get("max_tokens")
        return value if isinstance(value, int) else None

    @property
    def max_input_tokens(self) -> int | None:
        value = self.info.get("max_input_tokens")
        return value if isinstance(value, int) else None

    @property
    def supports_vision(self) -> bool:
        return self.info.get("supports_vision") is not False

    @property
    def supports_reasoning(self) -> bool:
        return self.info.get("supports_reasoning") is True

    @property
    def supports_minimal_reasoning(self) -> bool:
        # LiteLLM maps `minimal` itself for every Gemini model (a small budget, or level low).
        return (
            self.info.get("supports_minimal_reasoning_effort") is True or self.provider == "gemini"
        )

    @property
    def prices(self) -> dict[str, float]:
        """USD per token: input, output, cache_read and cache_creation, where the map says."""
        names = {
            "input": "input_cost_per_token",
            "output": "output_cost_per_token",
            "cache_read": "cache_read_input_token_cost",
            "cache_creation": "cache_creation_input_token_cost",
        }
        return {
            name: float(self.info[key])
            for name, key in names.items()
            if isinstance(self.info.get(key), int | float)
        }

    def cost(self, usage: dict[str, int]) -> float | None:
        """USD for an answer's Anthropic usage (`input_tokens` excludes the cached ones), as
        LiteLLM's `cost_per_token` prices it; None for a model the map does not price.
        Cache reads and writes without a price of their own cost what input does."""
        prices = self.prices
        if "input" not in prices or "output" not in prices:
            return None
        read = usage.get("cache_read_input_tokens", 0)
        written = usage.get("cache_creation_input_tokens", 0)
        return (
            usage.get("input_tokens", 0) * prices["input"]
            + read * prices.get("cache_read", prices["input"])
            + written * prices.get("cache_creation", prices["input"])
            + usage.get("output_tokens", 0) * prices["output"]
        )

    # The `supports_*` helpers resolve the bare name with the provider, then fall back to the
    # unprefixed twin of a prefixed entry (LiteLLM #20885); their answers can differ from `info`.

    def supports(self, flag: str) -> bool:
        """LiteLLM's `supports_factory`: True only where the map says true."""
        value = self._flag(flag)
        return value is True

    def disables(self, flag: str) -> bool:
        """LiteLLM's `is_explicitly_disabled_factory`: True only where the map says false."""
        return self._flag(flag) is False

    def declared(self, name: str) -> str | None:
        """LiteLLM's `declared_value_factory`: a string the map declares, else None."""
        value = self._flag(name)
        return value if isinstance(value, str) else None

    def _flag(self, flag: str) -> Any:
        return _flag_of(self, flag)


@functools.lru_cache(maxsize=4096)
def _flag_of(facts: ModelFacts, flag: str) -> Any:
    found = model_info(facts.model_map, facts.provider, facts.bare, prefixed=False)
    if found is None:
        return None
    value = found[1].get(flag)
    if value is not None:
        return value
    twin = facts.model_map.key_of(facts.bare)
    return facts.model_map.entries[twin].get(flag) if twin is not None else None


@functools.lru_cache(maxsize=1024)
def facts_for(model: str, model_map: ModelMap | None = None) -> ModelFacts:
    """The facts about a LiteLLM model string (`openai/gpt-4.1`)."""
    model_map = model_map or bundled_model_map()
    provider, _, bare = model.partition("/")
    found = model_info(model_map, provider, bare) if bare else None
    key, info = found if found is not None else (None, {})
    return ModelFacts(model, provider, key, info, model_map)


def response_schema_verdict(provider: str, info: dict[str, Any]) -> bool | None:
    """Whether a model answers to a JSON schema in `response_format`: its entry's
    `supports_response_schema`; an OpenAI model listed without it is an old one that does
    not (gpt-3.5-turbo, gpt-4); None for a model the map does not know (it judges itself)."""
    value = info.get("supports_response_schema")
    if isinstance(value, bool):
        return value
    if provider == "openai" and info:
        return False
    return None


@functools.lru_cache(maxsize=64)
def catalogue_declares(model_map: ModelMap, key: str) -> bool:
    """Whether any entry carries `key` (LiteLLM reads an old map's silence differently)."""
    return any(key in entry for entry in model_map.entries.values())


def provider_of(model: str) -> str | None:
    """The registry's provider of a bare model name (LiteLLM's `model_cost` lookup)."""
    entry = bundled_model_map().entries.get(model)
    provider = entry.get("litellm_provider") if entry else None
    return provider if isinstance(provider, str) else None


@functools.cache
def provider_names() -> frozenset[str]:
    """LiteLLM's provider names (`litellm.provider_list`), read from the values of its
    `LlmProviders` enum in the installed source, so that nothing of litellm is imported."""
    spec = importlib.util.find_spec("litellm")
    locations = spec.submodule_search_locations if spec is not None else None
    source = Path(next(iter(locations))) / "types" / "utils.py" if locations else None
    if source is None or not source.is_file():
        return frozenset()
    for node in ast.parse(source.read_bytes()).body:
        if isinstance(node, ast.ClassDef) and node.name == "LlmProviders":
            return frozenset(
                statement.value.value
                for statement in node.body
                if isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            )
    return frozenset()


def registry_models(provider: str) -> list[dict[str, Any]]:
    """The chat models the map lists for a provider, prefixed, with their facts, by name
    (what `litellm.model_cost` lists, without importing it)."""
    models: dict[str, dict[str, Any]] = {}
    for name, info in bundled_model_map().entries.items():
        if info.get("litellm_provider") != provider or info.get("mode") != "chat":
            continue
        if name.startswith(f"{provider}/"):  # wins over the same model listed bare
            models[name] = {**info, "model": name}
        else:
            models.setdefault(f"{provider}/{name}", {**info, "model": f"{provider}/{name}"})
    return [models[name] for name in sorted(models)]
