"""Docs are part of the feature: every setting is documented, the README leads with its two
commands, and .ci/run runs exactly the README's test command."""

from __future__ import annotations

import pytest

from claude_proxy.settings import Settings
from tests.helpers.repo import REPO


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    configuration = (REPO / "docs" / "configuration.md").read_text()
    assert f"`{field.upper()}`" in configuration
    for alias in getattr(Settings.model_fields[field].validation_alias, "choices", None) or []:
        assert f"`{alias.upper()}`" in configuration


def test_every_setting_has_a_description() -> None:
    assert all(info.description for info in Settings.model_fields.values())


def test_readme_quick_start_and_ci_agree() -> None:
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.strip().splitlines()]
    assert commands == ["uv run claude-proxy serve", "uv run pytest"]
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.rstrip().splitlines()[-1] == "uv run pytest"


@pytest.mark.parametrize(
    "page",
    ["architecture", "configuration", "providers", "troubleshooting", "performance", "testing"],
)
def test_linked_docs_exist(page: str) -> None:
    assert f"docs/{page}.md" in (REPO / "README.md").read_text()
    assert (REPO / "docs" / f"{page}.md").stat().st_size > 500
