"""The `claude-proxy` command line: one module per command, `app.py` ties them together."""
