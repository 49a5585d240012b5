"""The choices the CLI offers are the settings' own, and the provider table's."""

from __future__ import annotations

import subprocess
import sys
import typing

from claude_proxy.providers import PROVIDERS
from claude_proxy.settings import Settings
from claude_proxy.settings.choices import Provider


def test_the_provider_choices_are_the_tables_names_and_the_settings_type() -> None:
    assert typing.get_args(Provider) == tuple(info.name for info in PROVIDERS)
    assert Settings.model_fields["preferred_provider"].annotation == Provider


def test_importing_the_choices_loads_no_pydantic() -> None:
    code = "import sys, claude_proxy.settings.choices; print('pydantic' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
