"""Fresh Anthropic-style ids: the prefix and the characters the real API's patterns allow."""

from __future__ import annotations

import re

from claude_proxy.translate.ids import new_message_id, new_tool_use_id


def test_new_ids_are_unique_and_well_formed() -> None:
    message_ids = {new_message_id() for _ in range(100)}
    tool_ids = {new_tool_use_id() for _ in range(100)}
    assert len(message_ids) == len(tool_ids) == 100
    assert all(re.fullmatch(r"msg_[A-Za-z0-9_-]{24}", value) for value in message_ids)
    assert all(re.fullmatch(r"toolu_[A-Za-z0-9_-]{24}", value) for value in tool_ids)
