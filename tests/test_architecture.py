"""Architecture checks by import analysis (the source is parsed, nothing is imported): which module may
import which.

The layers, lowest first (a module may import from its own layer and the ones below, never from above):

0. pure code: choices, scoring, text (generated punctuation), uscc
1. the database: models, seeding (validation of seed files), audit.models
2. who may see what: scopes, suppression
3. reads: selectors, audit.selectors
4. aggregates and writes: analytics, services, audit.services
5. rendering: reports (plain data in, bytes out; never the ORM)
6. the web and the command line: views, forms, urls, manage, templatetags, admin, management commands, …

On top of the layers, the imports between files (module-level or inside a function alike) form no cycle, and
views never write through the ORM: every write goes through a service.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "surveys"

LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (0, ("surveys.choices", "surveys.scoring", "surveys.text", "surveys.uscc")),
    (1, ("surveys.models", "surveys.seeding", "surveys.audit.models")),
    (2, ("surveys.scopes", "surveys.suppression")),
    (3, ("surveys.selectors", "surveys.audit.selectors")),
    (4, ("surveys.analytics", "surveys.services", "surveys.audit.services")),
    (5, ("surveys.reports",)),
]
TOP_LAYER = 6
VIEW_MODULES = ("surveys.views", "surveys.auth_views", "surveys.manage.views", "surveys.responses")
# QuerySet and model methods that write.
WRITE_METHODS = {
    "save",
    "delete",
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "get_or_create",
    "update_or_create",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts and "locale" not in path.parts
    }


MODULES = source_modules()


def layer_of(module: str) -> int:
    for layer, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return layer
    return TOP_LAYER


def resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """The project modules an ``import from`` statement reads (``from . import a, b`` reads a and b)."""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        base = ".".join(package[: len(package) - (node.level - 1)])
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    found = []
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        found.append(candidate if candidate in MODULES else target)
    return found


def imports_in(tree: ast.Module, module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in ``tree`` at any depth, relative ones resolved as if the
    file were ``module``; imports under ``if TYPE_CHECKING:`` are left out (they never run)."""
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            targets = resolve(module, node)
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        for target in targets:
            if target != module:
                yield target, node.lineno


def imports_of(module: str) -> Iterator[tuple[str, int]]:
    """(imported project module, line) for every import of the project's own modules in the file."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return ((target, line) for target, line in imports_in(tree, module) if target.split(".")[0] == "surveys")


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module in MODULES:
        edges[module] = set()
        for target, _line in imports_of(module):
            # "surveys.selectors" stands for the package's __init__; a name inside a module resolves to it.
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                edges[module].add(target)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    edges = graph()
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    for module, targets in edges.items():
        if MODULES[module].name == "__init__.py":
            edges[module] = {t for t in targets if not t.startswith(module + ".")}
    assert find_cycle(edges) is None, " → ".join(find_cycle(edges) or [])


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)}) at line {line}"
        for module in MODULES
        for target, line in imports_of(module)
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_reports_never_import_models_or_the_database():
    reports = [m for m in MODULES if m.startswith("surveys.reports")]
    assert len(reports) >= 8  # __init__, base, charts, city, exports, fonts, formatting, http, pdf
    offending = [found for m in reports for found in reports_offences(MODULES[m].read_text(encoding="utf-8"), m)]
    assert offending == []


@pytest.mark.parametrize("module", VIEW_MODULES)
def test_views_do_not_write_through_the_orm(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    writes = [
        f"{module}:{node.lineno} calls .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITE_METHODS
        and "session" not in ast.unparse(node.func.value)
    ]
    assert writes == []


def test_the_checks_catch_what_they_are_for():
    """The helpers above find a planted cycle and a planted upward import (so the tests cannot pass vacuously)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of("surveys.reports.pdf") > layer_of("surveys.selectors.results") > layer_of("surveys.models")
    assert layer_of("surveys.views") == TOP_LAYER
    assert "surveys.models" in graph()["surveys.scopes"]


def reports_offences(source: str, module: str = "surveys.reports.pdf") -> list[str]:
    """The forbidden imports of a source file placed at ``module`` (a file under surveys/reports/)."""
    found = []
    for target, line in imports_in(ast.parse(source), module):
        if target.startswith(("surveys.models", "surveys.audit.models", "surveys.selectors", "surveys.services")):
            found.append(f"{module}:{line} imports {target}")
        if target.startswith("django.db"):
            found.append(f"{module}:{line} imports {target}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from surveys.models import Assessment",
        "from surveys import models",
        "import surveys.models",
        "from ..models import Answer",
        "from .. import models",
        "from ..audit.models import AuditEvent",
        "from django.db.models import F",
        "from django.db import transaction",
        "def f():\n    from django.db.models import Q\n",
        "from ..selectors import assessment_report",
    ],
)
def test_the_reports_check_finds_every_spelling_of_a_models_import(source):
    assert reports_offences(source)


def test_the_reports_check_lets_rendering_imports_through():
    assert reports_offences("from surveys.suppression import hidden_label\nfrom .base import table") == []
    assert reports_offences("from django.http import HttpResponse\nfrom reportlab.lib import colors") == []
    assert (
        reports_offences("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from surveys.selectors import x\n")
        == []
    )
