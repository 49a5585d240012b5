"""Anthropic content blocks -> OpenAI message parts, block by block: what becomes a part, what
becomes short text so the model still sees something was there, and what is dropped."""

from __future__ import annotations

from typing import Any

import pytest

from claude_proxy.translate.content import (
    NO_VISION_NOTE,
    TEXT_SEPARATOR,
    attachment_heading,
    describe_block,
    join_texts,
    pack,
    render_tool_result,
    texts_of,
    to_parts,
)
from claude_proxy.translate.target import Target

GPT = Target(model="openai/gpt-4.1", provider="openai")
BLIND = Target(model="openai/text-only", provider="openai", supports_vision=False)
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}


@pytest.mark.parametrize(
    ("block", "parts"),
    [
        ({"type": "text", "text": "hi"}, [{"type": "text", "text": "hi"}]),
        (
            {"type": "image", "source": PNG},
            [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}],
        ),
        (
            {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
            [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}],
        ),
        (
            {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
            [
                {
                    "type": "text",
                    "text": "[image omitted: Anthropic file file_1 cannot be sent to this model]",
                }
            ],
        ),
        (
            {"type": "document", "source": {"type": "base64", "data": "JVBERi0="}},
            [
                {
                    "type": "file",
                    "file": {
                        "filename": "document.pdf",
                        "file_data": "data:application/pdf;base64,JVBERi0=",
                    },
                }
            ],
        ),
        (
            {"type": "document", "title": "notes.txt", "source": {"type": "text", "data": "line"}},
            [{"type": "text", "text": "notes.txt\n\nline"}],
        ),
        (
            {
                "type": "document",
                "source": {
                    "type": "content",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                },
            },
            [{"type": "text", "text": "a\nb"}],
        ),
        (
            {"type": "document", "source": {"type": "url", "url": "https://x.test/d.pdf"}},
            [{"type": "text", "text": "[document not attached; it is at https://x.test/d.pdf]"}],
        ),
        (
            {"type": "document", "source": {"type": "file", "file_id": "file_2"}},
            [
                {
                    "type": "text",
                    "text": "[document omitted: Anthropic file file_2 cannot be sent to this model]",
                }
            ],
        ),
        (
            {"type": "tool_reference", "tool_name": "Read"},
            [{"type": "text", "text": "Tool loaded: Read"}],
        ),
        ({"type": "thinking", "thinking": "hmm", "signature": "s"}, []),
        ({"type": "redacted_thinking", "data": "x"}, []),
        ({"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {}}, []),
        (
            {
                "type": "web_search_tool_result",
                "content": [{"title": "Proxy", "url": "https://p.test"}],
            },
            [{"type": "text", "text": "[web_search_tool_result]\nProxy https://p.test"}],
        ),
        ({"type": "mystery"}, [{"type": "text", "text": "[mystery block omitted]"}]),
    ],
    ids=lambda value: value.get("type") if isinstance(value, dict) else None,
)
def test_to_parts(block: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    assert to_parts(block, GPT) == parts


def test_an_image_for_a_model_that_cannot_see_becomes_a_note() -> None:
    assert to_parts({"type": "image", "source": PNG}, BLIND) == [
        {"type": "text", "text": NO_VISION_NOTE}
    ]


def test_a_search_result_keeps_its_title_source_and_text() -> None:
    block = {
        "type": "search_result",
        "title": "Docs",
        "source": "https://docs.test",
        "content": [{"type": "text", "text": "the answer"}],
    }
    assert describe_block(block) == "Docs (https://docs.test)\nthe answer"


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("plain", "plain"),
        (None, ""),
        (42, ""),
        ([{"type": "text", "text": "a"}, "junk", {"title": "T"}, {"url": "u"}], "a\nT\nu"),
    ],
)
def test_texts_of(content: Any, text: str) -> None:
    assert texts_of(content) == text


def test_pack_is_a_string_for_text_alone_and_parts_otherwise() -> None:
    a, b = {"type": "text", "text": "a"}, {"type": "text", "text": "b"}
    image = {"type": "image_url", "image_url": {"url": "u"}}
    assert pack([a, b]) == f"a{TEXT_SEPARATOR}b"
    assert pack([a, image]) == [a, image]
    assert join_texts([a, image, b]) == "a\n\nb"


def test_a_tool_result_keeps_text_and_hands_attachments_back() -> None:
    block = {
        "type": "tool_result",
        "tool_use_id": "call_1",
        "content": [
            {"type": "text", "text": "here it is"},
            {"type": "image", "source": PNG},
            {"type": "tool_reference", "tool_name": "Read"},
            {"type": "tool_reference", "tool_name": "Write"},
        ],
    }
    text, attachments = render_tool_result(block, GPT)
    assert (
        text
        == "here it is\n\n[image attached in the next user message]\n\nTools loaded: Read, Write"
    )
    assert attachments == [to_parts({"type": "image", "source": PNG}, GPT)[0]]
    assert attachment_heading("call_1", attachments) == {
        "type": "text",
        "text": "Image(s) from the result of tool call call_1:",
    }


def test_an_error_result_says_so_and_documents_get_their_own_heading() -> None:
    block = {"type": "tool_result", "tool_use_id": "c", "content": "boom", "is_error": True}
    assert render_tool_result(block, GPT) == ("Error: boom", [])
    pdf = to_parts({"type": "document", "source": {"type": "base64", "data": "JVBERi0="}}, GPT)
    assert attachment_heading("c", pdf)["text"] == "Attachment(s) from the result of tool call c:"
