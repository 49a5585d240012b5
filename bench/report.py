"""stream_bench's results as markdown: tables, then each issue-7 target with its figure.

The verdicts are read off this run's figures and printed; nothing fails on them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import TYPE_CHECKING, Any

from bench.client import Batch, percentile
from bench.servers import GEMINI
from bench.servers import SERVERS as LABELS

if TYPE_CHECKING:
    from bench.stream_bench import Served

OLD = {"text": 29.3, "tools": 21.3}
"""CPU ms per stream of claude-proxy at 18ae38e (issue 7), text and tools replies."""
OLD_RATE = 34


def progress(batch: Batch) -> None:
    pace = f" paced {batch.pace_ms:g}ms" if batch.pace_ms else ""
    print(
        f"{batch.route} {batch.workload}{pace} c={batch.concurrency}: {batch.requests} streams, "
        f"{batch.rate:.0f}/s, TTFB p50 {percentile(batch.ttfb, 50):.2f} ms, "
        f"CPU {batch.cpu_ms:.2f} ms, failures {dict(batch.failures) or 0}",
        file=sys.stderr,
    )


def batch_dict(batch: Batch) -> dict[str, Any]:
    return {
        "route": batch.route,
        "workload": batch.workload,
        "pace_ms": batch.pace_ms,
        "concurrency": batch.concurrency,
        "requests": batch.requests,
        "seconds": batch.seconds,
        "failures": dict(batch.failures),
        "cpu_ms_per_stream": batch.cpu_ms,
        "client_cpu_ms_per_stream": 1000 * batch.client_cpu / max(1, batch.requests),
        "ttfb_ms": {q: percentile(batch.ttfb, q) for q in (50, 90, 99)},
        "total_ms": {q: percentile(batch.total, q) for q in (50, 90, 99)},
    }


def find(batches: list[Batch], workload: str, concurrency: int, pace: float) -> Batch | None:
    for batch in batches:
        if (batch.workload, batch.concurrency, batch.pace_ms) == (workload, concurrency, pace):
            return batch
    return None


class Figures:
    """Look-ups into one run."""

    def __init__(self, direct: list[Batch], results: list[Served], pace: float) -> None:
        self.direct = direct
        self.servers = {s.name: s for s in results}
        self.pace = pace

    def batch(self, server: str, workload: str, c: int, paced: bool = False) -> Batch | None:
        if server not in self.servers:
            return None
        return find(self.servers[server].batches, workload, c, self.pace if paced else 0)

    def base(self, server: str, workload: str, c: int, paced: bool = False) -> Batch | None:
        route = "direct gemini" if server in GEMINI else "direct"
        own = [b for b in self.direct if b.route == route]
        return find(own, workload, c, self.pace if paced else 0)

    def cpu(self, server: str, workload: str, c: int) -> float:
        batch = self.batch(server, workload, c)
        return batch.cpu_ms if batch else float("nan")

    def ratio(self, server: str, workload: str, c: int) -> float:
        return self.cpu(server, workload, c) / self.cpu("floor", workload, c)

    def added(self, server: str, workload: str, c: int, q: int, paced: bool = False) -> float:
        batch, base = self.batch(server, workload, c, paced), self.base(server, workload, c, paced)
        if batch is None or base is None:
            return float("nan")
        return percentile(batch.ttfb, q) - percentile(base.ttfb, q)

    def rate(self, server: str, workload: str) -> float:
        batch = self.batch(server, workload, 50)
        return batch.rate if batch else float("nan")


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]], left: int = 2) -> str:
    align = ["---"] * left + ["---:"] * (len(header) - left)
    return "\n".join([_row(header), _row(align), *(_row(r) for r in rows)])


def _ms(value: float, digits: int = 2) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"


def cpu_table(f: Figures) -> str:
    rows = []
    for name in f.servers:
        for workload in ("text", "tools"):
            failures = sum(
                sum(b.failures.values()) for b in f.servers[name].batches if b.workload == workload
            )
            rows.append(
                [
                    LABELS[name],
                    workload,
                    _ms(f.cpu(name, workload, 1)),
                    _ms(f.ratio(name, workload, 1), 1) + "x",
                    _ms(f.cpu(name, workload, 50)),
                    _ms(f.ratio(name, workload, 50), 1) + "x",
                    _ms(f.rate(name, workload), 0),
                    _ms(1000 / f.cpu(name, workload, 50), 0),
                    failures,
                ]
            )
    header = ["server", "reply", "CPU ms/stream c=1", "/ floor", "CPU ms/stream c=50", "/ floor"]
    header += ["streams/s c=50", "1000 / CPU ms (streams/s per busy core)", "failed streams"]
    return _table(header, rows)


def ttfb_table(f: Figures) -> str:
    def pair(values: tuple[float, float]) -> str:
        return f"{_ms(values[0], 1)} / {_ms(values[1], 1)}"

    columns = [(1, False), (16, False), (64, False), (16, True), (64, True)]
    rows = []
    for route in ("direct", "direct gemini"):
        for workload in ("text", "tools"):
            own = [b for b in f.direct if b.route == route]
            cells = []
            for c, paced in columns:
                base = find(own, workload, c, f.pace if paced else 0)
                cells.append(
                    pair((percentile(base.ttfb, 50), percentile(base.ttfb, 99))) if base else "n/a"
                )
            rows.append([f"{route} to the fake (absolute)", workload, *cells])
    for name in f.servers:
        for workload in ("text", "tools"):
            cells = [
                pair((f.added(name, workload, c, 50, paced), f.added(name, workload, c, 99, paced)))
                for c, paced in columns
            ]
            rows.append([LABELS[name], workload, *cells])
    p = f"paced {f.pace:g} ms"
    header = ["server", "reply", "c=1", "c=16", "c=64", f"{p}, c=16", f"{p}, c=64"]
    return _table(header, rows)


def memory_table(f: Figures, streams: int) -> str:
    def rss(sizes: list[float]) -> str:
        if len(sizes) <= 1:
            return _ms(sizes[0] if sizes else float("nan"), 0)
        parts = " + ".join(f"{s:.0f}" for s in sizes)
        return f"{sum(sizes):.0f} ({parts})"

    rows = []
    for name, s in f.servers.items():
        starts = sorted(s.starts)
        rows.append(
            [
                LABELS[name],
                f"{statistics.median(starts):.2f} ({starts[0]:.2f}-{starts[-1]:.2f}, n={len(starts)})",
                rss(s.rss_start),
                rss(s.rss_after),
                s.streams,
                f"{s.fds_start} / {s.fds_after}",
                len(s.problems),
            ]
        )
    header = ["server", "exec to /health 200, s: median (min-max)", "RSS MB at start"]
    header += [f"RSS MB after >= {streams} streams", "streams served", "open fds start / after"]
    return _table([*header, "log warnings/errors"], rows, left=1)


def command_table(commands: dict[str, list[float]]) -> str:
    floor = statistics.median(commands["python -c pass"])
    rows = []
    for name, times in commands.items():
        median = statistics.median(times)
        rows.append(
            [
                f"`{name}`",
                f"{median:.3f}",
                f"{min(times):.3f}-{max(times):.3f}",
                f"{median - floor:.3f}",
                len(times),
            ]
        )
    header = ["command", "median s", "min-max s", "minus `python -c pass`", "runs"]
    return _table(header, rows, left=1)


def detail_table(direct: list[Batch], results: list[Served]) -> str:
    rows = []
    for server, batches in [("", direct), *((s.name, s.batches) for s in results)]:
        for b in batches:
            rows.append(
                [
                    server or b.route,
                    b.workload,
                    f"{b.pace_ms:g}" if b.pace_ms else "-",
                    b.concurrency,
                    b.requests,
                    sum(b.failures.values()),
                    f"{b.rate:.0f}",
                    _ms(percentile(b.ttfb, 50)),
                    _ms(percentile(b.ttfb, 99)),
                    _ms(percentile(b.total, 50)),
                    _ms(percentile(b.total, 99)),
                    _ms(b.cpu_ms),
                    _ms(1000 * b.client_cpu / max(1, b.requests)),
                ]
            )
    header = ["server", "reply", "pace ms", "c", "streams", "failed", "streams/s"]
    header += ["TTFB p50", "TTFB p99", "total p50", "total p99", "server CPU ms", "client CPU ms"]
    return _table(header, rows, left=3)


def verdicts(f: Figures, commands: dict[str, list[float]], streams: int) -> list[str]:
    lines = []

    def say(target: str, met: bool | None, figure: str) -> None:
        mark = "n/a" if met is None else ("met" if met else "NOT met")
        lines.append(f"- {target}: **{mark}**, {figure}")

    if "native" in f.servers and "floor" in f.servers:
        r = {(w, c): f.ratio("native", w, c) for w in ("text", "tools") for c in (1, 50)}
        figure = ", ".join(
            f"{w} {r[w, 1]:.2f}x at c=1, {r[w, 50]:.2f}x at c=50" for w in ("text", "tools")
        )
        if "native-warning" in f.servers:
            quiet = ", ".join(
                f"{w} {f.ratio('native-warning', w, 1):.2f}x / {f.ratio('native-warning', w, 50):.2f}x"
                for w in ("text", "tools")
            )
            figure += f" (with LOG_LEVEL=warning: {quiet})"
        say("CPU per stream <= 2x the floor, both replies", all(v <= 2 for v in r.values()), figure)
        for paced, what in ((False, "unpaced"), (True, f"paced {f.pace:g} ms")):
            over = {
                w: percentile(f.batch("native", w, 16, paced).ttfb, 99)
                - percentile(f.batch("floor", w, 16, paced).ttfb, 99)
                for w in ("text", "tools")
            }
            say(
                f"added TTFB p99 at c=16 <= 5 ms over the floor ({what})",
                all(v <= 5 for v in over.values()),
                ", ".join(f"{w} +{v:.1f} ms" for w, v in over.items()),
            )
    if "native" in f.servers:
        rate = f.rate("native", "text")
        say(
            f"streams/s at c=50 on one worker >= 5x {OLD_RATE} = {5 * OLD_RATE}",
            rate >= 5 * OLD_RATE,
            f"text {rate:.0f}/s ({rate / OLD_RATE:.1f}x), tools {f.rate('native', 'tools'):.0f}/s",
        )
        s = f.servers["native"]
        say("RSS <= 80 MB at start (openai)", s.rss_start[0] <= 80, f"{s.rss_start[0]:.0f} MB")
        say(
            f"RSS <= 120 MB after {streams} streams (openai)",
            s.rss_after[0] <= 120 and s.streams >= streams,
            f"{s.rss_after[0]:.0f} MB after {s.streams}",
        )
        start = statistics.median(s.starts)
        say("exec to /health 200 <= 0.5 s", start <= 0.5, f"median {start:.2f} s")
    for now, before in (("native", "before"), ("litellm", "before"), ("gemini", "before-gemini")):
        if now in f.servers and before in f.servers:
            parts = ", ".join(
                f"{w} {f.cpu(now, w, 50):.1f} against {f.cpu(before, w, 50):.1f} CPU ms "
                f"({f.cpu(now, w, 50) / f.cpu(before, w, 50):.2f}x), "
                f"{f.rate(now, w) / f.rate(before, w):.2f}x the streams/s"
                for w in ("text", "tools")
            )
            lines.append(f"- {LABELS[now]} against {LABELS[before]}, this run: {parts}")
    if "workers2" in f.servers and "native" in f.servers:
        gain = f.rate("workers2", "text") / f.rate("native", "text")
        say(
            "--workers 2 close to twice one worker at c=50",
            gain >= 1.8,
            f"{gain:.2f}x (text {f.rate('workers2', 'text'):.0f}/s)",
        )
    help_time = statistics.median(commands["claude-proxy --help"])
    say("`claude-proxy --help` < 0.3 s", help_time < 0.3, f"median {help_time:.3f} s")
    if "gemini" in f.servers:
        cpu = {w: f.cpu("gemini", w, 50) for w in ("text", "tools")}
        say(
            f"Gemini/LiteLLM no worse than the old {OLD['text']} (text) / {OLD['tools']} (tools) CPU ms",
            all(cpu[w] <= OLD[w] for w in cpu),
            ", ".join(f"{w} {cpu[w]:.1f} ms" for w in cpu),
        )
    return lines


def render(
    machine: str,
    args: argparse.Namespace,
    commands: dict[str, list[float]],
    direct: list[Batch],
    results: list[Served],
    minutes: float,
) -> str:
    f = Figures(direct, results, args.pace_ms)
    out = [
        f"## Machine\n\n{machine}\n- run: {minutes:.1f} minutes\n",
        "## CPU per stream and throughput\n",
        cpu_table(f),
        "\n## Added time to first text, ms (p50 / p99, the server minus direct)\n",
        ttfb_table(f),
        "\n## Start-up and memory\n",
        memory_table(f, args.streams),
        "\n## Commands\n",
        command_table(commands),
        "\n## Targets (issue 7)\n",
        *verdicts(f, commands, args.streams),
        "\n## Every batch\n",
        detail_table(direct, results),
        "",
    ]
    for s in results:
        for b in s.batches:
            if b.failures:
                out.append(
                    f"- failures, {s.name} {b.workload} c={b.concurrency}: {dict(b.failures)}"
                )
        for line in s.problems[:10]:
            out.append(f"- {s.name} log: {line}")
    return "\n".join(out)
