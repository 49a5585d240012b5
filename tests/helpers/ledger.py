"""Reading the usage ledger a test's proxy wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claude_proxy.ledger.store import COLUMNS, ledger_path, open_for_reading


def ledger_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Every row of the ledger in `data_dir`, oldest first; [] when there is none."""
    reader = open_for_reading(ledger_path(data_dir))
    if reader is None:
        return []
    try:
        rows = reader.execute(f"SELECT {', '.join(COLUMNS)} FROM requests ORDER BY time")
        return [dict(zip(COLUMNS, values, strict=True)) for values in rows]
    finally:
        reader.close()
