"""OpenAI chat-completion chunks -> Anthropic SSE events: a small sans-IO state machine.

`feed(chunk)` and `finish()` return events; the caller frames them (`sse.py`) and writes them.
The events always obey the grammar the SDKs enforce:

    message_start ping (block)* message_delta message_stop
    block := content_block_start content_block_delta* content_block_stop

with block indices 0, 1, 2... and never two blocks open at once. OpenAI chunks do not
fit that grammar by themselves: parallel tool calls may interleave their argument fragments
(call 1's between call 0's), and text may follow or interleave with tool calls. The policy:

    upstream chunks                          events
    ---------------------------------------  ------------------------------------------------
    reasoning_content "Hm, "                 start(0, thinking)  thinking_delta "Hm, "
    reasoning_content "ls."                  thinking_delta "ls."
    content "Let me"                         signature_delta  stop(0)
                                             start(1, text)  text_delta "Let me"
    content " look."                         text_delta " look."
    tool_calls[0] id, name, args '{"a'       stop(1)  start(2, tool_use)  json_delta '{"a'
    tool_calls[1] id, name, args '{"b":2}'   (buffered: call 1 is not the live call)
    tool_calls[0] args '":1}'                json_delta '":1}'
    content "Done."                          (buffered: text after tool calls began)
    finish_reason "tool_calls"               (remembered)
    usage chunk                              (remembered)
    finish()                                 [json_delta <suffix>]  stop(2)
                                             start(3, tool_use)  json_delta '{"b":2}'  stop(3)
                                             start(4, text)  text_delta "Done."  stop(4)
                                             message_delta  message_stop

- Reasoning (`reasoning_content`, `reasoning`, LiteLLM's `thinking_blocks`) before any text
  or tool call streams live in one thinking block; its one `signature_delta` (`thinking.py`
  makes it from the whole text) comes right before its stop. Reasoning that arrives after
  another block opened is emitted whole as a thinking block after the tool blocks.
- Text before any tool call streams live in one text block.
- The first tool call streams live (its block opens once its name is known); the fragments
  of every other call are kept by call index and each is emitted whole, in index order, once
  the live block closes at `finish()`. Upstreams that send each call whole in one chunk
  (Gemini) take the same path.
- Text that arrives after tool calls began is emitted as one text block after all tool blocks.
- Before a tool block closes, arguments that are not a JSON object get `completion_suffix`
  appended when that completes them: the SDKs parse the final input and raise on bad JSON.
- `stop_reason` follows `response.to_stop_reason`: `tool_use` whenever tool blocks were
  emitted, `max_tokens` on length, `stop_sequence` when the upstream names the sequence.
- Stop sequences the upstream ignores: the live text is scanned as it streams. Only its tail
  that could still begin a sequence is held back (`held_prefix`: with stop "END", text "so E"
  sends "so " and holds "E"); the next text decides whether it goes out. At the first whole
  sequence the text before it goes out, nothing after it does (text, reasoning, tool calls),
  and `stopped` tells the caller to end the message now with `stop_sequence`, closing the
  upstream; the usage is then what the upstream had reported so far.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from claude_proxy.translate.events import (
    Event,
    block_stop,
    json_delta,
    signature_delta,
    text_delta,
    thinking_delta,
)
from claude_proxy.translate.ids import new_message_id
from claude_proxy.translate.response import (
    cut_at_stop,
    find_matched_stop,
    first_choice,
    held_prefix,
    text_of,
    to_stop_reason,
    tool_use_id,
)
from claude_proxy.translate.target import Target
from claude_proxy.translate.thinking import opaque_data, reasoning_text, sign_thinking
from claude_proxy.translate.tool_args import completion_suffix, parse_tool_arguments
from claude_proxy.translate.usage import to_anthropic_usage

logger = logging.getLogger(__name__)


@dataclass
class ToolCall:
    """One upstream tool call, assembled from its fragments."""

    index: int
    seq: int
    """Arrival order: breaks ties between calls an upstream gave the same index."""
    id: str | None = None
    name: str | None = None
    fragments: list[str] = field(default_factory=list)
    block: int | None = None
    """The content block index once its block has started."""
    sent: int = 0
    """How many fragments already went out as deltas."""

    @property
    def arguments(self) -> str:
        return "".join(self.fragments)


class StreamTranslator:
    def __init__(
        self,
        *,
        requested_model: str,
        message_id: str | None = None,
        stop_sequences: list[str] | None = None,
        input_tokens: int = 0,
        target: Target | None = None,
    ) -> None:
        self._model = requested_model
        self._target = target
        self._message_id = message_id or new_message_id()
        self._stop_sequences = [stop for stop in stop_sequences or [] if stop]
        self._input_tokens = input_tokens
        self._started = False
        self._finished = False
        self._next_block = 0
        self._thinking_block: int | None = None
        self._thinking: list[str] = []
        self._late_reasoning: list[str] = []
        self._opaque: dict[str, list[Any]] = {}
        self._text_block: int | None = None
        self._late_text: list[str] = []
        self._held = ""  # live text that could begin a stop sequence
        self._cut: str | None = None  # the stop sequence found in the text
        self._calls: list[ToolCall] = []
        self._finish_reason: str | None = None
        self._matched_stop: str | None = None
        self._usage: dict[str, Any] | None = None

    @property
    def started(self) -> bool:
        return self._started

    @property
    def upstream_finished(self) -> bool:
        """Whether the upstream said why it stopped (a finish_reason): only then is the
        answer known to be whole (or a stop sequence ended it)."""
        return self._finish_reason is not None or self._cut is not None

    @property
    def stopped(self) -> bool:
        """Whether a stop sequence ended the text: nothing more will be emitted but the end."""
        return self._cut is not None

    def start(self) -> list[Event]:
        """`message_start` and one `ping`; nothing if the stream already started."""
        if self._started:
            return []
        self._started = True
        message: dict[str, Any] = {
            "id": self._message_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage_without_report(),
        }
        return [
            ("message_start", {"type": "message_start", "message": message}),
            ("ping", {"type": "ping"}),
        ]

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if self._finished:
            return []
        events = self.start()
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        choice = first_choice(chunk.get("choices"))
        if not choice:
            return events
        delta = choice.get("delta") or {}
        if self._cut is not None:
            return events
        self._remember_opaque(delta)
        events += self._add_reasoning(reasoning_text(delta))
        events += self._add_text(text_of(delta.get("content")))
        if self._cut is not None:
            return events
        for fragment in delta.get("tool_calls") or []:
            if isinstance(fragment, dict):
                events += self._add_tool_fragment(fragment)
        self._remember_finish(choice, delta)
        return events

    def finish(self) -> list[Event]:
        """Close every block, then `message_delta` and `message_stop`; [] when already done."""
        if self._finished:
            return []
        events = self.start()
        self._finished = True
        events += self._close_thinking()
        events += self._close_text()
        pending = self._calls
        if self._calls and self._calls[0].block is not None:
            events += self._close_live(self._calls[0])
            pending = self._calls[1:]
        for call in sorted(pending, key=lambda call: (call.index, call.seq)):
            events += self._emit_whole(call)
        events += self._emit_late_reasoning()
        events += self._emit_late_text()
        events.append(self._message_delta())
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    def abort(self, error_type: str, message: str) -> list[Event]:
        """The `error` event that ends a failed stream (SDKs raise on it wherever it comes)."""
        if self._finished:
            return []
        self._finished = True
        return [("error", {"type": "error", "error": {"type": error_type, "message": message}})]

    # --- thinking --------------------------------------------------------------------------

    def _add_reasoning(self, text: str) -> list[Event]:
        if not text:
            return []
        if self._thinking_block is None and (self._text_block is not None or self._calls):
            self._late_reasoning.append(text)
            return []
        events: list[Event] = []
        if self._thinking_block is None:
            self._thinking_block = self._next_block
            events.append(self._start_block({"type": "thinking", "thinking": "", "signature": ""}))
        self._thinking.append(text)
        events.append(thinking_delta(self._thinking_block, text))
        return events

    def _remember_opaque(self, delta: dict[str, Any]) -> None:
        for key, values in opaque_data(delta).items():
            self._opaque.setdefault(key, []).extend(values)

    def _close_thinking(self) -> list[Event]:
        if self._thinking_block is None:
            return []
        index, self._thinking_block = self._thinking_block, None
        return [signature_delta(index, self._sign("".join(self._thinking))), block_stop(index)]

    def _emit_late_reasoning(self) -> list[Event]:
        if not self._late_reasoning:
            return []
        index = self._next_block
        text = "".join(self._late_reasoning)
        start = self._start_block({"type": "thinking", "thinking": "", "signature": ""})
        return [
            start,
            thinking_delta(index, text),
            signature_delta(index, self._sign(text)),
            block_stop(index),
        ]

    def _sign(self, text: str) -> str:
        return sign_thinking(text, self._target, self._opaque)

    # --- text ------------------------------------------------------------------------------

    def _add_text(self, text: str) -> list[Event]:
        if not text:
            return []
        if self._calls:
            self._late_text.append(text)
            return []
        if self._stop_sequences:
            text, self._cut = cut_at_stop(self._held + text, self._stop_sequences)
            held = 0 if self._cut is not None else held_prefix(text, self._stop_sequences)
            text, self._held = text[: len(text) - held], text[len(text) - held :]
        return self._emit_text(text)

    def _emit_text(self, text: str) -> list[Event]:
        if not text:
            return []
        events = self._close_thinking()
        if self._text_block is None:
            self._text_block = self._next_block
            events.append(self._start_block({"type": "text", "text": ""}))
        events.append(text_delta(self._text_block, text))
        return events

    def _close_text(self) -> list[Event]:
        held, self._held = self._held, ""
        events = self._emit_text(held)  # it began no stop sequence after all
        if self._text_block is None:
            return events
        index, self._text_block = self._text_block, None
        return [*events, block_stop(index)]

    def _emit_late_text(self) -> list[Event]:
        if not self._late_text:
            return []
        index = self._next_block
        start = self._start_block({"type": "text", "text": ""})
        return [start, text_delta(index, "".join(self._late_text)), block_stop(index)]

    # --- tool calls ------------------------------------------------------------------------

    def _add_tool_fragment(self, fragment: dict[str, Any]) -> list[Event]:
        call = self._call_for(fragment)
        function = fragment.get("function") or {}
        name = function.get("name")
        if call.name is None and isinstance(name, str) and name:
            call.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            call.fragments.append(arguments)
        return self._stream_live(call) if call is self._calls[0] else []

    def _call_for(self, fragment: dict[str, Any]) -> ToolCall:
        """The call a fragment belongs to: by id when it has a known one, else by index."""
        call_id = fragment.get("id") if isinstance(fragment.get("id"), str) else None
        call_id = call_id or None
        index = fragment.get("index")
        if call_id is not None:
            for call in self._calls:
                if call.id == call_id:
                    return call
        if not isinstance(index, int):
            # Upstreams that omit the index: a new id starts a call, else the latest continues.
            if call_id is None and self._calls:
                return self._calls[-1]
            index = len(self._calls)
        same_index = [call for call in self._calls if call.index == index]
        # Some upstreams give every parallel call index 0; a different id means a new call.
        if same_index and (call_id is None or same_index[-1].id is None):
            same_index[-1].id = same_index[-1].id or call_id
            return same_index[-1]
        call = ToolCall(index=index, seq=len(self._calls), id=call_id)
        self._calls.append(call)
        return call

    def _stream_live(self, call: ToolCall) -> list[Event]:
        events: list[Event] = []
        if call.block is None:
            if call.name is None:
                return []
            events += self._close_thinking()
            events += self._close_text()
            call.block = self._next_block
            events.append(self._start_block(tool_use_start(call)))
        if call.sent < len(call.fragments):
            events.append(json_delta(call.block, "".join(call.fragments[call.sent :])))
            call.sent = len(call.fragments)
        return events

    def _close_live(self, call: ToolCall) -> list[Event]:
        assert call.block is not None
        events: list[Event] = []
        arguments = call.arguments
        if arguments:
            suffix = checked_suffix(call, arguments)
            if suffix:
                events.append(json_delta(call.block, suffix))
        events.append(block_stop(call.block))
        return events

    def _emit_whole(self, call: ToolCall) -> list[Event]:
        index = self._next_block
        events = [self._start_block(tool_use_start(call))]
        arguments = call.arguments
        if arguments:
            suffix = checked_suffix(call, arguments)
            if suffix is None:
                # Nothing went out yet, so the fuller repair of the JSON path can be used.
                payload = json.dumps(parse_tool_arguments(arguments, tool_name=call.name or ""))
            else:
                payload = arguments + suffix
            events.append(json_delta(index, payload))
        events.append(block_stop(index))
        return events

    # --- message ---------------------------------------------------------------------------

    def _remember_finish(self, choice: dict[str, Any], delta: dict[str, Any]) -> None:
        finish_reason = choice.get("finish_reason")
        if isinstance(finish_reason, str) and finish_reason:
            self._finish_reason = finish_reason
        if self._stop_sequences:
            sources = (
                choice,
                choice.get("provider_specific_fields"),
                delta.get("provider_specific_fields"),
            )
            self._matched_stop = (
                find_matched_stop(self._stop_sequences, sources) or self._matched_stop
            )

    def _message_delta(self) -> Event:
        stop_reason: str
        stop_sequence: str | None
        if self._cut is not None:
            stop_reason, stop_sequence = "stop_sequence", self._cut
        else:
            matched = self._matched_stop if self._finish_reason == "stop" else None
            stop_reason, stop_sequence = to_stop_reason(
                self._finish_reason, has_tool_use=bool(self._calls), matched_stop=matched
            )
        return (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": self._final_usage(),
            },
        )

    def _final_usage(self) -> dict[str, int]:
        if self._usage is None:
            return self._usage_without_report()
        usage = to_anthropic_usage(self._usage)
        if self._usage.get("prompt_tokens") is None:
            usage["input_tokens"] = self._input_tokens
        return usage

    def _usage_without_report(self) -> dict[str, int]:
        return {
            "input_tokens": self._input_tokens,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def _start_block(self, block: dict[str, Any]) -> Event:
        index = self._next_block
        self._next_block += 1
        return (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": block},
        )


def checked_suffix(call: ToolCall, arguments: str) -> str | None:
    """`completion_suffix` of a call's arguments, with a warning when they needed one."""
    suffix = completion_suffix(arguments)
    if suffix:
        logger.warning(
            "tool %s: arguments were cut off (%d chars); appended %r",
            call.name,
            len(arguments),
            suffix,
        )
    elif suffix is None:
        logger.warning(
            "tool %s: arguments are not a JSON object and cannot be completed (%d chars)",
            call.name,
            len(arguments),
        )
    return suffix


def tool_use_start(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_use_id(call.id), "name": call.name or "", "input": {}}
