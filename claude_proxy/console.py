"""Terminal output: the one module that imports rich."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

console = Console(stderr=True)


def setup_logging(level: str) -> None:
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, markup=False)
    logging.basicConfig(
        level=level.upper(), format="%(message)s", datefmt="[%X]", handlers=[handler], force=True
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def print_banner(
    url: str, provider: str, mapping: dict[str, tuple[str, str]], warnings: list[str]
) -> None:
    """The start-up banner: where the proxy listens and which model serves each alias."""
    console.print(
        f"[bold]claude-proxy[/bold] listening on [cyan]{url}[/cyan] (provider: {provider})"
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("alias")
    table.add_column("upstream model")
    table.add_column("why", style="dim")
    for alias, (model, reason) in mapping.items():
        table.add_row(alias, model, reason)
    console.print(table)
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(f"Point Claude Code at it:  [bold]ANTHROPIC_BASE_URL={url} claude[/bold]")


def print_error(message: str, hint: str | None = None) -> None:
    console.print(f"[red]error:[/red] {message}")
    if hint:
        console.print(f"[dim]{hint}[/dim]")
