"""The values a setting may take where code needs them without pydantic: the CLI builds its
options at import, and `--help` must not wait for pydantic-settings."""

from __future__ import annotations

from typing import Literal

Provider = Literal["openai", "google", "together", "anthropic"]
