"""Configuration: the settings model (`model.py`), where each value comes from (`sources.py`),
the TOML config file the `config` command writes (`config_file.py`), and the choices some
settings take (`choices.py`).

The names below load `model.py` (and pydantic-settings) on first use, so that importing
`claude_proxy.settings.choices` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_proxy.settings.choices import Provider
    from claude_proxy.settings.model import (
        CONFIG_ENV_VAR,
        Settings,
        config_file_path,
        given,
        load_settings,
        user_config_dir,
    )

__all__ = [
    "CONFIG_ENV_VAR",
    "Provider",
    "Settings",
    "config_file_path",
    "given",
    "load_settings",
    "user_config_dir",
]


def __getattr__(name: str) -> Any:
    if name == "Provider":
        from claude_proxy.settings import choices

        return choices.Provider
    if name in __all__:
        from claude_proxy.settings import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
