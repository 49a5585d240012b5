from __future__ import annotations

from collections.abc import Awaitable, Callable

ProxyFactory = Callable[..., Awaitable[str]]
"""The `start_proxy` fixture: settings overrides in, the proxy's base URL out."""
