from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from claude_proxy.errors import InvalidRequestError
from claude_proxy.translate.request import (
    to_openai_request,
    validate_count_tokens_request,
    validate_request,
)
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import sign_thinking

FIXTURES = Path(__file__).parent.parent / "data" / "claude-code"

GPT = Target(model="openai/gpt-4.1", provider="openai")
BLIND = Target(model="together_ai/some-text-model", provider="together_ai", supports_vision=False)
STRICT = Target(
    model="openai/o3",
    provider="openai",
    supported_params=frozenset({"stop", "tools", "tool_choice"}),
)

PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
PNG_URL = "data:image/png;base64,iVBORw0KGgo="
NO_RESULT = "(no result was returned for this tool call)"


def make_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(fields)
    return body


def openai_messages(messages: list[Any], target: Target = GPT) -> list[dict[str, Any]]:
    body = make_body(messages=messages)
    validate_request(body)
    return to_openai_request(body, target)["messages"]


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def tool_use(call_id: str, name: str = "Bash", **input_: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": input_}


def tool_result(call_id: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": content, **extra}


def call(call_id: str, name: str = "Bash", arguments: str = "{}") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def calls_message(*calls: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    return {"role": "assistant", "content": content, "tool_calls": list(calls)}


def tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


# --- messages -----------------------------------------------------------------------------

MESSAGE_CASES = [
    pytest.param(
        [{"role": "user", "content": "hello"}],
        [{"role": "user", "content": "hello"}],
        id="string-content",
    ),
    pytest.param(
        [user(text("a"), {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}})],
        [{"role": "user", "content": "a\n\nb"}],
        id="text-blocks-joined-cache-control-dropped",
    ),
    pytest.param(
        [{"role": "user", "content": "a"}, user(text("b")), {"role": "assistant", "content": "c"}],
        [{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c"}],
        id="consecutive-user-turns-merged",
    ),
    pytest.param(
        [{"role": "user", "content": "q"}, assistant(text("a")), assistant(text("b"))],
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a\n\nb"}],
        id="consecutive-assistant-turns-merged",
    ),
    pytest.param(
        [
            {"role": "user", "content": "q"},
            {"role": "system", "content": [text("env")], "output_config": {"effort": "low"}},
            {"role": "assistant", "content": "a"},
        ],
        [
            {"role": "user", "content": "q"},
            {"role": "system", "content": "env"},
            {"role": "assistant", "content": "a"},
        ],
        id="system-message-kept-in-place",
    ),
    pytest.param(
        [
            {"role": "user", "content": "q"},
            {"role": "system", "content": "one"},
            {"role": "system", "content": [text("two"), text("three")]},
        ],
        [
            {"role": "user", "content": "q"},
            {"role": "system", "content": "one"},
            {"role": "system", "content": "two\n\nthree"},
        ],
        id="system-messages-not-merged",
    ),
    pytest.param(
        [{"role": "user", "content": "q"}, {"role": "system", "content": []}],
        [{"role": "user", "content": "q"}],
        id="empty-system-message-skipped",
    ),
    pytest.param(
        [{"role": "user", "content": []}, {"role": "user", "content": "q"}],
        [{"role": "user", "content": "q"}],
        id="empty-user-message-skipped",
    ),
    pytest.param(
        [user({"type": "image", "source": PNG}, text("what is this?"))],
        [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": PNG_URL}},
                    {"type": "text", "text": "what is this?"},
                ],
            }
        ],
        id="image-base64",
    ),
    pytest.param(
        [user({"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}})],
        [
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}],
            }
        ],
        id="image-url",
    ),
    pytest.param(
        [user({"type": "image", "source": {"type": "file", "file_id": "file_01"}})],
        [
            {
                "role": "user",
                "content": "[image omitted: Anthropic file file_01 cannot be sent to this model]",
            }
        ],
        id="image-file-source-note",
    ),
    pytest.param(
        [
            user(
                {
                    "type": "document",
                    "title": "report.pdf",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"},
                }
            )
        ],
        [
            {
                "role": "user",
                "content": [
                    {
                        "type": "file",
                        "file": {
                            "filename": "report.pdf",
                            "file_data": "data:application/pdf;base64,JVBE",
                        },
                    }
                ],
            }
        ],
        id="document-pdf-with-title",
    ),
    pytest.param(
        [user({"type": "document", "source": {"type": "base64", "data": "JVBE"}})],
        [
            {
                "role": "user",
                "content": [
                    {
                        "type": "file",
                        "file": {
                            "filename": "document.pdf",
                            "file_data": "data:application/pdf;base64,JVBE",
                        },
                    }
                ],
            }
        ],
        id="document-pdf-default-filename",
    ),
    pytest.param(
        [
            user(
                {
                    "type": "document",
                    "title": "Notes",
                    "source": {"type": "text", "media_type": "text/plain", "data": "body"},
                },
                text("summarise"),
            )
        ],
        [{"role": "user", "content": "Notes\n\nbody\n\nsummarise"}],
        id="document-text-source-with-title",
    ),
    pytest.param(
        [user({"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}})],
        [{"role": "user", "content": "[document not attached; it is at https://x.test/a.pdf]"}],
        id="document-url-note",
    ),
    pytest.param(
        [
            user(
                {
                    "type": "document",
                    "source": {"type": "content", "content": [text("part 1"), text("part 2")]},
                }
            )
        ],
        [{"role": "user", "content": "part 1\npart 2"}],
        id="document-content-source",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(text("Running."), tool_use("toolu_1", command="ls")),
            user(tool_result("toolu_1", "a.txt")),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1", arguments='{"command": "ls"}'), content="Running."),
            tool_message("toolu_1", "a.txt"),
        ],
        id="tool-use-with-text",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1", "Write", content="héllo ✓")),
            user(tool_result("toolu_1", "ok")),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1", "Write", '{"content": "héllo ✓"}')),
            tool_message("toolu_1", "ok"),
        ],
        id="tool-use-only-content-none-arguments-not-ascii-escaped",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "redacted_thinking", "data": "xyz"},
                text("Hi."),
            ),
        ],
        [{"role": "user", "content": "go"}, {"role": "assistant", "content": "Hi."}],
        id="thinking-dropped",
    ),
    pytest.param(
        [
            {"role": "user", "content": "a"},
            assistant({"type": "thinking", "thinking": "hmm", "signature": "sig"}),
            {"role": "user", "content": "b"},
        ],
        [{"role": "user", "content": "a\n\nb"}],
        id="thinking-only-turn-skipped-and-neighbours-merged",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1")),
            user(tool_result("toolu_1", [text("line 1"), text("line 2")])),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", "line 1\n\nline 2"),
        ],
        id="tool-result-text-list-joined",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1")),
            user(tool_result("toolu_1", "command not found", is_error=True)),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", "Error: command not found"),
        ],
        id="tool-result-is-error-prefixed",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1", "ToolSearch")),
            user(
                tool_result("toolu_1", [{"type": "tool_reference", "tool_name": "CronList"}]),
                text("Tool loaded."),
            ),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1", "ToolSearch")),
            tool_message("toolu_1", "Tool loaded: CronList"),
            {"role": "user", "content": "Tool loaded."},
        ],
        id="tool-reference-single",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1", "ToolSearch")),
            user(
                tool_result(
                    "toolu_1",
                    [
                        {"type": "tool_reference", "tool_name": "A"},
                        {"type": "tool_reference", "tool_name": "B"},
                        text("and"),
                        {"type": "tool_reference", "tool_name": "C"},
                    ],
                )
            ),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1", "ToolSearch")),
            tool_message("toolu_1", "Tools loaded: A, B\n\nand\n\nTool loaded: C"),
        ],
        id="tool-references-grouped",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1")),
            user(tool_result("toolu_1", [{"type": "future_block", "text": "new"}, {"type": "x"}])),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", "new\n\n[x block omitted]"),
        ],
        id="tool-result-unknown-blocks-as-text",
    ),
    pytest.param(
        [
            {"role": "user", "content": "shot"},
            assistant(tool_use("toolu_1", "Screenshot")),
            user(tool_result("toolu_1", [text("done"), {"type": "image", "source": PNG}])),
        ],
        [
            {"role": "user", "content": "shot"},
            calls_message(call("toolu_1", "Screenshot")),
            tool_message("toolu_1", "done\n\n[image attached in the next user message]"),
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Image(s) from the result of tool call toolu_1:"},
                    {"type": "image_url", "image_url": {"url": PNG_URL}},
                ],
            },
        ],
        id="tool-result-image-moved-to-user-message",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1"), tool_use("toolu_2", "Read")),
            user(text("also this"), tool_result("toolu_2", "two"), tool_result("toolu_1", "one")),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1"), call("toolu_2", "Read")),
            tool_message("toolu_1", "one"),
            tool_message("toolu_2", "two"),
            {"role": "user", "content": "also this"},
        ],
        id="several-results-in-call-order-then-user-text",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1"), tool_use("toolu_2")),
            user(tool_result("toolu_2", "two")),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1"), call("toolu_2")),
            tool_message("toolu_1", NO_RESULT),
            tool_message("toolu_2", "two"),
        ],
        id="missing-result-placeholder",
    ),
    pytest.param(
        [{"role": "user", "content": "go"}, assistant(tool_use("toolu_1"))],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", NO_RESULT),
        ],
        id="trailing-tool-use-answered",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1")),
            {"role": "user", "content": "never mind"},
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", NO_RESULT),
            {"role": "user", "content": "never mind"},
        ],
        id="user-text-instead-of-result",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1")),
            {"role": "system", "content": "note"},
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", NO_RESULT),
            {"role": "system", "content": "note"},
        ],
        id="system-after-tool-use-answers-it-first",
    ),
    pytest.param(
        [user(tool_result("toolu_9", "orphan", is_error=True), text("hi"))],
        [{"role": "user", "content": "Result of tool call toolu_9:\nError: orphan\n\nhi"}],
        id="unmatched-result-as-user-text",
    ),
    pytest.param(
        [
            {"role": "user", "content": "go"},
            assistant(tool_use("toolu_1")),
            user(tool_result("toolu_1", "first"), tool_result("toolu_1", "again")),
        ],
        [
            {"role": "user", "content": "go"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", "first"),
            {"role": "user", "content": "Result of tool call toolu_1:\nagain"},
        ],
        id="duplicate-result-as-user-text",
    ),
    pytest.param(
        [
            user(
                {
                    "type": "search_result",
                    "source": "https://x.test/doc",
                    "title": "Doc",
                    "content": [text("alpha"), text("beta")],
                }
            )
        ],
        [{"role": "user", "content": "Doc (https://x.test/doc)\nalpha\nbeta"}],
        id="search-result-as-text",
    ),
    pytest.param(
        [
            {"role": "user", "content": "search"},
            assistant(
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
                {
                    "type": "web_search_tool_result",
                    "tool_use_id": "srvtoolu_1",
                    "content": [
                        {"type": "web_search_result", "title": "T", "url": "https://t.test"}
                    ],
                },
                text("Found it."),
            ),
        ],
        [
            {"role": "user", "content": "search"},
            {
                "role": "assistant",
                "content": "[web_search_tool_result]\nT https://t.test\n\nFound it.",
            },
        ],
        id="server-tool-blocks",
    ),
    pytest.param(
        [user({"type": "container_upload", "file_id": "f"}, text("hi"))],
        [{"role": "user", "content": "[container_upload block omitted]\n\nhi"}],
        id="unknown-block-type",
    ),
]


