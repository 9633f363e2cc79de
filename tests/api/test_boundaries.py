"""Where process-wide things live: app.state holds only the services, and the domain
packages (prompts, evals, tracing) read no environment and set no process state."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
Finder = Callable[[ast.AST], list[tuple[int, str]]]
# What only the process bootstrap may touch: the environment, the collector, warning filters.
FORBIDDEN: dict[str, frozenset[str]] = {
    "os": frozenset({"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}),
    "gc": frozenset({"freeze", "unfreeze", "disable", "enable", "set_threshold"}),
    "warnings": frozenset({"filterwarnings", "simplefilter", "resetwarnings"}),
}


def state_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, name) of every `<x>.state.<name>` and getattr/setattr on `<x>.state`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "state":
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            target = node.args[0] if node.args else None
            if node.func.id in {"getattr", "setattr", "hasattr", "delattr"} and (
                isinstance(target, ast.Attribute) and target.attr == "state"
            ):
                found.append((node.lineno, f"{node.func.id}(...)"))
    return found


def module_aliases(tree: ast.AST) -> dict[str, str]:
    """Return local name -> module for `import os`, `import gc as g` and the like."""
    return {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name in FORBIDDEN
    }


def process_state(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, what) of every reach for the environment, gc or the warnings filters."""
    aliases = module_aliases(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN:
            names = FORBIDDEN[node.module]
            found += [
                (node.lineno, f"{node.module}.{a.name}") for a in node.names if a.name in names
            ]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id)
            if module is not None and node.attr in FORBIDDEN[module]:
                found.append((node.lineno, f"{module}.{node.attr}"))
    return sorted(found)


def found_in(finder: Finder, *packages: str) -> list[str]:
    """Return `path:line: what` for everything `finder` finds in the packages' modules."""
    return [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, what in finder(ast.parse(path.read_text(), str(path)))
    ]


def test_api_keeps_nothing_on_app_state_but_the_services() -> None:
    assert [f for f in found_in(state_reads, "api") if not f.endswith(": services")] == []


def test_domain_packages_read_no_environment_and_set_no_process_state() -> None:
    assert found_in(process_state, "prompts", "evals", "tracing") == []


@pytest.mark.parametrize(
    ("finder", "source", "expected"),
    [
        (state_reads, "request.app.state.db", [(1, "db")]),
        (state_reads, "self.state.services", [(1, "services")]),
        (state_reads, "getattr(app.state, 'gateway', None)", [(1, "getattr(...)")]),
        (state_reads, "app.state.x = 1", [(1, "x")]),
        (state_reads, "state.completed", []),
        (process_state, "import os\nos.environ.setdefault('A', '1')", [(2, "os.environ")]),
        (process_state, "import os as o\no.getenv('A')", [(2, "os.getenv")]),
        (process_state, "from os import environ", [(1, "os.environ")]),
        (process_state, "import gc\ngc.freeze()", [(2, "gc.freeze")]),
        (
            process_state,
            "import warnings\nwarnings.simplefilter('error')",
            [(2, "warnings.simplefilter")],
        ),
        (process_state, "from warnings import filterwarnings", [(1, "warnings.filterwarnings")]),
        (process_state, "import os\nos.path.join('a')", []),
        (process_state, "import warnings\nwarnings.warn('x')", []),
        (process_state, "environ = {}\nenviron.get('A')", []),
    ],
)
def test_the_checks_see_each_way_in(
    finder: Finder, source: str, expected: list[tuple[int, str]]
) -> None:
    assert finder(ast.parse(source)) == expected
