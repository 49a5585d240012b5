from __future__ import annotations

from claude_proxy.settings import load_settings
from claude_proxy.web_tools import searxng
from claude_proxy.web_tools.search import Query
from tests.fakes.web_services import FakeWeb


async def test_searxng_is_asked_for_json(fake_web: FakeWeb) -> None:
    settings = load_settings({"searxng_url": fake_web.base_url + "/"}, env_file=None)
    hits = await searxng.search(settings, Query("llamas", count=1))
    (request,) = fake_web.requests
    assert request["path"] == "/search"
    assert request["query"] == {"q": "llamas", "format": "json"}
    assert [hit.title for hit in hits] == ["Example A"]
    assert hits[0].page_age == "2 days ago"


def test_odd_answers_give_what_they_hold() -> None:
    assert searxng.hits_of({"results": "nope"}) == []
