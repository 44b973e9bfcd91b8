"""Every environment variable the settings read is documented in the README's "Configuration" section, and
every variable documented there is read (the source is parsed, nothing is imported)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "jinan_assess" / "settings.py"
README = ROOT / "README.md"


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environment(node: ast.AST) -> bool:
    return any(_is_os_environ(child) for child in ast.walk(node))


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


NOT_A_READ = object()


def _read_name(node: ast.AST, helpers: set[str]):
    """The node naming the variable ``node`` reads from the environment (None: no name), or NOT_A_READ."""
    if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
        return node.slice
    if not isinstance(node, ast.Call):
        return NOT_A_READ
    func, first = node.func, (node.args[0] if node.args else None)
    if isinstance(func, ast.Name):
        return first if func.id in helpers else NOT_A_READ
    if not isinstance(func, ast.Attribute):
        return NOT_A_READ
    if (func.attr in {"get", "pop", "setdefault"} and _is_os_environ(func.value)) or func.attr == "getenv":
        return first
    if func.attr == "config" and ast.unparse(func.value) == "dj_database_url":
        return next((kw.value for kw in node.keywords if kw.arg == "env"), ast.Constant("DATABASE_URL"))
    return NOT_A_READ


def environment_reads(source: str) -> tuple[set[str], list[str]]:
    """The names read from the environment, and the reads whose name is not a string literal (as source).

    Reads are ``os.environ.get(NAME, …)``, ``os.environ[NAME]``, ``os.getenv(NAME)``, calls of the module's
    own helpers that read the environment (``env_bool(NAME)``, ``env_list(NAME)``, …; their own bodies are
    skipped) and ``dj_database_url.config()`` (``DATABASE_URL``, or its ``env=``)."""
    tree = ast.parse(source)
    helpers = {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and _reads_environment(node)}

    def nodes(node: ast.AST):
        """ast.walk, without descending into the helpers (their reads are of their parameter)."""
        for child in ast.iter_child_nodes(node):
            if not (isinstance(child, ast.FunctionDef) and child.name in helpers):
                yield child
                yield from nodes(child)

    names: set[str] = set()
    unnamed: list[str] = []
    for node in nodes(tree):
        name_node = _read_name(node, helpers)
        if name_node is NOT_A_READ:
            continue
        name = _literal(name_node)
        if name is None:
            unnamed.append(ast.unparse(node))
        else:
            names.add(name)
    return names, unnamed


def configuration_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Configuration\n(.*?)(?=^## )", text, flags=re.MULTILINE | re.DOTALL)
    assert match, 'README.md has no "## Configuration" section'
    return match.group(1)


def documented_variables() -> set[str]:
    """The names in the first column of the section's table."""
    names: set[str] = set()
    for line in configuration_section().splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[1]))
    return names


def test_the_parser_finds_the_settings_reads():
    names, unnamed = environment_reads(SETTINGS.read_text(encoding="utf-8"))
    assert unnamed == [], "read environment variables by literal name, so that they can be checked"
    # A few that are read in each of the ways the parser knows.
    assert {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "JINAN_VAR_DIR"} <= names


def test_the_parser_recognises_every_form_of_read():
    source = (
        "import os\nimport dj_database_url\n"
        "def env_flag(name):\n    return os.environ.get(name)\n"
        "A = os.environ.get('A', 'x')\nB = os.environ['B']\nC = os.getenv('C')\nD = env_flag('D')\n"
        "E = dj_database_url.config(env='E')\nF = dj_database_url.config()\nG = os.environ.get(SOMEWHERE)\n"
    )
    names, unnamed = environment_reads(source)
    assert names == {"A", "B", "C", "D", "E", "DATABASE_URL"}
    assert unnamed == ["os.environ.get(SOMEWHERE)"]


def test_every_variable_the_settings_read_is_documented_in_the_readme():
    names, _unnamed = environment_reads(SETTINGS.read_text(encoding="utf-8"))
    missing = sorted(names - documented_variables())
    assert missing == [], f"add these to README.md, section Configuration: {missing}"


def test_every_documented_variable_is_read_by_the_settings():
    names, _unnamed = environment_reads(SETTINGS.read_text(encoding="utf-8"))
    stale = sorted(documented_variables() - names)
    assert stale == [], f"README.md documents variables the settings never read: {stale}"


def test_no_variable_lets_production_run_with_the_development_key():
    """JINAN_ALLOW_INSECURE_KEY used to; with DEBUG off, a missing key stops the server whatever is set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JINAN_"))}
    env.update({"DJANGO_DEBUG": "0", "JINAN_ALLOW_INSECURE_KEY": "1", "DATABASE_URL": "sqlite:///:memory:"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
