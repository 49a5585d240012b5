"""Settings, declared once.

Precedence, highest first: CLI flags (passed to `load_settings` as overrides) > environment >
`.env` in the working directory > the TOML config file (`$CLAUDE_PROXY_CONFIG`, else
`<user config dir>/claude-proxy/config.toml`) > defaults. `tests/settings/test_model.py` holds each
step of that order, and `tests/test_docs.py` fails when a field is missing from
docs/configuration.md.

ANTHROPIC_BASE_URL is deliberately not a source for anything: it is how Claude Code finds this
proxy, so reading it would make the proxy call itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from claude_proxy.provider_names import canonical_provider, unknown_provider
from claude_proxy.settings.choices import Provider

DEFAULT_TOGETHER_MODEL = "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
CONFIG_ENV_VAR = "CLAUDE_PROXY_CONFIG"


class Settings(BaseSettings):
    """Every setting of claude-proxy. The env name of a field is its name in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )

    preferred_provider: Provider = Field(
        "openai",
        description="Which provider serves the Claude aliases: openai, google, together or anthropic.",
    )
    big_model: str | None = Field(
        None,
        description="Model for sonnet and opus requests. Default per provider: gpt-4.1, gemini-2.5-pro, TOGETHER_MODEL.",
    )
    small_model: str | None = Field(
        None,
        description="Model for haiku requests. Default per provider: gpt-4.1-mini, gemini-2.5-flash, TOGETHER_MODEL.",
    )
    together_model: str = Field(
        DEFAULT_TOGETHER_MODEL,
        description="The Together model both aliases map to when the provider is together.",
    )
    opus_model: str | None = Field(None, description="Overrides the model for opus requests only.")
    sonnet_model: str | None = Field(
        None, description="Overrides the model for sonnet requests only."
    )
    haiku_model: str | None = Field(
        None, description="Overrides the model for haiku requests only."
    )

    host: str = Field(
        "127.0.0.1",
        description="Address to bind. Loopback by default; 0.0.0.0 exposes the proxy and its keys to the network.",
    )
    port: int = Field(8082, ge=0, le=65535, description="Port to bind.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Processes serving the port (gunicorn manages them); one per core is plenty.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level: debug, info, warning or error."
    )

    openai_api_key: SecretStr | None = Field(None, description="Key for OpenAI.")
    gemini_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("gemini_api_key", "google_api_key"),
        description="Key for Google Gemini (GOOGLE_API_KEY accepted as well).",
    )
    anthropic_api_key: SecretStr | None = Field(
        None, description="Key for Anthropic, when it is the upstream."
    )
    togetherai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "togetherai_api_key", "together_api_key", "together_ai_api_key"
        ),
        description="Key for Together.ai (TOGETHER_API_KEY and TOGETHER_AI_API_KEY accepted as well).",
    )

    openai_api_base: str | None = Field(
        None,
        validation_alias=AliasChoices("openai_api_base", "openai_base_url"),
        description="OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (OPENAI_BASE_URL accepted as well).",
    )
    gemini_api_base: str | None = Field(
        None,
        description="Gemini base URL including the version path, e.g. https://generativelanguage.googleapis.com/v1beta.",
    )
    togetherai_api_base: str | None = Field(
        None, description="Together base URL, e.g. https://api.together.ai/v1."
    )
    anthropic_api_base: str | None = Field(
        None,
        description="Anthropic base URL when Anthropic is the upstream. ANTHROPIC_BASE_URL is never read.",
    )

    process_newlines: bool = Field(
        True,
        description="Together: turn the two characters backslash-n in answers into real newlines (tool inputs are never touched).",
    )
    preserve_openai_newlines: bool = Field(
        True,
        description="OpenAI: keep real newlines in answers; false escapes them as backslash-n.",
    )
    openai_prompt_cache_key: bool | None = Field(
        None,
        description="Send OpenAI a prompt_cache_key per Claude Code session. Unset: only to OpenAI's own API, not to an OPENAI_API_BASE server.",
    )

    upstream_engine: Literal["native", "litellm"] = Field(
        "native",
        description="native: OpenAI and Together (and any OPENAI_API_BASE server) are called directly, LiteLLM serves the rest; litellm: LiteLLM serves everything (for comparison, or as an escape hatch).",
    )
    request_timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds one request may take in all, a whole stream included, before 504 timeout_error (or an SSE error once streaming).",
    )
    first_byte_timeout: float = Field(
        300.0,
        gt=0,
        description="Seconds a stream may wait for the upstream's first chunk (a reasoning model thinking); pings keep the client waiting meanwhile.",
    )
    idle_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds a stream may go without an upstream chunk once it has begun.",
    )
    ping_interval: float = Field(
        10.0,
        gt=0,
        description="Seconds of upstream silence after which a stream gets a ping event.",
    )
    shutdown_grace: float = Field(
        30.0,
        ge=0,
        description="Seconds running streams get to finish after SIGTERM; the rest then end with an overloaded_error the client retries.",
    )
    memory_restart_growth: float = Field(
        20.0,
        ge=0,
        description="Percent above its start the resident memory may stay once idle; beyond it the proxy restarts in place (same pid, the port stays open) to give back what a burst left. 0 turns it off.",
    )
    memory_restart_idle: float = Field(
        30.0,
        gt=0,
        description="Seconds without API requests before MEMORY_RESTART_GROWTH is looked at.",
    )
    max_request_bytes: int = Field(
        32 * 1024 * 1024,
        gt=0,
        description="Largest request body accepted; larger ones get 413 request_too_large.",
    )

    proxy_auth_token: SecretStr | None = Field(
        None,
        description="Token clients must send as x-api-key or Authorization: Bearer; unset, no token is asked for.",
    )
    # NoDecode: pydantic-settings would read a list from the environment as JSON only;
    # `_split_origins` takes the comma-separated form people write (and JSON as well).
    fallback_models: Annotated[list[str], NoDecode] = Field(
        [],
        description="Models tried in order when the upstream fails before the first byte (429, 5xx, a timeout, no connection), comma-separated; alias:model applies to one alias only (opus:gemini-2.5-pro).",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        [],
        description="Browser origins allowed to call the proxy, comma-separated (https://app.example,http://localhost:3000); requests with any other Origin get 403.",
    )
    max_connections: int = Field(
        1000,
        gt=0,
        description="Most client connections held at once (fewer when the open-file limit is low); more are answered 529 overloaded_error and closed.",
    )
    data_dir: Path | None = Field(
        None,
        description="Where the proxy keeps its databases (usage ledger, message threads). Default: $XDG_DATA_HOME/claude-proxy, else ~/.local/share/claude-proxy.",
    )
    thread_store_max_bytes: int = Field(
        256 * 1024 * 1024,
        ge=0,
        description="Most bytes the message threads' store (threads.sqlite3 in DATA_DIR) keeps; the oldest threads are dropped first; 0 turns threads off (clients then send whole conversations).",
    )
    thread_max_age: float = Field(
        24 * 3600.0,
        gt=0,
        description="Seconds a message thread is kept after its last turn; an older one is dropped and its client replays the conversation.",
    )
    record_dir: Path | None = Field(
        None,
        description="serve --record: write each exchange of /v1/messages to this directory (prompts and answers included, keys removed), for a bug report; `claude-proxy replay DIR` replays it.",
    )
    usage_ledger: bool = Field(
        True,
        description="Keep one row per API request (models, tokens, cost, latency, status; never a body or a key) in DATA_DIR/usage.sqlite3, for `claude-proxy usage` and `statusline`.",
    )
    usage_retention_days: float = Field(
        90.0,
        gt=0,
        description="Days the usage ledger keeps a row; older rows are deleted by the proxy as it writes.",
    )
    client_header_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a client connection may stay idle, or take to send a request's headers, before it is closed.",
    )
    client_body_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a client may take to send a request body once its headers arrived; slower ones get 504 timeout_error.",
    )
    web_search_backend: Literal["brave", "tavily", "searxng", "off"] | None = Field(
        None,
        description="Who runs Claude Code's web searches: brave, tavily, searxng or off. Unset: the backend whose key or URL is set (docs/web-tools.md).",
    )
    brave_api_key: SecretStr | None = Field(None, description="Key for the Brave Search API.")
    brave_api_base: str = Field(
        "https://api.search.brave.com/res/v1",
        description="Brave Search API base URL (the path before /web/search).",
    )
    tavily_api_key: SecretStr | None = Field(None, description="Key for the Tavily search API.")
    tavily_api_base: str = Field(
        "https://api.tavily.com", description="Tavily API base URL (the path before /search)."
    )
    searxng_url: str | None = Field(
        None,
        description="A SearXNG instance with its JSON API on, e.g. http://localhost:8888 (searched at /search?format=json).",
    )
    web_fetch_allow_private: bool = Field(
        False,
        description="Let web_fetch read loopback, private and link-local addresses (the user's own services); off by default.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("preferred_provider", mode="before")
    @classmethod
    def _provider(cls, value: Any) -> Any:
        """A provider as users write it: `Gemini` is google, `together_ai` is together."""
        if not isinstance(value, str):
            return value
        canonical = canonical_provider(value)
        if canonical is None:
            raise ValueError(unknown_provider(value))
        return canonical

    @field_validator("allowed_origins", "fallback_models", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """A list from the environment: comma-separated, or a JSON array."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        """Origins as browsers send them: lower case, no path, no trailing slash."""
        checked = []
        for origin in origins:
            normal = origin.strip().lower().rstrip("/")
            if normal == "null":
                raise ValueError(
                    "the origin null is sent by every sandboxed frame and file:// page, so it cannot be allowed"
                )
            scheme, separator, rest = normal.partition("://")
            if not separator or not scheme or not rest or "/" in rest:
                host = rest.split("/", 1)[0] if separator else normal.split("/", 1)[0]
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port], e.g. https://{host}"
                )
            checked.append(normal)
        return checked

    def secret_values(self) -> list[str]:
        """Every key and token set, for redacting them from whatever reaches a client or the log."""
        values = (getattr(self, field) for field in type(self).model_fields)
        return [
            v.get_secret_value()
            for v in values
            if isinstance(v, SecretStr) and v.get_secret_value()
        ]

    def sends_prompt_cache_key(self) -> bool:
        """OPENAI_PROMPT_CACHE_KEY in effect: when unset, only OpenAI's own API gets one."""
        if self.openai_prompt_cache_key is not None:
            return self.openai_prompt_cache_key
        return self.openai_api_base is None

    def data_path(self) -> Path:
        """The data directory in effect (not created here: whoever writes a file creates it)."""
        return self.data_dir.expanduser() if self.data_dir else user_data_dir()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, dotenv_settings, toml)


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "claude-proxy"


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "claude-proxy"


def config_file_path() -> Path:
    """Where the TOML config file is: `$CLAUDE_PROXY_CONFIG`, else the user config dir."""
    explicit = os.environ.get(CONFIG_ENV_VAR)
    return Path(explicit).expanduser() if explicit else user_config_dir() / "config.toml"


def given(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The overrides that were given: a flag left out is None."""
    return {field: value for field, value in (overrides or {}).items() if value is not None}


def load_settings(
    overrides: dict[str, Any] | None = None, *, env_file: str | Path | None = ".env"
) -> Settings:
    """Build the settings; `overrides` are CLI flags (None values mean "not given")."""
    return Settings(_env_file=env_file, **given(overrides))  # type: ignore[call-arg]