@pytest.mark.parametrize(("messages", "expected"), MESSAGE_CASES)
def test_messages(messages: list[Any], expected: list[dict[str, Any]]) -> None:
    assert openai_messages(messages) == expected


BLIND_CASES = [
    pytest.param(
        [user({"type": "image", "source": PNG}, text("what is this?"))],
        [
            {
                "role": "user",
                "content": "[image omitted: the model cannot see images]\n\nwhat is this?",
            }
        ],
        id="image-note",
    ),
    pytest.param(
        [
            {"role": "user", "content": "shot"},
            assistant(tool_use("toolu_1")),
            user(tool_result("toolu_1", [{"type": "image", "source": PNG}])),
        ],
        [
            {"role": "user", "content": "shot"},
            calls_message(call("toolu_1")),
            tool_message("toolu_1", "[image omitted: the model cannot see images]"),
        ],
        id="tool-result-image-note-no-user-message",
    ),
]


@pytest.mark.parametrize(("messages", "expected"), BLIND_CASES)
def test_messages_for_a_model_without_vision(
    messages: list[Any], expected: list[dict[str, Any]]
) -> None:
    assert openai_messages(messages, BLIND) == expected


REASONER = Target(
    model="openai/deepseek-reasoner",
    provider="openai",
    supported_params=frozenset({"reasoning_effort", "tools"}),
    supports_reasoning=True,
)


