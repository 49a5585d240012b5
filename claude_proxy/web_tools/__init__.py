"""The proxy's own web tools: search backends and a guarded page fetcher (network I/O)."""
