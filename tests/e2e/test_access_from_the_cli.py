"""The token reaches every client the CLI starts, and `serve` will not open a door without one."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from claude_proxy.cli.app import app
from claude_proxy.cli.run import CLIENT_KEY, client_environment
from claude_proxy.cli.serve import refuse_an_open_door
from claude_proxy.errors import CommandError
from claude_proxy.settings import load_settings


def test_serve_refuses_a_non_loopback_address_without_a_token() -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without PROXY_AUTH_TOKEN" in result.output
    assert "config set proxy_auth_token" in result.output


def test_a_token_opens_the_non_loopback_door() -> None:
    token = load_settings({"host": "0.0.0.0", "proxy_auth_token": "a-long-token-1"}, env_file=None)
    refuse_an_open_door(token)  # does not raise
    with pytest.raises(CommandError):
        refuse_an_open_door(load_settings({"host": "0.0.0.0"}, env_file=None))
    refuse_an_open_door(load_settings({"host": "::1"}, env_file=None))


def test_run_gives_the_child_the_proxy_token_as_its_key() -> None:
    health = {"limits": {}}
    claude = client_environment({}, "http://127.0.0.1:9", health, token="tok-1")
    other = client_environment({}, "http://127.0.0.1:9", health, claude_code=False, token="tok-1")
    assert claude["ANTHROPIC_AUTH_TOKEN"] == "tok-1" and "ANTHROPIC_API_KEY" not in claude
    assert other["ANTHROPIC_API_KEY"] == "tok-1"
    assert client_environment({}, "http://h:1", health)["ANTHROPIC_AUTH_TOKEN"] == CLIENT_KEY
