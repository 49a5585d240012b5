"""Reading an upstream's error, whichever engine met it: the message without its wrappers,
the numbers of a context overflow, and when the upstream says to retry."""

from __future__ import annotations

import ast
import contextlib
import json
import math
import re
from collections.abc import Mapping

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