def signed(thinking: str, target: Target = REASONER) -> dict[str, Any]:
    """A thinking block as the proxy gave it to the client for `target`."""
    return {
        "type": "thinking",
        "thinking": thinking,
        "signature": sign_thinking(thinking, target, None),
    }


REPLAY_CASES = [
    pytest.param(
        [
            {"role": "user", "content": "list"},
            assistant(signed("Use ls."), text("Listing."), tool_use("call_1", command="ls")),
            user(tool_result("call_1", "a.txt")),
        ],
        [
            {"role": "user", "content": "list"},
            {
                **calls_message(call("call_1", arguments='{"command": "ls"}'), content="Listing."),
                "reasoning_content": "Use ls.",
            },
            tool_message("call_1", "a.txt"),
        ],
        id="tool-turn-gets-its-reasoning",
    ),
    pytest.param(
        [
            {"role": "user", "content": "q"},
            assistant(signed("One.")),
            assistant(signed("Two."), text("Answer.")),
            {"role": "user", "content": "more"},
        ],
        [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "Answer.", "reasoning_content": "One.\n\nTwo."},
            {"role": "user", "content": "more"},
        ],
        id="merged-turns-join-their-reasoning",
    ),
    pytest.param(
        [
            {"role": "user", "content": "q"},
            assistant(
                {"type": "thinking", "thinking": "Claude's.", "signature": "EqQBCkgIBxAB"},
                {"type": "redacted_thinking", "data": "EmwKAhgB"},
                signed("Other model.", Target(model="openai/o3", provider="openai")),
                text("A."),
            ),
        ],
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "A."}],
        id="blocks-not-signed-for-this-model-dropped",
    ),
    pytest.param(
        [
            {"role": "user", "content": "q"},
            assistant(signed("Only thought.")),
            {"role": "user", "content": "again"},
        ],
        [{"role": "user", "content": "q\n\nagain"}],
        id="reasoning-alone-is-no-turn",
    ),
]


