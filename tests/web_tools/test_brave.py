from __future__ import annotations

from claude_proxy.settings import load_settings
from claude_proxy.web_tools import brave
from claude_proxy.web_tools.search import Query
from tests.fakes.web_services import FakeWeb


async def test_brave_is_asked_with_its_key_and_its_answer_read(fake_web: FakeWeb) -> None:
    settings = load_settings(
        {"brave_api_key": "brave-k", "brave_api_base": fake_web.base_url + "/"}, env_file=None
    )
    location = {"type": "approximate", "country": "DE", "city": "Berlin"}
    query = Query("llamas", blocked_domains=["other.test"], user_location=location)
    hits = await brave.search(settings, query)
    (request,) = fake_web.requests
    assert request["path"] == "/web/search"
    assert (
        request["query"]["q"] == "llamas -site:other.test" and request["query"]["country"] == "de"
    )
    assert request["headers"]["X-Subscription-Token"] == "brave-k"
    assert [hit.url for hit in hits] == [
        "https://docs.example.com/a",
        "https://blocked.example.org/c",
    ]
    assert hits[0].text == "Alpha snippet about the topic." and hits[0].page_age == "2 days ago"


def test_odd_answers_give_what_they_hold() -> None:
    assert brave.hits_of([]) == []
    assert brave.hits_of({"web": {"results": [{"title": "no url"}, 3]}}) == []
    (hit,) = brave.hits_of({"web": {"results": [{"url": "https://x.test/"}]}})
    assert hit.title == "https://x.test/" and hit.text == "" and hit.page_age is None
