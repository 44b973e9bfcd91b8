"""surveys/reports/pdf.py and the package's entry points: the PDF as a reader (and pypdf) sees it."""

import dataclasses
import re
import shutil
import subprocess
from io import BytesIO

import pytest
from pypdf import PdfReader

from surveys.models import Questionnaire
from surveys.reports import (
    ascii_filename,
    content_disposition,
    render_assessment_pdf,
    report_filename,
)
from surveys.reports.fonts import TTF_FONT_NAME, pdf_font
from surveys.seeding import read_definition
from surveys.selectors.results import ActionPeriod, ReportNotAvailable, assessment_report

from .conftest import (
    FIRM_NAME,
    FIRM_NOTES,
    FIRM_ROUND,
    HOSTILE_CONTACT,
    HOSTILE_ROUND,
    HOSTILE_TEXT,
    SEED_PATH,
    UNKNOWN_DIMENSION,
)

SEED = read_definition(SEED_PATH)


def squeeze(text: str) -> str:
    """Text without whitespace: extraction breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def reader(pdf: tuple[str, str, bytes]) -> PdfReader:
    return PdfReader(BytesIO(pdf[2]))


def page_texts(pdf) -> list[str]:
    return [squeeze(page.extract_text()) for page in reader(pdf).pages]


def full_text(pdf) -> str:
    return "".join(page_texts(pdf))


def test_the_chinese_pdf_parses_and_names_the_firm_dimensions_and_countermeasures(rendered):
    filename, mimetype, data = rendered.pdf_zh
    assert data.startswith(b"%PDF-") and mimetype == "application/pdf"
    assert filename == f"{rendered.uscc}-{FIRM_ROUND}.pdf"
    text = full_text(rendered.pdf_zh)
    assert squeeze(FIRM_NAME) in text and rendered.uscc in text
    for dimension in SEED["dimensions"]:
        assert squeeze(dimension["name_zh"]) in text
        assert squeeze(dimension["problem_zh"]) in text
    for countermeasure in SEED["countermeasures"]:
        assert squeeze(countermeasure["title_zh"]) in text
        assert squeeze(countermeasure["heading_zh"]) in text
    for note in FIRM_NOTES.values():
        assert squeeze(note) in text
    assert squeeze(rendered.report_zh.level_description) in text


def test_the_items_behind_a_recommendation_are_printed_with_it(rendered):
    text = full_text(rendered.pdf_zh)
    recommendations = [r for c in rendered.report_zh.countermeasures for r in c.recommendations]
    with_items = [r for r in recommendations if r.triggers]
    assert with_items
    for row in with_items:
        assert squeeze(row.next_step) in text
        for trigger in row.triggers:
            assert squeeze(f"{trigger.item_code}{trigger.question}{trigger.answer}") in text


def test_the_english_pdf_uses_the_english_names_and_titles(rendered):
    text = full_text(rendered.pdf_en)
    for dimension in SEED["dimensions"]:
        assert squeeze(dimension["name_en"]) in text
    for countermeasure in SEED["countermeasures"]:
        assert squeeze(countermeasure["title_en"]) in text
    recommendation = rendered.report_en.countermeasures[0].recommendations[0]
    assert squeeze(recommendation.next_step) in text and recommendation.next_step.startswith("Next step")
    assert reader(rendered.pdf_en).trailer["/Root"]["/Lang"] == "en"


def test_a_dimension_answered_unknown_throughout_is_reported_as_insufficient_data(rendered):
    dimension = next(d for d in rendered.report_zh.dimensions if d.code == UNKNOWN_DIMENSION)
    text = full_text(rendered.pdf_zh)
    assert squeeze(f"{dimension.code}{dimension.name}：数据不足") in text
    assert f"{dimension.name}（数据不足）" in text  # the charts' label
    # … and not as a score of 0.
    assert f"{dimension.code}{dimension.name}：0.0" not in text


def test_every_page_has_page_x_of_y_and_the_self_assessment_statement(rendered):
    pages = page_texts(rendered.pdf_zh)
    assert len(pages) > 5
    for number, text in enumerate(pages, start=1):
        assert f"第{number}页，共{len(pages)}页" in text
        assert "非工信部（MIIT）、CMMM或山东省官方评定" in text
    assert squeeze(rendered.report_zh.disclaimer) in pages[0]


def test_document_metadata_and_language(rendered):
    pdf = reader(rendered.pdf_zh)
    meta = pdf.metadata
    assert FIRM_NAME in meta.title and FIRM_ROUND in meta.title and "自评估" in meta.title
    assert meta.author == FIRM_NAME
    assert meta.subject == rendered.report_zh.questionnaire_title
    assert pdf.trailer["/Root"]["/Lang"] == "zh-CN"
    assert pdf.outline  # chapter bookmarks


def test_hostile_text_appears_literally_and_does_not_alter_the_document(rendered):
    text = full_text(rendered.hostile_pdf)
    assert squeeze(HOSTILE_TEXT) in text  # firm name on the cover, in the header and in the note
    assert text.count(squeeze(HOSTILE_TEXT)) >= 3
    assert squeeze(HOSTILE_CONTACT) in text
    assert squeeze(HOSTILE_ROUND) in text
    data = rendered.hostile_pdf[2]
    # <a href="javascript:x"> became text, not a link annotation or an action.
    assert b"/Annot" not in data and b"/URI" not in data and b"/JavaScript" not in data
    assert reader(rendered.hostile_pdf).metadata.author == HOSTILE_TEXT
    assert rendered.hostile_pdf[0] == f"{rendered.hostile_report.uscc}-R&D _1_.pdf"


def test_the_cjk_truetype_font_is_embedded_as_a_subset(rendered):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed: apt-get install poppler-utils")
    font = pdf_font()
    assert font.embedded and font.name == TTF_FONT_NAME, "no TrueType CJK font: apt-get install fonts-wqy-microhei"
    output = subprocess.run(
        ["pdffonts", "-"], input=rendered.pdf_zh[2], capture_output=True, check=True, timeout=30
    ).stdout.decode()
    rows = [line.split() for line in output.splitlines()[2:] if line.strip()]
    assert rows and all("TrueType" in row for row in rows), output  # no other font (not even Helvetica)
    for row in rows:
        # name type [encoding] emb sub uni object ID: a subset ("ABCDEF+") that is embedded and has a ToUnicode map.
        assert re.fullmatch(r"[A-Z]{6}\+.+", row[0]), output
        assert row[-5:-2] == ["yes", "yes", "yes"], output


def test_the_renderer_needs_no_database_and_handles_empty_sections(rendered):
    # Not marked django_db: any query would fail. Every group hidden, no recommendation, nothing scored.
    report = dataclasses.replace(
        rendered.report_zh,
        peers=[dataclasses.replace(p, shown=False, mean_index=None, percentile=None) for p in rendered.report_zh.peers],
        dimensions=[dataclasses.replace(d, score=None, peers=[]) for d in rendered.report_zh.dimensions],
        countermeasures=[dataclasses.replace(c, recommendations=[]) for c in rendered.report_zh.countermeasures],
        top_priorities=[],
        gates=[],
        action_plan=[ActionPeriod(p.title, []) for p in rendered.report_zh.action_plan],
    )
    text = full_text(render_assessment_pdf(report))
    assert "本对策下没有触发的建议" in text and "不足10家，不显示" in text


def test_long_notes_split_across_pages_inside_the_tables(rendered):
    note = ("很长的备注，" * 30 + "WithAVeryLongWordThatHasNoSpacesAtAll" * 3)[:1000]
    report = dataclasses.replace(
        rendered.report_zh,
        enterprise_name="济" * 100,
        dimensions=[
            dataclasses.replace(d, answers=[dataclasses.replace(a, note=note) for a in d.answers])
            for d in rendered.report_zh.dimensions
        ],
    )
    pdf = render_assessment_pdf(report)
    pages = page_texts(pdf)
    appendix = [t for t in pages if "很长的备注" in t]
    assert len(appendix) > 5
    # The table header repeats on every page the appendix spans.
    assert all("题号题目本企业的答案" in t for t in appendix)


@pytest.mark.django_db
def test_a_draft_has_no_pdf(draft_round):
    with pytest.raises(ReportNotAvailable):
        render_assessment_pdf(assessment_report(assessment=draft_round, language="zh-hans"))


def test_the_package_scenario_left_the_database_empty(rendered, db):
    assert not Questionnaire.objects.exists()


# --- file names and the header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uscc", "label", "expected"),
    [
        ("91370100MA3C0A1B7D", "2026 T0", "91370100MA3C0A1B7D-2026 T0.pdf"),
        ("91370100MA3C0A1B7D", "2026 第一轮", "91370100MA3C0A1B7D-2026 第一轮.pdf"),
        ("91370100MA3C0A1B7D", 'a/b\\c:"d"<e>', "91370100MA3C0A1B7D-a_b_c_d_e_.pdf"),
    ],
)
def test_report_filename(uscc, label, expected):
    assert report_filename(uscc=uscc, round_label=label) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("91370100MA3C0A1B7D-2026 T0.pdf", "91370100MA3C0A1B7D-2026_T0.pdf"),
        ("91370100MA3C0A1B7D-2026 第一轮.pdf", "91370100MA3C0A1B7D-2026.pdf"),
        ("91370100MA3C0A1B7D-R&D _1_.pdf", "91370100MA3C0A1B7D-R_D_1.pdf"),
        ("第一轮.pdf", "report.pdf"),
        ("Café.pdf", "Cafe.pdf"),
    ],
)
def test_ascii_filename(filename, expected):
    assert ascii_filename(filename) == expected


def test_content_disposition_has_an_ascii_fallback_and_an_rfc_5987_utf8_name():
    filename = "91370100MA3C0A1B7D-2026 第一轮.pdf"
    header = content_disposition(filename, ascii_fallback=ascii_filename(filename))
    assert header == (
        'attachment; filename="91370100MA3C0A1B7D-2026.pdf"; '
        "filename*=UTF-8''91370100MA3C0A1B7D-2026%20%E7%AC%AC%E4%B8%80%E8%BD%AE.pdf"
    )
    assert header.isascii()


def test_content_disposition_never_lets_quotes_or_line_breaks_through():
    header = content_disposition('a"b\\c\r\nSet-Cookie: x;.pdf', ascii_fallback='a"b\\c\r\nSet-Cookie: x;.pdf')
    assert "\r" not in header and "\n" not in header
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    assert '"' not in fallback and "\\" not in fallback
    # The line break is white space to clean_user_text: one space in the UTF-8 name, never a header line.
    assert header.endswith("filename*=UTF-8''a%22b%5Cc%20Set-Cookie%3A%20x%3B.pdf")


def test_a_list_the_report_shortens_says_how_many_more_and_where(rendered):
    """A dimension's strongest and weakest answers are named three at a time; the rest are counted and placed
    in the appendix."""
    text = full_text(rendered.pdf_zh)
    cut = 0
    for d in rendered.report_zh.dimensions:
        for named, count in (
            (d.strongest, sum(1 for a in d.answers if a.score is not None and a.score >= 3)),
            (d.weakest, sum(1 for a in d.answers if a.score is not None and a.score <= 1)),
        ):
            if count > len(named):
                cut += 1
                assert squeeze(f"另有{count - len(named)}题，见附录“{d.code}{d.name}”。") in text
    assert cut  # the scenario has such a list


def test_page_one_is_the_summary_and_the_chapters_follow(rendered):
    pages = page_texts(rendered.pdf_zh)
    report = rendered.report_zh
    assert "一、评估概要" in pages[0] and squeeze(f"{report.level_code}{report.level_name}") in pages[0]
    assert "最优先的三项建议" in pages[0]  # rules version 1: its three recommendations
    for row in report.top_priorities:
        assert squeeze(row.countermeasure_title) in pages[0]
    assert pages[1].startswith("二、得分")
    text = "".join(pages)
    positions = [
        text.find(title)
        for title in ("二、得分", "三、各维度分析", "四、改进建议", "五、行动计划", "附录：全部题目与答案")
    ]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_a_dimension_lists_only_the_papers_problems_its_weak_answers_point_to(rendered):
    text = full_text(rendered.pdf_zh)
    pointed_to: dict[str, bool] = {}
    for d in rendered.report_zh.dimensions:
        weak = {a.item_code for a in d.answers if a.score is not None and a.score <= 1}
        for problem in d.problems:
            behind = sorted(weak.intersection(problem.item_codes))
            if behind:  # listed in this dimension's section, with the weak answers' item codes
                assert squeeze("• " + problem.text + "（" + "、".join(behind) + "）") in text, problem.code
            pointed_to[problem.text] = pointed_to.get(problem.text, False) or bool(behind)
    assert any(pointed_to.values()) and not all(pointed_to.values())  # the realistic firm has both kinds
    for problem_text, listed in pointed_to.items():
        if not listed:  # a problem no weak answer points to is not listed at all
            assert squeeze("• " + problem_text) not in text
