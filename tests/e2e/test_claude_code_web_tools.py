"""Claude Code's WebSearch and WebFetch, with the real (pinned) CLI, through the proxy.

WebSearch: the main model calls WebSearch; Claude Code sends its own request with the
`web_search_20250305` server tool; the proxy offers it upstream as a function, the fake model
calls it, the proxy searches the fake Brave and hands the results back, the model sums them
up; Claude Code counts the search and gives the results to the main model's next turn.
Through OpenAI (native engine), Google (LiteLLM, fake Gemini) and Together.

WebFetch: the pinned Claude Code fetches pages itself (it never sends the `web_fetch_*`
server tool), over https only, then asks the model about the page through the proxy. The
fake site is served over https with a throwaway certificate Claude Code is told to trust.
"""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.fakes.gemini_upstream import API_KEY, FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.web_services import FakeWeb
from tests.helpers.claude_code import run_claude
from tests.helpers.model_turns import Step, gemini_turns, openai_turns
from tests.helpers.proxy import ProxyFactory


@pytest.fixture(params=["openai", "google", "together"])
async def upstream(
    request: pytest.FixtureRequest,
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    fake_gemini: FakeGemini,
    fake_web: FakeWeb,
) -> tuple[str, Callable[[list[Step]], None], Callable[[], list[str]]]:
    """The proxy's URL, how to script the model, and the text of each upstream request."""
    search = {"brave_api_key": "brave-k", "brave_api_base": fake_web.base_url}
    if request.param == "google":
        url = await start_proxy(
            preferred_provider="google",
            gemini_api_key=API_KEY,
            gemini_api_base=fake_gemini.base_url,
            **search,
        )
        return (
            url,
            lambda steps: gemini_turns(fake_gemini, steps),
            lambda: [json.dumps(body) for body in fake_gemini.requests],
        )
    if request.param == "together":
        keys = {"togetherai_api_key": "t" * 64, "togetherai_api_base": fake_openai.base_url}
        url = await start_proxy(preferred_provider="together", **keys, **search)
    else:
        url = await start_proxy(
            openai_api_key="sk-test-0001", openai_api_base=fake_openai.base_url, **search
        )
    return (
        url,
        lambda steps: openai_turns(fake_openai, steps),
        lambda: [json.dumps(body) for body in fake_openai.requests],
    )


@pytest.mark.claude_code
async def test_claude_code_web_search_runs_on_the_proxy(
    claude: str,
    upstream: tuple[str, Callable[[list[Step]], None], Callable[[], list[str]]],
    fake_web: FakeWeb,
    fake_gemini: FakeGemini,
    tmp_path: Path,
) -> None:
    url, script, sent = upstream
    script(
        [
            ("call", ("WebSearch", {"query": "llama facts"})),  # the main model
            ("call", ("web_search", {"query": "llama facts"})),  # WebSearch's own request
            ("text", "Llamas: see Example A."),  # ... after the proxy's search
            ("text", "Example A has the llama facts."),  # the main model, last turn
        ]
    )
    workdir = tmp_path / "project"
    workdir.mkdir()
    result = await run_claude(claude, url, workdir, "Search the web for llama facts.", "WebSearch")

    assert result["is_error"] is False
    assert result["result"] == "Example A has the llama facts."
    assert [r["query"]["q"] for r in fake_web.requests] == ["llama facts"]
    (usage,) = result["modelUsage"].values()
    assert usage["webSearchRequests"] == 1  # Claude Code saw the search happen
    _, side, side_after, main_after = sent()
    assert "web_search" in side and "Perform a web search for the query: llama facts" in side
    assert "Alpha snippet about the topic." in side_after  # the model read the results
    assert "https://docs.example.com/a" in main_after and "Example A" in main_after
    assert "Llamas: see Example A." in main_after
    assert fake_gemini.rejections == []


@pytest.fixture
async def https_site(tmp_path: Path) -> AsyncIterator[tuple[str, Path, FakeWeb]]:
    """The fake site over https on 127.0.0.1, and its certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    site = FakeWeb()
    runner = web.AppRunner(site.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}", cert, site
    finally:
        await runner.cleanup()


@pytest.mark.claude_code
async def test_claude_code_web_fetch_reaches_the_model_through_the_proxy(
    claude: str,
    upstream: tuple[str, Callable[[list[Step]], None], Callable[[], list[str]]],
    https_site: tuple[str, Path, FakeWeb],
    fake_gemini: FakeGemini,
    tmp_path: Path,
) -> None:
    url, script, sent = upstream
    base, cert, site = https_site
    home = tmp_path / "claude-home" / ".claude"
    home.mkdir(parents=True)
    # Its pre-flight asks api.anthropic.com whether the domain may be fetched: offline, no.
    (home / "settings.json").write_text(json.dumps({"skipWebFetchPreflight": True}))
    page = f"{base}/site/page.html"
    script(
        [
            ("call", ("WebFetch", {"url": page, "prompt": "The answer?"})),  # the main model
            ("text", "The page says forty-two."),  # WebFetch's own request about the page
            ("text", "It is forty-two."),  # the main model, last turn
        ]
    )
    workdir = tmp_path / "project"
    workdir.mkdir()
    result = await run_claude(
        claude, url, workdir, "Fetch the page.", "WebFetch", {"NODE_EXTRA_CA_CERTS": str(cert)}
    )

    assert result["is_error"] is False
    assert result["result"] == "It is forty-two."
    assert [r["path"] for r in site.requests] == ["/site/page.html"]
    _, summary, main_after = sent()
    assert "The answer is **forty-two**." in summary  # the page's text reached the model
    assert "The page says forty-two." in main_after  # and its summary the main model
    assert fake_gemini.rejections == []
