from __future__ import annotations

from claude_proxy.web_tools.html_text import html_title, html_to_text


def test_html_becomes_markdown_like_text() -> None:
    text = html_to_text(
        "<h2>Head</h2><p>A <a href='https://x.test/'>link</a> and &amp; more.</p>"
        "<script>alert(1)</script><style>p {}</style><img src='i.png' alt='pic'>"
    )
    assert "## Head" in text and "[link](https://x.test/)" in text and "& more" in text
    assert "alert" not in text and "p {}" not in text and "i.png" not in text


def test_the_first_title_is_read_with_entities_and_spaces_folded() -> None:
    assert html_title("<title>  A &amp;\n B </title><title>second</title>") == "A & B"
    assert html_title("<p>no title</p>") is None
