from __future__ import annotations

from typing import Any

import pytest

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.server_tools import (
    ServerTool,
    as_server_calls,
    check_server_tools,
    function_tool,
    has_client_calls,
    server_tools_of,
    upstream_body,
    uses_server_tools,
)

SEARCH = {
    "type": "web_search_20250305",
    "name": "web_search",
    "max_uses": 3,
    "allowed_domains": ["example.com"],
    "user_location": {"type": "approximate", "country": "FR"},
}
FETCH = {"type": "web_fetch_20250910", "name": "web_fetch", "max_content_tokens": 100}
BASH = {"name": "Bash", "input_schema": {"type": "object"}}
RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_1",
    "content": [{"type": "web_search_result", "url": "https://a.test/", "title": "A"}],
}


def body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [SEARCH, FETCH, BASH],
        **extra,
    }


def test_the_web_tools_of_a_request_and_their_limits() -> None:
    tools = server_tools_of(body())
    assert tools["web_search"] == ServerTool(
        kind="web_search",
        name="web_search",
        max_uses=3,
        allowed_domains=("example.com",),
        user_location={"type": "approximate", "country": "FR"},
    )
    assert tools["web_fetch"].max_content_tokens == 100
    newer = {"tools": [{"type": "web_search_20260318", "name": "web_search", "max_uses": 0}]}
    assert server_tools_of(newer)["web_search"].max_uses is None
    assert server_tools_of({"tools": [{"type": "code_execution_20250825", "name": "x"}]}) == {}


def test_a_request_uses_them_by_its_tools_or_its_history() -> None:
    assert uses_server_tools(body())
    assert not uses_server_tools({"tools": [BASH], "messages": [{"role": "user", "content": "x"}]})
    history = [{"role": "assistant", "content": [RESULT]}]
    assert uses_server_tools({"messages": history})


def test_the_upstream_gets_function_tools_in_their_place() -> None:
    rebuilt = upstream_body(body())
    search, fetch, bash = rebuilt["tools"]
    assert search == function_tool(server_tools_of(body())["web_search"])
    assert search["input_schema"]["required"] == ["query"]
    assert "example.com" in search["description"]
    assert fetch["input_schema"]["required"] == ["url"] and bash == BASH
    assert [t["name"] for t in upstream_body(body(), offer_tools=False)["tools"]] == ["Bash"]
    alone = upstream_body({**body(), "tools": [SEARCH]}, offer_tools=False)
    assert alone["tools"] == [] and "tool_choice" not in alone


def test_a_forced_server_tool_is_forced_only_until_it_ran() -> None:
    forced = body(tool_choice={"type": "tool", "name": "web_search"})
    assert upstream_body(forced)["tool_choice"] == {"type": "tool", "name": "web_search"}
    assert upstream_body(forced, continuing=True)["tool_choice"] == {"type": "auto"}
    any_tool = body(tool_choice={"type": "any"})
    assert upstream_body(any_tool, continuing=True)["tool_choice"] == {"type": "any"}
    only_search = {**any_tool, "tools": [SEARCH]}
    assert upstream_body(only_search, continuing=True)["tool_choice"] == {"type": "auto"}


def test_a_turn_with_server_blocks_is_split_into_calls_and_results() -> None:
    turn = [
        {"type": "text", "text": "Looking."},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        },
        RESULT,
        {"type": "text", "text": "Found A."},
    ]
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": turn},
        {"role": "user", "content": "thanks"},
    ]
    rebuilt = upstream_body(body(messages=messages), details={"srvtoolu_1": "ignored"})
    assert [(m["role"], [b["type"] for b in m["content"]]) for m in rebuilt["messages"][1:4]] == [
        ("assistant", ["text", "tool_use"]),
        ("user", ["tool_result"]),
        ("assistant", ["text"]),
    ]
    call = rebuilt["messages"][1]["content"][1]
    assert call == {
        "type": "tool_use",
        "id": "1",
        "name": "web_search",
        "input": {"query": "q"},
    }
    result = rebuilt["messages"][2]["content"][0]
    assert result["tool_use_id"] == "1" and "URL: https://a.test/" in result["content"]
    assert rebuilt["messages"][-1] == messages[-1]
    ends = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": turn[1:3]}]
    assert [m["role"] for m in upstream_body(body(messages=ends))["messages"]] == [
        "user",
        "assistant",
        "user",
    ]


def test_failure_details_reach_the_model() -> None:
    error = {
        "type": "web_search_tool_result",
        "tool_use_id": "s1",
        "content": {"type": "web_search_tool_result_error", "error_code": "unavailable"},
    }
    messages = [{"role": "assistant", "content": [error]}]
    rebuilt = upstream_body(body(messages=messages), details={"s1": "set BRAVE_API_KEY"})
    assert rebuilt["messages"][0]["content"][0]["content"].endswith("set BRAVE_API_KEY.")


def test_the_models_calls_of_server_tools_become_server_tool_use() -> None:
    content = [
        {"type": "text", "text": "a"},
        {"type": "tool_use", "id": "toolu_1", "name": "web_search", "input": {"query": "q"}},
        {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {}},
    ]
    rebuilt, calls = as_server_calls(content, server_tools_of(body()))
    assert calls == [
        {
            "type": "server_tool_use",
            "id": "srvtoolu_toolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        }
    ]
    assert rebuilt == [content[0], calls[0], content[2]]
    assert has_client_calls(rebuilt) and not has_client_calls(rebuilt[:2])


@pytest.mark.parametrize(
    ("tool", "problem"),
    [
        ({**SEARCH, "blocked_domains": ["x.com"]}, "tools.0: allowed_domains and blocked_domains"),
        ({**FETCH, "allowed_domains": "example.com"}, "tools.0.allowed_domains: expected an array"),
        ({**FETCH, "blocked_domains": [3]}, "tools.0.blocked_domains: expected an array"),
        ({**SEARCH, "max_uses": 0}, "tools.0.max_uses: expected a positive integer"),
        ({**SEARCH, "max_uses": True}, "tools.0.max_uses: expected a positive integer"),
        ({**SEARCH, "user_location": "Paris"}, "tools.0.user_location: expected an object"),
    ],
)
def test_web_tools_anthropic_would_refuse_are_refused(tool: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_server_tools({"tools": [tool, BASH]})
    assert caught.value.message.startswith(problem)


def test_valid_web_tools_pass() -> None:
    check_server_tools(body())
    check_server_tools({"tools": [{**BASH, "max_uses": "whatever"}]})  # not a web tool


def test_results_are_numbered_on_across_the_turns_of_a_conversation() -> None:
    two = {**RESULT, "content": [*RESULT["content"], {"url": "https://b.test/", "title": "B"}]}
    later = {**RESULT, "tool_use_id": "srvtoolu_2"}
    use = {"type": "server_tool_use", "name": "web_search", "input": {"query": "q"}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{**use, "id": "srvtoolu_1"}, two]},
        {"role": "user", "content": "more"},
        {"role": "assistant", "content": [{**use, "id": "srvtoolu_2"}, later]},
    ]
    rebuilt = upstream_body(body(messages=messages))["messages"]
    first, second = (
        m["content"][0]["content"]
        for m in rebuilt
        if isinstance(m["content"], list) and m["content"][0]["type"] == "tool_result"
    )
    assert "[web:1] A" in first and "[web:2] B" in first
    assert "[web:3] A" in second and "[web:1]" not in second
