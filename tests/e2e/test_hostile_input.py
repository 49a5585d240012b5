"""What a client sends cannot make the log, or the terminal behind it, do unbounded work:
through the real server and the real log handler of `serve`."""

from __future__ import annotations

import io
import logging

import anthropic
import pytest

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


def test_the_serve_log_handler_writes_client_text_as_it_is() -> None:
    """`serve`'s handler is plain logging: no highlighter (rich's takes time quadratic in a
    line's length), no markup, no cache of the words it wrote (rich's pinned memory)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        console.setup_logging("info")
        [handler] = root.handlers
        out = io.StringIO()
        handler.setStream(out)  # type: ignore[attr-defined]
        text = "POST /v1/messages claude-" + "9" * 3000 + " [red]'x'[/red] http://a.b 200"
        logging.getLogger("claude_proxy.server").info(text)
        [line] = out.getvalue().splitlines()
        assert line.endswith("INFO     " + text)
        assert "\x1b" not in line
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
