"""Where each effective setting comes from: a flag, the environment, `.env`, the config file
or the default.

Each layer is loaded on its own with the very pydantic-settings sources `Settings` uses, in the
order `Settings.settings_customise_sources` gives them, so precedence stays declared once (in
model.py); the first layer holding a field is where its value came from.
"""

from __future__ import annotations

import difflib
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import (
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    TomlConfigSettingsSource,
)

from claude_proxy.settings.model import Settings, config_file_path, given

DEFAULT = "default"


@dataclass(frozen=True)
class Layer:
    label: str
    """`flag`, `environment`, `.env` or `config file`."""
    values: dict[str, Any]
    """Field name -> raw value, only the fields this layer sets."""
    names: dict[str, str]
    """Field name -> the variable or key that set it (`TOGETHER_API_KEY`), when it is known."""
    raw: dict[str, str]
    """Every variable this layer holds, by lower-case name (environment and .env only)."""


@dataclass(frozen=True)
class Origin:
    field: str
    env_name: str
    """The setting's primary name: `BIG_MODEL`."""
    value: Any
    """The effective (validated) value; secrets stay `SecretStr`."""
    source: str
    """`flag`, `environment`, `.env`, `config file` or `default`."""
    name: str | None
    """The variable that set it, when not the primary name (`GOOGLE_API_KEY`)."""

    @property
    def secret(self) -> bool:
        return is_secret(self.field)


def field_names(field: str) -> list[str]:
    """Every name a field is read from, primary first: `togetherai_api_key`, `together_api_key`, ..."""
    choices = getattr(Settings.model_fields[field].validation_alias, "choices", None)
    return [str(choice) for choice in choices] if choices else [field]


def is_secret(field: str) -> bool:
    return SecretStr in typing.get_args(Settings.model_fields[field].annotation)


def layers(overrides: dict[str, Any], env_file: str | Path | None = ".env") -> list[Layer]:
    """The setting layers, highest precedence first."""
    sources = Settings.settings_customise_sources(
        Settings,
        init_settings=InitSettingsSource(Settings, init_kwargs=given(overrides)),
        env_settings=EnvSettingsSource(Settings),
        dotenv_settings=DotEnvSettingsSource(Settings, env_file=env_file),
        file_secret_settings=SecretsSettingsSource(Settings),
    )
    return [_layer(source) for source in sources]


def _layer(source: PydanticBaseSettingsSource) -> Layer:
    values = {k: v for k, v in source().items() if k in Settings.model_fields}
    raw: dict[str, str] = {}
    if isinstance(source, EnvSettingsSource):  # .env's source is a subclass
        raw = {name.lower(): str(value) for name, value in source.env_vars.items() if value}
    names: dict[str, str] = {}
    for field in values:
        used = next((n for n in field_names(field) if n.lower() in raw), None)
        if used is not None:
            names[field] = used.upper()
    return Layer(_label(source), values, names, raw)


def _label(source: PydanticBaseSettingsSource) -> str:
    if isinstance(source, DotEnvSettingsSource):
        return ".env"
    if isinstance(source, EnvSettingsSource):
        return "environment"
    if isinstance(source, TomlConfigSettingsSource):
        return "config file"
    if isinstance(source, InitSettingsSource):
        return "flag"
    return type(source).__name__


def origins(settings: Settings, stack: list[Layer]) -> list[Origin]:
    """Each field of `settings` with the layer it came from."""
    result = []
    for field in Settings.model_fields:
        layer = next((layer for layer in stack if field in layer.values), None)
        name = layer.names.get(field) if layer is not None else None
        result.append(
            Origin(
                field=field,
                env_name=field.upper(),
                value=getattr(settings, field),
                source=layer.label if layer is not None else DEFAULT,
                name=name if name != field.upper() else None,
            )
        )
    return result


def problem(error: Mapping[str, Any]) -> str:
    """One pydantic validation error as a person reads it, without pydantic's prefixes."""
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def where_set(field: str, stack: list[Layer], flags: Mapping[str, str] | None = None) -> str:
    """Where a field's value was given, in words: `PREFERRED_PROVIDER in the environment`;
    `flags` names the flag of a field (`--port`)."""
    layer = next((layer for layer in stack if field in layer.values), None)
    if layer is None:
        return f"{field.upper()} (its default)"
    name = layer.names.get(field, field.upper())
    if layer.label == "config file":
        return f"{field} in the config file {config_file_path()}"
    if layer.label == ".env":
        return f"{name} in {dotenv_path()}"
    if layer.label == "environment":
        return f"{name} in the environment"
    return (flags or {}).get(field, f"the {name} flag")


def unknown_config_keys(data: Mapping[str, Any]) -> list[str]:
    """The config file's keys that are no setting, each with a did-you-mean when one is near:
    pydantic-settings ignores them, so `big_modle = "gpt-4o"` would silently do nothing."""
    known = {name.lower(): field for field in Settings.model_fields for name in field_names(field)}
    found = []
    for key in data:
        if key.lower() in known:
            continue
        near = difflib.get_close_matches(key.lower(), list(known), n=1, cutoff=0.6)
        guess = f"; did you mean {known[near[0]]}?" if near else ""
        found.append(f"{key} is not a setting and is ignored{guess}")
    return found


def config_file_warnings() -> list[str]:
    """What is wrong, but not fatal, in the config file: unknown keys (none when it is missing
    or unreadable; loading the settings reports that)."""
    path = config_file_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    return [f"{path}: {problem}" for problem in unknown_config_keys(data)]


def dotenv_path() -> Path:
    """The `.env` file settings read: the one in the working directory, when there is one."""
    return Path.cwd() / ".env"


def mask(secret: str) -> str:
    """A secret as `****` and, for long keys only, its last four characters."""
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


def display(value: Any) -> str:
    """A setting's value as a person reads it; secrets masked."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return mask(value.get_secret_value())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
