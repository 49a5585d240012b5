"""A model's turns scripted once, for whichever fake upstream plays the model."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.fakes.gemini_upstream import FakeGemini, Reply, call, text
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall

SIGNATURE = base64.b64encode(b"\xfa a thought signature").decode()
Step = tuple[str, Any]
"""("call", (name, arguments)) or ("text", words): one model turn, in any provider's form."""


def openai_turns(fake: FakeOpenAI, steps: list[Step]) -> None:
    for number, (kind, value) in enumerate(steps):
        if kind == "call":
            name, arguments = value
            fake.enqueue(
                Answer(tool_calls=[ToolCall(f"call_{number}", name, json.dumps(arguments))])
            )
        else:
            fake.enqueue(Answer(text=value))


def gemini_turns(fake: FakeGemini, steps: list[Step]) -> None:
    for kind, value in steps:
        if kind == "call":
            fake.enqueue(Reply([call(value[0], value[1], signature=SIGNATURE)]))
        else:
            fake.enqueue(Reply([text(value)]))
