"""One rounding rule for displayed scores (issue 12: "The web page shows 48.65, the PDF 48.6 for the same
index"): one decimal, a half up, from the value's decimal form, on the results page, in the PDF, on the
administrators' pages (theirs and Django's admin), in the charts' labels and in the display columns of the
CSV and XLSX exports; stored values keep their precision, and an export column that carries them says so."""

import csv
import io
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader
from reportlab.graphics.shapes import String

from surveys import services
from surveys.models import Assessment, DimensionResult, Membership
from surveys.reports import charts
from surveys.reports.formatting import display_number, format_count, format_score, format_share, round_score
from surveys.scopes import ROLE_CITY
from tests.manage.conftest import make_admin
from tests.reports.conftest import create_firm_round

pytestmark = pytest.mark.django_db

# (stored value, as every place shows it): halves where binary floating point rounds the other way
# (f"{48.65:.1f}" is "48.6", f"{0.05:.1f}" "0.1" but f"{99.95:.1f}" "100.0" only by luck of the float).
HALVES = [(Decimal("48.65"), "48.7"), (Decimal("0.05"), "0.1"), (Decimal("99.95"), "100.0")]
RAW_INDEX = "综合指数（原始值，未舍入）"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("stored", "shown"), HALVES + [(Decimal("48.64"), "48.6"), (Decimal("-0.04"), "0.0")])
def test_the_rule_rounds_a_half_up_from_the_decimal_form(stored, shown):
    assert format_score(stored) == format_score(float(stored)) == shown
    assert display_number(float(stored)) == round_score(stored) == Decimal(shown)
    assert display_number(7) == 7 and display_number("数据不足") == "数据不足" and display_number(None) is None


