"""The small-group rule has one home (surveys/suppression.py): JINAN_MIN_GROUP_SIZE changes both what is hidden
and how a hidden figure reads, on every surface that shows aggregates.

The data: 7 submitted firms in Licheng, 2 in Lixia and 2 in Huaiyin (11 in all). With a minimum of 5 the
Licheng group is shown and the two small ones are hidden ("<5", "不足5家"); with 10 all three are hidden
("<10", "不足10家"). Two small groups are hidden together, so no secondary suppression hides Licheng.
"""

import csv
import io
import re
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from surveys import suppression
from tests.manage.conftest import make_admin, submitted_firm

pytestmark = pytest.mark.django_db

LICHENG, LIXIA, HUAIYIN = "370112", "370102", "370104"
GROUPS = {LICHENG: 7, LIXIA: 2, HUAIYIN: 2}
MINIMA = (5, 10)


@pytest.fixture
def firms(questionnaire):
    return [
        submitted_firm(questionnaire, district=district, seed=10 * n + k)
        for n, (district, count) in enumerate(GROUPS.items())
        for k in range(count)
    ]


@pytest.fixture
def admin_client(client, questionnaire, firms):
    from surveys import services
    from surveys.scopes import ROLE_CITY

    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    return client


def other(minimum: int) -> int:
    return next(m for m in MINIMA if m != minimum)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_label_follows_the_setting(settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        assert suppression.min_group_size() == minimum
        assert suppression.hidden_label() == f"<{minimum}"
        assert suppression.hidden_phrase() == f"不足{minimum}家"
        assert suppression.shown_count(7) == (7 if minimum <= 7 else None)
        assert suppression.suppress_partition(GROUPS) == ({LIXIA, HUAIYIN} if minimum == 5 else set(GROUPS))


def test_the_dashboard(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        response = admin_client.get(reverse("manage:dashboard"), {"district": LICHENG})
        assert response.context["board"].overview.submitted == (7 if minimum == 5 else None)
        html = response.content.decode()
        assert f"&lt;{minimum}" in html and f"&lt;{other(minimum)}" not in html

        response = admin_client.get(reverse("manage:breakdowns"), {"by": "district"})
        rows = {row.key: row for row in response.context["breakdown"].rows}
        assert rows[LICHENG].firms == (7 if minimum == 5 else None)
        assert rows[LIXIA].firms is None and rows[HUAIYIN].firms is None
        html = response.content.decode()
        assert re.search(rf'<th scope="row">历下区</th>\s*<td class="text-end">&lt;{minimum}</td>', html)
        licheng = "7" if minimum == 5 else f"&lt;{minimum}"
        assert re.search(rf'<th scope="row">历城区</th>\s*<td class="text-end">{licheng}</td>', html)


def svg_text(response) -> str:
    assert response["Content-Type"] == "image/svg+xml"
    return " ".join(ElementTree.fromstring(response.content).itertext())


def test_the_dashboard_charts(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        # By district: only shown groups get a bar; the hidden ones are named, with their marks, only in the
        # note under the chart.
        text = svg_text(admin_client.get(reverse("manage:chart", args=["breakdown"]), {"by": "district"}))
        assert "未画出的柱形" in text
        assert "历下区*" in text and text.count("历下区") == text.count("历下区*")  # never a bar's label
        assert ("历城区" in text) == (minimum == 5) or "历城区*" in text
        # Lixia's 2 firms: every level hidden, no bar drawn, and a note says so.
        text = svg_text(admin_client.get(reverse("manage:chart", args=["levels"]), {"district": LIXIA}))
        assert "未画出的柱形" in text and "<" not in text


def test_the_city_report(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        response = admin_client.get(reverse("manage:city_report"), {"district": LICHENG})
        assert response.status_code == 200
        text = squeeze("".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages))
        assert f"记为“<{minimum}”" in text and f"<{other(minimum)}" not in text
        if minimum == 5:
            assert "在7家有有效得分的企业中" in text
            assert "有有效得分的企业不足" not in text
        else:
            assert "在7家有有效得分的企业中" not in text
            assert "有有效得分的企业不足10家" in text


def csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw, newline="")))


def xlsx_sheets(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_every_export(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        label, other_label = f"<{minimum}", f"<{other(minimum)}"
        licheng = 7 if minimum == 5 else label

        rows = csv_rows(admin_client.get(reverse("manage:export", args=["aggregates", "csv"])))
        section = rows[rows.index(["# 按区县"]) + 2 :]
        by_district = {row[0]: row for row in section[: len(GROUPS)]}
        assert by_district["历城区"][1] == str(licheng)
        assert by_district["历下区"][1] == label and by_district["槐荫区"][1] == label
        assert label in by_district["历下区"] and not any(other_label in row for row in rows)

        workbook = xlsx_sheets(admin_client.get(reverse("manage:export", args=["aggregates", "xlsx"])))
        by_district = {row[0]: row for row in workbook["按区县"].iter_rows(min_row=2, values_only=True)}
        assert by_district["历城区"][1] == licheng
        assert by_district["历下区"][1] == label and by_district["槐荫区"][1] == label
        cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for c in row]
        assert other_label not in cells

        # Firm-level results and answers are per firm: nothing in them is aggregated, so nothing is hidden.
        for dataset in ("firms", "answers"):
            rows = csv_rows(admin_client.get(reverse("manage:export", args=[dataset, "csv"])))
            sheet = xlsx_sheets(admin_client.get(reverse("manage:export", args=[dataset, "xlsx"]))).active
            values = list(sheet.iter_rows(min_row=2, values_only=True))
            assert len(values) == len(rows) - 1
            assert {row[0] for row in rows[1:]} == {row[0] for row in values}
            assert len({row[0] for row in rows[1:]}) == sum(GROUPS.values())
            assert not any(cell in (label, other_label) for row in rows for cell in row)
