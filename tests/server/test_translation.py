"""Where a body is translated: on the loop when small, in a thread when large. (What
`translate` gives is what every request through the server shows.)"""

from __future__ import annotations

import threading

import pytest

from claude_proxy.server import translation
from claude_proxy.server.translation import OFF_LOOP_BYTES, off_loop


def on_the_loops_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


async def test_a_small_body_is_worked_on_the_loop_a_large_one_in_a_thread() -> None:
    assert await off_loop(OFF_LOOP_BYTES, on_the_loops_thread) is True
    assert await off_loop(OFF_LOOP_BYTES + 1, on_the_loops_thread) is False


async def test_the_threshold_is_read_when_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(translation, "OFF_LOOP_BYTES", 10)
    assert await off_loop(11, on_the_loops_thread) is False
