"""HTTP/1.1 over a bare socket: what a browser, an attacker or a broken client sends, byte for
byte, where an HTTP client library would refuse or fix it up."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict

DEADLINE = 20.0
"""Generous: a busy machine must not turn these tests red."""


@dataclass
class RawResponse:
    status: int
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request_bytes(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    host: str | None = "127.0.0.1",
    close: bool = True,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader, *, head_only: bool = False) -> RawResponse:
    """One response; `head_only` for the answer to a HEAD request, which has no body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    status = int(status_line.split()[1])
    if head_only or status in (204, 304):
        body = b""
    elif "Content-Length" in headers:
        body = await asyncio.wait_for(reader.readexactly(int(headers["Content-Length"])), DEADLINE)
    elif headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await asyncio.wait_for(reader.readline(), DEADLINE)).strip(), 16)
            chunk = await asyncio.wait_for(reader.readexactly(size + 2), DEADLINE)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await asyncio.wait_for(reader.read(), DEADLINE)
    return RawResponse(status, headers, body)


async def exchange(port: int, raw: bytes) -> RawResponse:
    """Send `raw` to 127.0.0.1:port and read one response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await read_response(reader, head_only=raw.startswith(b"HEAD "))
    finally:
        writer.close()


async def closed_by_server(reader: asyncio.StreamReader, deadline: float = DEADLINE) -> bytes:
    """Everything the server sends until it closes the connection; fails after `deadline`."""
    received = b""
    async with asyncio.timeout(deadline):
        try:
            while chunk := await reader.read(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received
