"""Anthropic thinking <-> upstream reasoning: the effort asked for, thinking blocks, replay.

Request: `thinking` (and `output_config.effort` for adaptive thinking) becomes OpenAI's
`reasoning_effort`, which LiteLLM maps onward (Gemini: a thinking budget or level). Targets
that do not reason get nothing: thinking is never a reason for an upstream 400.

Response: upstream reasoning (`reasoning_content`, `reasoning`, LiteLLM's `thinking_blocks`)
becomes a `thinking` block whose `signature` the proxy makes itself:

    cpx1.<payload>.<check>
    payload = base64url(JSON {"p": provider, "m": model, "x": {opaque upstream data}})
    check   = base64url(sha256("cpx1.<payload>." + thinking text)[:12])

Everything a later turn needs travels inside the block the client echoes back, so the proxy
keeps no state and a restarted proxy continues a conversation. The check binds the text to
the payload: a block whose text or signature was altered is not ours and is dropped. It is
an integrity check, not authentication (an HMAC needs a secret, and a secret is state); a
forged block can only put text into the forger's own request.

History: our blocks go back only to the provider and model that produced them, in the shape
that provider wants (`reasoning_for`). Blocks with any other signature (real Anthropic ones,
garbage) and redacted thinking are dropped. (Anthropic targets never get here: the
passthrough relays their requests untranslated, signatures and all.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from claude_proxy.translate.target import Target

logger = logging.getLogger(__name__)

Block = dict[str, Any]

SIGNATURE_VERSION = "cpx1"
THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})
# Anthropic's effort levels -> what OpenAI-style `reasoning_effort` takes.
ADAPTIVE_EFFORTS = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
DEFAULT_EFFORT = "high"  # Anthropic's default for adaptive thinking
# LiteLLM's own thinking-budget thresholds (its Anthropic adapter), highest first.
BUDGET_EFFORTS = ((4096, "high"), (2048, "medium"), (1024, "low"))
GEMINI_PROVIDERS = frozenset({"gemini", "vertex_ai", "vertex_ai_beta"})
# Upstream data a later turn needs: Gemini's text-part thought signatures (LiteLLM keeps them
# in `provider_specific_fields`; function-call ones live in tool-call ids) and the encrypted
# reasoning items of OpenAI's Responses API (LiteLLM's `reasoning_items`).
OPAQUE_PROVIDER_FIELDS = ("thought_signatures",)
OPAQUE_MESSAGE_FIELDS = ("reasoning_items",)


# --- request: how hard to think ------------------------------------------------------------


def reasoning_params(body: dict[str, Any], target: Target) -> dict[str, Any]:
    """`{"reasoning_effort": ...}` for the body's thinking, or {} when there is none to send."""
    effort = effort_for(body.get("thinking"), body.get("output_config"))
    if effort is None:
        return {}
    # LiteLLM marks some chat models as reasoning ones that refuse the parameter
    # (gpt-5-chat-latest); its supported-parameter list knows better.
    takes_effort = not target.supported_params or "reasoning_effort" in target.supported_params
    if not (target.supports_reasoning and takes_effort):
        logger.debug("dropping thinking: %s takes no reasoning_effort", target.model)
        return {}
    if effort == "minimal" and not target.supports_minimal_reasoning:
        effort = "low"
    return {"reasoning_effort": effort}


def effort_for(thinking: Any, output_config: Any) -> str | None:
    """The `reasoning_effort` an Anthropic `thinking` asks for; None when it asks for none."""
    if not isinstance(thinking, dict):
        return None
    kind = thinking.get("type")
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool):
            return DEFAULT_EFFORT
        return budget_effort(budget)
    if kind == "adaptive":
        effort = output_config.get("effort") if isinstance(output_config, dict) else None
        if not isinstance(effort, str):
            return DEFAULT_EFFORT
        return ADAPTIVE_EFFORTS.get(effort, DEFAULT_EFFORT)
    return None


def budget_effort(budget: int) -> str:
    for threshold, effort in BUDGET_EFFORTS:
        if budget >= threshold:
            return effort
    return "minimal"


# --- signatures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """What one of our signatures says about the thinking block it signs."""

    provider: str
    model: str
    opaque: dict[str, Any] = field(default_factory=dict)


def sign_thinking(thinking: str, target: Target | None, opaque: dict[str, Any] | None) -> str:
    """Our signature for a thinking block of `target`'s, carrying `opaque` upstream data."""
    data: dict[str, Any] = {
        "p": target.provider if target else "",
        "m": target.model if target else "",
    }
    if opaque:
        data["x"] = opaque
    payload = b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{SIGNATURE_VERSION}.{payload}.{check_of(payload, thinking)}"