@pytest.mark.parametrize(("messages", "expected"), REPLAY_CASES)
def test_reasoning_is_replayed(messages: list[Any], expected: list[dict[str, Any]]) -> None:
    assert openai_messages(messages, REASONER) == expected


# --- system -------------------------------------------------------------------------------

BILLING = text("x-anthropic-billing-header: cc_version=2.1.330.440; cc_entrypoint=sdk-cli;")

SYSTEM_CASES = [
    pytest.param("Be brief.", [{"role": "system", "content": "Be brief."}], id="string"),
    pytest.param("", [], id="empty-string"),
    pytest.param(
        [BILLING, {**text("Identity."), "cache_control": {"type": "ephemeral"}}, text("Prompt.")],
        [{"role": "system", "content": "Identity.\n\nPrompt."}],
        id="blocks-joined-billing-stripped",
    ),
    pytest.param([BILLING], [], id="only-billing"),
]


@pytest.mark.parametrize(("system", "expected"), SYSTEM_CASES)
def test_system(system: Any, expected: list[dict[str, Any]]) -> None:
    body = make_body(system=system)
    validate_request(body)
    assert to_openai_request(body, GPT)["messages"] == [
        *expected,
        {"role": "user", "content": "hi"},
    ]


# --- parameters ---------------------------------------------------------------------------

USER_ID = json.dumps({"device_id": "ab" * 32, "account_uuid": "", "session_id": "s-1"})

PARAM_CASES = [
    pytest.param({}, GPT, {"max_tokens": 1000, "stream": False}, id="minimal"),
    pytest.param(
        {"stream": True},
        GPT,
        {"max_tokens": 1000, "stream": True, "stream_options": {"include_usage": True}},
        id="stream-asks-for-usage",
    ),
    pytest.param(
        {"max_tokens": 128000},
        Target(model="openai/gpt-4.1", provider="openai", max_output_tokens=32768),
        {"max_tokens": 32768, "stream": False},
        id="max-tokens-clamped",
    ),
    pytest.param(
        {"max_tokens": 8192},
        Target(model="openai/gpt-4.1", provider="openai", max_output_tokens=32768),
        {"max_tokens": 8192, "stream": False},
        id="max-tokens-below-limit-kept",
    ),
    pytest.param(
        {"max_tokens": 128000},
        GPT,
        {"max_tokens": 128000, "stream": False},
        id="no-cap-when-unknown",
    ),
    pytest.param(
        {"stop_sequences": ["a", "b"]},
        GPT,
        {"max_tokens": 1000, "stream": False, "stop": ["a", "b"]},
        id="stop",
    ),
    pytest.param(
        {"stop_sequences": ["1", "2", "3", "4", "5"]},
        GPT,
        {"max_tokens": 1000, "stream": False, "stop": ["1", "2", "3", "4"]},
        id="stop-trimmed-to-4",
    ),
    pytest.param(
        {"stop_sequences": []}, GPT, {"max_tokens": 1000, "stream": False}, id="empty-stop-omitted"
    ),
    pytest.param(
        {"temperature": 1, "top_p": 0.9, "top_k": 40},
        GPT,
        {"max_tokens": 1000, "stream": False, "temperature": 1, "top_p": 0.9, "top_k": 40},
        id="sampling-copied-when-support-unknown",
    ),
    pytest.param(
        {"temperature": 1, "top_p": 0.9, "top_k": 40},
        Target(
            model="openai/gpt-4.1",
            provider="openai",
            supported_params=frozenset({"temperature", "top_p"}),
        ),
        {"max_tokens": 1000, "stream": False, "temperature": 1, "top_p": 0.9},
        id="top-k-dropped-when-unsupported",
    ),
    pytest.param(
        {"temperature": 1, "stop_sequences": ["x"], "metadata": {"user_id": "u1"}},
        STRICT,
        {"max_tokens": 1000, "stream": False, "stop": ["x"]},
        id="unsupported-params-dropped",
    ),
    pytest.param(
        {"metadata": {"user_id": "u1"}},
        GPT,
        {"max_tokens": 1000, "stream": False, "user": "u1"},
        id="user",
    ),
    pytest.param(
        {"metadata": {"user_id": USER_ID}},
        GPT,
        {
            "max_tokens": 1000,
            "stream": False,
            "user": hashlib.sha256(USER_ID.encode()).hexdigest(),
        },
        id="long-user-hashed",
    ),
    pytest.param(
        {
            "thinking": {"type": "adaptive"},
            "context_management": {"edits": []},
            "output_config": {"effort": "medium"},
            "safeguards": {},
            "mcp_servers": [],
            "service_tier": "auto",
            "container": "c",
            "speed": "fast",
            "cache_control": {"type": "ephemeral"},
        },
        GPT,
        {"max_tokens": 1000, "stream": False},
        id="unknown-fields-ignored",
    ),
    pytest.param(
        {"thinking": {"type": "enabled", "budget_tokens": 31999, "display": "omitted"}},
        Target(model="openai/o3", provider="openai", supports_reasoning=True),
        {"max_tokens": 1000, "stream": False, "reasoning_effort": "high"},
        id="thinking-budget-to-effort",
    ),
    pytest.param(
        {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}},
        Target(model="gemini/gemini-2.5-flash", provider="gemini", supports_reasoning=True),
        {"max_tokens": 1000, "stream": False, "reasoning_effort": "low"},
        id="adaptive-effort",
    ),
    pytest.param(
        {"thinking": {"type": "enabled", "budget_tokens": 2048}, "temperature": 1},
        GPT,
        {"max_tokens": 1000, "stream": False, "temperature": 1},
        id="thinking-dropped-for-a-model-that-does-not-reason",
    ),
]


