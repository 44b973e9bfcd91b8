"""How hidden cells read (issue 14): a count of a small group "<N"; a share, mean or quartile of a small group
"—*"; any figure of a cell hidden only to protect a neighbour (secondary suppression) "—†"; each mark with its
footnote, on the pages, in the city PDF and in the exports, N following JINAN_MIN_GROUP_SIZE. And the city PDF's
scope line names every filter.

The data: 12 submitted firms in Licheng, 3 in Lixia, 15 in Huaiyin. Lixia is small; Licheng (12 firms, the
next smallest) is hidden to protect it.
"""

import csv
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from surveys import analytics, scopes
from surveys.reports.city import render_city_pdf
from surveys.selectors.administrators import Filters
from surveys.suppression import PROTECTED, SMALL, partition_reasons
from tests.manage.conftest import make_admin, submitted_firm

pytestmark = pytest.mark.django_db

LICHENG, LIXIA, HUAIYIN = "370112", "370102", "370104"
GROUPS = {LICHENG: 12, LIXIA: 3, HUAIYIN: 15}
MINIMA = (5, 10)


@pytest.fixture
def firms(questionnaire):
    return [
        submitted_firm(questionnaire, district=district, seed=20 * n + k, label="2025年度")
        for n, (district, count) in enumerate(GROUPS.items())
        for k in range(count)
    ]


@pytest.fixture
def city_user(questionnaire, firms):
    from surveys import services
    from surveys.scopes import ROLE_CITY

    services.administrator_roles_ensure()
    return make_admin(ROLE_CITY)


@pytest.fixture
def admin_client(client, city_user):
    client.force_login(city_user)
    return client


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_pages(content: bytes) -> list[str]:
    return [squeeze(page.extract_text()) for page in PdfReader(io.BytesIO(content)).pages]


def test_the_rule_says_why_a_cell_is_hidden(settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        assert partition_reasons(GROUPS) == {LIXIA: SMALL, LICHENG: PROTECTED}


def test_the_breakdowns_page_marks_the_protected_cell(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        html = admin_client.get(reverse("manage:breakdowns"), {"by": "district"}).content.decode()
        rows = dict(re.findall(r'<th scope="row">(\S+)</th>(.*?)</tr>', html, re.S))
        cells = {name: re.findall(r'<td class="text-end">(.*?)</td>', rows[name]) for name in ("历城区", "历下区")}
        # Licheng's 12 firms: hidden to protect Lixia, every cell (its count too) "—†".
        assert cells["历城区"] and set(cells["历城区"]) == {"—†"}
        # Lixia's 3 firms: the count "<N", the means "—*"; never "<N" in a mean.
        assert cells["历下区"][0] == f"&lt;{minimum}"
        assert set(cells["历下区"][1:]) == {"—*"}
        assert f"少于{minimum}家企业的组不显示比例和平均值" in html
        assert "† 为防止由合计推算出其他组而隐藏" in html


def test_the_dashboard_never_shows_a_count_mark_in_a_share_or_mean(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        html = admin_client.get(reverse("manage:dashboard"), {"district": LIXIA}).content.decode()
        shares = re.findall(r'<td class="text-end">([^<]*?)</td></tr>', html)  # the levels' share column
        assert shares and all(not s.startswith("&lt;") for s in shares)
        assert "—*" in html and f"&lt;{minimum}" in html
        assert f"&lt;{other(minimum)}" not in html


def other(minimum: int) -> int:
    return next(m for m in MINIMA if m != minimum)


def test_the_city_pdf_marks_the_protected_cell(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        response = admin_client.get(reverse("manage:city_report"))
        text = "".join(pdf_pages(response.content))
        # The district tables of the problem areas: Licheng protected, Lixia small.
        assert "历城区—†—†—†" in text
        assert f"历下区<{minimum}—*—*" in text
        assert "为防止由合计推算出其他组而隐藏" in text
        assert f"少于{minimum}家企业的组不显示比例和平均值" in text
        # No share or mean reads "<N": "<N" is never followed by "%" or another figure's mark.
        assert not re.search(rf"<{minimum}(%|<)", text)
        assert f"<{other(minimum)}" not in text


def csv_sections(response) -> dict[str, list[list[str]]]:
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    sections: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(raw, newline="")):
        if len(row) == 1 and row[0].startswith("# "):
            current = sections.setdefault(row[0][2:], [])
        elif current is not None and row:
            current.append(row)
    return sections


def test_the_export_marks_the_protected_cell_and_keeps_count_marks_in_counts(admin_client, settings):
    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        sections = csv_sections(admin_client.get(reverse("manage:export", args=["aggregates", "csv"])))
        header, *rows = sections["按区县"]
        by_district = {row[0]: row for row in rows}
        assert set(by_district["历城区"][1:]) == {"—†"}
        assert by_district["历下区"][1] == f"<{minimum}" and set(by_district["历下区"][2:]) == {"—*"}
        # Everywhere: "<N" only in a count column (or a count row of the overview).
        for title, (head, *body) in sections.items():
            for row in body:
                for n, cell in enumerate(row):
                    if cell.startswith("<"):
                        assert cell == f"<{minimum}"
                        assert "企业" in head[n] or "企业" in row[0], (title, head[n], row)
        notes = {row[0]: row[1] for row in sections["注"][1:]}
        assert notes["†"] == "为防止由合计推算出其他组而隐藏"
        assert f"少于{minimum}家企业" in notes["*"]


def scope_page(user, language: str = "zh-hans", **filters) -> str:
    report = analytics.city_report(
        scope=scopes.administrator_scope(user), filters=Filters(**filters), language=language
    )
    _name, _mime, content = render_city_pdf(report)
    return pdf_pages(content)[0]


def test_the_unfiltered_report_covers_all_of_jinan(city_user):
    assert "范围济南全市" in scope_page(city_user).replace("：", "")
    assert "AllofJinan" in scope_page(city_user, "en")


@pytest.mark.parametrize(
    ("filters", "chinese", "english"),
    [
        ({"district": LICHENG}, "范围历城区；", "ScopeLicheng District;"),
        ({"industry": "C34"}, "行业：通用设备制造业", "Industry: Manufacture of General Purpose Machinery"),
        ({"size_class": "medium"}, "企业规模：中型", "Medium"),
        ({"round_label": "2025年度"}, "轮次：2025年度", "Round: 2025年度"),
        ({"version": "2026.1"}, "问卷版本：2026.1", "version: 2026.1"),
    ],
)
def test_every_filter_is_in_the_scope_line(city_user, filters, chinese, english):
    """The scope line of page 1 ("范围：…") names the place and every filter, with its label."""
    page = scope_page(city_user, **filters)
    assert squeeze(chinese) in page
    assert ("济南全市" in page) == ("district" not in filters)
    page = scope_page(city_user, "en", **filters).lower()
    assert squeeze(english).lower() in page
    assert ("allofjinan" in page) == ("district" not in filters)


def test_a_chart_with_a_hidden_group_names_it_under_the_bars(admin_client, settings):
    """Charts leave a hidden group's bar out and say so: the breakdown names 历城区 (protected) and 历下区
    (small) with their marks in the note under the chart, and in its text alternative."""
    from surveys.suppression import chart_note

    for minimum in MINIMA:
        settings.JINAN_MIN_GROUP_SIZE = minimum
        svg = admin_client.get(reverse("manage:chart", args=["breakdown"]), {"by": "district"}).content.decode()
        assert chart_note() in svg
        assert "历城区†" in svg and "历下区*" in svg
