from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from claude_proxy import errors
from claude_proxy.settings import load_settings
from claude_proxy.upstream.litellm_client import LiteLLMUpstream
from tests.helpers.repo import REPO


async def test_registry_and_target_come_from_litellm() -> None:
    upstream = LiteLLMUpstream(load_settings({"openai_api_key": "sk-1"}, env_file=None))
    assert upstream.provider_of("gpt-4.1") == "openai"
    assert upstream.provider_of("no-such-model-anywhere") is None
    assert upstream.is_provider("openrouter") and upstream.is_provider("together_ai")
    assert not upstream.is_provider("meta-llama")
    target = await upstream.target("openai/gpt-4.1", "openai")
    assert target.max_output_tokens == 32768
    assert {"temperature", "top_p", "user", "stop"} <= target.supported_params
    assert "top_k" not in target.supported_params
    unknown = await upstream.target("together_ai/some/unlisted-model", "together_ai")
    assert unknown.max_output_tokens is None  # never invent a cap


def test_status_mapping_and_redaction() -> None:
    upstream = LiteLLMUpstream(load_settings({"openai_api_key": "sk-secret-123"}, env_file=None))

    class Fake(Exception):
        def __init__(self, status: int, message: str) -> None:
            super().__init__(message)
            self.status_code = status
            self.message = message

    request = {"model": "openai/gpt-4.1", "messages": []}
    cases = {
        401: errors.AuthenticationError,
        402: errors.BillingError,
        413: errors.RequestTooLargeError,
        422: errors.InvalidRequestError,
        503: errors.OverloadedError,
        529: errors.OverloadedError,
        504: errors.UpstreamTimeoutError,
        502: errors.ApiError,
    }
    for status, expected in cases.items():
        translated = upstream.translate_error(Fake(status, "bad key sk-secret-123"), request)
        assert type(translated) is expected, status
        assert "sk-secret-123" not in translated.message


def test_no_network_at_import_or_first_calls(tmp_path: Path) -> None:
    """Import LiteLLM and count tokens for every provider with all non-loopback traffic refused."""
    script = textwrap.dedent(
        """
        import socket, sys
        attempts = []
        real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
        def guarded_getaddrinfo(host, *args, **kwargs):
            if host not in ("127.0.0.1", "localhost", "::1", None):
                attempts.append(host)
                raise socket.gaierror("offline test: no DNS")
            return real_getaddrinfo(host, *args, **kwargs)
        def guarded_connect(self, address):
            if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
                attempts.append(address)
                raise OSError("offline test: no network")
            return real_connect(self, address)
        socket.getaddrinfo = guarded_getaddrinfo
        socket.socket.connect = guarded_connect
        from claude_proxy.upstream.litellm_client import import_litellm
        litellm = import_litellm()
        for model in ("gpt-4.1", "gemini/gemini-2.5-pro", "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
                      "anthropic/claude-sonnet-4-5"):
            litellm.token_counter(model=model, messages=[{"role": "user", "content": "hello"}])
        print("ATTEMPTS", attempts)
        sys.exit(1 if attempts else 0)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


async def test_count_tokens_is_exact_for_openai_and_errs_high_elsewhere() -> None:
    import tiktoken

    upstream = LiteLLMUpstream(load_settings(env_file=None))
    text = "Привет, как дела? こんにちは世界 def main(): return 42\n" * 10
    messages = [{"role": "user", "content": text}]
    exact = await upstream.count_tokens({"model": "openai/gpt-4.1", "messages": messages})
    # Only now: LiteLLM's first count points tiktoken at the encodings bundled in its wheel.
    o200k = len(tiktoken.get_encoding("o200k_base").encode(text))
    cl100k = len(tiktoken.get_encoding("cl100k_base").encode(text))
    assert upstream.tokenizer_is_exact("openai/gpt-4.1")
    assert o200k <= exact <= o200k + 10  # the real tokenizer, plus message framing

    for model in (
        "gemini/gemini-2.5-pro",
        "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    ):
        assert not upstream.tokenizer_is_exact(model)
        estimate = await upstream.count_tokens({"model": model, "messages": messages})
        assert estimate >= int(cl100k * 1.25)
