"""What a client sends cannot make the log, or the terminal behind it, do unbounded work:
through the real server and the real log handler of `serve`."""

from __future__ import annotations

import logging

import anthropic
import pytest
from rich.highlighter import ReprHighlighter
from rich.text import Text

from claude_proxy.cli import console
from tests.fakes.openai_upstream import Answer, FakeOpenAI

LONG_MODEL = "claude-" + "9" * 30_000


async def test_a_huge_model_name_gives_a_short_log_line(
    client: anthropic.AsyncAnthropic, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="claude_proxy.server")
    fake_openai.enqueue(Answer(text="fine"))
    message = await client.messages.create(
        model=LONG_MODEL, max_tokens=20, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].type == "text"
    [line] = [r.getMessage() for r in caplog.records if hasattr(r, "request_log")]
    assert len(line) < 400
    assert "more)" in line  # says that it was cut


def test_the_serve_log_handler_does_not_highlight_client_text() -> None:
    """rich's highlighter takes time quadratic in a line's length; `serve`'s handler has none:
    it marks nothing in a line full of what a highlighter would colour."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        console.setup_logging("info")
        [handler] = root.handlers
        line = Text("POST /v1/messages claude-" + "9" * 3000 + " 'x' http://a.b 200 123ms")
        assert handler.highlighter(line).spans == []  # type: ignore[attr-defined]
        assert ReprHighlighter()(line.copy()).spans  # what the default would have done
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
