"""The benchmarks' upstream: OpenAI and Gemini streams of fixed replies, on 127.0.0.1.

    POST /v1/chat/completions                          OpenAI chunks (tests.fakes.openai_upstream)
    POST /v1beta/models/{model}:streamGenerateContent  Gemini chunks (tests.fakes.gemini_upstream)
    GET  /health

A request that offers tools gets the `tools` reply, any other the `text` reply (workloads.py).
Each stream is rendered once and written one chunk per `write`, so the fake costs little CPU
next to what it serves. A request whose prompt asks for a pace (`workloads.paced`) gets its
chunks that many milliseconds apart, as a model sends them. It records nothing, so its memory
stays flat over any number of requests.

    uv run python -m bench.fake_upstream PORT    (from the repository root)
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from aiohttp import web

from bench.workloads import Workload, pace_of, workload_of


def sse(chunks: list[dict[str, Any]], end: list[bytes]) -> list[bytes]:
    return [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + end


def make_app() -> web.Application:
    rendered: dict[tuple[str, str, bool], list[bytes]] = {}

    def frames(workload: Workload, dialect: str, model: str, usage: bool) -> list[bytes]:
        key = (f"{dialect}:{workload.name}", model, usage)
        if key not in rendered:
            if dialect == "openai":
                rendered[key] = sse(workload.openai.chunks(model, usage), [b"data: [DONE]\n\n"])
            else:
                rendered[key] = sse(workload.gemini.stream(model), [])
        return rendered[key]

    async def stream(request: web.Request, frames: list[bytes], pace: float) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for sent, frame in enumerate(frames):
            if pace and sent:
                await asyncio.sleep(pace)
            await response.write(frame)
        await response.write_eof()
        return response

    async def completions(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw)
        workload = workload_of(body)
        if not body.get("stream"):
            return web.json_response(workload.openai.completion(body["model"]))
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = frames(workload, "openai", body["model"], usage)
        return await stream(request, chunks, pace_of(raw))

    async def generate(request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["target"].partition(":")
        raw = await request.read()
        workload = workload_of(json.loads(raw))
        if method == "generateContent":
            return web.json_response(workload.gemini.response(model))
        return await stream(request, frames(workload, "gemini", model, True), pace_of(raw))

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_post("/v1beta/models/{target}", generate)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    web.run_app(
        make_app(),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
        backlog=4096,
    )
