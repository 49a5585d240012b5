"""What one doctor check found: a mark, a message, and the fix when something is wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    fix: str | None = None
    """What to do about it; every warn and fail carries one."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
