from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def path_without_claude(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A PATH with nothing on it, so the developer's own `claude` is not found."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", str(directory))
    return directory
