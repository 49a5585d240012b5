from __future__ import annotations

from claude_proxy.translate.web_results import SearchHit, WebToolFailure


def test_a_failure_carries_its_code_and_what_happened() -> None:
    failure = WebToolFailure("unavailable", "Brave answered HTTP 500")
    assert failure.code == "unavailable" and failure.detail == "Brave answered HTTP 500"
    assert str(failure) == "unavailable: Brave answered HTTP 500"
    assert str(WebToolFailure("max_uses_exceeded")) == "max_uses_exceeded"


def test_hits_are_values() -> None:
    assert SearchHit("u", "t", "x") == SearchHit("u", "t", "x", page_age=None)
