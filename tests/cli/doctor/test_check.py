"""What one doctor check found: a mark, a message and, when something is wrong, the fix."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from claude_proxy.cli.doctor.check import Check, Status


def test_a_check_as_json() -> None:
    check = Check("OpenAI key", "fail", "no key for OpenAI", "Set OPENAI_API_KEY.")
    assert check.to_json() == {
        "name": "OpenAI key",
        "status": "fail",
        "message": "no key for OpenAI",
        "fix": "Set OPENAI_API_KEY.",
    }
    assert Check("port", "pass", "free").to_json()["fix"] is None


def test_the_statuses_are_the_three_marks() -> None:
    assert typing.get_args(Status) == ("pass", "warn", "fail")
    from claude_proxy.cli.console import MARKS

    assert set(MARKS) == set(typing.get_args(Status))


def test_a_check_is_a_value() -> None:
    check = Check("a", "pass", "ok")
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.status = "fail"  # type: ignore[misc]
    assert check == Check("a", "pass", "ok")
