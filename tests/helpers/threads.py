"""Which thread a function of ours ran on: to check that work on a large body leaves the
event loop's thread."""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import pytest


def note_threads(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> list[bool]:
    """Wrap `module.name`; each call appends whether it ran on the main thread (the loop's,
    in these tests), and calls through."""
    calls: list[bool] = []
    original = getattr(module, name)

    def noted(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, noted)
    return calls
