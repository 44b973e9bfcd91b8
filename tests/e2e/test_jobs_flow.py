"""A district administrator in a real browser starts the ZIP of the district's firm reports from the
dashboard, watches the job page's progress bar reach the end (updated by surveys/static/surveys/jobs.js,
without a reload), downloads the ZIP and finds one PDF per firm of the district and none of any other.

On PostgreSQL the job runs in a real ``celery worker`` process on Redis (tests/jobs/conftest.py); on the
in-memory SQLite test database, which no other process can open, the task runs eagerly inside the request.
"""

from __future__ import annotations

import re
import zipfile

import pytest
from django.db import connection

from tests.jobs.conftest import make_admin

from . import support
from .support import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_FIRMS = 150
DISTRICT = "370112"  # 历城区


@pytest.fixture
def jobs_backend(request, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    settings.JINAN_JOB_ZIP_CHUNK = 5  # several chunks, so that the bar moves in steps
    if connection.vendor == "postgresql":
        return request.getfixturevalue("celery_worker")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return None


from tests.jobs.conftest import celery_worker  # noqa: E402,F401  (the fixture, for PostgreSQL runs)


@pytest.mark.parametrize(("language", "width"), [("zh-hans", 1280), ("en", 375)], ids=["zh-1280", "en-375"])
def test_a_district_administrator_zips_the_district_reports(
    browser_page, live_server, shot, axe_source, nu_checker, jobs_backend, language, width
):
    from django.core.cache import cache
    from django.db import transaction

    from surveys import demo
    from surveys.models import Assessment
    from surveys.scopes import ROLE_DISTRICT

    cache.clear()
    questionnaire = support.load_questionnaire()
    with transaction.atomic():
        demo.seed_demo(firms=DEMO_FIRMS, questionnaire=questionnaire, seed=11)
    admin = make_admin(ROLE_DISTRICT, [DISTRICT])
    expected = set(
        Assessment.objects.filter(enterprise__district=DISTRICT, status="submitted")
        .values_list("enterprise__uscc", flat=True)
        .distinct()
    )
    others = set(Assessment.objects.exclude(enterprise__district=DISTRICT).values_list("enterprise__uscc", flat=True))
    assert len(expected) >= 10 and others

    page = browser_page(language=language, width=width)
    support.login(page, admin, live_server.url)
    page.goto("/manage/")
    shot(page, "dashboard")
    page.locator("#job-start button[formaction='/manage/jobs/start/reports_zip/']").click()
    expect(page).to_have_url(re.compile(r"/manage/jobs/\d+/$"))
    shot(page, "job-started")
    bar = page.locator("#job-bar")
    # The bar reaches 100 and the download appears (the script reloads the page once the job has ended).
    expect(bar).to_have_attribute("value", "100", timeout=120_000)
    download_link = page.locator("#job-download")
    expect(download_link).to_be_visible(timeout=30_000)
    expect(page.locator("#job-count")).to_have_text(f"{len(expected)} / {len(expected)}")
    shot(page, "job-done")
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = [name for name in archive.namelist() if name.endswith(".pdf")]
        assert all(archive.read(name)[:4] == b"%PDF" for name in names)
    usccs = [name.split("-")[0] for name in names]
    assert len(usccs) == len(set(usccs))
    assert set(usccs) == expected
    assert not set(usccs) & others

    # The job list shows it. The job page, the list and the dashboard with its job buttons: no serious axe
    # finding, valid HTML.
    problems = {}
    for name, path in (("job", page.url), ("jobs", "/manage/jobs/"), ("dashboard", "/manage/")):
        response = page.goto(path)
        assert response.ok
        nu_checker.add(page, f"{name} ({language}, {width} px)", response=response)
        blocking = support.axe_run(page, axe_source, f"jobs-{name}-{language}-{width}")
        if blocking:
            problems[name] = support.describe(blocking)
        if name == "jobs":
            expect(page.locator("main table tbody tr")).to_have_count(1)
            shot(page, "job-list")
    assert not problems, problems
    nu_checker.assert_valid()
