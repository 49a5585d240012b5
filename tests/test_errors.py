"""The error tree: each error's Anthropic type and status, its JSON body, the status an
upstream's HTTP status maps to, and the CLI's branch kept off the HTTP one."""

from __future__ import annotations

from claude_proxy import errors


def test_error_body_shape() -> None:
    error = errors.ContextWindowExceededError(205351, 200000)
    assert (error.status, error.error_type) == (400, "invalid_request_error")
    assert error.to_body("req_1") == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "prompt is too long: 205351 tokens > 200000 maximum",
        },
        "request_id": "req_1",
    }