@pytest.mark.parametrize(("fields", "target", "expected"), PARAM_CASES)
def test_params(fields: dict[str, Any], target: Target, expected: dict[str, Any]) -> None:
    body = make_body(**fields)
    validate_request(body)
    request = to_openai_request(body, target)
    assert request.pop("model") == target.model
    assert request.pop("messages") == [{"role": "user", "content": "hi"}]
    assert request == expected


# --- tools --------------------------------------------------------------------------------

BASH_SCHEMA = {
    "type": "object",
    "properties": {"command": {"type": "string"}},
    "required": ["command"],
}
BASH = {"name": "Bash", "description": "Run a command", "input_schema": BASH_SCHEMA}
EMPTY = {"type": "object", "properties": {}}


def function(name: str, parameters: dict[str, Any], description: str | None = None) -> dict:
    fn: dict[str, Any] = {"name": name}
    if description is not None:
        fn["description"] = description
    fn["parameters"] = parameters
    return {"type": "function", "function": fn}


BASH_FUNCTION = function("Bash", BASH_SCHEMA, "Run a command")

TOOL_CASES = [
    pytest.param({"tools": [BASH]}, GPT, {"tools": [BASH_FUNCTION]}, id="client-tool"),
    pytest.param(
        {
            "tools": [
                {
                    **BASH,
                    "type": "custom",
                    "cache_control": {"type": "ephemeral"},
                    "defer_loading": True,
                    "strict": True,
                    "input_examples": [{"command": "ls"}],
                    "eager_input_streaming": True,
                }
            ]
        },
        GPT,
        {"tools": [BASH_FUNCTION]},
        id="anthropic-only-keys-dropped",
    ),
    pytest.param(
        {"tools": [{"name": "Ping"}, {"name": "Pong", "description": "d", "input_schema": {}}]},
        GPT,
        {"tools": [function("Ping", EMPTY), function("Pong", EMPTY, "d")]},
        id="missing-or-empty-schema",
    ),
    pytest.param(
        {
            "tools": [
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
                {"type": "web_fetch_20250910", "name": "web_fetch"},
                {"type": "code_execution_20250825", "name": "code_execution"},
                {"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"},
                BASH,
            ]
        },
        GPT,
        {"tools": [BASH_FUNCTION]},
        id="server-tools-removed",
    ),
    pytest.param(
        {
            "tools": [
                {"type": "bash_20250124", "name": "bash"},
                {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
                {"type": "computer_20250124", "name": "computer", "display_width_px": 1024},
                {"type": "memory_20250818", "name": "memory"},
            ]
        },
        GPT,
        {
            "tools": [
                function("bash", EMPTY),
                function("str_replace_based_edit_tool", EMPTY),
                function("computer", EMPTY),
                function("memory", EMPTY),
            ]
        },
        id="typed-client-tools-kept",
    ),
    pytest.param(
        {
            "tools": [{"type": "web_search_20250305", "name": "web_search"}],
            "tool_choice": {"type": "any"},
        },
        GPT,
        {},
        id="only-server-tools-no-tools-no-choice",
    ),
    pytest.param(
        {"tool_choice": {"type": "auto"}}, GPT, {}, id="tool-choice-without-tools-dropped"
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "auto"}},
        GPT,
        {"tools": [BASH_FUNCTION], "tool_choice": "auto"},
        id="choice-auto",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "any"}},
        GPT,
        {"tools": [BASH_FUNCTION], "tool_choice": "required"},
        id="choice-any",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "none"}},
        GPT,
        {"tools": [BASH_FUNCTION], "tool_choice": "none"},
        id="choice-none",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "tool", "name": "Bash"}},
        GPT,
        {
            "tools": [BASH_FUNCTION],
            "tool_choice": {"type": "function", "function": {"name": "Bash"}},
        },
        id="choice-tool",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "tool", "name": "web_search"}},
        GPT,
        {"tools": [BASH_FUNCTION], "tool_choice": "auto"},
        id="choice-of-a-removed-tool-becomes-auto",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
        GPT,
        {"tools": [BASH_FUNCTION], "tool_choice": "auto", "parallel_tool_calls": False},
        id="disable-parallel",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "any", "disable_parallel_tool_use": True}},
        STRICT,
        {"tools": [BASH_FUNCTION], "tool_choice": "required"},
        id="parallel-unsupported-dropped",
    ),
    pytest.param(
        {"tools": [BASH], "tool_choice": {"type": "any", "disable_parallel_tool_use": True}},
        Target(
            model="openai/x",
            provider="openai",
            supported_params=frozenset({"tools", "parallel_tool_calls"}),
        ),
        {"tools": [BASH_FUNCTION], "parallel_tool_calls": False},
        id="tool-choice-unsupported-dropped",
    ),
]


