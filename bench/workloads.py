"""The two replies every benchmark streams, in each upstream's shape, and the requests for them.

    text    a 50-delta text reply
    tools   a short text, then two tool calls (Read, Bash) whose arguments arrive in pieces

The fake upstream (`fake_upstream.py`) answers a request that carries tools with the `tools`
reply, any other with the `text` reply, in OpenAI's chunk shape (`tests.fakes.openai_upstream`)
or Gemini's (`tests.fakes.gemini_upstream`). What the client should get back is kept here too,
so a benchmark checks one stream of each kind before it measures any.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.fakes import gemini_upstream as gemini
from tests.fakes.openai_upstream import Answer, ToolCall

WORDS = [f"word{i:02d}" for i in range(50)]
TEXT_PIECES = [f"{w} " for w in WORDS[:-1]] + WORDS[-1:]
TEXT = "".join(TEXT_PIECES)
TOOL_TEXT = "I will read the file and run the tests."
READ_ARGS = {"file_path": "/home/user/project/src/claude_proxy/server/app.py"}
BASH_ARGS = {"command": "uv run pytest -q tests/server", "description": "Run the server tests"}
TOOLS = [
    {
        "name": "Read",
        "description": "Read a file from the local filesystem.",
        "input_schema": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}},
            "required": ["file_path"],
        },
    },
    {
        "name": "Bash",
        "description": "Run a shell command.",
        "input_schema": {
            "type": "object",
            "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
            "required": ["command"],
        },
    },
]
PROMPT = [{"role": "user", "content": "Say fifty words."}]
TOOL_PROMPT = [{"role": "user", "content": "Read app.py and run the server tests."}]


@dataclass(frozen=True)
class Workload:
    name: str
    openai: Answer
    gemini: gemini.Reply
    anthropic_body: dict[str, Any]
    """The Anthropic Messages request a client sends for it (streamed)."""
    expected: dict[str, Any]
    """The text and tool calls the client should get back, and the stop reason."""

    def openai_body(self, model: str) -> dict[str, Any]:
        """The Chat Completions request straight to the fake (the `direct` route)."""
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": 1024,
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": self.anthropic_body["messages"],
        }
        if "tools" in self.anthropic_body:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t["name"],
                        "description": t["description"],
                        "parameters": t["input_schema"],
                    },
                }
                for t in self.anthropic_body["tools"]
            ]
        return body

    def gemini_body(self) -> dict[str, Any]:
        """The streamGenerateContent request straight to the fake."""
        body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": "Hi."}]}]}
        if "tools" in self.anthropic_body:
            body["tools"] = [
                {
                    "functionDeclarations": [
                        {"name": t["name"], "parameters": t["input_schema"]}
                        for t in self.anthropic_body["tools"]
                    ]
                }
            ]
        return body


TEXT_WORKLOAD = Workload(
    name="text",
    openai=Answer(text=TEXT, text_fragments=TEXT_PIECES),
    gemini=gemini.Reply([gemini.text(TEXT)], text_pieces=50),
    anthropic_body={
        "model": "claude-opus-4-5",
        "max_tokens": 1024,
        "stream": True,
        "messages": PROMPT,
    },
    expected={"text": TEXT, "tools": [], "stop_reason": "end_turn"},
)
TOOLS_WORKLOAD = Workload(
    name="tools",
    openai=Answer(
        text=TOOL_TEXT,
        text_pieces=5,
        tool_calls=[
            ToolCall("call_read_1", "Read", json.dumps(READ_ARGS)),
            ToolCall("call_bash_2", "Bash", json.dumps(BASH_ARGS)),
        ],
    ),
    gemini=gemini.Reply(
        [gemini.text(TOOL_TEXT), gemini.call("Read", READ_ARGS), gemini.call("Bash", BASH_ARGS)],
        text_pieces=5,
    ),
    anthropic_body={
        "model": "claude-opus-4-5",
        "max_tokens": 1024,
        "stream": True,
        "messages": TOOL_PROMPT,
        "tools": TOOLS,
    },
    expected={
        "text": TOOL_TEXT,
        "tools": [("Read", READ_ARGS), ("Bash", BASH_ARGS)],
        "stop_reason": "tool_use",
    },
)
WORKLOADS = {w.name: w for w in (TEXT_WORKLOAD, TOOLS_WORKLOAD)}


def paced(body: dict[str, Any], ms: float) -> dict[str, Any]:
    """`body` with a note in its last message that asks the fake for `ms` between chunks.

    The note travels in the prompt because that is what every translator passes on unchanged
    (Anthropic, OpenAI and Gemini shapes alike); `pace_of` finds it in the raw request.
    """
    note = f" (pace={ms:g}ms)"
    if "contents" in body:
        *head, last = body["contents"]
        parts = [{"text": last["parts"][0]["text"] + note}]
        return {**body, "contents": [*head, {**last, "parts": parts}]}
    *head, last = body["messages"]
    return {**body, "messages": [*head, {**last, "content": last["content"] + note}]}


PACE = re.compile(rb"\(pace=([0-9.]+)ms\)")


def pace_of(raw: bytes) -> float:
    """Seconds between chunks that a request asks for (`paced`), 0 when it asks for none."""
    match = PACE.search(raw)
    return float(match.group(1)) / 1000 if match else 0.0


def workload_of(body: dict[str, Any]) -> Workload:
    """Which reply a request gets: the `tools` one when it offers tools."""
    return TOOLS_WORKLOAD if body.get("tools") else TEXT_WORKLOAD


def read_anthropic_stream(raw: bytes) -> dict[str, Any]:
    """The text, tool calls and stop reason an Anthropic SSE stream adds up to.

    Raises ValueError for a stream that breaks the event grammar the SDKs enforce.
    """
    text, tools, stop_reason, open_block = "", [], None, None
    names = []
    for frame in raw.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "data" not in lines:
            continue
        event = json.loads(lines["data"])
        kind = event["type"]
        names.append(kind)
        if kind == "content_block_start":
            if open_block is not None:
                raise ValueError("a block opened inside another")
            open_block = event["content_block"]
            if open_block["type"] == "tool_use":
                open_block["json"] = ""
        elif kind == "content_block_delta":
            delta = event["delta"]
            if open_block is None:
                raise ValueError("a delta outside a block")
            if delta["type"] == "text_delta":
                text += delta["text"]
            elif delta["type"] == "input_json_delta":
                open_block["json"] += delta["partial_json"]
        elif kind == "content_block_stop":
            if open_block is not None and open_block["type"] == "tool_use":
                tools.append((open_block["name"], json.loads(open_block["json"] or "{}")))
            open_block = None
        elif kind == "message_delta":
            stop_reason = event["delta"]["stop_reason"]
        elif kind == "error":
            raise ValueError(f"error event: {event}")
    if not names or names[0] != "message_start" or names[-1] != "message_stop":
        raise ValueError(f"stream does not run message_start .. message_stop: {names[:3]}...")
    return {"text": text, "tools": tools, "stop_reason": stop_reason}
