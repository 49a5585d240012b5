"""Fake search APIs and a fake web site on 127.0.0.1, for the proxy's web tools.

One app serves Brave's `/web/search`, Tavily's `POST /search` and SearXNG's
`/search?format=json`, each answering `hits` in its own format, and a small site under
`/site/`: an HTML page, a plain text file, a redirect chain, a PDF. Every request is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PAGE = """<!doctype html><html><head><title>Fake Page  Title</title></head>
<body><h1>Welcome</h1><p>The answer is <b>forty-two</b>.</p>
<ul><li>one</li><li>two</li></ul><script>var hidden = 1;</script></body></html>"""


@dataclass
class Hit:
    url: str
    title: str
    snippet: str
    age: str | None = None


DEFAULT_HITS = [
    Hit("https://docs.example.com/a", "Example A", "Alpha snippet about the topic.", "2 days ago"),
    Hit("https://other.test/b", "Other B", "Bravo snippet."),
    Hit("https://blocked.example.org/c", "Blocked C", "Charlie snippet."),
]


@dataclass
class FakeWeb:
    hits: list[Hit] = field(default_factory=lambda: list(DEFAULT_HITS))
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/web/search", self.brave)
        app.router.add_post("/search", self.tavily)
        app.router.add_get("/search", self.searxng)
        app.router.add_get("/site/page.html", self.page)
        app.router.add_get("/site/notes.txt", self.notes)
        app.router.add_get("/site/doc.pdf", self.pdf)
        app.router.add_get("/site/redirect/{hops}", self.redirect)
        app.router.add_get("/site/away", self.away)
        return app

    async def _record(self, request: web.Request, backend: str) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        self.requests.append(
            {
                "backend": backend,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if self.status != 200:
            return web.json_response({"error": "nope"}, status=self.status)
        return None

    async def brave(self, request: web.Request) -> web.Response:
        failed = await self._record(request, "brave")
        results = [
            {"url": h.url, "title": h.title, "description": h.snippet, "age": h.age}
            for h in self.hits
        ]
        return failed or web.json_response({"web": {"results": results}})

    async def tavily(self, request: web.Request) -> web.Response:
        failed = await self._record(request, "tavily")
        results = [{"url": h.url, "title": h.title, "content": h.snippet} for h in self.hits]
        return failed or web.json_response({"results": results})

    async def searxng(self, request: web.Request) -> web.Response:
        failed = await self._record(request, "searxng")
        results = [
            {"url": h.url, "title": h.title, "content": h.snippet, "publishedDate": h.age}
            for h in self.hits
        ]
        return failed or web.json_response({"results": results})

    async def page(self, request: web.Request) -> web.Response:
        await self._record(request, "site")
        return web.Response(text=PAGE, content_type="text/html")

    async def notes(self, request: web.Request) -> web.Response:
        await self._record(request, "site")
        return web.Response(text="plain notes\nline two", content_type="text/plain")

    async def pdf(self, request: web.Request) -> web.Response:
        await self._record(request, "site")
        return web.Response(body=b"%PDF-1.4", content_type="application/pdf")

    async def redirect(self, request: web.Request) -> web.Response:
        await self._record(request, "site")
        hops = int(request.match_info["hops"])
        target = "/site/page.html" if hops <= 1 else f"/site/redirect/{hops - 1}"
        raise web.HTTPFound(target)

    async def away(self, request: web.Request) -> web.Response:
        """A redirect to wherever `?to=` says (another host, a private address)."""
        await self._record(request, "site")
        raise web.HTTPFound(request.query["to"])
