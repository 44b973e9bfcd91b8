"""One read model of a submitted round (surveys/selectors/results.py): the firm's results page, its PDF and
the administrators' drill-down show the same index, level and dimension scores, rounded by one rule
(surveys/reports/formatting.py)."""

import html
import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from surveys import selectors, services
from surveys.models import Assessment, DimensionResult, Membership
from surveys.reports.formatting import format_change, format_percentile, format_score
from surveys.scopes import ROLE_CITY
from tests.manage.conftest import make_admin
from tests.reports.conftest import create_firm_round, realistic_answers, submit_round

pytestmark = pytest.mark.django_db

# A half: binary floating point formats 48.65 as "48.6" (f"{48.65:.1f}"); the display rule gives "48.7".
HALF = Decimal("48.65")
INSUFFICIENT = "数据不足"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def firm_round(questionnaire):
    """The report tests' realistic round (its D5 answered 不清楚 throughout: insufficient data), with the
    index and the first dimension's score set to a half, where the two ways of rounding part."""
    assessment = create_firm_round(questionnaire)
    result = dict(assessment.result)
    result["dimensions"] = [dict(d) for d in result["dimensions"]]
    first = result["dimensions"][0]
    first["score"] = float(HALF)
    Assessment.objects.filter(pk=assessment.pk).update(index=HALF, result=result)
    DimensionResult.objects.filter(assessment=assessment, dimension__code=first["code"]).update(score=HALF)
    services.summaries_rebuild()  # the stored values changed behind the services
    return Assessment.objects.select_related("enterprise", "questionnaire").get(pk=assessment.pk)


def page_figures(content: str, report, *, index_class: str, dimension_head: str, cell: str) -> dict[str, str]:
    """Index, level and every dimension's score (or 数据不足) as an HTML page shows them."""
    figures = {
        "index": re.search(rf'<p class="{index_class}">([^<]*)</p>', content).group(1),
        "level": squeeze(html.unescape(re.search(r'level-badge">([^<]*)</span>', content).group(1))),
    }
    for d in report.dimensions:
        head = html.escape(dimension_head.format(code=d.code, name=d.name))
        found = re.search(
            rf'<th scope="row">{re.escape(head)}</th>\s*<td{cell}>(<span class="badge text-bg-warning">{INSUFFICIENT}'
            r"</span> )?([^<]*)</td>",
            content,
        )
        assert found, f"{d.code} is not in the page's table"
        figures[d.code] = INSUFFICIENT if found.group(1) else found.group(2)
        figures[f"{d.code} score"] = found.group(2)
    return figures


def pdf_figures(data: bytes, report) -> dict[str, str]:
    """The same figures as the PDF prints them: the summary's sentence and each dimension's heading."""
    text = squeeze("".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages))
    summary = re.search(r"综合指数([0-9.]+)（满分100），等级([^。]+)。", text)
    figures = {"index": summary.group(1), "level": summary.group(2)}
    for d in report.dimensions:
        found = re.search(rf"{re.escape(squeeze(f'{d.code}{d.name}'))}：([0-9.]+|{INSUFFICIENT})", text)
        assert found, f"{d.code} has no heading in the PDF"
        figures[d.code] = found.group(1)
    return figures


def test_the_results_page_the_pdf_and_the_drill_down_show_the_same_numbers(client, firm_round):
    report = selectors.assessment_report(assessment=firm_round, language="zh-hans")
    expected = {"index": "48.7", "level": squeeze(f"{report.level_code}{report.level_name}")}
    for d in report.dimensions:
        expected[d.code] = INSUFFICIENT if d.insufficient_data else format_score(d.score)
    assert format_score(report.index) == expected["index"] == expected[report.dimensions[0].code]
    assert any(d.insufficient_data for d in report.dimensions)

    client.force_login(Membership.objects.get(enterprise=firm_round.enterprise).user)
    page = client.get(reverse("surveys:results", args=[firm_round.pk])).content.decode()
    pdf = client.get(reverse("surveys:report", args=[firm_round.pk])).content
    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    drill_down = client.get(reverse("manage:round", args=[firm_round.enterprise_id, firm_round.pk])).content.decode()

    shown = {
        "results page": page_figures(page, report, index_class="display-5 mb-0", dimension_head="{name}", cell=""),
        "drill-down": page_figures(
            drill_down, report, index_class="display-6 mb-0", dimension_head="{code} {name}", cell=' class="text-end"'
        ),
        "PDF": pdf_figures(pdf, report),
    }
    for where, figures in shown.items():
        assert {key: figures[key] for key in expected} == expected, where
    # The pages give a score next to 数据不足 too (the PDF gives none): the same on both.
    for d in report.dimensions:
        key = f"{d.code} score"
        assert shown["results page"][key] == shown["drill-down"][key] == format_score(d.score)
    # The round's own row in the page's history (after its questionnaire version), and the drill-down's list of
    # rounds, round the same way.
    assert re.search(rf">{re.escape(html.escape(report.round_label))}</a></th>\s*<td>2026\.1</td>\s*<td>48\.7<", page)
    assert re.search(r'<td class="text-end">48\.7</td>', drill_down)
    assert "48.65" not in page and "48.65" not in drill_down


def test_the_display_rule():
    assert format_score(48.65) == format_score(HALF) == "48.7"
    assert format_score(None) == "–" and format_score(0) == "0.0" and format_score(100) == "100.0"
    assert format_change(3.25) == "+3.3" and format_change(-0.04) == "+0.0" and format_change(-0.05) == "-0.1"
    assert format_percentile(62.5) == "63"


def test_the_results_page_takes_few_queries(client, questionnaire, settings, django_assert_max_num_queries):
    """All three comparison groups shown and two rounds in the history: the read model takes 4 queries (the
    firm's rounds, the answers, and the comparison groups from the summary tables in two, whatever the number
    of firms), the page 9 with the session, the user, the membership, the round and the audit event (25 before
    the read model, 19 before the summaries)."""
    settings.JINAN_MIN_GROUP_SIZE = 1
    first = create_firm_round(questionnaire)
    user = Membership.objects.get(enterprise=first.enterprise).user
    answers = realistic_answers(questionnaire, seed=4)
    second = submit_round(enterprise=first.enterprise, user=user, answers=answers, label="2026 第二轮")
    client.force_login(user)
    url = reverse("surveys:results", args=[second.pk])
    client.get(url)
    with django_assert_max_num_queries(9):
        content = client.get(url).content.decode()
    report = selectors.assessment_report(assessment=second, language="zh-hans")
    assert all(p.shown for p in report.peers) and len(report.history) == 2
    assert f"({format_change(report.history[0].index_change)})" in content
