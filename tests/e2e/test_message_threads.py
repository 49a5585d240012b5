"""Message threads through the proxy, driven by the official SDKs' tool runners at their
defaults (which thread every turn after the first): the Python SDK in process, the pinned
TypeScript SDK as a node script. The upstream is the fake OpenAI server; it must see the whole
conversation and the tools on every turn, because it has no threads of its own."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import httpx2
import pytest
from anthropic import beta_async_tool

from claude_proxy.server.app import create_app, serving_on_loopback
from claude_proxy.settings import Settings, load_settings
from tests.fakes.anthropic_upstream import Answer as AnthropicAnswer
from tests.fakes.anthropic_upstream import FakeAnthropic, message_of, text_message
from tests.fakes.gemini_upstream import API_KEY as GEMINI_KEY
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.gemini_upstream import Reply as GeminiReply
from tests.fakes.gemini_upstream import call as gemini_call
from tests.fakes.gemini_upstream import text as gemini_text
from tests.fakes.openai_upstream import Answer, FakeOpenAI, ToolCall
from tests.helpers.ports import free_port
from tests.helpers.proxy import ProxyFactory
from tests.helpers.repo import REPO
from tests.helpers.serve_process import serve_env, start_serve, stop, wait_for_health
from tests.helpers.threads import note_threads
from tests.helpers.typescript_sdk import pinned_typescript_sdk, run_tool_runner, sdk_version

SYSTEM = "You are a calculator."
QUESTION = "What is (2 + 3) * 4?"
TOOL_NAMES = ["add", "multiply"]


@beta_async_tool
async def add(a: int, b: int) -> str:
    """Add two integers.

    Args:
        a: the first
        b: the second
    """
    return str(a + b)


@beta_async_tool
async def multiply(a: int, b: int) -> str:
    """Multiply two integers.

    Args:
        a: the first
        b: the second
    """
    return str(a * b)


def two_tool_rounds() -> list[Answer]:
    """add(2, 3), then multiply(5, 4) alongside add(0, 0), then the final text."""
    return [
        Answer(tool_calls=[ToolCall("call_1", "add", json.dumps({"a": 2, "b": 3}))]),
        Answer(
            text="Now multiplying.",
            tool_calls=[
                ToolCall("call_2", "multiply", json.dumps({"a": 5, "b": 4})),
                ToolCall("call_3", "add", json.dumps({"a": 0, "b": 0})),
            ],
        ),
        Answer(text="The answer is 20."),
    ]


def check_whole_conversations(requests: list[dict[str, Any]]) -> None:
    """Every upstream request carries the system prompt, both tools and the whole history:
    the question, each earlier answer and each tool result, in order."""
    assert len(requests) == 3
    for turn, sent in enumerate(requests):
        assert sent["messages"][0] == {"role": "system", "content": SYSTEM}
        assert sorted(tool["function"]["name"] for tool in sent["tools"]) == TOOL_NAMES
        assert sent["messages"][1]["content"] in (QUESTION, [{"type": "text", "text": QUESTION}])
        calls = [
            call["id"] for message in sent["messages"] for call in message.get("tool_calls") or []
        ]
        results = [m["tool_call_id"] for m in sent["messages"] if m["role"] == "tool"]
        assert calls == ["call_1", "call_2", "call_3"][: [0, 1, 3][turn]]
        assert results == calls
    results = {
        m["tool_call_id"]: m["content"] for m in requests[2]["messages"] if m["role"] == "tool"
    }
    assert results == {"call_1": "5", "call_2": "20", "call_3": "0"}


async def proxy_for(start_proxy: ProxyFactory, fake_openai: FakeOpenAI, engine: str) -> str:
    return await start_proxy(
        openai_api_key="sk-test-key-0001",
        openai_api_base=fake_openai.base_url,
        upstream_engine=engine,
    )


def runner_kwargs() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-5",
        "max_tokens": 1024,
        "system": SYSTEM,
        "tools": [add, multiply],
        "messages": [{"role": "user", "content": QUESTION}],
    }


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_python_tool_runner_threads_every_turn(
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    engine: str,
    stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_openai.enqueue(*two_tool_rounds())
    url = await proxy_for(start_proxy, fake_openai, engine)
    sent: list[dict[str, Any]] = []
    async with anthropic.AsyncAnthropic(
        base_url=url, api_key="client-key", max_retries=0, http_client=recording(sent)
    ) as client:
        with caplog.at_level(logging.INFO, logger="anthropic"):
            runner = client.beta.messages.tool_runner(**runner_kwargs(), stream=stream)
            final = await runner.until_done()

    assert [block.text for block in final.content if block.type == "text"] == ["The answer is 20."]
    check_whole_conversations(fake_openai.requests)
    # What the SDK sent: a create, then continues with only the new tool results.
    assert [body.get("thread", {}).get("type") for body in sent] == [
        "create",
        "continue",
        "continue",
    ]
    assert "system" not in sent[1] and "tools" not in sent[1]
    assert [len(body["messages"]) for body in sent] == [1, 1, 1]
    assert "Replaying" not in caplog.text


def recording(
    sent: list[dict[str, Any]], refusals: list[tuple[int, Any]] | None = None, **options: Any
) -> Any:
    """An httpx client for the SDK that keeps every request body it sends, and the status
    and `error.details` of every refusal it gets."""

    async def keep(request: httpx2.Request) -> None:
        sent.append(json.loads(request.content))

    async def refused(response: httpx2.Response) -> None:
        if response.status_code >= 400 and refusals is not None:
            await response.aread()
            refusals.append((response.status_code, response.json()["error"].get("details")))

    return httpx2.AsyncClient(event_hooks={"request": [keep], "response": [refused]}, **options)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_typescript_tool_runner_threads_every_turn(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, stream: bool
) -> None:
    node = pinned_typescript_sdk()
    fake_openai.enqueue(*two_tool_rounds())
    url = await proxy_for(start_proxy, fake_openai, "native")

    result = await run_tool_runner(node, url, stream=stream)

    assert result["text"] == ["The answer is 20."]
    check_whole_conversations(fake_openai.requests)
    sent = result["sent"]
    assert [body.get("thread", {}).get("type") for body in sent] == [
        "create",
        "continue",
        "continue",
    ]
    assert "system" not in sent[1] and "tools" not in sent[1]
    assert [len(body["messages"]) for body in sent] == [1, 1, 1]


def test_the_typescript_sdk_run_is_the_one_ci_pins() -> None:
    pinned_typescript_sdk()
    ci = (REPO / ".ci" / "run").read_text()
    assert f"ANTHROPIC_SDK_TS_VERSION={sdk_version()}\n" in ci


def test_a_missing_typescript_sdk_fails_under_ci(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    with pytest.raises(pytest.fail.Exception) as failed:
        pinned_typescript_sdk(tmp_path / "package.json", env={"CI": "true"})
    assert "bash .ci/run" in str(failed.value)
    with pytest.raises(pytest.skip.Exception):
        pinned_typescript_sdk(tmp_path / "package.json", env={})


def threads_db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "threads.sqlite3", isolation_level=None)


async def run_with(
    url: str, between_turns: Any, *, stream: bool = False
) -> tuple[anthropic.types.beta.BetaMessage, list[dict[str, Any]], list[tuple[int, Any]]]:
    """The Python tool runner to the end, `between_turns(message)` awaited after each reply
    (before the runner sends its tool results). The final message, the bodies sent, and the
    refusals."""
    sent: list[dict[str, Any]] = []
    refusals: list[tuple[int, Any]] = []
    async with anthropic.AsyncAnthropic(
        base_url=url, api_key="client-key", max_retries=0, http_client=recording(sent, refusals)
    ) as client:
        runner = client.beta.messages.tool_runner(**runner_kwargs(), stream=stream)
        last = None
        async for item in runner:
            last = item if not stream else await item.get_final_message()
            await between_turns(last)
    assert last is not None
    return last, sent, refusals


def threads_of(sent: list[dict[str, Any]]) -> list[str | None]:
    return [body.get("thread", {}).get("type") for body in sent]


async def test_a_lost_thread_costs_one_replay(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.enqueue(*two_tool_rounds())
    url = await start_proxy(
        openai_api_key="sk-test-key-0001", openai_api_base=fake_openai.base_url, data_dir=tmp_path
    )

    async def lose_the_first(message: Any) -> None:
        if message.content[0].type == "tool_use" and message.content[0].input == {"a": 2, "b": 3}:
            threads_db(tmp_path).execute("DELETE FROM threads")

    final, sent, refusals = await run_with(url, lose_the_first)

    assert final.content[0].text == "The answer is 20."
    assert refusals == [(404, {"error_code": "thread_not_found"})]
    assert threads_of(sent) == ["create", "continue", "create", "continue"]
    assert len(sent[2]["messages"]) == 3  # the replay: the question, the reply, the results
    check_whole_conversations(fake_openai.requests)


async def test_a_reply_continued_by_another_request_costs_one_replay(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI
) -> None:
    first, second, last = two_tool_rounds()
    fake_openai.enqueue(first, Answer(text="Someone else's answer."), second, last)
    url = await proxy_for(start_proxy, fake_openai, "native")
    other: list[Any] = []

    async def continue_it_first(message: Any) -> None:
        if other:
            return
        async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
            other.append(
                await client.beta.messages.create(
                    model="claude-sonnet-5",
                    max_tokens=100,
                    messages=[tool_result(message.content[0].id, "5")],
                    thread={"type": "continue", "previous_message_id": message.id},
                    betas=["message-threads-2026-08-12"],
                )
            )

    final, sent, refusals = await run_with(url, continue_it_first)

    assert other[0].content[0].text == "Someone else's answer."
    assert final.content[-1].text == "The answer is 20."
    assert refusals == [(400, {"error_code": "thread_already_continued"})]
    assert threads_of(sent) == ["create", "continue", "create", "continue"]
    check_whole_conversations([fake_openai.requests[0], *fake_openai.requests[2:]])


async def test_a_reply_being_continued_by_another_request_costs_one_replay(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    first, second, last = two_tool_rounds()
    release = asyncio.Event()
    fake_openai.enqueue(first, Answer(text="Held.", hold={1: release}), second, last)
    url = await start_proxy(
        openai_api_key="sk-test-key-0001", openai_api_base=fake_openai.base_url, data_dir=tmp_path
    )
    held: list[asyncio.Task[Any]] = []

    async def start_a_continue(message: Any) -> None:
        if held:
            return

        async def other() -> str:
            async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as c:
                async with c.beta.messages.stream(
                    model="claude-sonnet-5",
                    max_tokens=100,
                    messages=[tool_result(message.content[0].id, "5")],
                    thread={"type": "continue", "previous_message_id": message.id},
                    betas=["message-threads-2026-08-12"],
                ) as stream:
                    return (await stream.get_final_message()).content[0].text

        held.append(asyncio.create_task(other()))
        for _ in range(500):  # until the other request holds the reply
            if len(fake_openai.requests) == 2:
                break
            await asyncio.sleep(0.01)

    final, sent, refusals = await run_with(url, start_a_continue)
    release.set()

    assert await asyncio.wait_for(held[0], timeout=30) == "Held."
    assert final.content[-1].text == "The answer is 20."
    assert refusals == [(400, {"error_code": "thread_continue_in_flight"})]
    assert threads_of(sent) == ["create", "continue", "create", "continue"]


@pytest.mark.parametrize(
    ("limit", "unsupported", "threaded"),
    [
        pytest.param(0, "threads_off", ["create", None, None, None], id="threads-off"),
        pytest.param(
            1200, "conversation_size", ["create", "continue", "continue", None], id="too-large"
        ),
    ],
)
async def test_a_conversation_the_proxy_cannot_thread_goes_on_unthreaded(
    start_proxy: ProxyFactory,
    fake_openai: FakeOpenAI,
    tmp_path: Path,
    limit: int,
    unsupported: str,
    threaded: list[str],
) -> None:
    fake_openai.enqueue(*two_tool_rounds())
    url = await start_proxy(
        openai_api_key="sk-test-key-0001",
        openai_api_base=fake_openai.base_url,
        data_dir=tmp_path,
        thread_store_max_bytes=limit,
    )

    async def nothing(message: Any) -> None:
        pass

    final, sent, refusals = await run_with(url, nothing)

    assert final.content[-1].text == "The answer is 20."
    assert refusals == [
        (400, {"error_code": "thread_unsupported_request", "unsupported": [unsupported]})
    ]
    # The refused turn goes again without a thread, and so does every later one.
    assert threads_of(sent) == threaded
    check_whole_conversations(fake_openai.requests)


def tool_result(tool_use_id: str, content: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": tool_use_id, "content": content}],
    }


def proxy_settings(fake_openai: FakeOpenAI, data_dir: Path) -> Settings:
    return load_settings(
        {
            "openai_api_key": "sk-test-key-0001",
            "openai_api_base": fake_openai.base_url,
            "data_dir": data_dir,
        },
        env_file=None,
    )


async def threaded_create(url: str) -> anthropic.types.beta.BetaMessage:
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        return await client.beta.messages.create(
            model="claude-sonnet-5",
            max_tokens=100,
            system=SYSTEM,
            tools=[add.to_dict()],
            messages=[{"role": "user", "content": QUESTION}],
            thread={"type": "create"},
            betas=["message-threads-2026-08-12"],
        )


async def threaded_continue(url: str, reply: Any) -> anthropic.types.beta.BetaMessage:
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        return await client.beta.messages.create(
            model="claude-sonnet-5",
            max_tokens=100,
            messages=[tool_result(reply.content[0].id, "5")],
            thread={"type": "continue", "previous_message_id": reply.id},
            betas=["message-threads-2026-08-12"],
        )


def check_continued(sent: dict[str, Any]) -> None:
    assert sent["messages"][0] == {"role": "system", "content": SYSTEM}
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["add"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool"]
    assert sent["messages"][2]["tool_calls"][0]["id"] == "call_1"


async def test_a_thread_outlives_a_restart(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.enqueue(two_tool_rounds()[0], Answer(text="5, then."))
    settings = proxy_settings(fake_openai, tmp_path)
    async with serving_on_loopback(create_app(settings)) as url:
        reply = await threaded_create(url)
    async with serving_on_loopback(create_app(settings)) as url:
        answer = await threaded_continue(url, reply)

    assert answer.content[0].text == "5, then."  # type: ignore[union-attr]
    check_continued(fake_openai.requests[1])


async def test_a_thread_kept_by_one_worker_is_continued_by_another(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.enqueue(two_tool_rounds()[0], Answer(text="5, then."))
    settings = proxy_settings(fake_openai, tmp_path)
    async with (
        serving_on_loopback(create_app(settings)) as first,
        serving_on_loopback(create_app(settings)) as second,
    ):
        reply = await threaded_create(first)
        answer = await threaded_continue(second, reply)
        with pytest.raises(anthropic.BadRequestError) as again:
            await threaded_continue(first, reply)

    assert answer.content[0].text == "5, then."  # type: ignore[union-attr]
    check_continued(fake_openai.requests[1])
    assert again.value.error_code == "thread_already_continued"


async def test_unthreaded_requests_never_open_the_store(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.enqueue(*two_tool_rounds())
    url = await start_proxy(
        openai_api_key="sk-test-key-0001", openai_api_base=fake_openai.base_url, data_dir=tmp_path
    )
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        runner = client.beta.messages.tool_runner(**runner_kwargs(), thread=False)
        final = await runner.until_done()

    assert final.content[0].text == "The answer is 20."  # type: ignore[union-attr]
    assert not (tmp_path / "threads.sqlite3").exists()
    check_whole_conversations(fake_openai.requests)


async def test_anthropic_models_keep_their_own_threads(
    start_proxy: ProxyFactory, aiohttp_server: Any, tmp_path: Path
) -> None:
    fake = FakeAnthropic()
    server = await aiohttp_server(fake.app())
    fake.enqueue(
        AnthropicAnswer(
            message_of(
                [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2, "b": 3}}],
                "tool_use",
                message_id="msg_upstream_1",
            )
        ),
        AnthropicAnswer(text_message("Five.", message_id="msg_upstream_2")),
    )
    url = await start_proxy(
        preferred_provider="anthropic",
        anthropic_api_key="sk-ant-proxy",
        anthropic_api_base=str(server.make_url("")).rstrip("/"),
        data_dir=tmp_path,
    )
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        runner = client.beta.messages.tool_runner(**{**runner_kwargs(), "model": "claude-opus-4-1"})
        final = await runner.until_done()

    assert final.content[0].text == "Five."  # type: ignore[union-attr]
    first, second = fake.received
    assert first.body["thread"] == {"type": "create"}
    assert second.body["thread"] == {"type": "continue", "previous_message_id": "msg_upstream_1"}
    assert "tools" not in second.body and len(second.body["messages"]) == 1
    assert "message-threads-2026-08-12" in second.headers["anthropic-beta"]
    assert not (tmp_path / "threads.sqlite3").exists()


async def test_a_small_continue_of_a_large_thread_is_translated_off_the_loop(
    start_proxy: ProxyFactory, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_proxy.server import messages, translation

    threads = note_threads(monkeypatch, messages, "translate")
    monkeypatch.setattr(translation, "OFF_LOOP_BYTES", 2000)
    fake_openai.enqueue(two_tool_rounds()[0], Answer(text="5, then."))
    url = await proxy_for(start_proxy, fake_openai, "native")
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        reply = await client.beta.messages.create(
            model="claude-sonnet-5",
            max_tokens=100,
            tools=[add.to_dict()],
            messages=[{"role": "user", "content": "x" * 2001}],
            thread={"type": "create"},
        )
    await threaded_continue(url, reply)

    assert threads == [False, False]  # both in a worker thread, not on the loop's
    assert len(fake_openai.requests[1]["messages"][0]["content"]) == 2001


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_gemini_thread_gives_back_every_thought_signature(
    start_proxy: ProxyFactory, fake_gemini: FakeGemini, stream: bool
) -> None:
    one, two = (base64.b64encode(raw).decode() for raw in (b"\x01sig-one", b"\x02sig-two"))
    fake_gemini.enqueue(
        GeminiReply([gemini_call("add", {"a": 2, "b": 3}, signature=one)]),
        GeminiReply([gemini_call("multiply", {"a": 5, "b": 4}, signature=two)]),
        GeminiReply([gemini_text("The answer is 20.")]),
    )
    url = await start_proxy(
        preferred_provider="google", gemini_api_key=GEMINI_KEY, gemini_api_base=fake_gemini.base_url
    )
    sent: list[dict[str, Any]] = []
    async with anthropic.AsyncAnthropic(
        base_url=url, api_key="k", max_retries=0, http_client=recording(sent)
    ) as client:
        runner = client.beta.messages.tool_runner(**runner_kwargs(), stream=stream)
        final = await runner.until_done()

    assert final.content[-1].text == "The answer is 20."  # type: ignore[union-attr]
    assert threads_of(sent) == ["create", "continue", "continue"]
    assert fake_gemini.rejections == []
    signatures = [
        part.get("thoughtSignature")
        for content in fake_gemini.requests[2]["contents"]
        for part in content["parts"]
        if "function_call" in part
    ]
    assert signatures == [one, two]


async def test_the_sdks_thread_sends_each_turn_alone_and_the_upstream_sees_it_all(
    proxy_url: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Answer(text="Hi, Ada."), Answer(text="Your name is Ada."))
    sent: list[dict[str, Any]] = []
    async with anthropic.AsyncAnthropic(
        base_url=proxy_url, api_key="k", max_retries=0, http_client=recording(sent)
    ) as client:
        thread = client.beta.messages.thread(model="claude-sonnet-5", max_tokens=100, system=SYSTEM)
        first = await thread.send({"role": "user", "content": "I am Ada."})
        async with thread.stream({"role": "user", "content": "Who am I?"}) as stream:
            second = await stream.get_final_message()

    assert second.content[0].text == "Your name is Ada."  # type: ignore[union-attr]
    assert sent[1]["thread"] == {"type": "continue", "previous_message_id": first.id}
    assert sent[1]["messages"] == [{"role": "user", "content": "Who am I?"}]
    assert [m["role"] for m in fake_openai.requests[1]["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert fake_openai.requests[1]["messages"][2]["content"] == "Hi, Ada."


async def test_serve_with_two_workers_threads_the_tool_runner(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Each request on a fresh connection, so either worker may take any turn."""
    rounds = 3
    for _ in range(rounds):
        fake_openai.enqueue(*two_tool_rounds())
    port = free_port()
    env = serve_env(
        OPENAI_API_KEY="sk-test", OPENAI_API_BASE=fake_openai.base_url, DATA_DIR=str(tmp_path)
    )
    process = await start_serve(tmp_path, env, "--port", str(port), "--workers", "2")
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            await wait_for_health(session, f"{url}/health")
        for _ in range(rounds):
            sent: list[dict[str, Any]] = []
            http = recording(sent, limits=httpx2.Limits(max_keepalive_connections=0))
            async with anthropic.AsyncAnthropic(
                base_url=url, api_key="k", max_retries=0, http_client=http
            ) as client:
                final = await client.beta.messages.tool_runner(**runner_kwargs()).until_done()
            assert final.content[0].text == "The answer is 20."  # type: ignore[union-attr]
            assert threads_of(sent) == ["create", "continue", "continue"]
    finally:
        stderr = await stop(process)
    assert "Booting worker" in stderr
    assert len(rows_of(tmp_path)) == 3 * rounds


def rows_of(data_dir: Path) -> list[str]:
    with threads_db(data_dir) as db:
        return [row[0] for row in db.execute("SELECT message_id FROM threads")]
