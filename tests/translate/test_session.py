from __future__ import annotations

import json
from typing import Any

import pytest

from claude_proxy.translate.session import prompt_cache_key, session_id
from tests.helpers.repo import DATA, body_of

SESSION = "00000000-0000-4000-8000-000000000001"


def with_user(user_id: Any) -> dict[str, Any]:
    return {"metadata": {"user_id": user_id}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (with_user(json.dumps({"device_id": "d", "session_id": SESSION})), SESSION),
        (with_user(f"user_{'ab' * 32}_account_{SESSION}_session_{SESSION}"), SESSION),
        (with_user(f"user_{'ab' * 32}_account__session_{SESSION}"), SESSION),
        (with_user(json.dumps({"device_id": "d"})), None),
        (with_user(json.dumps({"session_id": 5})), None),
        (with_user("{not json"), None),
        (with_user(json.dumps([SESSION])), None),
        (with_user("someone@example.com"), None),
        (with_user(""), None),
        (with_user(7), None),
        (with_user("{" + " " * 5000 + "}"), None),
        ({"metadata": "x"}, None),
        ({}, None),
    ],
)
def test_session_id(body: dict[str, Any], expected: str | None) -> None:
    assert session_id(body) == expected


def test_the_recorded_claude_code_requests_carry_their_session() -> None:
    body = body_of(DATA / "claude-code" / "01-say-hi.json")
    assert session_id(body) == SESSION


def test_prompt_cache_key_is_one_per_session_and_fits_openai() -> None:
    key = prompt_cache_key(with_user(json.dumps({"session_id": SESSION})))
    assert key == f"claude-code-{SESSION}"
    long = prompt_cache_key(with_user(json.dumps({"session_id": "s" * 200})))
    assert long is not None and len(long) <= 64
    assert long == prompt_cache_key(with_user(json.dumps({"session_id": "s" * 200})))
    assert prompt_cache_key({}) is None
