"""The parser of tool calls written as text: every form, what stays text, and what a stream holds."""

from __future__ import annotations

import json

import pytest

from claude_proxy.providers.text_tool_calls import (
    Piece,
    TextToolCall,
    TextToolCallParser,
    merge_text,
    parse_text_tool_calls,
)

TOOLS = {
    "Bash": {
        "type": "object",
        "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}},
    },
    "Read": {"type": "object", "properties": {"file_path": {"type": "string"}}},
}


def call(name: str, **arguments: object) -> TextToolCall:
    return TextToolCall(name, json.dumps(arguments))


LS = call("Bash", command="ls -la")
READ_A = call("Read", file_path="a.txt")

CASES: list[tuple[str, str, list[Piece]]] = [
    ("function", '<function=Bash>{"command": "ls -la"}</function>', [LS]),
    ("function-no-close", 'Listing.\n\n<function=Bash>{"command": "ls -la"}', ["Listing.", LS]),
    (
        "function-spaced",
        'Listing.\n<function=Bash>\n{"command": "ls -la"}\n</function>\n',
        ["Listing.", LS],
    ),
    ("function-ignoring-case", '<function=bash>{"command": "ls -la"}</function>', [LS]),
    (
        "function-raw-newline-in-string",
        '<function=Bash>{"command": "ls\n-la"}</function>',
        [call("Bash", command="ls\n-la")],
    ),
    (
        "function-json-escapes-kept",
        r'<function=Bash>{"command": "printf \"a\\nb\""}</function>',
        [call("Bash", command='printf "a\\nb"')],
    ),
    (
        "function-qwen-parameters",
        "<function=Bash>\n<parameter=command>\nls -la\n</parameter>\n"
        "<parameter=timeout>\n30\n</parameter>\n</function>",
        [call("Bash", command="ls -la", timeout=30)],
    ),
    (
        "tool_call",
        '<tool_call>\n{"name": "Bash", "arguments": {"command": "ls -la"}}\n</tool_call>',
        [LS],
    ),
    (
        "tool_call-arguments-as-string",
        '<tool_call>{"name": "Bash", "arguments": "{\\"command\\": \\"ls -la\\"}"}</tool_call>',
        [LS],
    ),
    (
        "tool_call-wrapping-qwen-function",
        "<tool_call>\n<function=Read>\n<parameter=file_path>\na.txt\n</parameter>\n</function>\n</tool_call>",
        [READ_A],
    ),
    (
        "python_tag-json",
        '<|python_tag|>{"name": "Bash", "parameters": {"command": "ls -la"}}<|eom_id|>',
        [LS],
    ),
    ("python_tag-call", '<|python_tag|>bash.call(command="ls -la")', [LS]),
    ("bare-object", '\n  {"name": "Bash", "parameters": {"command": "ls -la"}}\n', [LS]),
    (
        "bare-object-openai-shape",
        '{"type": "function", "function": {"name": "Bash", "arguments": {"command": "ls -la"}}}',
        [LS],
    ),
    (
        "bare-objects-separated-by-semicolon",
        '{"name": "Bash", "parameters": {"command": "ls -la"}}; '
        '{"name": "Read", "parameters": {"file_path": "a.txt"}}',
        [LS, READ_A],
    ),
    (
        "fenced-json",
        'I will look.\n```json\n{"name": "Bash", "arguments": {"command": "ls -la"}}\n```\n',
        ["I will look.", LS],
    ),
    ("fenced-plain", '```\n{"name": "Bash", "parameters": {"command": "ls -la"}}\n```', [LS]),
    ("pythonic", '[Bash(command="ls -la"), Read(file_path="a.txt")]', [LS, READ_A]),
    (
        "two-calls-text-between-and-after",
        'First this.\n<function=Bash>{"command": "ls -la"}</function>\n'
        '<function=Read>{"file_path": "a.txt"}</function>\nThen I will report.',
        ["First this.", LS, READ_A, "Then I will report."],
    ),
]

TEXT_ONLY = [
    ("function-not-offered", '<function=Write>{"file_path": "x"}</function>'),
    ("tool_call-not-offered", '<tool_call>{"name": "Write", "arguments": {}}</tool_call>'),
    ("bare-object-not-offered", '{"name": "Write", "parameters": {"file_path": "x"}}'),
    ("bare-object-not-a-call", '{"name": "Alice", "age": 3}'),
    ("object-after-text", 'Here: {"name": "Bash", "parameters": {"command": "ls"}}'),
    ("bare-object-without-arguments", '{"name": "Bash"}'),
    ("fenced-python", "```python\nprint({'a': 1})\n```"),
    ("fenced-json-not-a-call", '```json\n{"name": "Bash", "extra": 1, "arguments": {}}\n```'),
    ("pythonic-not-offered", '[Write(file_path="x")]'),
    ("markdown-link", "[Bash](https://example.com) runs commands."),
    ("python_tag-code", "<|python_tag|>import math\nprint(math.pi)"),
    ("cut-off-call", '<function=Bash>{"command": "ls -'),
    ("comparisons", "if a < b and c <= d then {x} else <tool> `code` ``more``"),
    ("trailing-newline-kept", "Hello world.\n"),
]


