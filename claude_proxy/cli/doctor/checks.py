"""`claude-proxy doctor`: checks of the setup, each with a pass / warn / fail mark and a fix.

The checks read the same layers the settings are built from (settings/sources.py), so a key
found under a near-miss name, or two Together variables that disagree, can be named exactly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from claude_proxy.cli.claude_code import CLAUDE_INSTALL_HINT
from claude_proxy.cli.doctor.check import Check
from claude_proxy.cli.local_proxy import check_bindable, health_mismatch, loopback, probe_health
from claude_proxy.cli.options import settings_from
from claude_proxy.errors import CommandError
from claude_proxy.model_map import ALIASES, Alias, ModelChoice, alias_target, map_model
from claude_proxy.providers import PROVIDERS, ProviderInfo, provider_for
from claude_proxy.settings import Settings, config_file_path

if TYPE_CHECKING:
    from claude_proxy.upstream.engines import Engines
from claude_proxy.settings.sources import (
    Layer,
    Origin,
    display,
    field_names,
    layers,
    origins,
    unknown_config_keys,
)

TOGETHER_NAMES = tuple(field_names("togetherai_api_key"))
"""Every variable the Together key is read from, primary first."""


def run_checks(overrides: dict[str, Any], *, online: bool = False) -> list[Check]:
    checks = [check_config_file()]
    try:
        settings = settings_from(overrides)
    except CommandError as exc:
        return [*checks, Check("settings", "fail", exc.message, exc.hint), check_claude()]
    from claude_proxy.upstream.engines import Engines

    upstream = Engines(settings)
    stack = layers(overrides)
    by_field = {origin.field: origin for origin in origins(settings, stack)}
    choices = {alias: map_model(alias, settings, upstream) for alias in ALIASES}
    checks += check_keys(settings, choices, by_field)
    checks += check_together(choices, stack, by_field)
    checks += [check_model(alias, choice, settings, upstream) for alias, choice in choices.items()]
    checks += [check_web_search(settings), check_port(settings), check_claude()]
    if online:
        import asyncio

        from claude_proxy.cli.doctor.online import check_online

        checks += asyncio.run(check_online(settings, upstream, choices))
    return checks


def key_failures(settings: Settings, overrides: dict[str, Any]) -> list[Check]:
    """The key checks that fail: with one, every request of a session would fail, so `run`
    stops before the client starts."""
    from claude_proxy.upstream.engines import Engines

    upstream = Engines(settings)
    by_field = {origin.field: origin for origin in origins(settings, layers(overrides))}
    choices = {alias: map_model(alias, settings, upstream) for alias in ALIASES}
    return [check for check in check_keys(settings, choices, by_field) if check.status == "fail"]


def check_config_file() -> Check:
    path = config_file_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check("config file", "pass", f"none at {path} (optional)")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Check(
            "config file",
            "fail",
            f"{path} cannot be read: {exc}",
            "Fix the line named, or start again with `claude-proxy config init --force`.",
        )
    unknown = unknown_config_keys(data)
    if unknown:
        return Check(
            "config file",
            "warn",
            f"{path} parses, but {'; '.join(unknown)}",
            "Rename or remove the keys named (`claude-proxy config show` lists the settings).",
        )
    return Check("config file", "pass", f"{path} parses")


def check_keys(
    settings: Settings, choices: Mapping[Alias, ModelChoice], by_field: Mapping[str, Origin]
) -> list[Check]:
    """One check per provider the aliases use: is there a key, and does it look like one?"""
    providers = dict.fromkeys(choice.provider for choice in choices.values())
    rows = [info for info in map(provider_for, providers) if info is not None]
    return [check_key(info, settings, choices, by_field) for info in rows]


def check_key(
    info: ProviderInfo,
    settings: Settings,
    choices: Mapping[Alias, ModelChoice],
    by_field: Mapping[str, Origin],
) -> Check:
    name = f"{info.label} key"
    base = getattr(settings, info.base_field)
    secret = getattr(settings, info.key_field)
    if secret is None or not secret.get_secret_value():
        if base:
            return Check(name, "pass", f"none needed: {info.base_field.upper()} is {base}")
        message = f"no key for {info.label}, which serves {_aliases_of(info.litellm, choices)}"
        other = next(
            (row for row in PROVIDERS if row is not info and getattr(settings, row.key_field)),
            None,
        )
        if other is not None:
            found = by_field[other.key_field].name or other.key_env
            return Check(
                name,
                "fail",
                f"{message}; {found} is set",
                f"Use --provider {other.name} or PREFERRED_PROVIDER={other.name} "
                f"(or set {info.key_env} to stay with {info.label}).",
            )
        return Check(
            name,
            "fail",
            message,
            f"Set {info.key_env} (in the environment or .env), or run "
            f"`claude-proxy config set {info.key_field}`.",
        )
    origin = by_field[info.key_field]
    where = f"{origin.name or info.key_env} from {origin.source} ({display(secret)})"
    key = secret.get_secret_value().strip()
    if base:
        return Check(name, "pass", f"{where}; sent to {base}")
    if re.fullmatch(info.key_pattern, key):
        return Check(name, "pass", f"{where} looks like {_a(info.label)} key")
    other = next((row for row in PROVIDERS if re.fullmatch(row.key_pattern, key)), None)
    if other is not None:
        return Check(
            name,
            "warn",
            f"{where} looks like a key for {other.label}, not {info.label}",
            f"Put the {info.label} key in {info.key_env}.",
        )
    return Check(
        name,
        "warn",
        f"{where} does not look like {_a(info.label)} key ({info.key_shape})",
        f"Check that {info.key_env} holds the whole key, without quotes or spaces.",
    )


def check_together(
    choices: Mapping[Alias, ModelChoice], stack: list[Layer], by_field: Mapping[str, Origin]
) -> list[Check]:
    """Which Together variable was found, and the naming traps around it."""
    found = {
        (name.upper(), layer.label): layer.raw[name]
        for layer in stack
        for name in TOGETHER_NAMES
        if name in layer.raw
    }
    near = sorted(
        {
            f"{name.upper()} ({layer.label})"
            for layer in stack
            for name in layer.raw
            if "together" in name
            and ("key" in name or "token" in name)
            and name not in TOGETHER_NAMES
        }
    )
    uses_together = any(choice.provider == "together_ai" for choice in choices.values())
    if not (found or near or uses_together):
        return []
    checks = []
    if found:
        origin = by_field["togetherai_api_key"]
        used = f"{origin.name or 'TOGETHERAI_API_KEY'} ({origin.source})"
        names = ", ".join(f"{name} ({label})" for name, label in found)
        message = f"found {names}; claude-proxy uses {used}"
        if origin.name not in (None, "TOGETHERAI_API_KEY"):
            message += ". LiteLLM's own tools read only TOGETHERAI_API_KEY"
        checks.append(Check("Together variables", "pass", message))
        if len(set(found.values())) > 1:
            checks.append(
                Check(
                    "Together variables",
                    "warn",
                    f"{names} are set with different values; {used} wins",
                    "Keep one: TOGETHERAI_API_KEY, the name LiteLLM's own tools read.",
                )
            )
    for name in near:
        checks.append(
            Check(
                "Together variables",
                "warn",
                f"{name} is set, but nothing reads that name",
                "Rename it to TOGETHERAI_API_KEY (TOGETHER_API_KEY and TOGETHER_AI_API_KEY "
                "also work here, but LiteLLM's own tools read only TOGETHERAI_API_KEY).",
            )
        )
    return checks


def check_model(alias: Alias, choice: ModelChoice, settings: Settings, upstream: Engines) -> Check:
    name = f"{alias} model"
    target, _rule = alias_target(alias, settings)
    if "falls back to the OpenAI mapping" in choice.reason:
        return Check(
            name,
            "warn",
            f"PREFERRED_PROVIDER=google, but {target} is not a Gemini model: OpenAI serves it "
            f"as {choice.model}",
            f"Use a Gemini model (gemini-2.5-pro), or write {choice.model} to mean OpenAI.",
        )
    info = upstream.model_info(choice.model)
    if info:
        limits = (
            f"window {_tokens(info.get('max_input_tokens'))}, "
            f"max out {_tokens(info.get('max_output_tokens'))}"
        )
        return Check(name, "pass", f"{choice.model}: in LiteLLM's registry ({limits})")
    prefix = target.partition("/")[0] if "/" in target else None
    if choice.reason == "anthropic passthrough":
        return Check(name, "pass", f"Claude names go to Anthropic as they are ({choice.model})")
    if (prefix and upstream.is_provider(prefix)) or settings.preferred_provider == "together":
        return Check(
            name,
            "pass",
            f"{choice.model}: not in LiteLLM's registry, but prefixed for {choice.provider} "
            "(no output cap; Claude Code assumes a 200K window)",
        )
    if choice.provider == "openai" and settings.openai_api_base:
        return Check(
            name, "pass", f"{choice.model}: sent to the server at {settings.openai_api_base}"
        )
    unknown = f"{prefix} is not a provider LiteLLM knows, so " if prefix else ""
    return Check(
        name,
        "warn",
        f"{target or choice.model} is not in LiteLLM's registry; {unknown}OpenAI gets it as "
        f"{choice.model}",
        "Give it its LiteLLM prefix (openrouter/..., ollama/..., together_ai/...), "
        "or set OPENAI_API_BASE for an OpenAI-compatible server.",
    )


def check_web_search(settings: Settings) -> Check:
    """Who runs Claude Code's WebSearch (docs/web-tools.md)."""
    from claude_proxy.web_tools.backends import backend_name, missing_setting

    name = backend_name(settings)
    missing = missing_setting(settings)
    if settings.web_search_backend == "off":
        return Check(
            "web search", "pass", "off (WEB_SEARCH_BACKEND=off): searches answer unavailable"
        )
    if missing is not None:
        fix = "Set BRAVE_API_KEY, TAVILY_API_KEY or SEARXNG_URL (docs/web-tools.md)."
        return Check(
            "web search",
            "warn",
            "no backend: Claude Code's WebSearch will report the search service unavailable",
            fix if name is None else f"{missing}.",
        )
    where = {
        "brave": settings.brave_api_base,
        "tavily": settings.tavily_api_base,
        "searxng": settings.searxng_url,
    }[str(name)]
    return Check("web search", "pass", f"{name} at {where}")


