"""The SSRF guard of `web_fetch`: only public addresses are fetched.

A prompt must not be able to make the proxy read the user's own services (a router's admin
page, a cloud metadata endpoint, a database's HTTP port). Names are checked after DNS
resolution by `GuardedResolver`, which hands aiohttp only the addresses it checked, so the
connection goes to the address that was checked (a DNS answer that changes between check and
connect, rebinding, has nothing to change). aiohttp does not resolve IP literals, so
`check_host` checks them before each request; each redirect hop passes through both.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from aiohttp import ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult

from claude_proxy.translate.web_results import WebToolFailure


def is_public(address: str) -> bool:
    """Whether an IP address is a global unicast one (an IPv4-mapped IPv6 by its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast or ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved
    )


def check_host(
    host: str, *, allow_private: bool, public: Callable[[str], bool] = is_public
) -> None:
    """Refuse an IP-literal host that is not public (names are checked when resolved)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return
    if not allow_private and not public(host.strip("[]")):
        raise WebToolFailure("url_not_accessible", f"{host} is not a public address")


class BlockedAddress(OSError):
    """A name resolved to no public address; aiohttp reports it as a connection error."""


class GuardedResolver(AbstractResolver):
    """aiohttp's threaded resolver, keeping only public addresses."""

    def __init__(
        self, *, allow_private: bool = False, public: Callable[[str], bool] = is_public
    ) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private
        self._public = public
        self.refused: list[str] = []
        """The names refused, for the error the fetcher reports."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return results
        kept = [result for result in results if self._public(result["host"])]
        if not kept:
            self.refused.append(host)
            raise BlockedAddress(f"{host} resolves to no public address")
        return kept

    async def close(self) -> None:
        await self._inner.close()
