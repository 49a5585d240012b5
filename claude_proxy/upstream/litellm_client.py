"""The LiteLLM upstream: the one module that imports litellm.

litellm is imported lazily (it costs seconds), with its network switches set first so that
neither the import nor a first call reaches the internet: the cost map is read from the copy
bundled in the wheel and tokenizers are never downloaded. Its exceptions become members of
`claude_proxy.errors` here, at the boundary, by the rules of `litellm_errors.py`.

LiteLLM 1.106.2 is pinned, and four of its private APIs are used; each is marked
"private API" below, so a move of the pin knows what to recheck: the `_skip_mcp_handler`
call argument, the stream wrapper's `completion_stream` (to close the HTTP response under
it) and its finish-reason flags (to tell the `stop` it invents from the upstream's), and
`in_memory_llm_clients_cache` (flushed at shutdown).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import warnings
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from claude_proxy import errors
from claude_proxy.providers.table import provider_for
from claude_proxy.settings import Settings
from claude_proxy.translate.target import Target
from claude_proxy.upstream.endpoints import NO_KEY_PLACEHOLDER, credentials
from claude_proxy.upstream.error_text import parse_context_numbers, redact
from claude_proxy.upstream.litellm_errors import ErrorClasses, map_error
from claude_proxy.upstream.model_facts import response_schema_verdict
from claude_proxy.upstream.warmup import loopback_openai_server

logger = logging.getLogger(__name__)

# Token counts of models whose tokenizer is not at hand are cl100k counts times this.
ESTIMATE_MARGIN = 1.25

CALL_ARGS: dict[str, Any] = {
    # The client retries on our status codes itself (honouring retry-after); retrying here
    # too would multiply the wait and hide the upstream's answer.
    "max_retries": 0,
    "num_retries": 0,
    # Private API: LiteLLM 1.106 routes every request with tools through its MCP gateway hook,
    # which imports proxy-only modules (the `mcp` package) and fails; we never use MCP tools.
    "_skip_mcp_handler": True,
}
"""Arguments every LiteLLM call gets, warm-up included."""


@functools.cache
def import_litellm() -> ModuleType:
    """Import litellm with every self-initiated network fetch switched off."""
    os.environ["LITELLM_OFFLINE_MODE"] = "true"
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import litellm

    # Pydantic warns about LiteLLM's own TypedDicts on the first call; nothing a user can act on.
    warnings.filterwarnings("ignore", message=r".*`ReadOnly` qualifier", category=UserWarning)
    litellm.disable_hf_tokenizer_download = True
    litellm.drop_params = True
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.turn_off_message_logging = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # At DEBUG the OpenAI SDK logs every request's options, prompts included, and the HTTP
    # libraries under it their headers; prompts and keys never belong in our log.
    for name in ("openai", "httpx", "httpcore", "aiohttp.client"):
        logging.getLogger(name).setLevel(logging.WARNING)
    module: ModuleType = litellm
    return module


@functools.cache
def error_classes(litellm: ModuleType) -> ErrorClasses:
    """The exception classes `litellm_errors.map_error` tells apart."""
    import httpx
    import openai

    return ErrorClasses(
        context_window=(litellm.ContextWindowExceededError,),
        unknown_model=(litellm.exceptions.ModelNotMappedError,),
        timeout=(openai.APITimeoutError, httpx.TimeoutException),
        connection=(openai.APIConnectionError,),
    )


class LiteLLMUpstream:
    """`Upstream` on top of `litellm.acompletion` and LiteLLM's model registry."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._litellm = import_litellm()
        self._secrets = settings.secret_values()

    # --- ModelRegistry -------------------------------------------------------------------

    def provider_of(self, model: str) -> str | None:
        info = self._litellm.model_cost.get(model)
        return info.get("litellm_provider") if info else None

    def is_provider(self, prefix: str) -> bool:
        return prefix in _provider_names(self._litellm)

    # --- model facts ---------------------------------------------------------------------

    async def target(self, model: str, provider: str) -> Target:
        return _target_cached(self._litellm, model, provider)

    async def count_tokens(self, request: dict[str, Any]) -> int:
        """Input tokens of the request; padded by `ESTIMATE_MARGIN` where the count is an estimate.

        Only OpenAI models have their real tokenizer here (tiktoken, bundled). Other models'
        tokenizers would have to be downloaded, which the offline switches forbid, so LiteLLM
        counts them with cl100k; padding makes the estimate err high, and Claude Code then
        compacts a little early instead of overflowing the window.
        """
        model = request["model"]
        exact = self.tokenizer_is_exact(model)
        count = functools.partial(
            self._litellm.token_counter,
            # LiteLLM picks o200k only for the bare name; `openai/gpt-4.1` would get cl100k.
            model=model.partition("/")[2] if exact else model,
            messages=request.get("messages", []),
            tools=request.get("tools") or None,
        )
        tokens = int(await asyncio.get_running_loop().run_in_executor(None, count))
        return tokens if exact else math.ceil(tokens * ESTIMATE_MARGIN)

    def tokenizer_is_exact(self, model: str) -> bool:
        """Whether `count_tokens` uses the model's own tokenizer (OpenAI models tiktoken knows)."""
        provider, _, bare = model.partition("/")
        if provider != "openai":
            return False
        import tiktoken

        try:
            tiktoken.encoding_name_for_model(bare)
        except KeyError:
            return False
        return True

    def model_info(self, model: str) -> dict[str, Any]:
        try:
            return dict(self._litellm.get_model_info(model))
        except Exception:
            return {}

    # --- Upstream ------------------------------------------------------------------------

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._litellm.acompletion(**self._call_args(request))
        except Exception as exc:
            raise self.translate_error(exc, request) from exc
        return dict(response.model_dump())

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        try:
            wrapper = await self._litellm.acompletion(**self._call_args(request))
        except Exception as exc:
            raise self.translate_error(exc, request) from exc
        try:
            async for chunk in wrapper:
                yield without_invented_finish(chunk.model_dump(), wrapper)
        except Exception as exc:
            raise self.translate_error(exc, request) from exc
        finally:
            await _close_stream(wrapper)

    async def warm_up(self) -> None:
        """Run LiteLLM's whole path once, HTTP client included, against a loopback server."""
        request = {
            "model": "openai/gpt-4.1-mini",
            "messages": [{"role": "user", "content": "warm up"}],
            "tools": [
                {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}}
            ],
            "api_key": NO_KEY_PLACEHOLDER,
            "timeout": 10,
            **CALL_ARGS,
        }
        try:
            async with loopback_openai_server() as base:
                await self._litellm.acompletion(**request, api_base=base)
                wrapper = await self._litellm.acompletion(
                    **request, api_base=base, stream=True, stream_options={"include_usage": True}
                )
                async for chunk in wrapper:
                    chunk.model_dump()
            self._litellm.token_counter(model="gpt-4.1", messages=request["messages"])
        except Exception as exc:  # a failed warm-up only means a slower first request
            logger.debug("LiteLLM warm-up failed: %s", exc)

    async def aclose(self) -> None:
        """Close the HTTP clients LiteLLM caches, so their connections do not outlive the app."""
        await self._litellm.close_litellm_async_clients()
        self._litellm.in_memory_llm_clients_cache.flush_cache()  # private API

    def _call_args(self, request: dict[str, Any]) -> dict[str, Any]:
        args = dict(request)
        info = provider_for(request["model"].partition("/")[0])
        if info is not None:
            found = credentials(info, self._settings)
            args["api_key"] = found.key
            if found.base_url:
                args["api_base"] = found.base_url
        args["timeout"] = self._settings.request_timeout
        return args | CALL_ARGS

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def translate_error(self, exc: BaseException, request: dict[str, Any]) -> errors.ProxyError:
        """A LiteLLM (or transport) exception as a member of the proxy's error tree."""
        return map_error(
            exc,
            error_classes(self._litellm),
            model=str(request.get("model")),
            redact=self.redact,
            context_error=lambda message: self._context_error(message, request),
        )

    def _context_error(self, message: str, request: dict[str, Any]) -> errors.ProxyError:
        numbers = parse_context_numbers(message)
        if numbers is not None:
            return errors.ContextWindowExceededError(*numbers)
        maximum = self.model_info(request["model"]).get("max_input_tokens")
        try:
            counted = self._litellm.token_counter(
                model=request["model"],
                messages=request.get("messages", []),
                tools=request.get("tools"),
            )
        except Exception:
            counted = None
        if isinstance(maximum, int) and counted:
            return errors.ContextWindowExceededError(max(int(counted), maximum + 1), maximum)
        return errors.InvalidRequestError(f"prompt is too long: {message}")


