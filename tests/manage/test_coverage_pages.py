"""Coverage on the administrators' pages: the dashboard's block, the coverage page, the "not yet assessed" list
and its CSV/XLSX export (district scope, filters, neutralised cells, audit log)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from surveys.audit.models import AuditEvent
from surveys.manage import register_views
from surveys.models import Assessment, sectors_encode
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT
from tests.model_factories import AssessmentFactory, EnterpriseFactory, RegisterEntryFactory, register_uscc

from .conftest import DISTRICT_SCOPE, make_admin

pytestmark = pytest.mark.django_db

INSIDE, OUTSIDE = DISTRICT_SCOPE[0], "370102"


@pytest.fixture
def register_rows(questionnaire):
    """30 register rows in Licheng (12 assessed), 25 in Lixia (none assessed), a few tagged steel."""
    rows = []
    for n in range(1, 31):
        entry = RegisterEntryFactory(
            uscc=register_uscc(n, INSIDE),
            district=INSIDE,
            industry="C31" if n % 3 == 0 else "C34",
            sectors=sectors_encode(["steel"]) if n % 5 == 0 else "",
        )
        if n <= 12:
            firm = EnterpriseFactory(uscc=entry.uscc, district=INSIDE)
            AssessmentFactory(
                enterprise=firm, questionnaire=questionnaire, status=Assessment.STATUS_SUBMITTED, is_latest=True
            )
        rows.append(entry)
    for n in range(31, 56):
        rows.append(RegisterEntryFactory(uscc=register_uscc(n, OUTSIDE), district=OUTSIDE, name=f"历下登记企业{n}"))
    return rows


def test_the_dashboard_block_without_a_register(client, city_admin, district_admin):
    client.force_login(city_admin)
    page = client.get(reverse("manage:dashboard")).content.decode()
    assert 'id="coverage-block"' in page and "尚未导入工商登记名单。" in page
    assert reverse("manage:register") in page
    client.force_login(district_admin)
    page = client.get(reverse("manage:dashboard")).content.decode()
    assert "尚未导入工商登记名单。" in page and f'href="{reverse("manage:register")}"' not in page


def test_the_dashboard_block_with_a_register(client, city_admin, district_admin, register_rows):
    client.force_login(city_admin)
    response = client.get(reverse("manage:dashboard"))
    assert response.context["coverage"].registered == 55
    assert "已评估 12 / 登记 55 家（21.8%）" in response.content.decode()
    assert reverse("manage:coverage") in response.content.decode()
    client.force_login(district_admin)
    response = client.get(reverse("manage:dashboard"))
    assert "已评估 12 / 登记 30 家（40.0%）" in response.content.decode()
    # The sector filter is offered and applied.
    response = client.get(reverse("manage:dashboard"), {"sector": "steel"})
    assert response.context["filters"].sector == "steel"
    assert response.context["coverage"].registered == 6
    assert client.get(reverse("manage:dashboard"), {"sector": "nowhere"}).context["filters"].sector == ""


def test_the_coverage_page_in_both_languages_and_scopes(client, city_admin, district_admin, register_rows):
    client.force_login(city_admin)
    response = client.get(reverse("manage:coverage"))
    assert response.status_code == 200
    assert {row.key for row in response.context["coverage"].by_district} == {INSIDE, OUTSIDE}
    assert "level" not in response.context["form"].fields  # coverage does not filter by level
    page = response.content.decode()
    assert "按区县" in page and "按重点产业领域" in page and "历下区" in page
    client.force_login(district_admin)
    response = client.get(reverse("manage:coverage"), HTTP_ACCEPT_LANGUAGE="en")
    assert [row.key for row in response.context["coverage"].by_district] == [INSIDE]
    page = response.content.decode()
    assert "Lixia" not in page and "Coverage by round" in page


def test_the_coverage_page_asks_for_the_register(client, city_admin):
    client.force_login(city_admin)
    page = client.get(reverse("manage:coverage")).content.decode()
    assert 'id="no-register"' in page and reverse("manage:register") in page


def test_the_unassessed_list_is_scoped_filtered_and_paginated(
    client, city_admin, district_admin, register_rows, monkeypatch
):
    client.force_login(district_admin)
    response = client.get(reverse("manage:unassessed"))
    page = response.context["page"]
    assert page.paginator.count == 18
    assert all(entry.district == INSIDE for entry in page.object_list)
    assert "历下登记企业" not in response.content.decode()
    assert client.get(reverse("manage:unassessed"), {"industry": "C31"}).context["page"].paginator.count == 6
    client.force_login(city_admin)
    monkeypatch.setattr(register_views, "FIRMS_PER_PAGE", 10)
    response = client.get(reverse("manage:unassessed"))
    assert response.context["page"].paginator.count == 43
    last = client.get(reverse("manage:unassessed"), {"page": 5, "district": OUTSIDE})
    assert last.context["page"].number == 3 and len(last.context["page"].object_list) == 5
    assert "district=370102&amp;page=2" in last.content.decode()  # the page links keep the filters


def test_the_unassessed_export_csv_and_xlsx(client, district_admin, register_rows):
    RegisterEntryFactory(uscc=register_uscc(99, INSIDE), district=INSIDE, name="=HYPERLINK(1)")
    client.force_login(district_admin)
    response = client.get(reverse("manage:unassessed_export", args=["csv"]), {"industry": "C34"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["统一社会信用代码", "企业名称"]
    assert len(rows) == 1 + 13  # 12 unassessed C34 rows + the hostile one
    assert all(row[2] == "历城区" for row in rows[1:])
    assert "'=HYPERLINK(1)" in [row[1] for row in rows]
    event = AuditEvent.objects.filter(action=AuditEvent.EXPORT).latest("id")
    assert event.target == "export:unassessed.csv" and "industry=C34" in event.detail["filters"]
    response = client.get(reverse("manage:unassessed_export", args=["xlsx"]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert len(values) == 1 + 19
    assert "'=HYPERLINK(1)" in [row[1] for row in values]
    assert client.get(reverse("manage:unassessed_export", args=["pdf"])).status_code == 404


def test_the_unassessed_export_needs_the_export_permission(client, roles, questionnaire):
    client.force_login(make_admin(ROLE_CITY, export=False))
    assert client.get(reverse("manage:unassessed_export", args=["csv"])).status_code == 403
    assert client.get(reverse("manage:unassessed")).status_code == 200
    client.force_login(make_admin(ROLE_DISTRICT, DISTRICT_SCOPE, export=False))
    assert client.get(reverse("manage:unassessed_export", args=["xlsx"])).status_code == 403


def test_an_xlsx_too_long_for_excel_sends_back_to_the_list(client, city_admin, register_rows, monkeypatch):
    from surveys.reports import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 5)
    client.force_login(city_admin)
    response = client.get(reverse("manage:unassessed_export", args=["xlsx"]), {"size": "small"})
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:unassessed") + "?size=small"
    assert "超过 Excel 的上限" in client.get(response["Location"]).content.decode()


def test_register_text_is_escaped_on_the_pages(client, city_admin, questionnaire):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    RegisterEntryFactory(name=payload)
    client.force_login(city_admin)
    page = client.get(reverse("manage:unassessed")).content.decode()
    assert payload not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
