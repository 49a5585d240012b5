from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on (the OS picked it and let it go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
