from __future__ import annotations

import pytest

from claude_proxy.translate.web_results import WebToolFailure
from claude_proxy.web_tools import fetch
from claude_proxy.web_tools.fetch import FetchRules, fetch_page
from tests.fakes.web_services import FakeWeb

# The fake site is on 127.0.0.1: these rules count that one address as public, and every
# other loopback, private or local address as what it is.
SITE = FetchRules(public=lambda address: address == "127.0.0.1")


async def code_of(url: str, rules: FetchRules = SITE) -> str:
    with pytest.raises(WebToolFailure) as caught:
        await fetch_page(url, rules)
    return caught.value.code


async def test_an_html_page_becomes_text_with_its_title(fake_web: FakeWeb) -> None:
    page = await fetch_page(f"{fake_web.base_url}/site/page.html", SITE)
    assert page.title == "Fake Page Title"
    assert "# Welcome" in page.text and "**forty-two**" in page.text and "* one" in page.text
    assert "hidden" not in page.text
    assert page.retrieved_at.endswith("Z")


async def test_plain_text_is_kept_and_cut_to_max_chars(fake_web: FakeWeb) -> None:
    page = await fetch_page(f"{fake_web.base_url}/site/notes.txt", SITE)
    assert page.text == "plain notes\nline two" and page.title is None
    cut = FetchRules(public=SITE.public, max_chars=5)
    assert (await fetch_page(f"{fake_web.base_url}/site/notes.txt", cut)).text == "plain"


async def test_loopback_is_refused_by_default(fake_web: FakeWeb) -> None:
    assert await code_of(f"{fake_web.base_url}/site/page.html", FetchRules()) == (
        "url_not_accessible"
    )
    port = fake_web.base_url.rsplit(":", 1)[1]
    assert await code_of(f"http://localhost:{port}/site/page.html", FetchRules()) == (
        "url_not_accessible"
    )
    assert fake_web.requests == []


async def test_private_and_link_local_literals_are_refused_without_connecting() -> None:
    for url in ("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"):
        assert await code_of(url, FetchRules()) == "url_not_accessible"


async def test_allow_private_fetches_loopback(fake_web: FakeWeb) -> None:
    page = await fetch_page(f"{fake_web.base_url}/site/notes.txt", FetchRules(allow_private=True))
    assert page.text.startswith("plain notes")


async def test_every_redirect_hop_is_checked(fake_web: FakeWeb) -> None:
    port = fake_web.base_url.rsplit(":", 1)[1]
    to_private = f"{fake_web.base_url}/site/away?to=http://127.0.0.2:{port}/site/page.html"
    assert await code_of(to_private) == "url_not_accessible"
    to_metadata = f"{fake_web.base_url}/site/away?to=http://169.254.169.254/"
    assert await code_of(to_metadata) == "url_not_accessible"
    by_name = f"{fake_web.base_url}/site/away?to=http://localhost:{port}/site/page.html"
    assert (await fetch_page(by_name, SITE)).title == "Fake Page Title"  # resolved, checked
    blocked = FetchRules(public=SITE.public, blocked_domains=["localhost"])
    assert await code_of(by_name, blocked) == "url_not_allowed"
    assert await code_of(f"{fake_web.base_url}/site/away?to=file:///etc/passwd") == (
        "invalid_tool_input"
    )


async def test_redirects_are_bounded(fake_web: FakeWeb) -> None:
    assert (await fetch_page(f"{fake_web.base_url}/site/redirect/5", SITE)).title
    assert await code_of(f"{fake_web.base_url}/site/redirect/6") == "url_not_accessible"


async def test_what_cannot_be_read_has_its_code(
    fake_web: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await code_of(f"{fake_web.base_url}/site/doc.pdf") == "unsupported_content_type"
    assert await code_of(f"{fake_web.base_url}/site/missing") == "url_not_accessible"
    assert await code_of("http://" + "a" * 2001 + ".test/") == "url_too_long"
    assert await code_of("ftp://example.com/") == "invalid_tool_input"
    allowed = FetchRules(public=SITE.public, allowed_domains=["example.com"])
    assert await code_of(f"{fake_web.base_url}/site/page.html", allowed) == "url_not_allowed"
    monkeypatch.setattr(fetch, "MAX_BYTES", 10)
    assert await code_of(f"{fake_web.base_url}/site/page.html") == "content_too_large"


def test_an_unknown_charset_is_read_as_utf8() -> None:
    assert fetch.decoded("héllo".encode(), "x-no-such-charset") == "héllo"
    assert fetch.decoded("héllo".encode("latin-1"), "latin-1") == "héllo"
    assert fetch.decoded(b"plain", None) == "plain"
