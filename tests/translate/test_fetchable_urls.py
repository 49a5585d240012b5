from __future__ import annotations

from typing import Any

from claude_proxy.translate.fetchable_urls import (
    admits,
    fetchable_urls,
    in_context,
    result_urls,
    urls_in,
)

SEARCH_RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_1",
    "content": [{"type": "web_search_result", "url": "https://found.test/a", "title": "A"}],
}
FETCH_RESULT = {
    "type": "web_fetch_tool_result",
    "tool_use_id": "srvtoolu_2",
    "content": {
        "type": "web_fetch_result",
        "url": "https://page.test/",
        "content": {
            "type": "document",
            "source": {"type": "text", "data": "see https://linked.test/x."},
        },
    },
}
MESSAGES: list[Any] = [
    {"role": "user", "content": "Read https://user.test/doc#part, (and https://two.test/)."},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I made up https://model.test/"},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {}},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            SEARCH_RESULT,
        ],
    },
    {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "https://tool.test/"}],
    },
]


def test_urls_are_found_in_text_without_trailing_punctuation_or_fragment() -> None:
    assert urls_in("a https://x.test/p?q=1. b (http://y.test) <https://z.test/>") == {
        "https://x.test/p?q=1",
        "http://y.test",
        "https://z.test",
    }


def test_every_source_counts_by_default_but_the_models_own_text() -> None:
    found = fetchable_urls(MESSAGES)
    assert found == {
        "https://user.test/doc",
        "https://two.test",
        "https://found.test/a",
        "https://tool.test",
    }
    assert in_context("https://user.test/doc/", found)
    assert not in_context("https://model.test/", found)


def test_url_sources_narrow_them() -> None:
    only_user = {
        "client_tool_results": {"type": "none"},
        "server_tool_results": {"type": "none"},
    }
    assert fetchable_urls(MESSAGES, only_user) == {"https://user.test/doc", "https://two.test"}
    no_user = {"user_input": {"type": "none"}}
    assert fetchable_urls(MESSAGES, no_user) == {"https://found.test/a", "https://tool.test"}
    except_bash = {"client_tool_results": {"type": "except", "tools": [{"name": "Bash"}]}}
    assert "https://tool.test" not in fetchable_urls(MESSAGES, except_bash)
    only_search = {"server_tool_results": {"type": "only", "tools": [{"name": "web_search"}]}}
    assert "https://found.test/a" in fetchable_urls(MESSAGES, only_search)
    assert admits(None, "x") and not admits({"type": "none"}, "x")


def test_fetched_pages_bring_their_links() -> None:
    assert result_urls(FETCH_RESULT) == {"https://page.test", "https://linked.test/x"}
    assert result_urls(SEARCH_RESULT) == {"https://found.test/a"}
    error = {"type": "web_fetch_tool_result", "content": {"error_code": "unavailable"}}
    assert result_urls(error) == set()
