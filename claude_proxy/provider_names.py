"""The names users write for a provider, and the one each means.

`PREFERRED_PROVIDER=gemini`, `--provider Together_AI` and `preferred_provider = "google"` must
all work, and a wrong name must get a did-you-mean, wherever it is given. Settings (which
validate the environment and the config file) and the provider table both need the names, and
neither layer may import the other, so the names live here, below both: each row of
`providers/table.py` reads its aliases from this table.
"""

from __future__ import annotations

import difflib

PROVIDER_NAMES: dict[str, tuple[str, ...]] = {
    "openai": ("openai",),
    "google": ("google", "gemini"),
    "together": ("together", "together_ai", "togetherai"),
    "anthropic": ("anthropic",),
}
"""Settings name -> every name that means it (case-insensitive, `-` read as `_`)."""


def canonical_provider(name: str) -> str | None:
    """The settings name a user-written provider name means (`Gemini` -> `google`), or None."""
    wanted = name.strip().lower().replace("-", "_")
    return next((canon for canon, names in PROVIDER_NAMES.items() if wanted in names), None)


def unknown_provider(name: str) -> str:
    """What to say about a provider name that means none: a did-you-mean and the choices."""
    every = {alias: canon for canon, names in PROVIDER_NAMES.items() for alias in names}
    near = difflib.get_close_matches(name.strip().lower(), list(every), n=1, cutoff=0.5)
    choices = ", ".join(
        canon + (f" ({', '.join(names[1:])})" if len(names) > 1 else "")
        for canon, names in PROVIDER_NAMES.items()
    )
    guess = f"did you mean {every[near[0]]}? " if near else ""
    return f"{name!r} is not a provider: {guess}Choose one of {choices}"
