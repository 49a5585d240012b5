"""Anthropic content blocks -> OpenAI chat-completions message parts.

A part is `{"type": "text", ...}`, `{"type": "image_url", ...}` or `{"type": "file", ...}`.
Blocks OpenAI has no equivalent for become short text, so the model still sees that
something was there; only thinking and server-tool calls are dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from claude_proxy.translate.target import Target

logger = logging.getLogger(__name__)

Part = dict[str, Any]
Block = dict[str, Any]

# Anthropic blocks are separate units (a <system-reminder>, then the prompt; an identity
# line, then the main system prompt). A blank line keeps them apart as paragraphs; a single
# "\n" would glue a closing tag to the next paragraph's first line.
TEXT_SEPARATOR = "\n\n"
NO_VISION_NOTE = "[image omitted: the model cannot see images]"
DROPPED_BLOCKS = frozenset({"thinking", "redacted_thinking", "server_tool_use"})


def text_part(text: str) -> Part:
    return {"type": "text", "text": text}


def pack(parts: list[Part]) -> str | list[Part]:
    """Plain string content when every part is text, else the list of parts."""
    if all(part["type"] == "text" for part in parts):
        return TEXT_SEPARATOR.join(part["text"] for part in parts)
    return parts


def join_texts(parts: list[Part]) -> str:
    return TEXT_SEPARATOR.join(part["text"] for part in parts if part["type"] == "text")


def to_parts(block: Block, target: Target) -> list[Part]:
    """The OpenAI parts of one Anthropic block (tool_use and tool_result are handled by the caller)."""
    kind = block.get("type")
    if kind == "text":
        return [text_part(block["text"])]
    if kind == "image":
        return [to_image_part(block, target)]
    if kind == "document":
        return [to_document_part(block)]
    if kind == "tool_reference":
        return [text_part(describe_tool_references([block["tool_name"]]))]
    if kind in DROPPED_BLOCKS:
        logger.debug("dropping a %s block", kind)
        return []
    logger.debug("rendering a %s block as text", kind)
    return [text_part(describe_block(block))]


def to_image_part(block: Block, target: Target) -> Part:
    if not target.supports_vision:
        logger.debug("%s cannot see images; replacing one with a note", target.model)
        return text_part(NO_VISION_NOTE)
    source = block["source"]
    kind = source.get("type")
    if kind == "base64":
        url = f"data:{source['media_type']};base64,{source['data']}"
    elif kind == "url":
        url = source["url"]
    else:
        return text_part(f"[image omitted: {describe_source(source)} cannot be sent to this model]")
    return {"type": "image_url", "image_url": {"url": url}}


def to_document_part(block: Block) -> Part:
    source = block["source"]
    kind = source.get("type")
    title = block.get("title")
    if kind == "base64":
        media_type = source.get("media_type") or "application/pdf"
        file_data = f"data:{media_type};base64,{source['data']}"
        return {
            "type": "file",
            "file": {"filename": title or "document.pdf", "file_data": file_data},
        }
    if kind == "text":
        body = source["data"]
    elif kind == "content":
        body = texts_of(source["content"])
    elif kind == "url":
        body = f"[document not attached; it is at {source['url']}]"
    else:
        body = f"[document omitted: {describe_source(source)} cannot be sent to this model]"
    return text_part(f"{title}{TEXT_SEPARATOR}{body}" if title else body)


def describe_source(source: dict[str, Any]) -> str:
    if source.get("type") == "file":
        return f"Anthropic file {source.get('file_id')}"
    return f"a {source.get('type')} source"


def describe_tool_references(names: list[str]) -> str:
    if len(names) == 1:
        return f"Tool loaded: {names[0]}"
    return f"Tools loaded: {', '.join(names)}"


def describe_block(block: Block) -> str:
    """Short text for a block OpenAI has no part for (search results, server-tool results, ...)."""
    kind = block.get("type")
    if kind == "search_result":
        title = block.get("title") or ""
        heading = f"{title} ({block['source']})" if block.get("source") else title
        return f"{heading}\n{texts_of(block.get('content'))}"
    text = block.get("text")
    if isinstance(text, str):
        return text
    found = texts_of(block.get("content"))
    if found:
        return f"[{kind}]\n{found}"
    return f"[{kind} block omitted]"


def texts_of(content: Any) -> str:
    """The readable text in a block's `content`: text blocks, or title/url of result items."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    lines = []
    for item in content:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("text"), str):
            lines.append(item["text"])
        elif item.get("title") or item.get("url"):
            lines.append(" ".join(str(item[key]) for key in ("title", "url") if item.get(key)))
    return "\n".join(lines)


def render_tool_result(block: Block, target: Target) -> tuple[str, list[Part]]:
    """A tool_result as (text for the tool message, parts a tool message cannot hold).

    OpenAI tool messages hold text only, so images and files come back separately for the
    caller to send in a user message after the tool messages.
    """
    texts: list[str] = []
    attachments: list[Part] = []
    for part in tool_result_parts(block.get("content"), target):
        if part["type"] == "text":
            texts.append(part["text"])
        else:
            attachments.append(part)
            noun = "image" if part["type"] == "image_url" else "document"
            texts.append(f"[{noun} attached in the next user message]")
    text = TEXT_SEPARATOR.join(texts)
    if block.get("is_error") is True:
        text = f"Error: {text}"
    return text, attachments


def tool_result_parts(content: Any, target: Target) -> list[Part]:
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[Part] = []
    references: list[str] = []
    for block in content or []:
        if block.get("type") == "tool_reference":
            references.append(block["tool_name"])
            continue
        if references:
            parts.append(text_part(describe_tool_references(references)))
            references = []
        parts.extend(to_parts(block, target))
    if references:
        parts.append(text_part(describe_tool_references(references)))
    return parts


def attachment_heading(call_id: str, attachments: list[Part]) -> Part:
    if all(part["type"] == "image_url" for part in attachments):
        return text_part(f"Image(s) from the result of tool call {call_id}:")
    return text_part(f"Attachment(s) from the result of tool call {call_id}:")
