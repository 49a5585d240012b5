from __future__ import annotations

import json
from typing import Any

import pytest

from claude_proxy.translate.session import prompt_cache_key, session_of, session_of_user_id
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
def test_session_of(body: dict[str, Any], expected: str | None) -> None:
    assert session_of(body) == expected


def test_the_recorded_claude_code_requests_carry_their_session() -> None:
    body = body_of(DATA / "claude-code" / "01-say-hi.json")
    assert session_of(body) == SESSION


def test_prompt_cache_key_is_one_per_session_and_fits_openai() -> None:
    key = prompt_cache_key(with_user(json.dumps({"session_id": SESSION})))
    assert key == f"claude-code-{SESSION}"
    long = prompt_cache_key(with_user(json.dumps({"session_id": "s" * 80})))
    assert long is not None and len(long) <= 64
    assert long == prompt_cache_key(with_user(json.dumps({"session_id": "s" * 80})))
    assert prompt_cache_key({}) is None


@pytest.mark.parametrize(
    ("user_id", "session"),
    [
        ('{"device_id":"d","account_uuid":"","session_id":"abc-123"}', "abc-123"),
        (
            "user_0123abcd_account_8c1f-22_session_5d0e1e7c-aaaa-4bbb-8ccc-123456789abc",
            "5d0e1e7c-aaaa-4bbb-8ccc-123456789abc",
        ),
        ("user_0123abcd_account__session_abc", "abc"),
        ("someone@example.com", None),
        ('{"session_id": "no spaces allowed"}', None),
        ('{"session_id": 12}', None),
        ("{not json", None),
        ("[1, 2]", None),
        (None, None),
        ("x_session_" + "a" * 101, None),
    ],
)
def test_session_of_user_id(user_id: object, session: str | None) -> None:
    assert session_of_user_id(user_id) == session
