"""Configuration: the settings model (`model.py`), where each value comes from (`sources.py`),
and the TOML config file the `config` command writes (`config_file.py`)."""

from claude_proxy.settings.model import (
    CONFIG_ENV_VAR,
    Provider,
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