def test_shares_and_chart_labels_follow_the_rule():
    assert format_share(0.125) == "13%" and format_share(0.5) == "50%" and format_share(None) == "–"
    drawing = charts.dimension_bars(["甲", "乙"], [("本企业", [48.65, 0.05])])
    bars = next(c for c in drawing.contents if isinstance(c, charts.BarChart))
    written = [shape.text for shape in bars.contents if isinstance(shape, String)]
    assert "48.7" in written and "0.1" in written  # over each bar, by the display rule
    assert not any(text.startswith(("48.6", "0.05")) for text in written)
    assert "本企业 48.7" in drawing.chartDescription and "本企业 0.1" in drawing.chartDescription
    radar = charts.dimension_radar(["甲", "乙", "丙"], [("本企业", [48.65, 99.95, 0.05])])
    drawn = next(c for c in radar.contents if isinstance(c, charts.Radar)).contents
    values = [s.text for s in drawn if isinstance(s, String) and s.fillColor == charts.FIRM_COLOR]
    assert values == ["48.7", "100.0", "0.1"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_counts_are_grouped_by_threes_in_both_languages_as_in_the_pdf(language):
    from django.utils.translation import override

    from surveys.reports import city
    from surveys.templatetags.manage_tags import firms

    with override(language):  # Django's own zh-hans format has no thousands separator ("60000")
        assert firms(60000) == city._count(60000) == city._said_count(60000) == "60,000"
        assert firms(1234567) == "1,234,567" and firms(999) == "999" and firms(0) == "0"
        assert firms(None) == city._count(None)  # a hidden count reads the same on the page and in the PDF
    with pytest.raises(ValueError):
        format_count(2.5)  # a share or a mean passed by mistake is not cut to a count
    drawing = charts.count_bars(["L1", "L2"], [35072, 11203])  # the level chart of the pages and the PDFs
    written = [shape.text for shape in drawing.getContents()[-1].contents if isinstance(shape, String)]
    assert "35,072" in written and "11,203" in written and "40,000" in written  # bars and value axis
    assert drawing.chartDescription == "L1: 35,072; L2: 11,203"


@pytest.fixture(params=HALVES, ids=[shown for _stored, shown in HALVES])
def half_round(request, questionnaire):
    """A submitted round whose index and first dimension score are stored as a half (the result's JSON
    keeps its own precision, as submission writes it)."""
    stored, shown = request.param
    assessment = create_firm_round(questionnaire)
    result = dict(assessment.result)
    result["index"] = float(stored)
    result["dimensions"] = [dict(d) for d in result["dimensions"]]
    result["dimensions"][0]["score"] = float(stored)
    Assessment.objects.filter(pk=assessment.pk).update(index=stored, result=result)
    DimensionResult.objects.filter(assessment=assessment, dimension__code=result["dimensions"][0]["code"]).update(
        score=stored
    )
    services.summaries_rebuild()  # the stored values changed behind the services
    return Assessment.objects.select_related("enterprise", "questionnaire").get(pk=assessment.pk), stored, shown


def test_a_half_is_shown_rounded_up_on_every_page_in_the_pdf_and_in_the_exports(client, half_round):
    assessment, stored, shown = half_round
    raw = str(stored)  # "48.65"

    client.force_login(Membership.objects.get(enterprise=assessment.enterprise).user)
    page = client.get(reverse("surveys:results", args=[assessment.pk])).content.decode()
    assert f'<p class="display-5 mb-0">{shown}</p>' in page
    assert f">{raw}<" not in page
    pdf = client.get(reverse("surveys:report", args=[assessment.pk])).content
    text = squeeze("".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages))
    assert f"综合指数{shown}（满分100）" in text
    assert raw not in text

    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    drill_down = client.get(reverse("manage:firm", args=[assessment.enterprise_id])).content.decode()
    assert f'<p class="display-6 mb-0">{shown}</p>' in drill_down
    assert f'<td class="text-end">{shown}</td>' in drill_down  # the list of rounds
    assert f">{raw}<" not in drill_down
    listed = client.get(reverse("manage:firms")).content.decode()
    assert f'<td class="text-end">{shown}</td>' in listed

    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get(reverse("manage:export", args=["firms", "csv"])).streaming_content).decode(
                    "utf-8-sig"
                )
            )
        )
    )
    header, row = rows[0], next(r for r in rows[1:] if r[0] == assessment.enterprise.uscc)
    first_dimension = next(h for h in header if h.startswith("D1 "))
    assert row[header.index("综合指数")] == shown and row[header.index(first_dimension)] == shown
    # The stored values, for analysis, under headers that say they are not rounded.
    assert row[header.index(RAW_INDEX)] == raw and row[header.index("D1（原始值，未舍入）")] == raw
    assert [h for h in header if "原始值" in h] == [RAW_INDEX] + [f"D{n}（原始值，未舍入）" for n in range(1, 6)]

    english = csv.reader(
        io.StringIO(
            b"".join(
                client.get(reverse("manage:export", args=["firms", "csv"]), HTTP_ACCEPT_LANGUAGE="en").streaming_content
            ).decode("utf-8-sig")
        )
    )
    assert "Overall index (raw value, not rounded)" in next(english)

    response = client.get(reverse("manage:export", args=["firms", "xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = list(sheet.iter_rows(values_only=True))
    header, row = list(cells[0]), next(r for r in cells[1:] if r[0] == assessment.enterprise.uscc)
    assert row[header.index("综合指数")] == float(shown) and row[header.index(first_dimension)] == float(shown)
    assert row[header.index(RAW_INDEX)] == float(stored)


def test_the_django_admin_shows_the_index_by_the_rule(client, half_round):
    assessment, stored, shown = half_round
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x-Horse-9-battery"))
    listed = client.get(reverse("admin:surveys_assessment_changelist")).content.decode()
    assert f'<td class="field-index_display">{shown}</td>' in listed
    detail = client.get(reverse("admin:surveys_assessment_change", args=[assessment.pk])).content.decode()
    assert f'<div class="readonly">{shown}</div>' in detail


def test_aggregate_exports_round_means_by_the_rule_and_keep_counts(client, settings, questionnaire, half_round):
    """A dashboard figure in the aggregate export is a display value: the city's mean index of one firm."""
    assessment, stored, shown = half_round
    settings.JINAN_MIN_GROUP_SIZE = 1
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0  # the figures of this database, not a cached one's
    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    body = b"".join(client.get(reverse("manage:export", args=["aggregates", "csv"])).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    overview = {row[0]: row[1] for row in rows if len(row) == 2}
    assert overview["平均综合指数"] == shown and overview["已提交评估的企业"] == "1"
