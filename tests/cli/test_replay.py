"""`claude-proxy replay DIR` through Typer's runner, on a session recorded through the real
server: exit status 0 when nothing differs, 1 with a readable diff when something does, 2 for
a directory that is no recording; `--json` for scripts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_proxy import __version__
from claude_proxy.cli.app import app
from tests.fakes.openai_upstream import FakeOpenAI
from tests.helpers.proxy import ProxyFactory
from tests.helpers.recording import EXCHANGES, record_session


@pytest.fixture
async def recorded(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path) -> Path:
    directory = tmp_path / "rec"
    await record_session(start_proxy, fake_openai, directory)
    return directory


def edit_first_text_chunk(directory: Path) -> None:
    path = directory / "0002-messages.json"
    exchange = json.loads(path.read_text())
    exchange["upstream"][0]["chunks"][1]["choices"][0]["delta"]["content"] = "Howdy th"
    path.write_text(json.dumps(exchange))


def test_a_faithful_replay_exits_0(recorded: Path) -> None:
    level = logging.getLogger("claude_proxy").level
    result = CliRunner().invoke(app, ["replay", str(recorded)])
    assert result.exit_code == 0, result.output
    assert "POST /v1/messages" not in result.output  # the replayed 429's log line is no report
    assert logging.getLogger("claude_proxy").level == level
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"replaying 4 exchange(s) of {recorded}, recorded by claude-proxy {__version__} "
        f"(provider openai, engine native), with claude-proxy {__version__}"
    )
    assert lines[1:5] == [f"{name}  same" for name in EXCHANGES]
    assert lines[5] == "4 same, 0 differ, 0 skipped"


def test_a_difference_is_shown_as_a_diff_and_exits_1(recorded: Path) -> None:
    edit_first_text_chunk(recorded)
    result = CliRunner().invoke(app, ["replay", str(recorded)])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    at = lines.index("0002-messages  differs")
    assert lines[at + 1 : at + 4] == ["  client response:", "    --- recorded", "    +++ replayed"]
    assert any(line.startswith("    -data: ") and "Hello th" in line for line in lines)
    assert any(line.startswith("    +data: ") and "Howdy th" in line for line in lines)
    assert "3 same, 1 differ, 0 skipped" in lines


def test_json_for_scripts(recorded: Path) -> None:
    edit_first_text_chunk(recorded)
    result = CliRunner().invoke(app, ["replay", str(recorded), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["same"], report["differs"], report["skipped"]) == (3, 1, 0)
    assert report["recorded_with"] == report["replayed_with"] == __version__
    assert report["settings"]["preferred_provider"] == "openai"
    differing = [e for e in report["exchanges"] if e["status"] == "differs"]
    assert [e["name"] for e in differing] == ["0002-messages"]
    assert differing[0]["differences"][0]["part"] == "client response"
    assert "Howdy th" in differing[0]["differences"][0]["diff"]


def test_a_directory_that_is_no_recording_exits_2_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path} is not a recording: no manifest.json" in result.output
    assert "serve --record DIR" in result.output
