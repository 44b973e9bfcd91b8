"""Real-browser fixtures: Debian's Chromium driven by Playwright's sync API against pytest-django's
``live_server``.

Written by hand on purpose (no pytest-playwright: its plugin interferes with hypothesis). Never run
``playwright install``: the pip package ships only the driver, the browser is Debian's /usr/bin/chromium.

Without Chromium (or Playwright, or axe-core) the browser tests are skipped with the reason; in CI
(``CI=true``) they fail instead, so a CI machine without a browser cannot pass silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from . import support

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("JINAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str):
    """Skip on a developer machine; fail in CI, where the browser tests are required."""
    if in_ci():
        pytest.fail(f"{reason} (CI={os.environ.get('CI')}: the browser tests are required here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium():
    """One browser for the whole tests/e2e package; torn down after its last test.

    Package scope, not session scope: while Playwright's sync API is active its event loop counts as
    running in this thread, so Django refuses ORM calls (SynchronousOnlyOperation) unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. It is set only while the browser is up, and restored after.
    """
    if not CHROMIUM.exists():
        unavailable(
            f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium fonts-wqy-microhei "
            "(or set JINAN_CHROMIUM)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("browser tests need Playwright for Python: pip install -r requirements-dev.txt")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's source, from node_modules (``npm ci`` is run here when it is missing)."""
    if not AXE_PATH.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("accessibility tests need axe-core: install Node.js/npm, then run `npm ci` at the repo root")
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not AXE_PATH.exists():
            unavailable(f"`npm ci` failed, axe-core is missing: {result.stderr.strip()[-500:]}")
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def nu_checker(request, tmp_path):
    """The Nu HTML checker for this test (tests/e2e/nu.py): ``nu_checker.add(page, label, response=…)`` keeps
    a visited page, ``nu_checker.assert_valid()`` checks them all in one run of the checker at the end.
    Without Java or vnu.jar that call skips the test (fails it in CI)."""
    from . import nu

    return nu.NuChecker(tmp_path / "nu", report=request.node.name, unavailable=unavailable)


PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
}


def _serial_thread_class():
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

    class SerialLiveServerThread(LiveServerThread):
        def _create_server(self, connections_override=None):
            # Not threaded: requests run in this thread, which LiveServerThread.run() gave the shared
            # connection (a non-threaded server also closes each HTTP connection, so nothing waits).
            return WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)

    return SerialLiveServerThread


@pytest.fixture(scope="package")
def live_server(request, django_db_setup):
    """pytest-django's live server, started for this package with plain-HTTP settings.

    It replaces pytest-django's session-wide fixture of the same name (which its autouse helper still
    drives: transactional database, ALLOWED_HOSTS). The settings must be in force when the server thread
    builds its middleware (SecurityMiddleware reads SECURE_SSL_REDIRECT once), which is before any
    function-scoped ``settings`` fixture could change them. It needs the test database first: with
    in-memory SQLite the server must be handed the test's connection (see below).
    """
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(**PLAIN_HTTP):
        server = LiveServer(addr, start=False)
        if server.thread.connections_override:
            # In-memory SQLite: every request thread would share the test's one connection ("database table
            # is locked" when the page's requests overlap), so requests are served one at a time.
            thread = server.thread
            server.thread = _serial_thread_class()(
                thread.host,
                static_handler=thread.static_handler,
                connections_override=thread.connections_override,
                port=thread.port,
            )
            server.thread.daemon = True
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Per test as well: tests/conftest.py's autouse settings fixture runs per test and must not undo it.
    for name, value in PLAIN_HTTP.items():
        setattr(settings, name, value)


@pytest.fixture
def shot(request):
    """shot(page, "step") saves a full-page screenshot as artifacts/screenshots/<test>-<step>.png."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def take(page, step: str, *, full_page: bool = True) -> Path:
        support.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = support.SCREENSHOTS / f"{name}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def browser_page(chromium, live_server):
    """browser_page(language="zh-hans" | "en" | None, width=1280) opens a page in a fresh context.

    The language is set with Django's language cookie (None leaves it to the UI switch). Contexts bypass
    the Content-Security-Policy so that the tests can inject axe-core; the pages' own scripts are ours.
    Every uncaught page error fails the test.
    """
    contexts = []
    errors: list[str] = []

    def open_page(*, language: str | None = "zh-hans", width: int = 1280):
        context = chromium.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": 900 if width > 600 else 812},
            locale="en-US" if language == "en" else "zh-CN",
            bypass_csp=True,
            accept_downloads=True,
        )
        if language:
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"
