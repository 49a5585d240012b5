"""Where things are in the repository, and the recorded Claude Code request bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


def body_of(path: Path) -> dict[str, Any]:
    """A recorded Claude Code request body, without the fixture's `_headers`."""
    data = json.loads(path.read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}
