"""Anthropic request parts and message comparisons several test modules use."""

from __future__ import annotations

from typing import Any

BASH = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
}


def comparable(message: Any) -> dict[str, Any]:
    """A Message without the parts that differ between two answers (its id)."""
    data = message.model_dump(exclude_none=True)
    data.pop("id")
    return data
