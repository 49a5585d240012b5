"""Terminal output: the one module that imports rich.

Messages, logs and the banner go to stderr; what a listing command lists goes to stdout, as a
rich table for people or, with `--json`, as plain JSON for scripts.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from claude_proxy.server.request_log import shorten

if TYPE_CHECKING:
    from claude_proxy.cli.doctor.check import Check
    from claude_proxy.ledger.queries import Total
    from claude_proxy.server.request_log import RequestLog
    from claude_proxy.settings.sources import Origin

console = Console(stderr=True)
output = Console(soft_wrap=False)

MARKS = {"pass": "[green]✓[/green]", "warn": "[yellow]![/yellow]", "fail": "[red]✗[/red]"}


@dataclass(frozen=True)
class AliasRow:
    alias: str
    model: str
    provider: str
    reason: str
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Plain log lines on stderr; records carrying a `request_log` go to `on_request` instead.

    Not rich's handler: it measured a fifth of the proxy's CPU per request, and its cell-width
    cache kept every log line's words, which pinned memory after a burst (docs/performance.md).
    Plain text is also what a log file wants. Nothing here scans a line more than once, so
    client text in a line (a 30 KB model name) costs linear time.
    """

    def __init__(self, on_request: Callable[[RequestLog], None] | None) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)-8s %(message)s", "%X"))
        self.on_request = on_request

    def emit(self, record: logging.LogRecord) -> None:
        request_log = getattr(record, "request_log", None)
        if self.on_request is not None and request_log is not None:
            self.on_request(request_log)
        else:
            super().emit(record)


def setup_logging(level: str, on_request: Callable[[RequestLog], None] | None = None) -> None:
    logging.basicConfig(level=level.upper(), handlers=[_Handler(on_request)], force=True)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def tokens(count: int | None) -> str:
    return f"{count:,}" if isinstance(count, int) else "-"


def print_banner(
    url: str,
    provider: str,
    rows: Sequence[AliasRow],
    warnings: Iterable[str],
    version: str,
    *,
    token_set: bool = False,
) -> None:
    """The start-up banner: where the proxy listens, which model serves each alias, how to use it."""
    console.print(
        f"[bold]claude-proxy {version}[/bold] listening on [cyan]{url}[/cyan] "
        f"(provider: {provider})"
    )
    console.print(alias_table(rows))
    for warning in warnings:
        print_warning(warning)
    console.print("Point Claude Code at it:")
    console.print(
        f"  [bold]ANTHROPIC_BASE_URL={url} "
        f"ANTHROPIC_AUTH_TOKEN={'$PROXY_AUTH_TOKEN' if token_set else 'claude-proxy'} "
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude[/bold]",
        soft_wrap=True,
    )
    console.print("  [dim]or let `claude-proxy run claude` do it[/dim]")