def without_invented_finish(chunk: dict[str, Any], wrapper: Any) -> dict[str, Any]:
    """The chunk without the finish_reason LiteLLM invents (`stop`) for a stream that ended
    without one, so the stream writer can tell a cut-off answer from a whole one."""
    invented = (
        wrapper.sent_last_chunk  # private API, as the two below
        and wrapper.received_finish_reason is None
        and getattr(wrapper, "intermittent_finish_reason", None) is None
    )
    if not invented:
        return chunk
    choices = [{**choice, "finish_reason": None} for choice in chunk.get("choices") or []]
    return {**chunk, "choices": choices}


async def _close_stream(wrapper: Any) -> None:
    """Close LiteLLM's stream and the HTTP response under it, so the upstream sees us leave."""
    inner = getattr(wrapper, "completion_stream", None)  # private API
    for closer in (getattr(inner, "close", None), getattr(inner, "aclose", None)):
        if closer is None:
            continue
        try:
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:  # closing must never mask the real outcome
            logger.debug("closing the upstream stream failed: %s", exc)
        break


@functools.cache
def _provider_names(litellm: ModuleType) -> frozenset[str]:
    return frozenset(str(getattr(p, "value", p)) for p in litellm.provider_list)


@functools.lru_cache(maxsize=512)
def _target_cached(litellm: ModuleType, model: str, provider: str) -> Target:
    info: dict[str, Any] = {}
    try:
        info = dict(litellm.get_model_info(model))
    except Exception:
        logger.debug("LiteLLM's registry does not know %s; no output cap applied", model)
    bare = model.split("/", 1)[1] if "/" in model else model
    try:
        params = litellm.get_supported_openai_params(
            model=bare, custom_llm_provider=provider or None
        )
    except Exception:
        params = None
    max_output = info.get("max_output_tokens") or info.get("max_tokens")
    return Target(
        model=model,
        provider=provider,
        max_output_tokens=int(max_output) if isinstance(max_output, int) else None,
        max_input_tokens=info["max_input_tokens"]
        if isinstance(info.get("max_input_tokens"), int)
        else None,
        supported_params=frozenset(params or ()),
        supports_vision=info.get("supports_vision") is not False,
        supports_reasoning=info.get("supports_reasoning") is True,
        # LiteLLM maps `minimal` itself for every Gemini model (a small budget, or level low).
        supports_minimal_reasoning=info.get("supports_minimal_reasoning_effort") is True
        or provider == "gemini",
        supports_response_schema=response_schema_verdict(provider, info),
    )