def read_signature(signature: Any, thinking: Any) -> Signed | None:
    """What our signature says, or None when it is not ours or does not match the text."""
    if not isinstance(signature, str) or not isinstance(thinking, str):
        return None
    version, _, rest = signature.partition(".")
    payload, _, check = rest.partition(".")
    if version != SIGNATURE_VERSION or not payload or not check:
        return None
    # No secret is involved, so a plain comparison leaks nothing worth timing.
    if check != check_of(payload, thinking):
        return None
    try:
        data = json.loads(b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict):
        return None
    provider, model, opaque = data.get("p"), data.get("m"), data.get("x", {})
    if not isinstance(provider, str) or not isinstance(model, str) or not isinstance(opaque, dict):
        return None
    return Signed(provider, model, opaque)


def check_of(payload: str, thinking: str) -> str:
    # surrogatepass: JSON may carry lone surrogates, which strict UTF-8 cannot encode.
    text = thinking.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(f"{SIGNATURE_VERSION}.{payload}.".encode() + text)
    return b64encode(digest.digest()[:12])


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- response: upstream reasoning -> thinking blocks ---------------------------------------


def thinking_blocks(message: dict[str, Any], target: Target | None) -> list[Block]:
    """The thinking blocks for an upstream message (or a whole streamed one), first in content."""
    text = reasoning_text(message)
    if not text:
        return []
    signature = sign_thinking(text, target, opaque_data(message))
    return [{"type": "thinking", "thinking": text, "signature": signature}]


def reasoning_text(message: dict[str, Any]) -> str:
    """The reasoning in a message or a stream delta: `reasoning_content`, `reasoning`, or
    the text of LiteLLM's `thinking_blocks` (they repeat `reasoning_content` when both come)."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    blocks = message.get("thinking_blocks")
    if not isinstance(blocks, list):
        return ""
    return "".join(
        block["thinking"]
        for block in blocks
        if isinstance(block, dict) and isinstance(block.get("thinking"), str)
    )


def opaque_data(message: dict[str, Any]) -> dict[str, Any]:
    """The upstream data a later turn needs, from a message or a stream delta."""
    found: dict[str, Any] = {}
    fields = message.get("provider_specific_fields")
    for key in OPAQUE_PROVIDER_FIELDS:
        value = fields.get(key) if isinstance(fields, dict) else None
        if isinstance(value, list) and value:
            found[key] = value
    for key in OPAQUE_MESSAGE_FIELDS:
        value = message.get(key)
        if isinstance(value, list) and value:
            found[key] = value
    return found


# --- history: thinking blocks -> what the upstream wants back ------------------------------


def reasoning_for(blocks: list[Block], target: Target) -> dict[str, Any]:
    """Fields for the OpenAI assistant message that replay one turn's thinking blocks."""
    ours: list[tuple[Block, Signed]] = []
    foreign: list[Block] = []
    for block in blocks:
        signed = None
        if block.get("type") == "thinking":
            signed = read_signature(block.get("signature"), block.get("thinking"))
        if signed is None:
            foreign.append(block)
        else:
            ours.append((block, signed))
    if foreign:
        logger.debug("dropping %d thinking block(s) not signed by claude-proxy", len(foreign))
    mine = [
        (block, signed)
        for block, signed in ours
        if (signed.provider, signed.model) == (target.provider, target.model)
    ]
    if len(mine) < len(ours):
        logger.debug("dropping %d thinking block(s) of another model", len(ours) - len(mine))
    if not mine:
        return {}
    if target.provider in GEMINI_PROVIDERS:
        # LiteLLM would send reasoning text back as thought parts, which Gemini does not want;
        # what it needs are the signatures.
        signatures = [s for _, signed in mine for s in opaque_list(signed, "thought_signatures")]
        return (
            {"provider_specific_fields": {"thought_signatures": signatures}} if signatures else {}
        )
    fields: dict[str, Any] = {}
    text = "\n\n".join(block["thinking"] for block, _ in mine if block["thinking"])
    if text:
        fields["reasoning_content"] = text
    items = [item for _, signed in mine for item in opaque_list(signed, "reasoning_items")]
    if items:
        fields["reasoning_items"] = items
    return fields


def opaque_list(signed: Signed, key: str) -> list[Any]:
    value = signed.opaque.get(key)
    return value if isinstance(value, list) else []


def without_proxy_thinking(body: dict[str, Any]) -> dict[str, Any]:
    """The body without thinking blocks this proxy signed (for another model).

    A conversation that moves from another provider to Anthropic carries our `cpx1.` blocks;
    Anthropic would reject their signatures. Returns `body` itself when there are none.
    """
    messages = body.get("messages")
    if not isinstance(messages, list) or SIGNATURE_VERSION + "." not in json.dumps(messages):
        return body

    def ours(block: Any) -> bool:
        return (
            isinstance(block, dict)
            and block.get("type") == "thinking"
            and str(block.get("signature", "")).startswith(SIGNATURE_VERSION + ".")
        )

    cleaned = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(ours(block) for block in content):
            message = {**message, "content": [block for block in content if not ours(block)]}
        cleaned.append(message)
    return {**body, "messages": cleaned}