def check_port(settings: Settings) -> Check:
    name = f"port {settings.port}"
    health = probe_health(settings.port)
    if health is not None:
        models = ", ".join(f"{a} → {m}" for a, m in health.get("models", {}).items())
        running = f"a claude-proxy {health.get('version', '')} already answers there "
        running += f"(provider {health.get('provider')}: {models})"
        mismatch = health_mismatch(health, settings)
        if mismatch:
            return Check(
                name,
                "warn",
                f"{running}, but not with these settings: {mismatch}",
                "Restart it, or give this one another port with --port or PORT.",
            )
        return Check(name, "pass", running)
    host = loopback(settings.host)
    try:
        check_bindable(host, settings.port)
    except OSError as exc:
        return Check(
            name,
            "fail",
            f"{host}:{settings.port} is taken by another program ({exc.strerror or exc})",
            "Stop that program, or pick another port with --port or PORT.",
        )
    return Check(name, "pass", f"free on {host}")


def check_claude() -> Check:
    path = shutil.which("claude")
    if path is None:
        return Check(
            "Claude Code",
            "warn",
            "claude is not on PATH; `claude-proxy run claude` needs it",
            CLAUDE_INSTALL_HINT,
        )
    try:
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("Claude Code", "warn", f"{path} --version failed: {exc}", CLAUDE_INSTALL_HINT)
    version = (result.stdout or result.stderr).strip().splitlines()
    if result.returncode != 0 or not version:
        return Check(
            "Claude Code",
            "warn",
            f"{path} --version exited {result.returncode}",
            CLAUDE_INSTALL_HINT,
        )
    return Check("Claude Code", "pass", f"{version[0]} at {path}")


def _aliases_of(provider: str, choices: Mapping[Alias, ModelChoice]) -> str:
    return "/".join(alias for alias, choice in choices.items() if choice.provider == provider)


def _tokens(count: Any) -> str:
    return f"{count:,}" if isinstance(count, int) else "unknown"


def _a(word: str) -> str:
    return ("an " if word[0] in "AEIOU" else "a ") + word