@pytest.mark.parametrize(("fields", "target", "expected"), TOOL_CASES)
def test_tools(fields: dict[str, Any], target: Target, expected: dict[str, Any]) -> None:
    body = make_body(**fields)
    validate_request(body)
    request = to_openai_request(body, target)
    keys = ("tools", "tool_choice", "parallel_tool_calls")
    assert {key: request[key] for key in keys if key in request} == expected


def test_translation_neither_mutates_nor_aliases_the_body() -> None:
    body = make_body(
        system=[BILLING, text("Prompt.")],
        tools=[BASH],
        messages=[
            {"role": "user", "content": "go"},
            assistant({"type": "thinking", "thinking": "t", "signature": "s"}, tool_use("toolu_1")),
            user(tool_result("toolu_1", "ok", cache_control={"type": "ephemeral"}), text("more")),
            user(text("and more")),
        ],
    )
    before = copy.deepcopy(body)
    request = to_openai_request(body, GPT)
    assert body == before
    assert request["tools"][0]["function"]["parameters"] == BASH_SCHEMA
    assert request["tools"][0]["function"]["parameters"] is not BASH_SCHEMA
    assert json.loads(json.dumps(request)) == request


# --- validation ---------------------------------------------------------------------------

GOOD_MESSAGES = [{"role": "user", "content": "hi"}]

