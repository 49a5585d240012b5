"""`claude-proxy doctor`: the checks (`checks.py`), the result each gives (`check.py`), and
the `--online` requests (`online.py`)."""
