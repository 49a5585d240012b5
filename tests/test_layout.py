"""The shape of the code, checked: tests mirror the source tree one to one, no test module
imports another (fixtures are shared through conftest.py, helpers through tests/helpers/ and
tests/fakes/), and no import cycle runs through claude_proxy.

All three read the source with `ast`, so they need nothing imported and see every import:
module-level, inside functions, and under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers.repo import REPO

PACKAGE = REPO / "claude_proxy"
TESTS = REPO / "tests"
NOT_MIRRORED = {"__init__.py", "__main__.py"}
OWN_FOLDERS = {"e2e", "fakes", "helpers", "data"}
"""Folders of tests/ that mirror nothing: cross-module end-to-end tests and shared helpers."""


def module_name(path: Path, base: Path = REPO) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_under(root: Path) -> dict[str, Path]:
    """The modules in the package or folder `root`, by dotted name (`claude_proxy.cli.app`)."""
    return {module_name(path, root.parent): path for path in sorted(root.rglob("*.py"))}


def imported_names(path: Path, modules: Mapping[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file, resolved to the modules given: `from a
    import b` names `a.b` when that is a module, else `a`."""
    here = next(name for name, known in modules.items() if known == path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                yield node.lineno, candidate if candidate in modules else source


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = modules_under(root)
    return {
        name: {target for _, target in imported_names(path, modules) if target in modules} - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def is_test_module(path: Path) -> bool:
    return path.name.startswith("test_") or path.name == "conftest.py"


# --- tests mirror the source -----------------------------------------------------------------


def mirrored_test(source: Path) -> Path:
    relative = source.relative_to(PACKAGE)
    return TESTS / relative.parent / f"test_{relative.name}"


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name not in NOT_MIRRORED)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_module_has_its_mirrored_test_file(source: Path) -> None:
    expected = mirrored_test(source)
    assert expected.is_file(), (
        f"{source.relative_to(REPO)} has no tests: write {expected.relative_to(REPO)}"
    )


def test_every_test_file_in_a_mirrored_folder_mirrors_a_module() -> None:
    expected = {mirrored_test(source) for source in SOURCES}
    orphans = [
        str(path.relative_to(REPO))
        for path in sorted(TESTS.rglob("test_*.py"))
        if path.parent != TESTS
        and path.relative_to(TESTS).parts[0] not in OWN_FOLDERS
        and path not in expected
    ]
    assert orphans == [], "these test files mirror no module of claude_proxy"


def test_every_test_folder_is_a_package() -> None:
    """Test files of the same name in two folders (cli/test_models.py, server/test_models.py)
    need each folder to be a package."""
    missing = [
        str(folder.relative_to(REPO))
        for folder in [TESTS, *sorted(p for p in TESTS.rglob("*") if p.is_dir())]
        if folder.name not in ("data", "__pycache__")
        and "data" not in folder.relative_to(TESTS).parts
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").is_file()
    ]
    assert missing == []


# --- no test module imports another ----------------------------------------------------------


def test_no_test_module_imports_another() -> None:
    modules = modules_under(TESTS) | modules_under(REPO / "bench")
    offences = [
        f"{path.relative_to(REPO)}:{line} imports {target}"
        for path in sorted([*TESTS.rglob("*.py"), *(REPO / "bench").rglob("*.py")])
        for line, target in imported_names(path, modules)
        if target in modules and is_test_module(modules[target])
    ]
    assert offences == [], (
        "share fixtures through conftest.py and helpers through tests/helpers/ or tests/fakes/"
    )


def finds_claude_on_path(node: ast.AST) -> bool:
    """`shutil.which("claude")`, `which("claude", ...)`."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    first = node.args[0]
    return name == "which" and isinstance(first, ast.Constant) and first.value == "claude"


def test_no_test_runs_a_claude_found_on_path() -> None:
    """The Claude Code tests run the pinned CLI only (tests/helpers/claude_code.py)."""
    offences = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in sorted(TESTS.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if finds_claude_on_path(node)
    ]
    assert offences == []


# --- no import cycle -------------------------------------------------------------------------


def test_no_import_cycle_among_claude_proxy_modules() -> None:
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_reports_the_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_sees_imports_inside_functions_and_type_checking(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n"
    )
    (package / "b.py").write_text("def f():\n    from . import c\n")
    (package / "c.py").write_text("import pkg.a\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