VALIDATION_CASES = [
    pytest.param([], "body: expected a JSON object, got an array", id="body-not-object"),
    pytest.param({"max_tokens": 1, "messages": []}, "model: field required", id="model-missing"),
    pytest.param(
        make_body(model=""), 'model: expected a non-empty string, got ""', id="model-empty"
    ),
    pytest.param(
        make_body(model=5), "model: expected a non-empty string, got 5", id="model-not-string"
    ),
    pytest.param(
        {"model": "m", "messages": GOOD_MESSAGES},
        "max_tokens: field required",
        id="max-tokens-missing",
    ),
    pytest.param(
        make_body(max_tokens=0),
        "max_tokens: expected a positive integer, got 0",
        id="max-tokens-zero",
    ),
    pytest.param(
        make_body(max_tokens=True),
        "max_tokens: expected a positive integer, got true",
        id="max-tokens-bool",
    ),
    pytest.param(
        make_body(max_tokens=1.5),
        "max_tokens: expected a positive integer, got 1.5",
        id="max-tokens-float",
    ),
    pytest.param(
        {"model": "m", "max_tokens": 1}, "messages: field required", id="messages-missing"
    ),
    pytest.param(
        make_body(messages={"role": "user"}),
        "messages: expected an array of messages, got an object",
        id="messages-not-list",
    ),
    pytest.param(
        make_body(messages=["hi"]),
        'messages.0: expected a message object, got "hi"',
        id="message-not-object",
    ),
    pytest.param(
        make_body(messages=[{"role": "tool", "content": "x"}]),
        'messages.0.role: expected user, assistant or system, got "tool"',
        id="role-unknown",
    ),
    pytest.param(
        make_body(messages=[{"content": "x"}]), "messages.0.role: field required", id="role-missing"
    ),
    pytest.param(
        make_body(messages=[{"role": "user", "content": 3}]),
        "messages.0.content: expected a string or an array of blocks, got 3",
        id="content-not-string-or-list",
    ),
    pytest.param(
        make_body(messages=[{"role": "user"}]),
        "messages.0.content: field required",
        id="content-missing",
    ),
    pytest.param(
        make_body(messages=[*GOOD_MESSAGES, {"role": "user", "content": ["x"]}]),
        'messages.1.content.0: expected a content block object, got "x"',
        id="block-not-object",
    ),
    pytest.param(
        make_body(messages=[{"role": "user", "content": [{"text": "x"}]}]),
        "messages.0.content.0.type: field required",
        id="block-type-missing",
    ),
    pytest.param(
        make_body(messages=[{"role": "user", "content": [{"type": 1}]}]),
        "messages.0.content.0.type: expected a string, got 1",
        id="block-type-not-string",
    ),
    pytest.param(
        make_body(messages=[user(text("a"), {"type": "text", "text": None})]),
        "messages.0.content.1.text: expected a string, got null",
        id="text-not-string",
    ),
    pytest.param(
        make_body(
            messages=[
                *GOOD_MESSAGES,
                assistant(text("a")),
                {"role": "user", "content": "b"},
                user(
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/bmp", "data": "x"},
                    }
                ),
            ]
        ),
        "messages.3.content.0.source.media_type: expected one of image/jpeg, image/png, "
        'image/gif, image/webp, got "image/bmp"',
        id="image-media-type",
    ),
    pytest.param(
        make_body(messages=[user({"type": "image", "source": {"type": "url"}})]),
        "messages.0.content.0.source.url: field required",
        id="image-url-missing",
    ),
    pytest.param(
        make_body(messages=[user({"type": "document"})]),
        "messages.0.content.0.source: field required",
        id="document-source-missing",
    ),
    pytest.param(
        make_body(messages=[assistant({"type": "tool_use", "id": "t", "name": "n", "input": []})]),
        "messages.0.content.0.input: expected an object, got an array",
        id="tool-use-input",
    ),
    pytest.param(
        make_body(messages=[user({"type": "tool_result", "content": "x"})]),
        "messages.0.content.0.tool_use_id: field required",
        id="tool-result-id",
    ),
    pytest.param(
        make_body(messages=[user(tool_result("t", [{"type": "text", "text": 1}]))]),
        "messages.0.content.0.content.0.text: expected a string, got 1",
        id="tool-result-nested-block",
    ),
    pytest.param(
        make_body(messages=[user(tool_result("t", "x", is_error="yes"))]),
        'messages.0.content.0.is_error: expected a boolean, got "yes"',
        id="tool-result-is-error",
    ),
    pytest.param(
        make_body(system=5),
        "system: expected a string or an array of blocks, got 5",
        id="system-type",
    ),
    pytest.param(
        make_body(system=[text("a"), {"type": "text"}]),
        "system.1.text: field required",
        id="system-block",
    ),
    pytest.param(
        make_body(tools={"name": "x"}),
        "tools: expected an array of tools, got an object",
        id="tools-type",
    ),
    pytest.param(
        make_body(tools=[BASH, {"description": "d"}]),
        "tools.1.name: field required",
        id="tool-name",
    ),
    pytest.param(
        make_body(tools=[{"name": "x", "input_schema": "s"}]),
        'tools.0.input_schema: expected an object, got "s"',
        id="tool-schema",
    ),
    pytest.param(
        make_body(stream="yes"), 'stream: expected a boolean, got "yes"', id="stream-not-bool"
    ),
    pytest.param(
        make_body(temperature="1"), 'temperature: expected a number, got "1"', id="temperature"
    ),
    pytest.param(make_body(top_p=True), "top_p: expected a number, got true", id="top-p-bool"),
    pytest.param(
        make_body(stop_sequences="END"),
        'stop_sequences: expected an array of strings, got "END"',
        id="stop-sequences-string",
    ),
    pytest.param(
        make_body(stop_sequences=["a", 1]),
        "stop_sequences: expected an array of strings, got an array",
        id="stop-sequences-item",
    ),
    pytest.param(
        make_body(tool_choice={"type": "function"}),
        'tool_choice.type: expected auto, any, tool or none, got "function"',
        id="tool-choice-type",
    ),
    pytest.param(
        make_body(tool_choice={"type": "tool"}),
        "tool_choice.name: field required",
        id="tool-choice-tool-without-name",
    ),
    pytest.param(
        make_body(tool_choice="auto"),
        'tool_choice: expected an object, got "auto"',
        id="tool-choice-string",
    ),
]


@pytest.mark.parametrize(("body", "message"), VALIDATION_CASES)
def test_validation_errors(body: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_request(body)
    assert caught.value.message == message
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            make_body(
                thinking={"type": "adaptive"}, safeguards={}, extra_body={}, future_field=[1]
            ),
            id="unknown-top-level-fields",
        ),
        pytest.param(
            make_body(messages=[user({"type": "brand_new_block", "stuff": 1}), user(text("x"))]),
            id="unknown-block-type",
        ),
        pytest.param(
            make_body(
                messages=[
                    user({"type": "image", "source": {"type": "file", "file_id": "f"}}),
                    {"role": "system", "content": []},
                ]
            ),
            id="file-source-and-empty-system-message",
        ),
    ],
)
def test_validation_accepts(body: dict[str, Any]) -> None:
    validate_request(body)


def test_count_tokens_validation_does_not_need_max_tokens() -> None:
    body = {"model": "m", "messages": GOOD_MESSAGES}
    validate_count_tokens_request(body)
    with pytest.raises(InvalidRequestError, match=r"^messages\.0\.role: field required$"):
        validate_count_tokens_request({"model": "m", "messages": [{"content": "x"}]})
    with pytest.raises(InvalidRequestError, match=r"^max_tokens: expected a positive integer"):
        validate_count_tokens_request({**body, "max_tokens": -1})


# --- Claude Code fixtures -----------------------------------------------------------------

CC_TARGET = Target(model="openai/gpt-4.1", provider="openai", max_output_tokens=32768)
TOOL_LOADED = (
    "Tools loaded: WebFetch, WebSearch, NotebookEdit, CronCreate, CronDelete, CronList, "
    "EnterWorktree, ExitWorktree, Monitor, SendMessage, TaskStop"
)
WRITE_RESULT = (
    "File created successfully at: /home/user/project/w.txt "
    "(file state is current in your context — no need to Read it back)"
)
ROUNDTRIP = ["system", "user", "system", "assistant", "tool"]