@pytest.mark.parametrize(
    ("text", "pieces"), [(t, p) for _, t, p in CASES], ids=[c[0] for c in CASES]
)
def test_forms(text: str, pieces: list[Piece]) -> None:
    assert parse_text_tool_calls(text, TOOLS) == pieces


@pytest.mark.parametrize("text", [t for _, t in TEXT_ONLY], ids=[c[0] for c in TEXT_ONLY])
def test_what_is_not_an_offered_call_stays_text_unchanged(text: str) -> None:
    assert parse_text_tool_calls(text, TOOLS) == [text]


@pytest.mark.parametrize(
    "text",
    [t for _, t, _ in CASES] + [t for _, t in TEXT_ONLY],
    ids=[c[0] for c in CASES + TEXT_ONLY],
)
def test_one_character_at_a_time_gives_the_same_pieces(text: str) -> None:
    parser = TextToolCallParser(TOOLS)
    pieces = [piece for char in text for piece in parser.feed(char)]
    assert merge_text([*pieces, *parser.finish()]) == parse_text_tool_calls(text, TOOLS)


def feed_all(chunks: list[str]) -> list[list[Piece]]:
    """What the parser returns for each chunk, then for finish()."""
    parser = TextToolCallParser(TOOLS)
    return [parser.feed(chunk) for chunk in chunks] + [parser.finish()]


def test_a_call_split_in_tiny_chunks_is_held_until_complete() -> None:
    chunks = ["Hello ", "world", ". Let me <", "func", "tion=Bash>", '{"command": ', '"ls -la"}']
    chunks += ["</func", "tion>"]
    assert feed_all(chunks) == [
        ["Hello"],
        [" world"],
        [". Let me"],
        [],
        [],
        [],
        [],
        [],
        [LS],
        [],
    ]


def test_a_call_without_closing_tag_is_decided_by_the_end_of_the_answer() -> None:
    assert feed_all(['<function=Bash>{"command": "ls -la"}']) == [[], [LS]]
    assert feed_all(['<function=Bash>{"command": "ls -la"}', " Done."]) == [[], [LS, "Done."], []]


def test_prose_with_angle_brackets_and_braces_is_held_only_while_it_may_be_a_marker() -> None:
    assert feed_all(["a <", " b and {", "x} then ``", "x`` <tool_", "cal", "x>"]) == [
        ["a"],  # "<" may begin a marker; the space before it waits with it
        [" < b and {"],  # a brace after text never begins a call
        ["x} then"],
        [" ``x``"],  # "``" could have grown into a fence; "<tool_" into "<tool_call>"
        [],
        [" <tool_calx>"],
        [],
    ]


def test_a_plain_prose_chunk_passes_at_once() -> None:
    assert feed_all(["The answer is 42.", " It is.", ""]) == [
        ["The answer is 42."],
        [" It is."],
        [],
        [],
    ]


def test_an_object_opening_the_answer_is_held_until_it_closes() -> None:
    assert feed_all(['{"name": "Alice", ', '"age": 3}', " is the record."]) == [
        [],
        ['{"name": "Alice", "age": 3}'],
        [" is the record."],
        [],
    ]
    assert feed_all(['{"name": "Bash", "parameters": ', '{"command": "ls -la"}}', "\n"]) == [
        [],
        [LS],
        [],
        [],
    ]


def test_a_brace_not_followed_by_a_key_is_text_at_once() -> None:
    assert feed_all(["{x} marks the spot"]) == [["{x} marks the spot"], []]
    assert feed_all(["  {", "}"]) == [[], ["  {}"], []]


def test_a_fence_with_another_language_is_released_at_its_language() -> None:
    assert feed_all(["```py", "thon\nprint(1)\n```"]) == [
        ["```py"],
        ["thon\nprint(1)"],
        ["\n```"],
    ]


def test_whitespace_next_to_calls_is_dropped_and_text_after_them_kept() -> None:
    text = '  Run:\n<tool_call>{"name": "Bash", "arguments": {"command": "ls -la"}}</tool_call>\n\n'
    assert parse_text_tool_calls(text, TOOLS) == ["  Run:", LS]
    assert parse_text_tool_calls("   \n", TOOLS) == ["   \n"]


def test_no_tools_offered_means_no_calls() -> None:
    text = '<function=Bash>{"command": "ls -la"}</function>'
    assert parse_text_tool_calls(text, {}) == [text]


def test_a_large_call_in_tiny_chunks_comes_out_whole() -> None:
    content = 'echo "{[(quoted)]}" \\ ' * 2000
    parser = TextToolCallParser(TOOLS)
    text = json.dumps({"command": content}) + "</function>"
    assert parser.feed("<function=Bash>") == []
    held = [parser.feed(text[i : i + 4]) for i in range(0, len(text) - 4, 4)]
    assert all(out == [] for out in held)
    assert parser.feed(text[len(held) * 4 :]) == [call("Bash", command=content)]
