from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import pytest
from aiohttp.test_utils import TestServer

from claude_proxy.settings import Settings, load_settings
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.web_services import FakeWeb
from tests.helpers.claude_code import pinned_claude
from tests.helpers.proxy import ProxyFactory

# Every variable a setting may be read from, plus the ones LiteLLM reads on its own.
SETTING_ENV_NAMES = {
    name.upper()
    for field_name, info in Settings.model_fields.items()
    for name in ([field_name, *list(getattr(info.validation_alias, "choices", []) or [])])
} | {
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_API_KEY",
    "TOGETHER_API_KEY",
    "TOGETHER_AI_API_KEY",
}


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test sees the developer's keys, .env or config file."""
    for name in SETTING_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("CLAUDE_PROXY_CONFIG", str(home / "config.toml"))
    # A proxy a test starts never restarts itself in place unless the test asks for it.
    monkeypatch.setenv("MEMORY_RESTART_GROWTH", "0")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
async def fake_openai(aiohttp_server: Any) -> FakeOpenAI:
    fake = FakeOpenAI()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/v1"))
    return fake


@pytest.fixture
async def fake_gemini(aiohttp_server: Any) -> FakeGemini:
    fake = FakeGemini()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("/v1beta"))
    return fake


@pytest.fixture
async def start_proxy(aiohttp_server: Any) -> ProxyFactory:
    """Start the real proxy (real LiteLLM upstream) with the given settings; returns its URL."""

    from claude_proxy.server.app import create_app

    async def start(**overrides: Any) -> str:
        settings = load_settings({"ping_interval": 5.0, **overrides}, env_file=None)
        server: TestServer = await aiohttp_server(create_app(settings))
        return str(server.make_url("")).rstrip("/")

    return start


ENGINES = ("native", "litellm")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine in turn: what runs through `proxy_url` (and the Together tests) must give
    the same answer on the native engine and on LiteLLM."""
    return str(request.param)


@pytest.fixture
async def proxy_url(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str) -> str:
    return await start_proxy(
        openai_api_key="sk-test-key-0001",
        openai_api_base=fake_openai.base_url,
        upstream_engine=engine,
    )


@pytest.fixture
async def client(proxy_url: str) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=proxy_url, api_key="client-key", max_retries=0
    ) as c:
        yield c


@pytest.fixture
def claude() -> str:
    """The pinned Claude Code CLI (tests/helpers/claude_code.py): skips, or fails under CI,
    when `bash .ci/run` has not installed it."""
    return pinned_claude()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Dispose of the aiohttp sessions LiteLLM leaves behind, before interpreter shutdown.

    LiteLLM caches its HTTP transports process-wide, keyed without the event loop, and
    replaces their sessions when a new test brings a new loop; a replaced session can outlive
    every loop. Left to interpreter shutdown, its finalizer runs through LiteLLM's log filter
    and prints tracebacks after pytest's summary. This is the same synchronous teardown
    LiteLLM applies to sessions whose loop is gone. A server process has one loop and does
    not meet this.
    """
    import gc

    import aiohttp

    for obj in gc.get_objects():
        if isinstance(obj, aiohttp.ClientSession) and not obj.closed:
            connector = obj.connector
            if connector is not None:
                connector._close()


@pytest.fixture
async def fake_web(aiohttp_server: Any) -> FakeWeb:
    """Fake Brave, Tavily and SearXNG APIs and a small site, on 127.0.0.1."""
    fake = FakeWeb()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")
    return fake
