"""A fetched page as text: HTML through html2text (Markdown-like text: headings, lists and
links kept), its <title> through the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

import html2text


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: the model reads lines as they are
    converter.ignore_images = True
    converter.unicode_snob = True
    return converter.handle(html).strip()


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.done = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.done:
            self.inside = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.inside:
            self.inside = False
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.parts.append(data)


def html_title(html: str) -> str | None:
    parser = _TitleParser()
    parser.feed(html[:200_000])
    title = " ".join("".join(parser.parts).split())
    return title or None
