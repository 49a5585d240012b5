"""Writing the TOML config file: the commented template of `config init`, `config set` and
`config unset`.

Edits go through tomlkit, so the user's comments and layout survive. Every write replaces the
file atomically with mode 0600: it may hold keys.
"""

from __future__ import annotations

import difflib
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import SecretStr, ValidationError

from claude_proxy.errors import CommandError
from claude_proxy.settings.model import Settings
from claude_proxy.settings.sources import field_names, problem

HEADER = """\
# claude-proxy configuration (TOML). Keys are the setting names in lower case.
# Flags, environment variables and .env take precedence over this file;
# `claude-proxy config show` shows each effective value and where it comes from.
# docs/configuration.md describes every setting.
"""


def canonical_field(name: str) -> str:
    """The settings field a user-given name means: `BIG_MODEL`, `big-model`, `TOGETHER_API_KEY`."""
    wanted = name.strip().lower().replace("-", "_")
    for field in Settings.model_fields:
        if wanted in field_names(field):
            return field
    near = difflib.get_close_matches(wanted, list(Settings.model_fields), n=3)
    hint = f"Did you mean {' or '.join(near)}?" if near else "See `claude-proxy config show`."
    raise CommandError(f"{name} is not a setting of claude-proxy", hint, exit_code=2)


def parse_value(field: str, raw: str) -> Any:
    """A command-line value as the TOML value of a setting, validated by the settings model."""
    try:
        value = getattr(Settings.model_validate({field: raw}), field)
    except ValidationError as exc:
        problems = "; ".join(problem(e) for e in exc.errors())
        description = Settings.model_fields[field].description
        raise CommandError(
            f"{field}: {problems}", f"Expected: {description}", exit_code=2
        ) from None
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def template(values: dict[str, Any]) -> str:
    """A config file setting `values` and listing every other setting, commented out."""
    lines = [HEADER]
    for field, value in values.items():
        lines.append(f"{field} = {tomlkit.item(value).as_string()}")
    for field, info in Settings.model_fields.items():
        if field in values:
            continue
        default = info.default
        shown = '""' if default is None else tomlkit.item(default).as_string()
        lines += ["", f"# {info.description}", f"# {field} = {shown}"]
    return "\n".join(lines) + "\n"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def set_value(path: Path, field: str, value: Any) -> None:
    """Set one setting in the file (creating it), uncommenting its template line if there is one."""
    text = read_text(path)
    document = _parse(path, text)
    for alias in field_names(field)[1:]:
        document.pop(alias, None)
    if field not in document:
        line = f"{field} = {tomlkit.item(value).as_string()}"
        candidate = _uncomment(document.as_string(), field, line)
        if candidate is not None and field in tomllib.loads(candidate):
            write_text(path, candidate)
            return
    document[field] = value
    write_text(path, document.as_string())


def unset_value(path: Path, field: str) -> bool:
    """Remove a setting (under any of its names); False when the file did not set it."""
    text = read_text(path)
    document = _parse(path, text)
    removed = [name for name in field_names(field) if document.pop(name, None) is not None]
    if removed:
        write_text(path, document.as_string())
    return bool(removed)


def write_text(path: Path, text: str) -> None:
    """Replace the file atomically, readable by its owner only."""
    tomllib.loads(text)  # never write a file the settings cannot read
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _parse(path: Path, text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise CommandError(
            f"the config file {path} is not valid TOML: {exc}", "Fix it by hand first."
        ) from None


def _uncomment(text: str, field: str, line: str) -> str | None:
    """The text with the template's `# field = ...` line replaced by `line`; None if absent."""
    lines = text.splitlines()
    for index, current in enumerate(lines):
        name, equals, _ = current.lstrip("# ").partition("=")
        if current.startswith("#") and equals and name.strip() == field:
            lines[index] = line
            return "\n".join(lines) + "\n"
    return None
