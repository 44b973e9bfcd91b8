"""The city-level PDF: the paper's structure, the scope, suppression, and the note on every page."""

import io
import subprocess

import pytest
from django.urls import reverse
from pypdf import PdfReader

from surveys import analytics, scopes
from surveys.models import Countermeasure, Dimension
from surveys.reports.city import render_city_pdf

pytestmark = pytest.mark.django_db

OTHER_DISTRICTS = ["历下区", "市中区", "槐荫区", "天桥区", "长清区", "济阳区", "莱芜区", "钢城区", "平阴县", "商河县"]


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_the_report_follows_the_five_problems_and_four_countermeasures(demo_firms, questionnaire):
    _name, mimetype, data = render_city_pdf(
        analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="zh-hans")
    )
    assert mimetype == "application/pdf" and data.startswith(b"%PDF")
    pages = pages_text(data)
    text = "".join(pages)
    for dimension in Dimension.objects.filter(questionnaire=questionnaire):
        assert dimension.problem_zh in text
    for countermeasure in Countermeasure.objects.filter(questionnaire=questionnaire):
        assert countermeasure.heading_zh in text
    for page in pages:
        assert "根据企业自评估汇总，不是官方评定" in page
    assert "不是工信部" in text


def test_the_numbers_in_the_report_are_the_dashboards(demo_firms):
    scope = scopes.AdminScope.city_wide()
    report = analytics.city_report(scope=scope, filters=analytics.Filters(), language="zh-hans")
    board = analytics.dashboard(scope, analytics.Filters())
    assert report.data.overview == board.overview
    assert report.data.dimension_stats == board.dimension_stats
    text = "".join(pages_text(render_city_pdf(report)[2]))
    for stat in board.dimension_stats:
        assert f"{stat.weak_share:.1f}%" in text
    # The share of weak firms by district agrees with the breakdown's usable scores.
    area = report.data.problem_areas[0]
    licheng = next(r for r in area.by_district if r.label == "历城区")
    from surveys.models import DimensionResult

    scores = [
        float(s)
        for s in DimensionResult.objects.filter(
            assessment__is_latest=True,
            assessment__enterprise__district="370112",
            dimension__code="D1",
            insufficient_data=False,
        ).values_list("score", flat=True)
    ]
    weak = sum(s < 40 for s in scores)
    assert licheng.firms == len(scores)
    assert licheng.weak_share == (pytest.approx(100 * weak / len(scores)) if weak >= 10 else None)


def test_a_district_administrators_report_names_only_their_districts(client, district_admin, demo_firms):
    client.force_login(district_admin)
    response = client.get(reverse("manage:city_report"))
    assert response.status_code == 200
    text = "".join(pages_text(response.content))
    assert "历城区" in text and "章丘区" in text
    for name in OTHER_DISTRICTS:
        assert name not in text, name


def test_small_groups_are_hidden_in_the_report(small_city):
    report = analytics.city_report(
        scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(district="370102"), language="zh-hans"
    )
    assert report.data.overview.submitted is None
    assert all(area.stats.mean is None for area in report.data.problem_areas)
    text = "".join(pages_text(render_city_pdf(report)[2]))
    assert "<10" in text


def test_the_report_embeds_its_cjk_font(demo_firms, tmp_path):
    _name, _mime, data = render_city_pdf(
        analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="zh-hans")
    )
    path = tmp_path / "city.pdf"
    path.write_bytes(data)
    try:
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    # Only the embedded CJK font: tables name it too, so no Helvetica slips in (reports/base.py).
    assert rows and all(" yes " in line and "Helvetica" not in line for line in rows), fonts


def test_english_report(demo_firms):
    _name, _mime, data = render_city_pdf(
        analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="en")
    )
    assert data.startswith(b"%PDF")
    assert PdfReader(io.BytesIO(data)).metadata is not None
