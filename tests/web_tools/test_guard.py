from __future__ import annotations

import pytest

from claude_proxy.translate.web_results import WebToolFailure
from claude_proxy.web_tools.guard import BlockedAddress, GuardedResolver, check_host, is_public


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),
        ("not an ip", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_ip_literal_hosts_are_checked_before_any_connection() -> None:
    for host in ("127.0.0.1", "[::1]", "10.0.0.1"):
        with pytest.raises(WebToolFailure) as caught:
            check_host(host, allow_private=False)
        assert caught.value.code == "url_not_accessible"
    check_host("127.0.0.1", allow_private=True)
    check_host("8.8.8.8", allow_private=False)
    check_host("example.com", allow_private=False)  # names: the resolver checks them


async def test_the_resolver_keeps_only_public_addresses() -> None:
    resolver = GuardedResolver()
    try:
        with pytest.raises(BlockedAddress):
            await resolver.resolve("localhost", 80)
        assert resolver.refused == ["localhost"]
    finally:
        await resolver.close()
    narrowed = GuardedResolver(public=lambda address: address == "127.0.0.1")
    try:
        results = await narrowed.resolve("localhost", 80)
    finally:
        await narrowed.close()
    assert [result["host"] for result in results] == ["127.0.0.1"]


async def test_allow_private_lets_every_address_through() -> None:
    resolver = GuardedResolver(allow_private=True)
    try:
        results = await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()
    assert "127.0.0.1" in {result["host"] for result in results}
