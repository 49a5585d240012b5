"""`claude-proxy models`: which model serves each Claude alias, what LiteLLM's registry knows
about each provider's models, and how one requested name resolves."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_proxy.cli.options import (
    BigModel,
    Json,
    Provider,
    SmallModel,
    settings_from,
    shared_overrides,
)

if TYPE_CHECKING:
    from claude_proxy.cli.console import AliasRow
    from claude_proxy.settings import Settings
    from claude_proxy.upstream.base import Upstream
    from claude_proxy.upstream.engines import Engines

app = typer.Typer(
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    every: Annotated[
        bool, typer.Option("--all", help="List the models of all four providers.")
    ] = False,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Only models whose name contains this.")
    ] = None,
    json_output: Json = False,
) -> None:
    """Which model serves each alias, and the provider's models.

    The alias table (haiku / sonnet / opus -> model), then the models LiteLLM's registry
    knows for the provider.
    """
    if ctx.invoked_subcommand is not None:
        return
    from claude_proxy.cli.console import print_aliases, print_json, print_models

    settings, upstream = _load(provider, big_model, small_model)
    rows = alias_rows(settings, upstream)
    from claude_proxy.providers import PROVIDERS, provider_named

    providers = [info.litellm for info in PROVIDERS]
    if not every:
        providers = [provider_named(settings.preferred_provider).litellm]
    listed = {
        name: [
            _model_json(info)
            for info in upstream.registry_models(name)
            if not query or query.lower() in str(info["model"]).lower()
        ]
        for name in providers
    }
    if json_output:
        print_json(
            {
                "provider": settings.preferred_provider,
                "aliases": [asdict(row) for row in rows],
                "models": listed,
            }
        )
        return
    print_aliases(rows)
    typer.echo()
    for name, infos in listed.items():
        print_models(name, infos, query)


@app.command()
def resolve(
    name: Annotated[
        str, typer.Argument(help="A requested model name: claude-opus-5-5, opus, gpt-4o")
    ],
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    json_output: Json = False,
) -> None:
    """What a requested model name maps to, and which rule decided."""
    from claude_proxy.cli.console import print_json, print_resolution
    from claude_proxy.model_map import map_model
    from claude_proxy.providers import provider_label

    settings, upstream = _load(provider, big_model, small_model)
    choice = map_model(name, settings, upstream)
    info = upstream.model_info(choice.model)
    answer = {
        "requested": name,
        "model": choice.model,
        "provider": provider_label(choice.provider),
        "litellm_provider": choice.provider,
        "rule": choice.reason,
        "alias": choice.alias,
        "in_registry": bool(info),
        **{key: value for key, value in _model_json(info).items() if key != "model"},
    }
    if json_output:
        print_json(answer)
        return
    shown = {
        "model": choice.model,
        "provider": _provider_shown(choice.provider),
        "rule": choice.reason,
        "window": _count(info.get("max_input_tokens")),
        "max output": _count(info.get("max_output_tokens")),
        "takes": ", ".join(
            what
            for what, key in (
                ("tools", "supports_function_calling"),
                ("images", "supports_vision"),
                ("reasoning", "supports_reasoning"),
            )
            if info.get(key) is True
        )
        or "-",
    }
    if not info:
        shown["registry"] = "not in LiteLLM's registry: no output cap, limits unknown"
    print_resolution(name, list(shown.items()))


def alias_rows(settings: Settings, upstream: Upstream) -> list[AliasRow]:
    """Each alias's model and its limits, from LiteLLM's bundled map (the numbers LiteLLM
    itself gives), so that listing them never imports LiteLLM, Gemini's included."""
    from claude_proxy.cli.console import AliasRow
    from claude_proxy.model_map import ALIASES, map_model
    from claude_proxy.upstream.native_target import limits_target

    rows = []
    for alias in ALIASES:
        choice = map_model(alias, settings, upstream)
        target = limits_target(choice.model, choice.provider)
        rows.append(
            AliasRow(
                alias,
                choice.model,
                choice.provider,
                choice.reason,
                target.max_input_tokens,
                target.max_output_tokens,
            )
        )
    return rows


def _load(
    provider: str | None, big_model: str | None, small_model: str | None
) -> tuple[Settings, Engines]:
    from claude_proxy.upstream.engines import Engines

    settings = settings_from(shared_overrides(provider, big_model, small_model))
    return settings, Engines(settings)


def _model_json(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": info.get("model"),
        "max_input_tokens": info.get("max_input_tokens"),
        "max_output_tokens": info.get("max_output_tokens"),
        "supports_tools": info.get("supports_function_calling") is True,
        "supports_images": info.get("supports_vision") is True,
        "supports_reasoning": info.get("supports_reasoning") is True,
    }


def _provider_shown(litellm: str) -> str:
    """`google (LiteLLM: gemini)`: the name the user gives, and the model prefix it means."""
    from claude_proxy.providers import provider_label

    name = provider_label(litellm)
    return name if name == litellm else f"{name} (LiteLLM: {litellm})"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "unknown"
