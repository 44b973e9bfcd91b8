"""A dimension with insufficient data (too many 不清楚) is shown as such everywhere and never as a zero: a
gap with its label in the charts (shared by the results page and the PDF), "数据不足" on the pages, in the
PDF and in the exports, and no part of any mean (the firm's comparison groups, the administrators' figures)."""

import csv
import io
import math
import re
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader
from reportlab.graphics.shapes import Circle, Group, Polygon, PolyLine, Rect, String

from surveys import analytics, scopes, selectors, services
from surveys.models import Membership
from surveys.reports import charts
from surveys.scopes import ROLE_CITY
from tests.manage.conftest import make_admin
from tests.reports.conftest import UNKNOWN_DIMENSION, create_firm_round, new_member, realistic_answers, submit_round

pytestmark = pytest.mark.django_db

INSUFFICIENT = "数据不足"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def shapes(group):
    for shape in getattr(group, "contents", []):
        yield shape
        yield from shapes(shape)


@pytest.fixture
def two_firms(settings, questionnaire):
    """A round whose D5 has insufficient data (every D5 item 不清楚, stored as a score of 0) and an ordinary
    round of another firm in the same industry and district; every comparison group is shown."""
    settings.JINAN_MIN_GROUP_SIZE = 1
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    insufficient = create_firm_round(questionnaire)
    user, enterprise = new_member()
    ordinary = submit_round(enterprise=enterprise, user=user, answers=realistic_answers(questionnaire, seed=3))
    return insufficient, ordinary


def report_of(assessment):
    return selectors.assessment_report(assessment=assessment, language="zh-hans")


def test_the_stored_result_has_insufficient_data_and_a_score_that_must_not_be_shown(two_firms):
    insufficient, _ordinary = two_firms
    d5 = insufficient.dimension_results.get(dimension__code=UNKNOWN_DIMENSION)
    assert d5.insufficient_data and d5.score is not None  # the engine's number, 不清楚 counted as 0


def test_the_bars_leave_a_labelled_gap_never_a_zero_bar(two_firms):
    report = report_of(two_firms[0])
    position = [d.code for d in report.dimensions].index(UNKNOWN_DIMENSION)
    bars = charts.chart_drawings(report)["bars"]
    chart = next(c for c in bars.contents if isinstance(c, charts.BarChart))
    assert chart.data[0][position] is None
    drawn = list(shapes(chart))
    firm_bars = [s for s in drawn if isinstance(s, Rect) and s.fillColor == charts.FIRM_COLOR]
    assert len(firm_bars) == len(report.dimensions) - 1  # no bar at all for the dimension …
    assert all(bar.height > 0 for bar in firm_bars)  # … and none of zero height
    # … but its label where the bar would be, running upwards, and in the category's name and the text
    # alternative.
    turned = [
        g for g in drawn if isinstance(g, Group) and any(getattr(s, "text", None) == INSUFFICIENT for s in g.contents)
    ]
    assert len(turned) == 1 and turned[0].transform[:4] == (0, 1, -1, 0)
    label_x = turned[0].transform[4]
    assert sum(bar.x + bar.width < label_x for bar in firm_bars) == position  # in the firm's slot of that category
    assert INSUFFICIENT in chart.category_names[position].replace("\n", "")
    name = report.dimensions[position].name
    assert f"{name}（数据不足）: 本企业 数据不足" in bars.chartDescription


def test_the_radar_line_stops_either_side_of_the_gap_and_never_reaches_the_centre(two_firms):
    report = report_of(two_firms[0])
    position = [d.code for d in report.dimensions].index(UNKNOWN_DIMENSION)
    radar = charts.chart_drawings(report)["radar"]
    chart = next(c for c in radar.contents if isinstance(c, charts.Radar))
    drawn = list(shapes(chart))
    centre = chart.centre
    lines = [s for s in drawn if isinstance(s, PolyLine) and s.strokeColor == charts.FIRM_COLOR]
    points = [(line.points[i], line.points[i + 1]) for line in lines for i in range(0, len(line.points), 2)]
    # One run through the four other dimensions, open at the gap; no point at the centre, no fill across it.
    assert len(lines) == 1 and len(points) == len(report.dimensions) - 1
    assert all(abs(x - centre[0]) + abs(y - centre[1]) > 1 for x, y in points)
    assert not [s for s in drawn if isinstance(s, Polygon) and s.fillColor == charts.FIRM_FILL]
    # No point claimed on the gap's spoke: a point on each other dimension's.
    circles = [s for s in drawn if isinstance(s, Circle)]
    assert len(circles) == len(report.dimensions) - 1
    gap = math.radians(90 - 360 * position / len(report.dimensions))
    gap_direction = (math.cos(gap), math.sin(gap))
    for point in circles:
        dx, dy = point.cx - centre[0], point.cy - centre[1]
        assert dx * gap_direction[0] + dy * gap_direction[1] < 0.99 * math.hypot(dx, dy)
    names = "".join(s.text for s in drawn if isinstance(s, String) and s.fillColor == charts.TEXT_COLOR)
    assert INSUFFICIENT in names
    assert "本企业 数据不足" in radar.chartDescription


