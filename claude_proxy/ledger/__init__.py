"""The usage ledger: one SQLite row per API request, written off the request path."""