def alias_table(rows: Sequence[AliasRow]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("alias")
    table.add_column("upstream model", overflow="fold")
    table.add_column("window", justify="right")
    table.add_column("max out", justify="right")
    table.add_column("why", style="dim")
    for row in rows:
        table.add_row(
            row.alias,
            escape(row.model),
            tokens(row.max_input_tokens),
            tokens(row.max_output_tokens),
            escape(row.reason),
        )
    return table


def print_error(message: str, hint: str | None = None) -> None:
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    if hint:
        console.print(f"[dim]{escape(hint)}[/dim]", soft_wrap=True)


def print_warning(message: str) -> None:
    console.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def print_note(message: str) -> None:
    console.print(escape(message), soft_wrap=True)


def print_json(data: Any) -> None:
    """JSON for scripts: plain, on stdout, no colours or wrapping."""
    typer.echo(json.dumps(data, indent=2))


def print_path(path: str) -> None:
    typer.echo(path)


def print_settings(
    origins: Sequence[Origin], shown: Callable[[Any], str], unset: Mapping[str, str]
) -> None:
    """`config show`: each setting, its effective value and where it came from; `unset` says
    what a setting left unset means (BIG_MODEL: the provider's default)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    table.add_column("from", style="dim")
    for origin in origins:
        source = origin.source + (f" ({origin.name})" if origin.name else "")
        value = escape(shown(origin.value))
        if not value:
            value = f"[dim]{escape(unset.get(origin.field, '(not set)'))}[/dim]"
        style = "dim" if origin.source == "default" else ""
        table.add_row(origin.env_name, value, source, style=style)
    output.print(table)


def print_aliases(rows: Sequence[AliasRow]) -> None:
    output.print(alias_table(rows))


def print_models(provider: str, models: Sequence[dict[str, Any]], query: str | None) -> None:
    """Models of LiteLLM's registry: limits and what each takes."""

    def yes(value: Any) -> str:
        return "[green]yes[/green]" if value is True else "[dim]-[/dim]"

    table = Table(
        title=f"{provider}: {len(models)} chat models in LiteLLM's registry"
        + (f" matching {query!r}" if query else ""),
        title_justify="left",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    table.add_column("model", overflow="fold")
    table.add_column("window", justify="right")
    table.add_column("max out", justify="right")
    table.add_column("tools")
    table.add_column("images")
    table.add_column("reasoning")
    for info in models:
        table.add_row(
            escape(info["model"]),
            tokens(info.get("max_input_tokens")),
            tokens(info.get("max_output_tokens")),
            yes(info.get("supports_tools")),
            yes(info.get("supports_images")),
            yes(info.get("supports_reasoning")),
        )
    output.print(table)
    output.print()


def print_resolution(requested: str, fields: Sequence[tuple[str, str]]) -> None:
    """`models resolve`: what a requested name maps to, and why."""
    table = Table(box=None, pad_edge=False, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in [("requested", requested), *fields]:
        table.add_row(name, escape(value))
    output.print(table)


def print_checks(checks: Sequence[Check]) -> None:
    """`doctor`: a mark, a name and a message per check, and the fix under each problem."""
    table = Table(box=None, pad_edge=False, show_header=False)
    table.add_column()
    table.add_column(style="bold")
    table.add_column()
    for check in checks:
        message = escape(check.message)
        if check.fix and check.status != "pass":
            message += f"\n[dim]fix: {escape(check.fix)}[/dim]"
        table.add_row(MARKS[check.status], escape(check.name), message)
    output.print(table)
    failed = sum(check.status == "fail" for check in checks)
    warned = sum(check.status == "warn" for check in checks)
    passed = len(checks) - failed - warned
    summary = f"{failed} failed, {warned} warning{'s' * (warned != 1)}, {passed} passed"
    output.print(f"[red]{summary}[/red]" if failed else summary)


def print_request(record: RequestLog, cost: float | None) -> None:
    """`serve --debug-rich`: one line per finished request."""
    stamp = time.strftime("%H:%M:%S", time.localtime(record.finished))
    parts = [f"[dim]{stamp}[/dim]"]
    if record.requested_model:
        parts.append(
            f"{escape(shorten(record.requested_model))} → "
            f"[cyan]{escape(shorten(record.upstream_model or '?'))}[/cyan]"
        )
    else:
        parts.append(f"{record.method} {escape(record.path)}")
    if record.path.endswith("/messages"):
        parts.append("stream" if record.streamed else "json")
    if record.messages is not None:
        parts.append(f"{record.messages} msgs, {record.tools or 0} tools")
    error = record.error_type is not None or record.status >= 400
    parts.append(f"[{'red' if error else 'green'}]{record.status}[/]")
    parts.append(f"{record.seconds * 1000:,.0f} ms")
    if record.usage:
        cached = record.usage.get("cache_read_input_tokens", 0)
        parts.append(
            f"in {tokens(record.usage.get('input_tokens'))}"
            + (f" (+{cached:,} cached)" if cached else "")
            + f" out {tokens(record.usage.get('output_tokens'))}"
        )
    if cost is not None:
        parts.append(f"${cost:.4f}" if cost >= 0.01 else f"${cost:.6f}")
    if record.error_type is not None:
        message = shorten(record.error_message or "", 500)
        parts.append(f"[red]{record.error_type}: {escape(message)}[/red]")
    console.print("  ".join(parts), soft_wrap=True, highlight=False)


def money(cost: float | None) -> str:
    if cost is None:
        return "-"
    return f"${cost:,.2f}" if cost >= 1 else f"${cost:.4f}"


def share(rate: float | None) -> str:
    return f"{rate:.0%}" if rate is not None else "-"


def usage_table(title: str, key: str, rows: Sequence[Total]) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    table.add_column(key, no_wrap=True)
    for name in ("req", "err", "input", "output", "cached", "written", "hit", "cost"):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(
            escape(row.key),
            f"{row.requests:,}",
            f"[red]{row.errors:,}[/red]" if row.errors else "[dim]0[/dim]",
            tokens(row.input_tokens),
            tokens(row.output_tokens),
            tokens(row.cache_read_tokens),
            tokens(row.cache_write_tokens),
            share(row.cache_hit_rate),
            money(row.cost),
        )
    return table


def print_usage(
    total: Total,
    days: Sequence[Total],
    models: Sequence[Total],
    sessions: Sequence[Total],
    window: str,
    session_count: int,
) -> None:
    """`claude-proxy usage`: the ledger's sums per day, per model and per session."""
    output.print(
        f"[bold]{total.requests:,} request{'s' * (total.requests != 1)}[/bold] {escape(window)}: "
        f"{tokens(total.input_tokens + total.cache_read_tokens + total.cache_write_tokens)} "
        f"tokens in ({share(total.cache_hit_rate)} from the cache), "
        f"{tokens(total.output_tokens)} out, [bold]{money(total.cost)}[/bold]"
    )
    output.print()
    output.print(usage_table("By day", "day", days))
    output.print()
    output.print(usage_table("By upstream model", "model", models))
    output.print()
    shown = (
        f" (the latest {len(sessions)} of {session_count})" if session_count > len(sessions) else ""
    )
    output.print(usage_table(f"By Claude Code session{shown}", "session", sessions))
    output.print()
    output.print("[dim]input: not from the cache · cached: read from the prompt cache[/dim]")
    output.print(
        "[dim]written: to the cache · hit: cached / all input · cost: LiteLLM's prices[/dim]"
    )
    if session_count > len(sessions):
        output.print("[dim]`claude-proxy usage --json` lists every session.[/dim]")


def print_reload(changes: Iterable[str]) -> None:
    names = ", ".join(sorted(changes))
    console.print(f"[yellow]reloading:[/yellow] {escape(names)} changed")


def ask(question: str, choices: Sequence[str], default: str) -> str:
    """Ask until the answer is one of `choices`; Enter takes the default."""
    while True:
        console.print(
            f"{escape(question)} [dim]({'/'.join(choices)}, default {default})[/dim]: ", end=""
        )
        answer = str(typer.prompt("", default=default, show_default=False, prompt_suffix=""))
        if answer.strip().lower() in choices:
            return answer.strip().lower()
        print_error(f"{answer!r} is not one of {', '.join(choices)}")


def ask_secret(question: str) -> str:
    """Hidden input; an empty answer means "skip"."""
    console.print(f"{escape(question)} [dim](input hidden, Enter to skip)[/dim]: ", end="")
    return str(typer.prompt("", default="", show_default=False, prompt_suffix="", hide_input=True))
