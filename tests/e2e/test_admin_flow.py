"""An administrator in a real browser: the dashboard filtered by district, the firm list, one firm's
page and its PDF report, and the CSV export of the filtered firms; axe-core and the Nu HTML checker on
every administrator page.

Runs in Chinese at 1280 px and in English at 375 px (the diagonal of the matrix: these pages are read
mostly on desktops, and the phone check is about the filters and the wide tables).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from . import support
from .support import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_FIRMS = 150  # enough for the district to pass the 10-firm display threshold
DISTRICT = "370112"  # 历城区, the largest district of the demo data
DISTRICT_LABEL = {"zh-hans": "历城区", "en": "Licheng District"}
MATRIX = [pytest.param("zh-hans", 1280, id="zh-1280"), pytest.param("en", 375, id="en-375")]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def city(live_server, settings):
    """Demo firms (the generator of make run) and a city administrator, created as tests/manage does."""
    from django.core.cache import cache
    from django.db import transaction

    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0  # figures afresh: the database is rebuilt for every test
    cache.clear()

    from surveys import demo, services
    from surveys.models import Enterprise
    from surveys.scopes import ROLE_CITY

    from ..model_factories import UserFactory

    questionnaire = support.load_questionnaire()
    with transaction.atomic():  # seed_demo writes inline inside a transaction (no second connection)
        demo.seed_demo(firms=DEMO_FIRMS, questionnaire=questionnaire, seed=11)
    admin = UserFactory(username="city_admin")
    services.administrator_grant(user=admin, role=ROLE_CITY)
    firms = Enterprise.objects.filter(district=DISTRICT)
    assert firms.count() >= 10
    return {"admin": admin, "district_firms": firms.count()}


@pytest.mark.parametrize(("language", "width"), MATRIX)
def test_an_administrator_filters_drills_down_and_exports(browser_page, shot, city, language, width):
    from surveys.models import Enterprise

    page = browser_page(language=language, width=width)

    # Log in through the form; the dashboard opens unfiltered.
    page.goto("/accounts/login/?next=/manage/")
    page.fill("[name=username]", "city_admin")
    page.fill("[name=password]", "correct-horse-battery")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/manage/$"))
    shot(page, "dashboard")

    # Filter by district with the form.
    page.select_option("select[name=district]", DISTRICT)
    page.locator("main form[method=get] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"district={DISTRICT}"))
    expect(page.locator("select[name=district]")).to_have_value(DISTRICT)
    # The first card is the number of registered firms in the district.
    expect(page.locator("main .card .fs-3").first).to_have_text(str(city["district_firms"]))
    shot(page, "dashboard-filtered")
    for tab in ("breakdowns", "weaknesses", "trend"):
        page.locator(f"nav a[href^='/manage/{tab}/']").click()
        expect(page).to_have_url(re.compile(rf"/manage/{tab}/\?.*district={DISTRICT}"))
        shot(page, tab)

    # The firm list keeps the filter; every firm listed is in the district.
    page.locator("nav a[href^='/manage/firms/']").click()
    expect(page).to_have_url(re.compile(rf"/manage/firms/\?.*district={DISTRICT}"))
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(city["district_firms"])
    districts = set(rows.locator("td:nth-child(3)").all_inner_texts())
    assert districts == {DISTRICT_LABEL[language]}
    shot(page, "firms")

    # Drill down into the first firm, then its PDF report.
    first = rows.first.locator("td a")
    name = first.inner_text().strip()
    first.click()
    expect(page).to_have_url(re.compile(r"/manage/firms/\d+/$"))
    expect(page.locator("main h1")).to_have_text(name)
    shot(page, "firm")
    with page.expect_download() as download_info:
        page.locator("main a[href$='/report.pdf']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    from pypdf import PdfReader

    with open(download.path(), "rb") as handle:
        text = squeeze("".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages))
    assert squeeze(name) in text

    # Back to the list, and the CSV export of the filtered firms.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/manage/firms/\?.*district={DISTRICT}"))
    with page.expect_download() as download_info:
        page.locator("main a[href^='/manage/export/firms.csv']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        table = [row for row in csv.reader(handle) if row]
    header_at = next(i for i, row in enumerate(table) if len(row) > 5)
    body = table[header_at + 1 :]
    expected = set(Enterprise.objects.filter(district=DISTRICT).values_list("uscc", flat=True))
    assert {row[0] for row in body} == expected
    assert {row[2] for row in body} == {DISTRICT_LABEL[language]}

    # The audit log tab: this administrator's visit of the firm, its PDF download and the export are in it.
    page.locator("nav a[href='/manage/audit/']").click()
    expect(page).to_have_url(re.compile(r"/manage/audit/$"))
    log = page.locator("main table tbody")
    expect(log.locator("tr").first).to_contain_text("city_admin")
    expect(log).to_contain_text(name)
    expect(log).to_contain_text("export:firms.csv")
    shot(page, "audit")


@pytest.mark.parametrize(("language", "width"), MATRIX)
def test_no_serious_axe_violations_nor_html_errors_on_the_administrator_pages(
    browser_page, live_server, shot, axe_source, nu_checker, city, language, width
):
    from surveys.models import Assessment

    page = browser_page(language=language, width=width)
    support.login(page, city["admin"], live_server.url)
    sample = Assessment.objects.filter(enterprise__district=DISTRICT, status="submitted").first()
    paths = {
        "dashboard": f"/manage/?district={DISTRICT}",
        "breakdowns": "/manage/breakdowns/?by=industry",
        "weaknesses": "/manage/weaknesses/",
        "trend": "/manage/trend/",
        "firms": f"/manage/firms/?district={DISTRICT}",
        "firm": f"/manage/firms/{sample.enterprise_id}/",
        "round": f"/manage/firms/{sample.enterprise_id}/rounds/{sample.pk}/",
        # last: the visits above are in it
        "audit": f"/manage/audit/?enterprise={sample.enterprise_id}",
    }
    problems: dict[str, str] = {}
    for name, path in paths.items():
        response = page.goto(path)
        assert response.ok, f"{path}: HTTP {response.status}"
        nu_checker.add(page, f"{name} {page.url} ({language}, {width} px)", response=response)
        blocking = support.axe_run(page, axe_source, f"manage-{name}-{language}-{width}")
        if blocking:
            problems[name] = support.describe(blocking)
        shot(page, name)
    assert not problems, "axe found serious/critical violations on the administrators' pages:\n" + "\n".join(
        f"== {page_name}\n{text}" for page_name, text in problems.items()
    )
    nu_checker.assert_valid()  # one run of the Nu HTML checker over the pages above
