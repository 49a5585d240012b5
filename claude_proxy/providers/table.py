"""Every fact about a provider, one row each: names, key and base-URL settings, what its keys
look like, its default models, and the quirks it needs.

Settings refer to a provider by `name` (PREFERRED_PROVIDER=google); LiteLLM and the model map
by `litellm`, the prefix of a model string (`gemini/gemini-2.5-pro`). Settings are referred to
by field name, so this table stays pure data; `tests/providers/test_table.py` checks that each
field exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from claude_proxy.provider_names import PROVIDER_NAMES
from claude_proxy.providers.base import ProviderOptions, Quirks
from claude_proxy.providers.gemini import GeminiQuirks
from claude_proxy.providers.openai import OpenAIQuirks
from claude_proxy.providers.together import TogetherQuirks
from claude_proxy.translate.target import Target


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    """The provider in settings and flags: `google`."""
    litellm: str
    """LiteLLM's name for it, the prefix of its model strings: `gemini`."""
    label: str
    """The provider in a sentence: `Gemini`."""
    key_field: str
    """The settings field holding its key; its env name is the field in upper case."""
    base_field: str
    """The settings field holding its base URL."""
    key_pattern: str
    """What its keys look like (a regular expression), for `doctor`."""
    key_shape: str
    """The same, in words."""
    models: tuple[str, str] | None = None
    """Default (big, small) models; None when another setting or the passthrough decides."""
    bare_models: frozenset[str] = frozenset()
    """Model names that mean this provider without a prefix, whatever the registry says."""
    registry_labels: tuple[str, ...] = ()
    """Other labels LiteLLM's registry gives its models (`vertex_ai-language-models`)."""
    native_base: str | None = None
    """Its OpenAI-compatible Chat Completions base URL when the native engine serves it
    (LiteLLM 1.106's default, so both engines call the same place); None: LiteLLM serves it."""
    quirks: type[Quirks] = field(default=Quirks)

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every name a user may write for it (`gemini` for google), its own first."""
        return PROVIDER_NAMES[self.name]

    @property
    def key_env(self) -> str:
        return self.key_field.upper()

    def missing_key(self) -> str:
        return f"No key for {self.label}: set {self.key_env} (or put it in .env)."


PROVIDERS: tuple[ProviderInfo, ...] = (
    ProviderInfo(
        name="openai",
        litellm="openai",
        label="OpenAI",
        key_field="openai_api_key",
        base_field="openai_api_base",
        key_pattern=r"sk-(?!ant-)\S{20,}",
        key_shape="OpenAI keys start with sk- and are longer than 20 characters",
        models=("gpt-4.1", "gpt-4.1-mini"),
        native_base="https://api.openai.com/v1",
        bare_models=frozenset(
            {
                "o3-mini",
                "o1",
                "o1-mini",
                "o1-pro",
                "gpt-4.5-preview",
                "gpt-4o",
                "gpt-4o-audio-preview",
                "chatgpt-4o-latest",
                "gpt-4o-mini",
                "gpt-4o-mini-audio-preview",
                "gpt-4.1",
                "gpt-4.1-mini",
            }
        ),
        quirks=OpenAIQuirks,
    ),
    ProviderInfo(
        name="google",
        litellm="gemini",
        label="Gemini",
        key_field="gemini_api_key",
        base_field="gemini_api_base",
        key_pattern=r"AIza[0-9A-Za-z_-]{35}",
        key_shape="Gemini keys start with AIza and are 39 characters long",
        models=("gemini-2.5-pro", "gemini-2.5-flash"),
        bare_models=frozenset(
            {
                "gemini-2.5-pro-preview-03-25",
                "gemini-2.0-flash",
                "gemini-2.5-pro",
                "gemini-2.5-flash",
            }
        ),
        registry_labels=("vertex_ai",),
        quirks=GeminiQuirks,
    ),
    ProviderInfo(
        name="together",
        litellm="together_ai",
        label="Together",
        key_field="togetherai_api_key",
        base_field="togetherai_api_base",
        key_pattern=r"tgp_v1_[0-9A-Za-z_-]{20,}|[0-9a-f]{64}",
        key_shape="Together keys start with tgp_v1_ or are 64 hex digits",
        # api.together.xyz is the same service's older name.
        native_base="https://api.together.ai/v1",
        quirks=TogetherQuirks,
    ),
    ProviderInfo(
        name="anthropic",
        litellm="anthropic",
        label="Anthropic",
        key_field="anthropic_api_key",
        base_field="anthropic_api_base",
        key_pattern=r"sk-ant-\S{20,}",
        key_shape="Anthropic keys start with sk-ant- and are longer than 20 characters",
    ),
)

_BY_NAME = {info.name: info for info in PROVIDERS}
_BY_LITELLM = {info.litellm: info for info in PROVIDERS}


def provider_named(name: str) -> ProviderInfo:
    """The row of a settings provider name (`google`); the names are validated by settings."""
    return _BY_NAME[name]


def provider_label(litellm: str) -> str:
    """A LiteLLM provider as users name it in settings: `gemini` -> `google`."""
    info = _BY_LITELLM.get(litellm)
    return info.name if info is not None else litellm


def provider_for(litellm: str) -> ProviderInfo | None:
    """The row of a LiteLLM provider (`gemini`), or None for providers without a row."""
    return _BY_LITELLM.get(litellm)


def registry_provider(label: str) -> str:
    """A registry label as the provider it means: `vertex_ai-language-models` -> `gemini`."""
    for info in PROVIDERS:
        if label == info.litellm or (
            info.registry_labels and label.startswith(info.registry_labels)
        ):
            return info.litellm
    return label


def quirks_for(target: Target, options: ProviderOptions) -> Quirks:
    """The quirks the target's provider needs; no quirks for providers without a row."""
    info = provider_for(target.provider)
    return (info.quirks if info is not None else Quirks)(target, options)
