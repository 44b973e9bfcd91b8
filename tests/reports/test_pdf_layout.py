"""The firm's PDF as pages (issue 13 item 3): Chinese and English reports of an L1, an L3 and an L5 firm on
questionnaire 2026.2 have no near-empty page but the last, no word of the English text broken inside a
table cell, and a first page that holds the whole summary.

Lines are counted from pypdf's text without the running header and footer. A broken word is found twice:
in the extracted lines (a line ending in a proper prefix of a word of the report, the next line starting
with the rest, as a reader sees "Mediu" / "m"), and in the drawn text lines in drawing order, where a
table cell's lines follow each other even when the cells beside them share their height.
"""

from __future__ import annotations

import dataclasses
import re
from io import BytesIO

import pytest
from django.utils.translation import override
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus.flowables import _listWrapOn

from surveys import scoring
from surveys.models import Item
from surveys.reports import pdf, render_assessment_pdf
from surveys.reports.base import FRAME_HEIGHT, TEXT_WIDTH, text_styles
from surveys.reports.fonts import pdf_font_name
from surveys.selectors.results import assessment_report

from .conftest import new_member, submit_round

pytestmark = pytest.mark.django_db

MIN_LINES = 5
WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def answers_for(questionnaire, level: str) -> dict[str, int | str]:
    """Answer sets that land on L1 (A and B alternating, one 不清楚), L3 (B to D) and L5 (E, some D)."""
    codes = list(Item.objects.filter(questionnaire=questionnaire).order_by("position").values_list("code", flat=True))
    if level == "L1":
        answers: dict[str, int | str] = {code: n % 2 for n, code in enumerate(codes)}
        answers[codes[1]] = scoring.UNKNOWN
        return answers
    if level == "L3":
        return {code: (2, 3, 2, 1, 3)[n % 5] for n, code in enumerate(codes)}
    return {code: 3 if n % 7 == 0 else 4 for n, code in enumerate(codes)}


@pytest.fixture
def firm_report(questionnaire_2026_2):
    """A submitted 2026.2 round of the level asked for (the L1 firm has a previous round), as a report."""

    def build(level: str, language: str):
        user, enterprise = new_member(name="济南泉城精工装备制造有限公司")
        answers = answers_for(questionnaire_2026_2, level)
        if level == "L1":
            submit_round(enterprise=enterprise, user=user, answers=dict.fromkeys(answers, 0), label="2025 T0")
        assessment = submit_round(enterprise=enterprise, user=user, answers=answers, label="2026 T1")
        assert assessment.questionnaire_id == questionnaire_2026_2.id
        assert assessment.level == level
        return assessment_report(assessment=assessment, language=language)

    return build


def page_lines(report, data: bytes) -> list[list[str]]:
    """Each page's non-empty text lines, without the running header and the footer."""
    pages = []
    for page in PdfReader(BytesIO(data)).pages:
        lines = [line.strip() for line in page.extract_text().splitlines()]
        pages.append(
            [line for line in lines if line and not line.startswith(report.title) and report.footer_note not in line]
        )
    return pages


def report_words(report) -> set[str]:
    """Every word of the report's texts (the read model's strings)."""
    words: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            words.update(WORD_RE.findall(value))
        elif dataclasses.is_dataclass(value):
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(report)
    return words


def broken(first: str, second: str, words: set[str]) -> str | None:
    """The word ``first`` ends and ``second`` starts, when together they are a word of the report and one
    of the two halves is not."""
    head = WORD_RE.findall(first[-40:])
    tail = WORD_RE.findall(second[:40])
    if not head or not tail or not first.rstrip().endswith(head[-1]) or not second.lstrip().startswith(tail[0]):
        return None
    joined = head[-1] + tail[0]
    if joined in words and (head[-1] not in words or tail[0] not in words):
        return f"{head[-1]} | {tail[0]}"
    return None


