"""Terminal output, the one module that imports rich: messages on stderr, listings on stdout
(rich tables, or plain JSON), the `--debug-rich` request line, and the prompts."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from claude_proxy.cli import console
from claude_proxy.cli.doctor.check import Check
from claude_proxy.errors import RateLimitError
from claude_proxy.model_map import ModelChoice
from claude_proxy.server.request_log import RequestLog


@pytest.fixture(autouse=True)
def wide_plain_consoles(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both consoles without colour and wide enough that nothing wraps."""
    for name in ("console", "output"):
        target = getattr(console, name)
        monkeypatch.setattr(target, "_color_system", None)
        monkeypatch.setattr(target, "_width", 200)
    yield


def test_print_error_escapes_markup_and_shows_the_hint(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_error("no [bold]key[/bold]", "Set OPENAI_API_KEY.")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: no [bold]key[/bold]\nSet OPENAI_API_KEY.\n"


def test_print_warning_and_note(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_warning("exposed")
    console.print_note("wrote [it]")
    assert capsys.readouterr().err == "warning: exposed\nwrote [it]\n"


def test_print_json_is_plain_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_json({"a": [1, "[b]"]})
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"a": [1, "[b]"]} and captured.err == ""


def test_print_checks_marks_each_fix_and_sums_up(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_checks(
        [
            Check("config file", "pass", "none (optional)", "never shown for a pass"),
            Check("OpenAI key", "fail", "no key", "Set OPENAI_API_KEY."),
            Check("port 1", "warn", "held", "Pick another."),
        ]
    )
    out = capsys.readouterr().out
    rows = [line.split()[:2] for line in out.splitlines()]
    assert ["✓", "config"] in rows and ["✗", "OpenAI"] in rows and ["!", "port"] in rows
    assert "fix: Set OPENAI_API_KEY." in out and "fix: Pick another." in out
    assert "never shown" not in out
    assert out.rstrip().endswith("1 failed, 1 warning, 1 passed")


def test_the_summary_counts_warnings_in_the_plural(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_checks([Check("a", "warn", "x", "f"), Check("b", "warn", "y", "g")])
    assert capsys.readouterr().out.rstrip().endswith("0 failed, 2 warnings, 0 passed")


def test_the_alias_table_shows_limits_with_separators(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_aliases(
        [
            console.AliasRow(
                "opus", "openai/gpt-4o", "openai", "opus -> BIG_MODEL", 128_000, 16_384
            ),
            console.AliasRow("haiku", "ollama/[x]", "ollama", "haiku -> SMALL_MODEL"),
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["alias", "upstream", "model", "window", "max", "out", "why"]
    assert lines[1].split()[:4] == ["opus", "openai/gpt-4o", "128,000", "16,384"]
    assert lines[2].split()[:4] == ["haiku", "ollama/[x]", "-", "-"]


def request_log(**fields: object) -> RequestLog:
    log = RequestLog("req_1", "POST", "/v1/messages")
    log.choice = ModelChoice("claude-opus-5-5", "openai/gpt-4o", "openai", "opus -> BIG_MODEL")
    for name, value in fields.items():
        setattr(log, name, value)
    log.finished = 0.0
    return log


def test_print_request_shows_the_route_size_tokens_and_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = request_log(streamed=True, messages=3, tools=1, status=200, seconds=1.234)
    log.usage = {"input_tokens": 200, "output_tokens": 30, "cache_read_input_tokens": 1000}
    console.print_request(log, 0.0123)
    line = capsys.readouterr().err.strip()
    parts = line.split("  ")
    assert parts[1:] == [
        "claude-opus-5-5 → openai/gpt-4o",
        "stream",
        "3 msgs, 1 tools",
        "200",
        "1,234 ms",
        "in 200 (+1,000 cached) out 30",
        "$0.0123",
    ]


def test_print_request_shows_small_costs_and_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    log = request_log(status=429, messages=1, error=RateLimitError("slow down"))
    console.print_request(log, 0.000123)
    line = capsys.readouterr().err.strip()
    assert "json  1 msgs, 0 tools  429" in line
    assert "$0.000123" in line
    assert line.endswith("rate_limit_error: slow down")


def test_print_request_without_a_model_shows_the_path(capsys: pytest.CaptureFixture[str]) -> None:
    log = RequestLog("req_2", "GET", "/v1/models")
    log.status = 200
    console.print_request(log, None)
    line = capsys.readouterr().err
    assert "GET /v1/models" in line and "stream" not in line and "json" not in line


def test_ask_repeats_until_the_answer_is_a_choice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["azure", " Google "])
    monkeypatch.setattr(console.typer, "prompt", lambda *args, **kwargs: next(answers))
    assert console.ask("Provider", ["openai", "google"], "openai") == "google"
    assert "'azure' is not one of openai, google" in capsys.readouterr().err


def test_ask_secret_hides_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def prompt(*args: object, **kwargs: object) -> str:
        seen.update(kwargs)
        return "sk-typed"

    monkeypatch.setattr(console.typer, "prompt", prompt)
    assert console.ask_secret("OPENAI_API_KEY") == "sk-typed"
    assert seen["hide_input"] is True


def test_request_records_go_to_the_debug_rich_line_and_others_to_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[RequestLog] = []
    root = logging.getLogger()
    previous, level = root.handlers[:], root.level
    try:
        console.setup_logging("info", seen.append)
        log = request_log(status=200)
        logging.getLogger("claude_proxy.server.middleware").info(
            "a line", extra={"request_log": log}
        )
        logging.getLogger("claude_proxy.x").info("an ordinary line")
        logging.getLogger("aiohttp.access").info("access lines are quiet")
    finally:
        logging.basicConfig(handlers=previous, force=True)
        root.setLevel(level)
    assert seen == [log]
    err = capsys.readouterr().err
    assert "an ordinary line" in err and "a line" not in err and "access lines" not in err