# file -> (roles of the OpenAI messages, max_tokens, stream, tool message contents)
FIXTURE_EXPECTATIONS = {
    "01-say-hi": (["system", "user", "system"], 32768, True, []),
    "02-bash-roundtrip": (ROUNDTRIP, 32768, True, ["t"]),
    "03-write-roundtrip": (ROUNDTRIP, 32768, True, [WRITE_RESULT]),
    "04-read-roundtrip": (ROUNDTRIP, 32768, True, ["1\thello\n2\t"]),
    "05-toolsearch-roundtrip": ([*ROUNDTRIP, "user"], 32768, True, [TOOL_LOADED]),
    "06-legacy-claude-3-5-haiku": (["system", "user"], 8192, True, []),
    "07-legacy-sonnet-4-5-thinking-budget": (["system", "user"], 32000, True, []),
    "08-bare": (["system", "user"], 32768, True, []),
    "09-count-tokens": (["user"], 1, False, []),
    "10-nonstreaming-fallback": (["system", "user", "system"], 32768, False, []),
}


def load_fixture(name: str) -> dict[str, Any]:
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    return {key: value for key, value in raw.items() if not key.startswith("_")}


def walk_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in walk_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in walk_keys(item)}
    return set()


def walk_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in walk_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in walk_strings(item)]
    return [value] if isinstance(value, str) else []


def assert_tool_calls_answered(messages: list[dict[str, Any]]) -> None:
    answered: list[str] = []
    for index, message in enumerate(messages):
        if message["role"] == "tool":
            assert messages[index - 1]["role"] in ("assistant", "tool")
            answered.append(message["tool_call_id"])
        for position, tool_call in enumerate(message.get("tool_calls") or []):
            assert messages[index + 1 + position] == {
                "role": "tool",
                "tool_call_id": tool_call["id"],
                "content": messages[index + 1 + position]["content"],
            }
    called = [c["id"] for m in messages for c in m.get("tool_calls") or []]
    assert answered == called
    assert len(set(called)) == len(called)


def system_prompt_of(body: dict[str, Any]) -> str:
    return "\n\n".join(block["text"] for block in body["system"][1:])


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTATIONS))
def test_claude_code_fixture(name: str) -> None:
    roles, max_tokens, stream, tool_contents = FIXTURE_EXPECTATIONS[name]
    body = load_fixture(name)
    if "max_tokens" in body:
        validate_request(body)
    else:
        validate_count_tokens_request(body)
        body = {**body, "max_tokens": 1}

    request = to_openai_request(body, CC_TARGET)
    messages = request["messages"]

    assert [message["role"] for message in messages] == roles
    assert request["model"] == "openai/gpt-4.1"
    assert request["max_tokens"] == max_tokens
    assert request["stream"] is stream
    assert ("stream_options" in request) is stream
    assert not walk_keys(request) & {"cache_control", "defer_loading", "thinking", "signature"}
    strings = walk_strings(request)
    assert not [s for s in strings if "x-anthropic-billing-header" in s]
    assert not [s for s in strings if "Fake reasoning" in s or "fake-signature" in s]
    if "system" in body:
        assert messages[0] == {"role": "system", "content": system_prompt_of(body)}

    inline_system = [m for m in body["messages"] if m["role"] == "system" and m["content"]]
    expected_inline = [
        m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
        for m in inline_system
    ]
    assert [m["content"] for m in messages[1:] if m["role"] == "system"] == expected_inline

    assert_tool_calls_answered(messages)
    assert [m["content"] for m in messages if m["role"] == "tool"] == tool_contents
    uses = [b for m in body["messages"] if m["role"] == "assistant" for b in m["content"]]
    uses = [b for b in uses if b["type"] == "tool_use"]
    calls = [c for m in messages for c in m.get("tool_calls") or []]
    assert [(c["id"], c["function"]["name"]) for c in calls] == [(u["id"], u["name"]) for u in uses]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [u["input"] for u in uses]

    assert [t["function"]["name"] for t in request["tools"]] == [t["name"] for t in body["tools"]]
    assert [t["function"]["parameters"] for t in request["tools"]] == [
        t["input_schema"] for t in body["tools"]
    ]
    if "metadata" in body:
        assert request["user"] == hashlib.sha256(body["metadata"]["user_id"].encode()).hexdigest()
    else:
        assert "user" not in request


def test_claude_code_first_user_turn_keeps_reminders_then_prompt() -> None:
    request = to_openai_request(load_fixture("07-legacy-sonnet-4-5-thinking-budget"), CC_TARGET)
    content = request["messages"][1]["content"]
    assert content.startswith("<system-reminder>\n<environment: working dir")
    assert content.endswith("</system-reminder>\n\nsay hi")
    assert content.count("<system-reminder>") == 8
