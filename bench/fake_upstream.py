"""The benchmark's upstream: an OpenAI chat-completions stream of fixed text, on 127.0.0.1.

Chunk shapes come from the tests' fake (`tests.fakes.openai_upstream.Answer`), rendered once and
written one chunk per `write`, so the fake costs little CPU next to the proxy. It records nothing,
so memory stays flat over thousands of requests.

    python -m bench.fake_upstream PORT [TEXT_PIECES]    (from the repository root)
"""

from __future__ import annotations

import json
import sys

from aiohttp import web

from tests.fakes.openai_upstream import Answer

TEXT = " ".join(f"word{i:02d}" for i in range(60))


def render(answer: Answer, model: str, include_usage: bool) -> list[bytes]:
    """The SSE frames of `answer`, `[DONE]` included."""
    frames = [
        f"data: {json.dumps(chunk)}\n\n".encode() for chunk in answer.chunks(model, include_usage)
    ]
    return [*frames, b"data: [DONE]\n\n"]


def make_app(text_pieces: int) -> web.Application:
    """POST /v1/chat/completions (streamed only) and GET /health."""
    answer = Answer(text=TEXT, text_pieces=text_pieces)
    rendered: dict[tuple[str, bool], list[bytes]] = {}

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("stream"):
            return web.json_response(answer.completion(body["model"]))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        key = (body["model"], include_usage)
        if key not in rendered:
            rendered[key] = render(answer, *key)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for frame in rendered[key]:
            await response.write(frame)
        await response.write_eof()
        return response

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    port = int(sys.argv[1])
    pieces = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    web.run_app(make_app(pieces), host="127.0.0.1", port=port, access_log=None, print=None)
