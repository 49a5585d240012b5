"""What the translation needs to know about the model a request goes to."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """The upstream model of one request, as the translation sees it.

    Built by the upstream client from LiteLLM's model registry; tests build it by hand.
    """

    model: str
    """The LiteLLM model string, provider prefix included: `openai/gpt-4.1`."""
    provider: str
    """The LiteLLM provider: `openai`, `gemini`, `together_ai`, `anthropic`, ..."""
    max_output_tokens: int | None = None
    """The model's maximum output tokens, when the registry knows it."""
    max_input_tokens: int | None = None
    """The model's context window (input tokens), when the registry knows it."""
    supported_params: frozenset[str] = field(default_factory=frozenset)
    """OpenAI request parameters the target accepts (`temperature`, `top_p`, `top_k`, `user`, ...)."""
    supports_vision: bool = True
    """False when the registry says the model cannot see images."""
    supports_reasoning: bool = False
    """True when the registry says the model reasons (takes `reasoning_effort`)."""
    supports_minimal_reasoning: bool = False
    """True when the model takes `reasoning_effort: minimal` (gpt-5, Gemini); o-series do not."""
    supports_response_schema: bool | None = None
    """Whether the model answers to a JSON schema in `response_format`: the map's
    `supports_response_schema`; None when it does not say (the upstream then judges)."""
