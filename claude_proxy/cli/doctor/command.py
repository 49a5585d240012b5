"""The `doctor` command: run the checks, print them (or their JSON), fail when one fails."""

from __future__ import annotations

from typing import Annotated

import typer

from claude_proxy.cli.options import (
    BigModel,
    Json,
    Port,
    Provider,
    SmallModel,
    option,
    shared_overrides,
)


def doctor(
    provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    port: Port = None,
    online: Annotated[
        bool,
        option("--online", "Also make one small real request per configured model (costs a cent)."),
    ] = False,
    json_output: Json = False,
) -> None:
    """Check the setup; each problem comes with its fix.

    Checks the config file, keys, models, the port and Claude Code.
    """
    from claude_proxy.cli.console import print_checks, print_json
    from claude_proxy.cli.doctor.checks import run_checks

    overrides = shared_overrides(provider, big_model, small_model, port)
    checks = run_checks(overrides, online=online)
    failed = any(check.status == "fail" for check in checks)
    if json_output:
        print_json({"ok": not failed, "checks": [check.to_json() for check in checks]})
    else:
        print_checks(checks)
        if not failed:
            from claude_proxy.cli.console import print_note

            print_note("Next: `claude-proxy run claude`, or `claude-proxy serve` for any client.")
    if failed:
        raise typer.Exit(1)
