"""How long `claude-proxy --help` takes, for the app and each command, against the floor of
starting Python at all (`python -c pass`), measured in the same run.

Each command line runs as a fresh process N times; the runs are interleaved (one round runs
every command once), so a machine that gets busier or quieter part way through shifts every
row alike. Reports the median and the fastest run in milliseconds, and the median as a
multiple of the floor's. Two more rows say where the time goes: importing typer (the CLI
framework) and importing the app.

    uv run python bench/cli_startup.py [--runs 21]

See docs/performance.md for the results. The test suite checks only that help imports nothing
heavy (tests/cli/test_app.py); how fast it is lives here, where a busy machine cannot fail it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def command_paths() -> list[list[str]]:
    """Every command and group of the app: [], ["serve"], ["config", "set"], ..."""
    from typer.main import get_command

    from claude_proxy.cli.app import app

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


def entry_point() -> list[str]:
    """The installed `claude-proxy` script, as a user runs it."""
    script = shutil.which("claude-proxy")
    if script is None:
        sys.exit("claude-proxy is not on PATH: run this with `uv run python bench/cli_startup.py`")
    return [script]


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=REPO, capture_output=True, env=os.environ, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command line")
    args = parser.parse_args()

    script = entry_point()
    rows: dict[str, list[str]] = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        # what the help costs before any of ours: the CLI framework, then our import
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "python -c 'import claude_proxy.cli.app'": [
            sys.executable,
            "-c",
            "import claude_proxy.cli.app",
        ],
    }
    for path in command_paths():
        rows[" ".join(["claude-proxy", *path, "--help"])] = [*script, *path, "--help"]
    times: dict[str, list[float]] = {label: [] for label in rows}
    for argv in rows.values():  # one unmeasured run each: disk cache, .pyc files
        timed(argv)
    for _ in range(args.runs):
        for label, argv in rows.items():
            times[label].append(timed(argv))

    floor = statistics.median(times["python -c pass (floor)"])
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {args.runs} runs each, interleaved"
    )
    print()
    print("| command | median ms | fastest ms | x floor |")
    print("|---|---:|---:|---:|")
    for label, samples in times.items():
        median = statistics.median(samples)
        print(
            f"| `{label}` | {median * 1000:.0f} | {min(samples) * 1000:.0f} | {median / floor:.1f} |"
        )


if __name__ == "__main__":
    main()
