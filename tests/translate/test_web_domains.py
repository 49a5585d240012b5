from __future__ import annotations

import pytest

from claude_proxy.translate.web_domains import url_allowed


@pytest.mark.parametrize(
    ("url", "allowed", "blocked", "expected"),
    [
        ("https://example.com/a", None, None, True),
        ("https://example.com/a", ["example.com"], None, True),
        ("https://docs.example.com/a", ["example.com"], None, True),
        ("https://EXAMPLE.com./a", ["example.com"], None, True),
        ("https://badexample.com/a", ["example.com"], None, False),
        ("https://other.org/", ["example.com"], None, False),
        ("https://docs.example.com/a", None, ["example.com"], False),
        ("https://example.com/blog/post", ["example.com/blog"], None, True),
        ("https://example.com/shop", ["example.com/blog"], None, False),
        ("https://example.com/", ["https://example.com"], None, True),
        ("https://example.com/", ["example.com"], ["example.com"], False),
        ("not a url", ["example.com"], None, False),
        ("http://[::1", None, ["x.com"], True),
    ],
)
def test_domain_lists(
    url: str, allowed: list[str] | None, blocked: list[str] | None, expected: bool
) -> None:
    assert url_allowed(url, allowed, blocked) is expected