def test_a_complete_series_is_still_one_closed_filled_strand():
    radar = charts.dimension_radar(list("甲乙丙丁戊"), [("本企业", [10, 20, 30, 40, 50])])
    drawn = list(shapes(next(c for c in radar.contents if isinstance(c, charts.Radar))))
    assert len([s for s in drawn if isinstance(s, PolyLine) and s.strokeColor == charts.FIRM_COLOR]) == 1
    assert len([s for s in drawn if isinstance(s, Polygon) and s.fillColor == charts.FIRM_FILL]) == 1


def test_the_results_page_and_the_pdf_say_insufficient_data(client, two_firms):
    insufficient, _ordinary = two_firms
    report = report_of(insufficient)
    d5 = next(d for d in report.dimensions if d.code == UNKNOWN_DIMENSION)
    client.force_login(Membership.objects.get(enterprise=insufficient.enterprise).user)
    page = client.get(reverse("surveys:results", args=[insufficient.pk])).content.decode()
    badge = f'<span class="badge text-bg-warning">{INSUFFICIENT}</span>'
    assert re.search(rf"<th scope=\"row\">{re.escape(d5.name)}</th>\s*<td>{re.escape(badge)}", page)
    # The history of rounds says it too, in place of the score.
    history = page[page.index("历次评估") :]
    assert history.count(badge) == 1
    pdf = client.get(reverse("surveys:report", args=[insufficient.pk])).content
    text = squeeze("".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages))
    assert squeeze(f"{d5.code}{d5.name}：{INSUFFICIENT}") in text
    assert squeeze(f"{d5.name}（{INSUFFICIENT}）") in text  # the charts' label
    assert squeeze(f"{d5.code}{d5.name}：0.0") not in text


def test_the_firms_comparison_groups_leave_insufficient_data_out_of_their_means(two_firms):
    insufficient, ordinary = two_firms
    ordinary_d5 = next(d for d in report_of(ordinary).dimensions if d.code == UNKNOWN_DIMENSION)
    for assessment in (insufficient, ordinary):
        report = report_of(assessment)
        position = [d.code for d in report.dimensions].index(UNKNOWN_DIMENSION)
        for group in report.peers:
            assert group.shown and group.size == 2
            # The only usable D5 score is the ordinary firm's: the other one's stored 0 is not averaged in.
            assert group.dimension_means[position] == pytest.approx(ordinary_d5.score, abs=0.01)


def test_the_administrators_figures_exports_and_firm_page(client, two_firms):
    insufficient, ordinary = two_firms
    ordinary_d5 = next(d for d in report_of(ordinary).dimensions if d.code == UNKNOWN_DIMENSION)
    scope = scopes.AdminScope.city_wide()
    board = analytics.dashboard(scope, analytics.Filters(), use_cache=False)
    d5 = next(s for s in board.dimension_stats if s.info.code == UNKNOWN_DIMENSION)
    assert (d5.firms, d5.insufficient) == (1, 1)
    assert d5.mean == pytest.approx(ordinary_d5.score, abs=0.01)
    _dimensions, by_district = analytics.breakdown_page(scope, analytics.Filters(), "district")
    position = [d.info.code for d in board.dimension_stats].index(UNKNOWN_DIMENSION)
    assert by_district.rows[0].dimension_means[position] == pytest.approx(ordinary_d5.score, abs=0.01)

    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    body = b"".join(client.get(reverse("manage:export", args=["firms", "csv"])).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, row = rows[0], next(r for r in rows[1:] if r[0] == insufficient.enterprise.uscc)
    shown_column = next(n for n, h in enumerate(header) if h.startswith(f"{UNKNOWN_DIMENSION} "))
    assert row[shown_column] == INSUFFICIENT
    assert row[header.index(f"{UNKNOWN_DIMENSION}（原始值，未舍入）")] == ""  # no score, not a 0
    assert row[header.index("数据不足的维度数")] == "1"

    page = client.get(reverse("manage:firm", args=[insufficient.enterprise_id])).content.decode()
    name = next(d.name for d in report_of(insufficient).dimensions if d.code == UNKNOWN_DIMENSION)
    assert re.search(
        rf"{UNKNOWN_DIMENSION} {re.escape(name)}</th><td class=\"text-end\"><span class=\"badge text-bg-warning\">"
        rf"{INSUFFICIENT}</span>",
        page,
    )


def test_a_comparison_with_a_gap_is_drawn_under_the_firm():
    radar = charts.dimension_radar(
        list("甲乙丙丁戊"), [("本企业", [10, 20, 30, 40, 50]), ("行业平均", [20, None, 40, 50, 60])]
    )
    drawn = next(c for c in radar.contents if isinstance(c, charts.Radar)).contents
    firm = [n for n, s in enumerate(drawn) if isinstance(s, PolyLine) and s.strokeColor == charts.FIRM_COLOR]
    comparison = [
        n for n, s in enumerate(drawn) if isinstance(s, PolyLine) and s.strokeColor == charts.COMPARISON_COLORS[0]
    ]
    assert len(firm) == 1 and len(comparison) == 1  # the comparison: one open run around its gap
    assert comparison[0] < firm[0]
    assert drawn[comparison[0]].strokeDashArray == charts.COMPARISON_DASHES[0]
