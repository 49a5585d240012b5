"""What `claude-proxy usage` and `claude-proxy statusline` read from the ledger."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

Grouping = Literal["day", "model", "session"]

_KEYS: dict[Grouping, str] = {
    "day": "strftime('%Y-%m-%d', time, 'unixepoch', 'localtime')",
    "model": "coalesce(upstream_model, requested_model, '(none)')",
    "session": "coalesce(session, '(none)')",
}
_SUMS = """
    count(*), sum(status >= 400), sum(input_tokens), sum(output_tokens),
    sum(cache_read_tokens), sum(cache_write_tokens), sum(cost), min(time), max(time)
"""


@dataclass(frozen=True)
class Total:
    """The sums over a group of requests."""

    key: str
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float | None
    """None when no request of the group was priced."""
    first: float
    last: float

    @property
    def cache_hit_rate(self) -> float | None:
        """The share of input tokens read from the cache; None with no input at all."""
        prompt = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        return self.cache_read_tokens / prompt if prompt else None


@dataclass(frozen=True)
class SessionUsage:
    """One Claude Code session: its totals and the model that answered it last."""

    total: Total
    upstream_model: str | None
    requested_model: str | None


def totals(connection: sqlite3.Connection, by: Grouping, since: float | None = None) -> list[Total]:
    """Sums per day, per upstream model or per session, since a Unix time; the latest group
    first for days and sessions, the most expensive first for models."""
    order = "max(time) DESC" if by != "model" else "sum(cost) DESC, count(*) DESC"
    rows = connection.execute(
        f"SELECT {_KEYS[by]}, {_SUMS} FROM requests WHERE time >= ? GROUP BY 1 ORDER BY {order}",
        (since if since is not None else float("-inf"),),
    )
    return [_total(row) for row in rows]


def overall(connection: sqlite3.Connection, since: float | None = None) -> Total | None:
    row = connection.execute(
        f"SELECT 'all', {_SUMS} FROM requests WHERE time >= ?",
        (since if since is not None else float("-inf"),),
    ).fetchone()
    return _total(row) if row[1] else None


def session_usage(connection: sqlite3.Connection, session: str) -> SessionUsage | None:
    """What one session has used so far, or None before its first request."""
    row = connection.execute(
        f"SELECT session, {_SUMS} FROM requests WHERE session = ?", (session,)
    ).fetchone()
    if not row[1]:
        return None
    last = connection.execute(
        "SELECT upstream_model, requested_model FROM requests "
        "WHERE session = ? AND endpoint = 'messages' ORDER BY time DESC LIMIT 1",
        (session,),
    ).fetchone()
    upstream, requested = last if last is not None else (None, None)
    return SessionUsage(_total(row), upstream, requested)


def _total(row: tuple[Any, ...]) -> Total:
    key, requests, errors, inputs, outputs, read, written, cost, first, last = row
    return Total(
        key=str(key),
        requests=int(requests or 0),
        errors=int(errors or 0),
        input_tokens=int(inputs or 0),
        output_tokens=int(outputs or 0),
        cache_read_tokens=int(read or 0),
        cache_write_tokens=int(written or 0),
        cost=float(cost) if cost is not None else None,
        first=float(first or 0.0),
        last=float(last or 0.0),
    )
