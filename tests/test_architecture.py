"""Architecture checks by import analysis (the source is parsed, nothing is imported).

surveys/reports/ is rendering only: plain data in, bytes out. It never imports the models or django.db;
what it shows is read by surveys.selectors and surveys.analytics.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPORTS = Path(__file__).resolve().parent.parent / "surveys" / "reports"
FORBIDDEN = ("surveys.models", "surveys.audit.models", "django.db")


def imported_modules(source: str, package: str = "surveys.reports") -> list[tuple[str, int]]:
    """(module, line) of every import in ``source`` at any depth, relative ones resolved against ``package``;
    ``from X import y`` counts as importing both ``X`` and ``X.y`` (y may be a module)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((module, node.lineno))
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def forbidden_imports(source: str) -> list[str]:
    return [
        f"line {line}: {module}"
        for module, line in imported_modules(source)
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
    ]


def test_reports_do_not_import_models():
    files = sorted(REPORTS.glob("*.py"))
    assert len(files) >= 8  # __init__, base, charts, city, exports, fonts, http, pdf
    offending = {path.name: found for path in files if (found := forbidden_imports(path.read_text(encoding="utf-8")))}
    assert offending == {}


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
    ],
)
def test_the_check_finds_every_spelling_of_a_models_import(source):
    assert forbidden_imports(source)


def test_the_check_lets_rendering_imports_through():
    assert forbidden_imports("from surveys.suppression import hidden_label\nfrom .base import table") == []
    assert forbidden_imports("from django.http import HttpResponse\nfrom reportlab.lib import colors") == []
