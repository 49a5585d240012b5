from __future__ import annotations

from claude_proxy.providers import ProviderOptions, quirks_for
from claude_proxy.translate.target import Target


def test_a_provider_without_quirks_changes_nothing() -> None:
    quirks = quirks_for(Target(model="ollama/llama3", provider="ollama"), ProviderOptions())
    request = {"model": "ollama/llama3", "messages": []}
    assert quirks.prepare_request(request, {}) is request
    assert quirks.fix_response({"choices": []}, {}) == {"choices": []}
    assert quirks.filter_stream({}) is None
