"""The benchmarks' child processes: started pinned to cores, read from /proc, stopped.

CPU is utime+stime from /proc/<pid>/stat summed over a process and its descendants (gunicorn's
arbiter and its workers), all threads included; memory is VmRSS from /proc/<pid>/status.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
LOG_PROBLEM = re.compile(r"\b(ERROR|WARNING|CRITICAL)\b|Traceback")


def free_port() -> int:
    """A port the kernel just handed out on loopback (closed again, so a tiny race remains)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def tree(pid: int) -> list[int]:
    """`pid` and its live descendants."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process and its descendants, all threads included."""
    total = 0
    for member in tree(pid):
        try:
            fields = _stat(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICK


def rss_mb(pid: int) -> list[float]:
    """VmRSS in MB (2**20 bytes) of a process and each descendant, the process first."""
    sizes = []
    for member in tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        sizes.append(int(match.group(1)) / 1024 if match else 0.0)
    return sizes


def open_fds(pid: int) -> int:
    """Open file descriptors of a process and its descendants."""
    total = 0
    for member in tree(pid):
        with contextlib.suppress(OSError):
            total += len(os.listdir(f"/proc/{member}/fd"))
    return total


def sockets(pid: int, upstream_port: int) -> tuple[int, int]:
    """TCP sockets of a process tree: (to the upstream on `upstream_port`, all others)."""
    remote: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                remote[fields[9]] = int(fields[2].rpartition(":")[2], 16)
    upstream = other = 0
    for member in tree(pid):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{member}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{member}/fd/{fd}")
                    if target.startswith("socket:["):
                        port = remote.get(target[8:-1])
                        if port == upstream_port:
                            upstream += 1
                        elif port is not None:
                            other += 1
    return upstream, other


def pinned(cores: str | None, argv: list[str]) -> list[str]:
    """`argv` run on these cores (`taskset -c`), or anywhere when `cores` is None."""
    return argv if cores is None else ["taskset", "-c", cores, *argv]


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """No .env, config file or model overrides of this machine leak into a child."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "CLAUDE_PROXY_CONFIG": str(home / "absent.toml"),
        "NO_COLOR": "1",
        **settings,
    }


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float
    """time.perf_counter() just before the exec."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def problems(self) -> list[str]:
        """Warning, error and traceback lines of its log."""
        return [line for line in self.log.read_text().splitlines() if LOG_PROBLEM.search(line)]


def start(
    name: str, argv: list[str], env: dict[str, str], workdir: Path, cwd: Path = REPO
) -> Child:
    """A child process in `cwd`, its stdout and stderr going to workdir/<name>.log."""
    log = workdir / f"{name}.log"
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Child(name, process, log, started)


def stop(child: Child | None) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if child is None or child.process.poll() is not None:
        return
    child.process.terminate()
    try:
        child.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.process.kill()
        child.process.wait()


async def wait_healthy(url: str, child: Child, timeout: float, poll: float = 0.005) -> float:
    """Poll GET url until 200; the seconds since the child's exec. Fails if the child exits or
    `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with {child.process.returncode}:\n"
                    f"{child.log.read_text()[-3000:]}"
                )
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return time.perf_counter() - child.started
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(poll)
    raise RuntimeError(
        f"{url} did not answer 200 within {timeout:.0f}s:\n{child.log.read_text()[-3000:]}"
    )


def machine() -> str:
    """nproc, CPU model, Python and library versions, as a markdown list."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    load = Path("/proc/loadavg").read_text().split()[:3]
    return "\n".join(
        [
            f"- nproc: {os.cpu_count()} (this process may use {len(os.sched_getaffinity(0))})",
            f"- CPU: {model.group(1) if model else 'unknown'}",
            f"- Python: {platform.python_version()} ({platform.system()} {platform.release()})",
            f"- litellm {version('litellm')}, aiohttp {version('aiohttp')}, "
            f"gunicorn {version('gunicorn')}",
            f"- load average at the end: {' '.join(load)} (the machine is shared)",
        ]
    )
