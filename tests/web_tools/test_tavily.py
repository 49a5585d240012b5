from __future__ import annotations

from claude_proxy.settings import load_settings
from claude_proxy.web_tools import tavily
from claude_proxy.web_tools.search import Query
from tests.fakes.web_services import FakeWeb


async def test_tavily_gets_the_domain_lists_and_the_proxy_checks_them_again(
    fake_web: FakeWeb,
) -> None:
    settings = load_settings(
        {"tavily_api_key": "tvly-k", "tavily_api_base": fake_web.base_url}, env_file=None
    )
    hits = await tavily.search(settings, Query("llamas", allowed_domains=["example.com"]))
    (request,) = fake_web.requests
    assert request["path"] == "/search" and request["headers"]["Authorization"] == "Bearer tvly-k"
    assert request["body"]["query"] == "llamas"
    assert request["body"]["include_domains"] == ["example.com"]
    assert "exclude_domains" not in request["body"]
    assert [hit.url for hit in hits] == ["https://docs.example.com/a"]  # the fake ignores it


def test_odd_answers_give_what_they_hold() -> None:
    assert tavily.hits_of(None) == []
    (hit,) = tavily.hits_of({"results": [{"url": "https://x.test/", "published_date": "2026"}]})
    assert hit.page_age == "2026" and hit.title == "https://x.test/"
