"""The blocks Anthropic's API returns for its web tools, and the text the upstream model
reads for each.

Anthropic's `encrypted_content` is opaque: the client only sends it back. Here it is a
self-contained encoding (`cpxws1.` + zlib + base64url of the hit's JSON), so a history the
client sends back gives the upstream the same result text with no store on the proxy. It is
encoded, not encrypted: the client already saw the results. A value the proxy did not make
(a history from Anthropic itself) still gives the model the title and URL. A citation's
`encrypted_index` is encoded the same way (`cpxci1.`): the marker the model wrote, the
result's number and URL (`citations.py`).

Search results are numbered across the conversation, in the order their blocks come
(`numbered_results`), and the model reads each under its marker (`[web:3]`), so a marker
names one result whichever search found it.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import zlib
from typing import Any

from claude_proxy.translate.web_results import FetchedPage, SearchHit

Block = dict[str, Any]

ENCODING_PREFIX = "cpxws1."
INDEX_PREFIX = "cpxci1."
CITE_INSTRUCTION = (
    "Cite a result by writing its marker, such as {example}, right after the sentence it "
    "supports{several}. Write no other markers."
)
SERVER_ID_PREFIX = "srvtoolu_"
RESULT_TYPES = {"web_search_tool_result": "web_search", "web_fetch_tool_result": "web_fetch"}
ERROR_TEXTS = {
    "unavailable": "the search service is unavailable",
    "max_uses_exceeded": "the tool was used as many times as this request allows (max_uses)",
    "too_many_requests": "the search service is rate limiting; try again later",
    "query_too_long": "the query is too long",
    "invalid_tool_input": "the tool input was not valid",
    "request_too_large": "the request was too large",
    "url_too_long": "the URL is too long",
    "url_not_allowed": "the URL's domain is not allowed (allowed_domains / blocked_domains)",
    "url_not_accessible": "the URL could not be fetched",
    "unsupported_content_type": "the URL's content type is not supported",
    "content_too_large": "the page is too large",
    "url_not_in_prior_context": "the URL was not in the conversation before",
}


def server_tool_id(upstream_id: str) -> str:
    """The `srvtoolu_` id of a call the upstream gave `upstream_id`: the id itself inside, as
    a provider may keep state in it (Gemini's thought signature, providers/gemini.py)."""
    return SERVER_ID_PREFIX + (upstream_id or secrets.token_urlsafe(18))


def upstream_tool_id(server_id: str) -> str:
    return server_id.removeprefix(SERVER_ID_PREFIX) or server_id


def server_tool_use(block_id: str, name: str, tool_input: dict[str, Any]) -> Block:
    return {"type": "server_tool_use", "id": block_id, "name": name, "input": tool_input}


def encode_hit(hit: SearchHit) -> str:
    return pack(ENCODING_PREFIX, {"u": hit.url, "t": hit.title, "x": hit.text, "a": hit.page_age})


def decode_hit_text(encrypted: Any) -> str:
    """The result text an `encrypted_content` holds, or "" when the proxy did not make it."""
    text = unpack(ENCODING_PREFIX, encrypted).get("x")
    return text if isinstance(text, str) else ""


def encode_index(marker: str, number: int, url: str) -> str:
    """A citation's `encrypted_index`: the marker as the model wrote it, the result's number
    and URL."""
    return pack(INDEX_PREFIX, {"m": marker, "n": number, "u": url})


def decode_marker(encrypted: Any) -> str | None:
    """The marker an `encrypted_index` the proxy made holds, else None."""
    marker = unpack(INDEX_PREFIX, encrypted).get("m")
    return marker if isinstance(marker, str) else None


def pack(prefix: str, data: dict[str, Any]) -> str:
    packed = zlib.compress(json.dumps(data, ensure_ascii=False).encode())
    return prefix + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def unpack(prefix: str, encoded: Any) -> dict[str, Any]:
    """What `pack` packed with `prefix`, or {} for anything else."""
    if not isinstance(encoded, str) or not encoded.startswith(prefix):
        return {}
    payload = encoded[len(prefix) :]
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data = json.loads(raw)
    except (binascii.Error, zlib.error, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def search_items(block: Any) -> list[Block]:
    """The results of a `web_search_tool_result` block, each of which gets a number."""
    if not isinstance(block, dict) or block.get("type") != "web_search_tool_result":
        return []
    content = block.get("content")
    if not isinstance(content, list):
        return []
    return [item for item in content if isinstance(item, dict)]


def marker(number: int) -> str:
    return f"[web:{number}]"


def search_result_block(tool_use_id: str, hits: list[SearchHit]) -> Block:
    content = [
        {
            "type": "web_search_result",
            "url": hit.url,
            "title": hit.title,
            "page_age": hit.page_age,
            "encrypted_content": encode_hit(hit),
        }
        for hit in hits
    ]
    return {"type": "web_search_tool_result", "tool_use_id": tool_use_id, "content": content}


def fetch_result_block(tool_use_id: str, page: FetchedPage) -> Block:
    document: Block = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": page.text},
    }
    if page.title:
        document["title"] = page.title
    content = {
        "type": "web_fetch_result",
        "url": page.url,
        "retrieved_at": page.retrieved_at,
        "content": document,
    }
    return {"type": "web_fetch_tool_result", "tool_use_id": tool_use_id, "content": content}


def error_block(kind: str, tool_use_id: str, code: str) -> Block:
    """A `web_search_tool_result_error` or `web_fetch_tool_result_error`, by the tool's kind."""
    return {
        "type": f"{kind}_tool_result",
        "tool_use_id": tool_use_id,
        "content": {"type": f"{kind}_tool_result_error", "error_code": code},
    }


def result_text(block: Block, detail: str = "", first: int = 1) -> str:
    """What the upstream model reads for a result block (fresh, or sent back by the client);
    its search results are numbered from `first`."""
    content = block.get("content")
    kind = RESULT_TYPES.get(str(block.get("type")), "web_search")
    if isinstance(content, dict) and str(content.get("type", "")).endswith("_error"):
        code = str(content.get("error_code") or "unavailable")
        why = detail or ERROR_TEXTS.get(code, code)
        return f"The {kind} tool failed ({code}): {why}."
    if kind == "web_fetch":
        return fetch_text(content if isinstance(content, dict) else {})
    return search_text(search_items(block), first)


def search_text(results: list[Block], first: int = 1) -> str:
    if not results:
        return "The search found no results."
    parts = []
    for number, item in enumerate(results, first):
        title = item.get("title") or "(untitled)"
        lines = [f"{marker(number)} {title}", f"URL: {item.get('url', '')}"]
        if item.get("page_age"):
            lines.append(f"Age: {item['page_age']}")
        text = decode_hit_text(item.get("encrypted_content"))
        if text:
            lines.append(text)
        parts.append("\n".join(lines))
    several = f" (several: {marker(first)}{marker(first + 1)})" if len(results) > 1 else ""
    cite = CITE_INSTRUCTION.format(example=marker(first), several=several)
    return "Search results:\n\n" + "\n\n".join(parts) + "\n\n" + cite


def fetch_text(content: dict[str, Any]) -> str:
    document = content.get("content") if isinstance(content.get("content"), dict) else {}
    assert isinstance(document, dict)
    source = document.get("source") if isinstance(document.get("source"), dict) else {}
    assert isinstance(source, dict)
    heading = f"Fetched {content.get('url', '')}"
    if document.get("title"):
        heading += f" ({document['title']})"
    data = source.get("data")
    if source.get("type") != "text" or not isinstance(data, str):
        return heading + ": the content is not text."
    return f"{heading}:\n\n{data}"
