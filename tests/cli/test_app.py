"""The `claude-proxy` app: every command's help (cheap: nothing heavy imported), the version,
shell completion, the one place errors of the tree become a message and an exit status, and
the docs showing every command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.errors import CommandError, MissingKeyError
from tests.helpers.repo import REPO

HEAVY = (
    "litellm",
    "aiohttp",
    "rich",
    "tomlkit",
    "watchfiles",
    "httpx",
    "openai",
    "anthropic",
    "tiktoken",
    # The settings load when a command runs, not for help (typer 0.29 itself may import
    # pydantic to coerce a command's parameters).
    "pydantic_settings",
    "claude_proxy.server",
    "claude_proxy.cli.console",
)
"""Not needed to print help: third-party packages that take long to import, and the modules
that import them (the server imports aiohttp.web; the console, rich)."""


def command_paths() -> list[list[str]]:
    """Every command and group of the app, as argument lists: [], ["serve"], ["config", "set"], ..."""
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


def test_every_commands_help_imports_nothing_heavy() -> None:
    """Help must not import litellm (seconds), the server or rich: `bench/cli_startup.py`
    measures how long it takes (docs/performance.md)."""
    paths = command_paths()
    assert ["config", "set"] in paths and ["models", "resolve"] in paths and ["run"] in paths
    script = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from claude_proxy.cli.app import app\n"
        f"for path in {paths!r}:\n"
        "    result = CliRunner().invoke(app, [*path, '--help'])\n"
        "    assert result.exit_code == 0 and 'Usage' in result.output, (path, result.output)\n"
        f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
        "print(json.dumps(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_the_entry_points_help_imports_nothing_heavy() -> None:
    """`python -m claude_proxy --help` as the installed script runs it (click's plain help)."""
    script = (
        "import json, runpy, sys\n"
        "sys.argv = ['claude-proxy', '--help']\n"
        "try:\n"
        "    runpy.run_module('claude_proxy', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: claude-proxy" in result.stdout
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_shell_completion_comes_from_typer() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("claude-proxy ")


@pytest.mark.parametrize(
    ("error", "code", "shown"),
    [
        (
            CommandError("the port is taken", "Pick another with --port.", exit_code=3),
            3,
            ["error: the port is taken", "Pick another with --port."],
        ),
        (
            MissingKeyError("No key for OpenAI: set OPENAI_API_KEY."),
            1,
            ["error: No key for OpenAI: set OPENAI_API_KEY."],
        ),
        (KeyboardInterrupt(), 130, []),
    ],
    ids=["command-error", "proxy-error", "ctrl-c"],
)
def test_errors_of_the_tree_become_a_message_and_an_exit_status(
    error: BaseException, code: int, shown: list[str]
) -> None:
    """`CliGroup.invoke` is the one place: a message, the hint, an exit status, no traceback."""
    from claude_proxy.cli import app as app_module

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    failing = typer.Typer(cls=app_module.CliGroup)
    failing.command("boom")(lambda: fail())
    failing.command("other")(lambda: None)
    result = CliRunner().invoke(failing, ["boom"])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for text in shown:
        assert text in result.output


def test_the_docs_show_every_command_and_the_quick_start_ends_with_run() -> None:
    doc = (REPO / "docs" / "cli.md").read_text()
    missing = [p for p in command_paths()[1:] if f"$ claude-proxy {' '.join(p)}" not in doc]
    assert missing == [], "docs/cli.md shows no run of these commands"
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert quick_start.rstrip().endswith("```sh\nuv run claude-proxy run claude\n```")
    assert "docs/cli.md" in readme
