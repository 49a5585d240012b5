"""Prefix caches pay off only if turn N+1's upstream request begins with turn N's: Claude Code
resends the whole conversation each turn, and the translation must render what it already
sent the same way again (ids, signatures, tool-argument JSON, system text, tools).

The real (pinned) Claude Code runs a three-turn tool loop through the proxy to each provider's
fake; every upstream request must extend the one before it, element by element, byte for byte
in its JSON. OpenAI also gets one `prompt_cache_key` for the whole session.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.gemini_upstream import API_KEY, FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.helpers.claude_code import run_claude
from tests.helpers.model_turns import Step, gemini_turns, openai_turns
from tests.helpers.proxy import ProxyFactory

Upstream = tuple[str, Callable[[list[Step]], None], Callable[[], list[dict[str, Any]]], bool]
STEPS: list[Step] = [
    ("call", ("Bash", {"command": "echo one > one.txt", "description": "Write one"})),
    ("call", ("Bash", {"command": "echo two > two.txt", "description": "Write two"})),
    ("text", "Both files are written."),
]


@pytest.fixture(params=["openai-native", "openai-litellm", "google", "together"])
async def upstream(
    request: pytest.FixtureRequest,
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    fake_gemini: FakeGemini,
) -> Upstream:
    """The proxy's URL, how to script the model, the upstream requests as received, and
    whether the upstream is OpenAI (which gets a prompt_cache_key)."""
    if request.param == "google":
        url = await start_proxy(
            preferred_provider="google",
            gemini_api_key=API_KEY,
            gemini_api_base=fake_gemini.base_url,
        )
        return (
            url,
            lambda steps: gemini_turns(fake_gemini, steps),
            lambda: fake_gemini.requests,
            False,
        )
    if request.param == "together":
        keys = {"togetherai_api_key": "t" * 64, "togetherai_api_base": fake_openai.base_url}
        url = await start_proxy(preferred_provider="together", **keys)
        return (
            url,
            lambda steps: openai_turns(fake_openai, steps),
            lambda: fake_openai.requests,
            False,
        )
    url = await start_proxy(
        openai_api_key="sk-test-0001",
        openai_api_base=fake_openai.base_url,
        openai_prompt_cache_key=True,
        upstream_engine=request.param.removeprefix("openai-"),
    )
    return url, lambda steps: openai_turns(fake_openai, steps), lambda: fake_openai.requests, True


def conversation(body: dict[str, Any]) -> list[str]:
    """The request's turns as the bytes of their JSON, whichever dialect it speaks."""
    turns = body.get("messages") if "messages" in body else body.get("contents")
    assert isinstance(turns, list)
    return [json.dumps(turn, sort_keys=True) for turn in turns]


def stable_parts(body: dict[str, Any]) -> str:
    """What must not change between turns: the tools and the system text, in either dialect."""
    kept = {k: body.get(k) for k in ("tools", "systemInstruction", "system_instruction")}
    messages = body.get("messages") or []
    kept["system"] = [m for m in messages if isinstance(m, dict) and m.get("role") == "system"]
    return json.dumps(kept, sort_keys=True)


@pytest.mark.claude_code
async def test_each_upstream_request_extends_the_one_before(
    claude: str, upstream: Upstream, tmp_path: Path
) -> None:
    url, script, sent, openai = upstream
    script(STEPS)
    workdir = tmp_path / "project"
    workdir.mkdir()
    result = await run_claude(claude, url, workdir, "Write one.txt, then two.txt.")

    assert result["is_error"] is False
    assert result["result"] == "Both files are written."
    requests = sent()
    assert len(requests) == 3
    for before, after in itertools.pairwise(requests):
        earlier, later = conversation(before), conversation(after)
        assert len(later) > len(earlier)
        assert later[: len(earlier)] == earlier  # the cached prefix is still a prefix
        assert stable_parts(after) == stable_parts(before)
    keys = {body.get("prompt_cache_key") for body in requests}
    if openai:  # one key for the session, from Claude Code's session id
        (key,) = keys
        assert str(key).startswith("claude-code-") and len(str(key)) == len("claude-code-") + 36
    else:
        assert keys == {None}
