from __future__ import annotations

import pytest

from claude_proxy.translate.web_results import SearchHit, WebToolFailure
from claude_proxy.web_tools.search import (
    Query,
    kept,
    request_json,
    text_of,
    with_site_operators,
)
from tests.fakes.web_services import FakeWeb
from tests.helpers.ports import free_port


def test_kept_applies_the_domain_lists_then_the_count() -> None:
    hits = [SearchHit(f"https://{host}/", host, "") for host in ("a.com", "b.a.com", "c.org")]
    assert [h.title for h in kept(hits, Query("q", allowed_domains=["a.com"]))] == [
        "a.com",
        "b.a.com",
    ]
    assert [h.title for h in kept(hits, Query("q", blocked_domains=["a.com"]))] == ["c.org"]
    assert len(kept(hits, Query("q", count=2))) == 2


async def test_request_json_maps_failures_to_anthropics_codes(fake_web: FakeWeb) -> None:
    url = f"{fake_web.base_url}/web/search"
    assert "web" in await request_json("Brave", "GET", url)
    for status, code in ((429, "too_many_requests"), (500, "unavailable"), (401, "unavailable")):
        fake_web.status = status
        with pytest.raises(WebToolFailure) as caught:
            await request_json("Brave", "GET", url)
        assert caught.value.code == code and str(status) in caught.value.detail
    with pytest.raises(WebToolFailure) as caught:
        await request_json("Brave", "GET", f"http://127.0.0.1:{free_port()}/web/search")
    assert caught.value.code == "unavailable"


def test_text_of_reads_strings_only() -> None:
    assert text_of("a") == "a" and text_of(None) == "" and text_of(3) == ""


def test_domain_lists_become_site_operators() -> None:
    assert with_site_operators(Query("llamas")) == "llamas"
    allowed = Query("llamas", allowed_domains=["a.com", "https://b.org/docs"])
    assert with_site_operators(allowed) == "llamas site:a.com OR site:b.org"
    blocked = Query("llamas", blocked_domains=["c.net", " "])
    assert with_site_operators(blocked) == "llamas -site:c.net"
