"""The city PDF as pages (issue 14 item 4): the Chinese and English reports, for the whole city and filtered to one
district, have no near-empty page but the last, and a first page that holds the scope, the headline figures
and every key finding (not mostly empty when filtered to one district).

The data: 300 demo firms whose latest round is on 2026.2 (with the barriers question and the city-level
problems), a quarter with an earlier round, nine in ten in the business register with sector tags.
Lines are counted as the firm report's layout test counts them (tests/reports/test_pdf_layout.py).
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.utils.translation import override
from pypdf import PdfReader

from surveys import analytics, scopes
from surveys.reports.city import key_findings, render_city_pdf
from tests.manage.test_city_report import seed_briefing_city
from tests.reports.test_pdf_layout import MIN_LINES, page_lines

pytestmark = pytest.mark.django_db

LICHENG = "370112"
# Page 1 holds the title, the scope, four figures, six findings (one with five items) and the disclaimer.
PAGE_ONE_LINES = 25


@pytest.fixture
def briefing_city(questionnaire, questionnaire_2026_2):
    seed_briefing_city(questionnaire, questionnaire_2026_2)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("district", ["", LICHENG])
def test_no_page_but_the_last_is_near_empty_and_page_one_holds_the_findings(briefing_city, language, district):
    report = analytics.city_report(
        scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(district=district), language=language
    )
    data = render_city_pdf(report)[2]
    pages = page_lines(report, data)
    assert len(pages) >= 4
    sparse = {number: lines for number, lines in enumerate(pages[:-1], start=1) if len(lines) < MIN_LINES}
    assert not sparse, f"pages with fewer than {MIN_LINES} lines: {sparse}"

    assert len(pages[0]) >= PAGE_ONE_LINES, pages[0]
    first = squeeze(PdfReader(BytesIO(data)).pages[0].extract_text())
    assert squeeze(report.scope_label) in first
    with override(report.language):
        findings = key_findings(report)
    assert len(findings) == 6
    for finding in findings:
        assert squeeze(finding.text)[:30] in first, finding.topic
    # The chapters follow on page 2.
    second = squeeze(PdfReader(BytesIO(data)).pages[1].extract_text())
    assert squeeze("1. Overview" if language == "en" else "一、总体情况") in second
