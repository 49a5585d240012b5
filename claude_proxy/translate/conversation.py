"""Anthropic `messages` -> OpenAI chat-completions `messages`.

OpenAI requires every assistant tool call to be answered by a `tool` message right after the
assistant message, before anything else. So a user turn becomes: one tool message per pending
call (in call order, a placeholder when the turn has no result for it), then one user message
with the rest of the turn, including the images the tool messages could not hold.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from claude_proxy.translate.citations import with_markers
from claude_proxy.translate.content import (
    Block,
    Part,
    attachment_heading,
    join_texts,
    pack,
    render_tool_result,
    text_part,
    to_parts,
)
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import THINKING_TYPES, reasoning_for

logger = logging.getLogger(__name__)

Message = dict[str, Any]

NO_RESULT = "(no result was returned for this tool call)"


def to_openai_messages(messages: list[dict[str, Any]], target: Target) -> list[Message]:
    conversation = _Conversation(target)
    for role, blocks in merge_turns(messages):
        conversation.add(role, blocks)
    conversation.answer_pending()
    return conversation.messages


def merge_turns(messages: list[dict[str, Any]]) -> list[tuple[str, list[Block]]]:
    """(role, blocks) per turn: empty turns skipped, same-role turns merged.

    System messages are never merged: each stays where the client put it. A turn left with
    thinking alone (after merging, so its reasoning can join the answer next to it) has no
    OpenAI message, and dropping it may let its neighbours merge.
    """
    turns: list[tuple[str, list[Block]]] = []
    for index, message in enumerate(messages):
        blocks = as_blocks(message["content"])
        if not blocks:
            logger.debug("skipping messages.%d (%s): no content", index, message["role"])
            continue
        turns.append((message["role"], blocks))
    kept: list[tuple[str, list[Block]]] = []
    for role, blocks in merged(turns):
        if all(block.get("type") in THINKING_TYPES for block in blocks):
            logger.debug("skipping a %s turn of thinking alone", role)
        else:
            kept.append((role, blocks))
    return merged(kept)


def merged(turns: list[tuple[str, list[Block]]]) -> list[tuple[str, list[Block]]]:
    out: list[tuple[str, list[Block]]] = []
    for role, blocks in turns:
        if out and role != "system" and out[-1][0] == role:
            out[-1][1].extend(blocks)
        else:
            out.append((role, list(blocks)))
    return out


def as_blocks(content: str | list[Block]) -> list[Block]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def to_tool_call(block: Block) -> dict[str, Any]:
    arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
    return {
        "id": block["id"],
        "type": "function",
        "function": {"name": block["name"], "arguments": arguments},
    }


def tool_message(call_id: str, content: str) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


class _Conversation:
    """The OpenAI messages built so far and the tool calls still waiting for a result."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.messages: list[Message] = []
        self.pending: list[str] = []

    def add(self, role: str, blocks: list[Block]) -> None:
        if role == "user":
            self.add_user(blocks)
            return
        self.answer_pending()
        if role == "assistant":
            self.add_assistant(blocks)
        else:
            self.add_system(blocks)

    def add_system(self, blocks: list[Block]) -> None:
        text = join_texts([part for block in blocks for part in to_parts(block, self.target)])
        if not text:
            logger.debug("skipping a system message without text")
            return
        self.messages.append({"role": "system", "content": text})

    def add_assistant(self, blocks: list[Block]) -> None:
        texts: list[Part] = []
        calls: list[dict[str, Any]] = []
        thinking: list[Block] = []
        for block in with_markers(blocks):
            if block.get("type") == "tool_use":
                calls.append(to_tool_call(block))
            elif block.get("type") in THINKING_TYPES:
                thinking.append(block)
            else:
                texts.extend(to_parts(block, self.target))
        content = join_texts(texts) if any(p["type"] == "text" for p in texts) else None
        if content is None and not calls:
            logger.debug("skipping an assistant turn with nothing OpenAI can hold")
            return
        message: Message = {"role": "assistant", "content": content}
        message.update(reasoning_for(thinking, self.target))
        if calls:
            message["tool_calls"] = calls
            self.pending = [call["id"] for call in calls]
        self.messages.append(message)

    def add_user(self, blocks: list[Block]) -> None:
        answers = self.pick_answers(blocks)
        attachments: dict[str, list[Part]] = {}
        for call_id in self.pending:
            answer = answers.get(call_id)
            if answer is None:
                logger.debug("tool call %s has no result; answering it with a placeholder", call_id)
                self.messages.append(tool_message(call_id, NO_RESULT))
                continue
            text, attachments[call_id] = render_tool_result(answer, self.target)
            self.messages.append(tool_message(call_id, text))
        self.pending = []
        parts: list[Part] = []
        for block in blocks:
            if block.get("type") != "tool_result":
                parts.extend(to_parts(block, self.target))
            elif answers.get(block["tool_use_id"]) is block:
                parts.extend(
                    attachment_parts(block["tool_use_id"], attachments[block["tool_use_id"]])
                )
            else:
                parts.extend(self.unmatched_result_parts(block))
        if parts:
            self.messages.append({"role": "user", "content": pack(parts)})

    def pick_answers(self, blocks: list[Block]) -> dict[str, Block]:
        """The first tool_result for each pending call; any other result is rendered as text."""
        answers: dict[str, Block] = {}
        for block in blocks:
            if block.get("type") != "tool_result":
                continue
            call_id = block["tool_use_id"]
            if call_id in self.pending and call_id not in answers:
                answers[call_id] = block
        return answers

    def unmatched_result_parts(self, block: Block) -> list[Part]:
        call_id = block["tool_use_id"]
        logger.debug("tool result %s answers no pending call; sending it as user text", call_id)
        text, attachments = render_tool_result(block, self.target)
        return [text_part(f"Result of tool call {call_id}:\n{text}"), *attachments]

    def answer_pending(self) -> None:
        for call_id in self.pending:
            logger.debug("tool call %s has no result; answering it with a placeholder", call_id)
            self.messages.append(tool_message(call_id, NO_RESULT))
        self.pending = []


def attachment_parts(call_id: str, attachments: list[Part]) -> list[Part]:
    if not attachments:
        return []
    return [attachment_heading(call_id, attachments), *attachments]