def drawn_lines(data: bytes) -> list[list[tuple[float, float, str]]]:
    """Per page, the text lines in drawing order as (x, y, text): the pieces drawn at one height in a row
    are one line."""
    pages = []
    for page in PdfReader(BytesIO(data)).pages:
        pieces: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, _font, _size, pieces=pieces):
            if not text.strip():
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if pieces and abs(pieces[-1][1] - y) < 0.5:
                px, py, ptext = pieces[-1]
                pieces[-1] = (px, py, ptext + text)
            else:
                pieces.append((x, y, text))

        page.extract_text(visitor_text=visit)
        pages.append(pieces)
    return pages


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("level", ["L1", "L3", "L5"])
def test_no_page_but_the_last_is_near_empty_and_no_english_word_is_broken(firm_report, level, language):
    report = firm_report(level, language)
    data = render_assessment_pdf(report)[2]
    pages = page_lines(report, data)
    assert len(pages) >= 3
    sparse = {number: lines for number, lines in enumerate(pages[:-1], start=1) if len(lines) < MIN_LINES}
    assert not sparse, f"pages with fewer than {MIN_LINES} lines: {sparse}"

    if language != "en":
        return
    words = report_words(report)
    assert {"Management", "answer"} & words
    problems = []
    for number, lines in enumerate(pages, start=1):
        for first, second in zip(lines, lines[1:], strict=False):
            found = broken(first, second, words)
            if found:
                problems.append(f"page {number} (extracted lines): {found}")
    for number, pieces in enumerate(drawn_lines(data), start=1):
        for (x1, y1, first), (x2, y2, second) in zip(pieces, pieces[1:], strict=False):
            # The next line of the same paragraph: lower on the page, starting at (about) the same left edge.
            if y2 < y1 and abs(x2 - x1) < 40:
                found = broken(first, second, words)
                if found:
                    problems.append(f"page {number} (drawn lines): {found}")
    assert not problems, problems


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_page_one_holds_the_whole_summary_of_an_l1_firm_with_eight_top_actions(firm_report, language):
    """At the size of the other pages: page 1 shortens texts rather than shrinking to fit."""
    report = firm_report("L1", language)
    assert len(report.top_actions) == 8
    with override(report.language):
        page = pdf._page_one(report, text_styles(pdf_font_name()))
    assert _listWrapOn(page._content, TEXT_WIDTH, Canvas(None))[1] <= FRAME_HEIGHT  # fits without shrinking
    data = render_assessment_pdf(report)[2]
    reader = PdfReader(BytesIO(data))
    first = re.sub(r"\s+", "", reader.pages[0].extract_text())
    second = re.sub(r"\s+", "", reader.pages[1].extract_text())
    squeeze = lambda text: re.sub(r"\s+", "", text)  # noqa: E731
    assert squeeze(report.enterprise_name) in first and squeeze(report.round_label) in first
    for rung in report.ladder or report.levels:
        assert squeeze(f"{rung.code}{rung.name}") in first
    titles = []
    for number, row in enumerate(report.top_actions, start=1):
        # Each in its row with its item's code, its title shortened where the page needs it (in full in
        # chapter 4), the step ("from B to C") kept.
        code = row.answers[0].item_code if row.kind != "path" and row.answers else ""
        start = first.index(squeeze(f"{number}{code}{row.title}")[:12])
        assert squeeze(row.lead_label) in first
        title = first[start : first.index(squeeze(row.lead_label), start)]
        if row.kind == "improve":
            step = row.title.rpartition("：" if language != "en" else ": ")[2]
            assert squeeze(step) in title, title
        titles.append(title)
    assert len(set(titles)) == len(titles), titles  # no two actions read alike
    if report.next_level is not None:
        for gate in report.next_level.gates:
            assert gate.code in first
    if report.progress is not None:
        assert squeeze(report.progress.previous_label) in first
    assert squeeze(report.disclaimer) in first
    # The chapters start on page 2.
    assert squeeze("2. Scores" if language == "en" else "二、得分") in second
