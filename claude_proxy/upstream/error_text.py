"""Reading an upstream's error, whichever engine met it: the message without its wrappers,
the numbers of a context overflow, the output limit a too large max_tokens ran into, and when
the upstream says to retry."""

from __future__ import annotations

import ast
import contextlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from claude_proxy import errors

_PREFIXES = re.compile(r"^(?:litellm\.\w+:|\w+Error:|\w+Exception(?:\s+\w+Error)?\s*-)\s*")
_CONTEXT_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "input token count",
)


def clean_message(message: str) -> str:
    """Strip LiteLLM's `litellm.BadRequestError: OpenAIException - ` prefixes and JSON wrappers."""
    # LiteLLM puts a traceback and its call arguments into some messages: install paths and
    # request contents that are nobody's business on the client side.
    text = message.split("Traceback (most recent call last)")[0].split("received_args=")[0]
    text = text.strip()
    while (stripped := _PREFIXES.sub("", text, count=1)) != text:
        text = stripped
    if text.startswith(("b'{", 'b"{')):  # Gemini stream errors: the body as a bytes repr
        with contextlib.suppress(ValueError, SyntaxError, AttributeError):
            text = ast.literal_eval(text).decode("utf-8", "replace")
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        error = payload.get("error", payload) if isinstance(payload, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
    return text[:2000] or "upstream error"


def looks_like_context_overflow(message: str) -> bool:
    lowered = message.lower()
    return any(phrase in lowered for phrase in _CONTEXT_PHRASES)


def parse_context_numbers(message: str) -> tuple[int, int] | None:
    """(prompt tokens, maximum) from the phrasings of OpenAI, Anthropic and Gemini."""
    patterns = (
        r"(?P<n>\d+) tokens > (?P<m>\d+) maximum",
        r"maximum context length is (?P<m>\d+) tokens.*?(?:resulted in|requested) (?P<n>\d+) tokens",
        r"input token count \((?P<n>\d+)\) exceeds the maximum number of tokens allowed \((?P<m>\d+)\)",
        r"input token count.*?(?P<n>\d+).*?exceeds.*?(?P<m>\d+)",
    )
    for pattern in patterns:
        match = re.search(pattern, message, flags=re.IGNORECASE | re.DOTALL)
        if match:
            return int(match.group("n")), int(match.group("m"))
    return None


@dataclass(frozen=True)
class OutputLimit:
    """The most output tokens an upstream said it takes, from its refusal of a max_tokens."""

    tokens: int
    per_model: bool
    """True when it is the model's own limit; False when it is what the context window left
    for this prompt (the window minus the prompt), which the next prompt changes."""


MIN_ROOM = 1024
"""What a context window leaves for the answer is worth a retry from this many tokens on; with
less, the refusal is a context overflow (Claude Code compacts on it)."""
# (pattern, the model's own limit?) in order; `n` is the limit, or `window` minus `prompt`.
_OUTPUT_LIMITS = (
    # OpenAI: "max_tokens is too large: 128000. This model supports at most 32768 completion
    # tokens, whereas you provided 128000."
    (r"supports at most (?P<n>\d+) completion tokens", True),
    # vLLM: "... is too large: 10000. This model's maximum context length is 8192 tokens and
    # your request has 100 input tokens (10000 > 8192 - 100)."
    (
        r"maximum context length is (?P<window>\d+) tokens and your request has (?P<prompt>\d+) input tokens",
        False,
    ),
    # vLLM before 0.10, OpenAI's older wording: "This model's maximum context length is 8192
    # tokens. However, you requested 10100 tokens (100 in the messages, 10000 in the completion)."
    (
        r"maximum context length is (?P<window>\d+) tokens\. However, you requested \d+ tokens \((?P<prompt>\d+) in the messages, \d+ in the completion\)",
        False,
    ),
    # Together (TGI): "`inputs` tokens + `max_new_tokens` must be <= 8193. Given: 45 `inputs`
    # tokens and 10000 `max_new_tokens`"
    (
        r"max_new_tokens`? must be <= (?P<window>\d+)\. Given: (?P<prompt>\d+) `?inputs`? tokens",
        False,
    ),
    # vLLM's and Together's parameter checks: "max_tokens must be less than or equal to 8192"
    (
        r"max_(?:completion_|new_)?tokens\W{0,3} (?:must be |should be )?(?:less than or equal to|<=|at most) (?P<n>\d+)",
        True,
    ),
    # Gemini: "The maximum number of output tokens for this model is 65536", and Vertex's
    # "maxOutputTokens value of 100000 but the supported range is from 1 (inclusive) to 65537
    # (exclusive)"
    (r"maximum number of output tokens.{0,60}?\bis (?P<n>\d+)", True),
    (r"max_?output_?tokens.{0,80}?to (?P<end>\d+) \(exclusive\)", True),
    (r"max_?output_?tokens.{0,80}?(?:less than or equal to|<=|at most) (?P<n>\d+)", True),
)


def parse_output_limit(message: str) -> OutputLimit | None:
    """The output limit in an upstream's refusal of a too large max_tokens, or None when the
    message is no such refusal (a prompt that leaves less than `MIN_ROOM` is an overflow)."""
    for pattern, per_model in _OUTPUT_LIMITS:
        match = re.search(pattern, message, flags=re.IGNORECASE | re.DOTALL)
        if match is None:
            continue
        found = match.groupdict()
        if found.get("n"):
            tokens = int(found["n"])
        elif found.get("end"):
            tokens = int(found["end"]) - 1
        else:
            tokens = int(found["window"]) - int(found["prompt"])
        return OutputLimit(tokens, per_model) if tokens >= (1 if per_model else MIN_ROOM) else None
    return None


def output_limit_error(message: str) -> errors.MaxTokensTooLargeError | None:
    """The refusal of a too large max_tokens, when the message is one (both engines)."""
    limit = parse_output_limit(message)
    if limit is None:
        return None
    return errors.MaxTokensTooLargeError(message, limit=limit.tokens, per_model=limit.per_model)


def retry_after_of(headers: Mapping[str, str] | None, body: str = "") -> dict[str, str]:
    """`retry-after` / `retry-after-ms` from an upstream's headers, or from Gemini's RetryInfo
    in its error body (Gemini says when to retry there, not in a header)."""
    found: dict[str, str] = {}
    for name in ("retry-after", "retry-after-ms"):
        value = headers.get(name) if headers else None
        if value:
            found[name] = str(value)
    delay = re.search(r'"retryDelay":\s*"(\d+(?:\.\d+)?)s"', body)
    if delay and "retry-after" not in found:
        found["retry-after"] = str(math.ceil(float(delay.group(1))))
    return found


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret in it replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
