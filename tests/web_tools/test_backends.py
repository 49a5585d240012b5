from __future__ import annotations

from typing import Any

import pytest

from claude_proxy.settings import load_settings
from claude_proxy.web_tools.backends import backend_name, missing_setting, search_backend


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({}, None),
        ({"brave_api_key": "b"}, "brave"),
        ({"tavily_api_key": "t"}, "tavily"),
        ({"searxng_url": "http://127.0.0.1:8888"}, "searxng"),
        ({"tavily_api_key": "t", "brave_api_key": "b"}, "brave"),
        ({"web_search_backend": "tavily", "brave_api_key": "b"}, "tavily"),
        ({"web_search_backend": "off", "brave_api_key": "b"}, None),
    ],
)
def test_the_backend_is_named_or_picked_by_its_key(values: dict[str, Any], name: str) -> None:
    assert backend_name(load_settings(values, env_file=None)) == name


def test_a_missing_piece_is_named_with_its_fix() -> None:
    nothing = load_settings({}, env_file=None)
    assert search_backend(nothing) is None
    assert "BRAVE_API_KEY" in (missing_setting(nothing) or "")
    named = load_settings({"web_search_backend": "searxng"}, env_file=None)
    assert missing_setting(named) == "WEB_SEARCH_BACKEND=searxng needs SEARXNG_URL"
    assert search_backend(named) is None
    ready = load_settings({"tavily_api_key": "t"}, env_file=None)
    assert missing_setting(ready) is None and search_backend(ready) is not None


def test_keys_are_secrets() -> None:
    settings = load_settings({"brave_api_key": "b-1", "tavily_api_key": "t-1"}, env_file=None)
    assert {"b-1", "t-1"} <= set(settings.secret_values())
    assert "b-1" not in repr(settings)
