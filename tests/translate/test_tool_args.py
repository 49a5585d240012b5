import json
import logging
import re

import pytest

from claude_proxy.translate.tool_args import completion_suffix, parse_tool_arguments


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param('{"command": "ls"}', {"command": "ls"}, id="valid"),
        pytest.param(None, {}, id="none"),
        pytest.param("", {}, id="empty"),
        pytest.param("  \n", {}, id="whitespace"),
        pytest.param({"already": "parsed"}, {"already": "parsed"}, id="dict"),
        pytest.param('```json\n{"a": 1}\n```', {"a": 1}, id="json-fence"),
        pytest.param('```\n{"a": 1}\n```\n', {"a": 1}, id="bare-fence"),
        pytest.param('```json\n{"a": "b', {"a": "b"}, id="fence-unclosed-and-truncated"),
        pytest.param('{"a": 1}\n\nI ran the tool.', {"a": 1}, id="trailing-text"),
        pytest.param('{"a": 1}{"b": 2}', {"a": 1}, id="two-objects-keeps-first"),
        pytest.param('"{\\"a\\": [1, 2]}"', {"a": [1, 2]}, id="double-encoded"),
        pytest.param('{"text": "one\ntwo"}', {"text": "one\ntwo"}, id="raw-newline-in-string"),
        pytest.param(
            '{"path": "/tmp/x", "content": "hel',
            {"path": "/tmp/x", "content": "hel"},
            id="cut-in-string",
        ),
        pytest.param('{"a": {"b": [1, {"c": "d', {"a": {"b": [1, {"c": "d"}]}}, id="cut-nested"),
        pytest.param('{"a": 1,', {"a": 1}, id="dangling-comma"),
        pytest.param('{"a": 1, "b"', {"a": 1}, id="key-without-colon"),
        pytest.param('{"a": 1, "b":', {"a": 1}, id="key-without-value"),
        pytest.param('{"a": 1, "b": ', {"a": 1}, id="key-without-value-space"),
        pytest.param('{"a": [1, 2,', {"a": [1, 2]}, id="dangling-comma-in-array"),
        pytest.param('{"a": 1, "bc', {"a": 1}, id="cut-in-key"),
        pytest.param('{"a": tru', {"a": True}, id="cut-literal"),
        pytest.param('{"a": 12.', {"a": 12.0}, id="cut-number"),
        pytest.param('{"a": "x\\', {"a": "x\\"}, id="cut-after-backslash"),
        pytest.param("{", {}, id="only-brace"),
    ],
)
def test_parse_tool_arguments(raw: str | None, expected: dict) -> None:
    assert parse_tool_arguments(raw, tool_name="Bash") == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[1, 2]", id="array"),
        pytest.param('"just text"', id="string"),
        pytest.param("42", id="number"),
        pytest.param("I will run ls", id="prose"),
        pytest.param('{"a": 01}', id="bad-number"),
        pytest.param('{"a": truex}', id="bad-literal"),
        pytest.param('{"a" 1}', id="missing-colon"),
    ],
)
def test_parse_tool_arguments_gives_up_with_warning(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="claude_proxy.translate.tool_args"):
        assert parse_tool_arguments(raw, tool_name="Write") == {}
    assert len(caplog.records) == 1
    assert "Write" in caplog.records[0].getMessage()
    assert f"{len(raw)} chars" in caplog.records[0].getMessage()


def test_warning_never_contains_the_arguments(caplog: pytest.LogCaptureFixture) -> None:
    secret = "x" * 5000
    with caplog.at_level(logging.INFO, logger="claude_proxy.translate.tool_args"):
        parse_tool_arguments('{"content": "' + secret, tool_name="Write")
        parse_tool_arguments("[" + secret, tool_name="Write")
    assert caplog.records
    assert all(secret[:100] not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("partial", "suffix"),
    [
        pytest.param('{"a": 1}', "", id="valid"),
        pytest.param('{"a": 1}  \n', "", id="valid-trailing-space"),
        pytest.param("", "{}", id="empty"),
        pytest.param("{", "}", id="open-brace"),
        pytest.param('{"a": 1', "}", id="after-value"),
        pytest.param('{"a": "b', '"}', id="in-string"),
        pytest.param('{"a": "b\\', '\\"}', id="after-backslash"),
        pytest.param('{"a": "\\u00', '00"}', id="in-unicode-escape"),
        pytest.param('{"a": tru', "e}", id="true"),
        pytest.param('{"a": nul', "l}", id="null"),
        pytest.param('{"a": f', "alse}", id="false"),
        pytest.param('{"a": 1.', "0}", id="decimal-point"),
        pytest.param('{"a": -', "0}", id="minus"),
        pytest.param('{"a": 1e+', "0}", id="exponent"),
        pytest.param('{"a": 10', "}", id="complete-number-at-end"),
        pytest.param('{"a": [1, {"b": [', "]}]}", id="nested"),
        pytest.param('{"a": []', "}", id="closed-array"),
        pytest.param('{"a": "}]\\"{"', "}", id="brackets-inside-string"),
    ],
)
def test_completion_suffix(partial: str, suffix: str) -> None:
    assert completion_suffix(partial) == suffix
    assert isinstance(json.loads(partial + suffix), dict)


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param('{"a": 1,', id="dangling-comma"),
        pytest.param('{"a": 1, "b"', id="key-without-colon"),
        pytest.param('{"a": 1, "b":', id="key-without-value"),
        pytest.param('{"a": 1, "b', id="in-key"),
        pytest.param('{"a": [1,', id="dangling-comma-in-array"),
        pytest.param('{"a": 1} more', id="trailing-text"),
        pytest.param("[1, 2", id="array"),
        pytest.param('"{}"', id="string"),
        pytest.param('{"a": 01', id="bad-number"),
        pytest.param('{"a": "\\x', id="bad-escape"),
        pytest.param('{"a": "one\ntwo', id="raw-newline"),
        pytest.param("```json\n{", id="fence"),
    ],
)
def test_completion_suffix_cannot_fix(partial: str) -> None:
    assert completion_suffix(partial) is None


def test_completion_suffix_on_every_prefix_of_a_real_argument() -> None:
    arguments = json.dumps(
        {"command": 'echo "a\\b" && ls', "timeout": -1.5e3, "flags": [True, False, None], "n": {}}
    )
    # Appending cannot finish a key, or anything after a comma or a colon, without inventing data.
    dangling = re.compile(r'([{,]\s*"[^"]*"?|[,:])\s*$')
    for end in range(1, len(arguments) + 1):
        partial = arguments[:end]
        suffix = completion_suffix(partial)
        if suffix is None:
            assert dangling.search(partial), partial
        else:
            assert not dangling.search(partial), partial
            assert isinstance(json.loads(partial + suffix), dict), partial
    assert completion_suffix(arguments[:13]) == '"}'
    assert completion_suffix(arguments[:19]) == '\\"}'
