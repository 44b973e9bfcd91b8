"""The results page as a plan (issue 13): where the firm stands on the L1–L5 ladder, what stands between it
and the next level (exactly the stored result's blocking gates and answers), the top actions, the progress
since the previous round, the peers, the other actions and the answers, in that order; in the read model
(surveys/selectors/results.py) and on the page."""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.urls import reverse

from surveys import scoring, selectors
from surveys.models import Assessment, Item, Level, Membership
from surveys.reports.formatting import format_change, format_score
from surveys.text import option_text
from tests.reports.conftest import realistic_answers, submit_round
from tests.test_plan_v2 import best_answers, page_text, squeeze, submitted
from tests.test_result_revisions import city_admin

pytestmark = pytest.mark.django_db

SECTION_HEADINGS_V2 = [
    "summary-heading",
    "next-level-heading",
    "plan-heading",
    "progress-heading",
    "scores-heading",
    "more-actions-heading",
    "history-heading",
    "answers-heading",
]


def page_of(client, assessment, language="zh-hans") -> str:
    client.force_login(Membership.objects.get(enterprise=assessment.enterprise).user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("surveys:results", args=[assessment.pk]))
    assert response.status_code == 200
    return response.content.decode()


def report_of(assessment, language="zh-hans"):
    return selectors.assessment_report(assessment=assessment, language=language)


def second_round(first, answers, label="2026 第二轮"):
    user = Membership.objects.get(enterprise=first.enterprise).user
    return submit_round(enterprise=first.enterprise, user=user, answers=answers, label=label)


def answers_of(assessment) -> dict[str, scoring.AnswerValue]:
    return {a.item.code: a.value for a in assessment.answers.select_related("item")}


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section class="mb-4" id="{section_id}".*?</section>', page, re.S)
    assert match, section_id
    return match.group(0)


def positions(page: str, ids: list[str]) -> list[int]:
    return [page.index(f'id="{heading}"') for heading in ids]


# --- the next level: exactly the stored gates and answers ----------------------------------------------


def expected_blocking(assessment) -> list[tuple[str, str, list[str], list[str]]]:
    """(gate, status, known answers below the option, 不清楚 answers) of the stored gates guarding the level
    above the round's that did not pass, in the stored order (rules version 1: not passed is failed)."""
    codes = list(Level.objects.filter(questionnaire=assessment.questionnaire).values_list("code", flat=True))
    following = codes[codes.index(assessment.level) + 1]
    return [
        (g["code"], g.get("status", "failed"), list(g["items"]), list(g.get("unverified", [])))
        for g in assessment.result["gates"]
        if g["guards_level"] == following and not g["passed"]
    ]


def shown_blocking(report) -> list[tuple[str, str, list[str], list[str]]]:
    return [
        (
            gate.code,
            gate.status,
            [i.item_code for i in gate.items if i.kind == scoring.KIND_IMPROVE],
            [i.item_code for i in gate.items if i.kind == scoring.KIND_VERIFY],
        )
        for gate in report.next_level.gates
    ]


def test_the_next_level_block_names_exactly_the_failed_and_unverified_gates_and_their_answers(
    client, questionnaire_2026_2
):
    # P2.4 below C fails the key-item gate guarding L4 (and caps the level at L3); P5.4, the gate's other
    # item, answered 不清楚, is to verify; P1.5 at C fails only the L5 key gate, which does not guard L4.
    answers = best_answers(questionnaire_2026_2, **{"P2.4": 1, "P5.4": scoring.UNKNOWN, "P1.5": 2})
    assessment = submitted(questionnaire_2026_2, answers)
    report = report_of(assessment)
    assert (report.level_code, report.next_level.code) == ("L3", "L4")
    assert shown_blocking(report) == expected_blocking(assessment) == [("G-L4-KEY", "failed", ["P2.4"], ["P5.4"])]
    (gate,) = report.next_level.gates
    assert gate.more_needed is None and gate.status_label == ""
    improve, verify = gate.items
    p24 = Item.objects.get(questionnaire=questionnaire_2026_2, code="P2.4")
    options = {o.score: o.label for o in p24.options.all()}
    assert (improve.answer, improve.needed) == (option_text(1, options[1]), option_text(2, options[2]))
    p54 = Item.objects.get(questionnaire=questionnaire_2026_2, code="P5.4")
    assert (verify.answer, verify.needed, verify.kind) == ("不清楚", "", "verify")
    assert verify.who and verify.who != "相关部门"
    # The index is far above L4's band: nothing but the gate stands in the way.
    assert report.next_level.index_gap == 0.0

    block = section(page_of(client, assessment), "next-level")
    assert "与 L4 集成提升级 的差距" in html.unescape(block)
    assert re.findall(r'data-gate="([^"]+)"', block) == ["G-L4-KEY"]
    assert re.findall(r'data-item="([^"]+)" data-kind="([^"]+)"', block) == [("P2.4", "improve"), ("P5.4", "verify")]
    text = page_text(block)
    assert squeeze(f"P2.4{p24.text}") in text and squeeze(option_text(2, options[2])) in text
    assert squeeze(f"P5.4{p54.text}") in text and squeeze(f"请{verify.who}查明实际情况后更新答案") in text


def test_an_unverified_gate_blocks_the_next_level_with_its_unknown_answers_only(client, questionnaire_2026_2):
    answers = best_answers(questionnaire_2026_2, **{"P4.1": scoring.UNKNOWN, "P4.3": scoring.UNKNOWN})
    assessment = submitted(questionnaire_2026_2, answers)
    report = report_of(assessment)
    assert (
        shown_blocking(report) == expected_blocking(assessment) == [("G-UNKNOWN", "unverified", [], ["P4.1", "P4.3"])]
    )
    assert report.next_level.gates[0].status_label == "待核实"
    block = section(page_of(client, assessment), "next-level")
    assert 'data-status="unverified"' in block and "待核实" in block and "需要达到" not in block


def test_an_area_floor_says_how_many_more_answers_must_reach_its_option(client, questionnaire_2026_2):
    assessment = submitted(questionnaire_2026_2, realistic_answers(questionnaire_2026_2, seed=3))
    report = report_of(assessment)
    assert shown_blocking(report) == expected_blocking(assessment)
    floors = [g for g in report.next_level.gates if g.code.endswith("FLOOR")]
    assert floors, "the realistic round is held by an area floor"
    stored = {g["code"]: g for g in assessment.result["gates"]}
    for gate in floors:
        assert gate.more_needed and gate.option in "ABCDE"
        needed = {i.needed for i in gate.items if i.kind == scoring.KIND_IMPROVE}
        assert all(n.startswith(f"{gate.option}. ") for n in needed)
        # Raising that many answers of each failing dimension to the option passes the floor there.
        assert gate.more_needed <= len(stored[gate.code]["items"]) + len(stored[gate.code].get("unverified", []))
    page = page_of(client, assessment)
    assert f"至少还需 {floors[0].more_needed} 道题的答案达到 {floors[0].option} 或以上" in section(page, "next-level")


def test_a_rules_version_1_round_has_the_ladder_and_the_next_level_block_too(client, questionnaire):
    assessment = submitted(questionnaire, realistic_answers(questionnaire, seed=3))
    report = report_of(assessment)
    assert report.rules_version == scoring.RULES_VERSION_1
    assert shown_blocking(report) == [
        (code, "failed", items, []) for code, _s, items, _u in expected_blocking(assessment)
    ]
    assert [rung.code for rung in report.ladder] == ["L1", "L2", "L3", "L4", "L5"]
    page = page_of(client, assessment)
    ids = ["summary-heading", "next-level-heading", "priorities-heading", "scores-heading"]
    ids += ["recommendations-heading", "history-heading", "answers-heading"]
    assert positions(page, ids) == sorted(positions(page, ids))
    assert 'id="progress"' not in page and "改进建议" in page


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "论文原文："), ("en", "In the study: ")])
def test_each_countermeasure_cites_the_papers_heading_as_its_source(client, questionnaire, language, label):
    """The paper's heading is Chinese in both languages: it is quoted as the source under the countermeasure's
    title, on the firm's page and on the administrators' round page, not shown as a bare line (or, on the
    round page, instead of the title)."""
    assessment = submitted(questionnaire, realistic_answers(questionnaire, seed=3))
    report = report_of(assessment, language)
    firm_page = html.unescape(section(page_of(client, assessment, language), "recommendations"))
    client.force_login(city_admin())
    round_page = html.unescape(
        client.get(reverse("manage:round", args=[assessment.enterprise_id, assessment.pk])).content.decode()
    )
    for group in report.countermeasures:
        assert f"{label}{group.heading}" in firm_page
        if group.recommendations:
            assert f"{label}{group.heading}" in round_page and group.title in round_page
    assert report.countermeasures[0].title != report.countermeasures[0].heading


# --- the ladder ----------------------------------------------------------------------------------------


def test_the_ladder_marks_the_current_and_the_next_level(client, questionnaire_2026_2):
    assessment = submitted(questionnaire_2026_2, realistic_answers(questionnaire_2026_2, seed=3))
    report = report_of(assessment)
    levels = list(Level.objects.filter(questionnaire=questionnaire_2026_2).order_by("position"))
    assert [(r.code, r.name, r.min_index) for r in report.ladder] == [
        (lv.code, lv.name_zh, float(lv.min_index)) for lv in levels
    ]
    current = [r.code for r in report.ladder if r.current]
    following = [r.code for r in report.ladder if r.next]
    assert current == [report.level_code] and following == [report.next_level.code]
    for rung, level in zip(report.ladder, levels, strict=True):
        assert rung.summary and level.description_zh.startswith(rung.summary)
        assert rung.summary.endswith("。") or rung.summary == level.description_zh.strip()
    summary = section(page_of(client, assessment), "summary")
    rungs = re.findall(r'<li class="ladder-rung([^"]*)" data-level="([^"]+)"( aria-current="step")?>', summary)
    assert [code for _c, code, _a in rungs] == ["L1", "L2", "L3", "L4", "L5"]
    assert [code for css, code, current in rungs if current] == [report.level_code]
    assert [code for css, code, _a in rungs if "ladder-next" in css] == [report.next_level.code]
    assert all(squeeze(html.escape(rung.summary, quote=False)) in squeeze(summary) for rung in report.ladder)


def test_an_l5_round_has_no_next_level_block(client, questionnaire_2026_2):
    assessment = submitted(questionnaire_2026_2, best_answers(questionnaire_2026_2))
    report = report_of(assessment)
    assert report.level_code == "L5" and report.next_level is None
    assert [r.code for r in report.ladder if r.current] == ["L5"] and not [r for r in report.ladder if r.next]
    page = page_of(client, assessment)
    assert 'id="next-level"' not in page and "已达到最高等级" in page


# --- progress since the previous round -------------------------------------------------------------------


@pytest.fixture
def two_rounds(questionnaire_2026_2):
    """Two rounds of one firm on 2026.2: the second raises some answers, lowers others, verifies a 不清楚
    and turns a known answer into 不清楚."""
    answers = realistic_answers(questionnaire_2026_2, seed=3)
    codes = [code for code, value in answers.items() if isinstance(value, int)]
    answers[codes[0]] = scoring.UNKNOWN
    first = submitted(questionnaire_2026_2, answers, name="济南历城精工有限公司")
    later = dict(answers)
    raised = [c for c in codes[1:] if answers[c] < 4][:4]
    lowered = [c for c in codes[1:] if answers[c] > 0 and c not in raised][:2]
    for code in raised:
        later[code] = answers[code] + 1
    for code in lowered:
        later[code] = answers[code] - 1
    later[codes[0]] = 3  # verified
    later[codes[-1]] = scoring.UNKNOWN
    second = second_round(first, later)
    return first, second, {"improved": [codes[0], *raised], "regressed": [*lowered, codes[-1]]}


def test_a_firm_with_two_rounds_sees_its_progress_in_the_read_model(two_rounds):
    first, second, changed = two_rounds
    report = report_of(second)
    progress = report.progress
    before, after = report.history[1], report.history[0]
    assert (progress.previous_label, progress.previous_version, progress.same_version) == (
        first.label,
        "2026.2",
        True,
    )
    assert (
        (progress.index_before, progress.index_after)
        == (before.index, after.index)
        == (
            float(first.index),
            float(second.index),
        )
    )
    assert progress.index_change == after.index_change
    codes = [lv.code for lv in report.levels]
    assert (progress.level_before, progress.level_after) == (first.level, second.level)
    assert progress.level_change == codes.index(second.level) - codes.index(first.level)
    assert [d.code for d in progress.dimensions] == [d.code for d in report.dimensions]
    for delta, old, new in zip(progress.dimensions, before.cells, after.cells, strict=True):
        assert (delta.before, delta.after, delta.change) == (old.score, new.score, new.change)
    order = [row.item_code for d in report.dimensions for row in d.answers]
    expected = {key: sorted(codes, key=order.index) for key, codes in changed.items()}
    assert [c.item_code for c in progress.improved] == expected["improved"]
    assert [c.item_code for c in progress.regressed] == expected["regressed"]
    rows = {row.item_code: row for d in report.dimensions for row in d.answers}
    old_answers = answers_of(first)
    verified = progress.improved[[c.item_code for c in progress.improved].index(changed["improved"][0])]
    assert (verified.before, verified.after) == ("不清楚", rows[verified.item_code].answer)
    assert (verified.before_short, verified.after_short) == ("不清楚", rows[verified.item_code].answer[0])
    assert old_answers[verified.item_code] == scoring.UNKNOWN
    unknown_now = next(c for c in progress.regressed if c.item_code == changed["regressed"][-1])
    assert unknown_now.after == "不清楚" and unknown_now.before.startswith("ABCDE"[old_answers[unknown_now.item_code]])
    assert unknown_now.before_short == "ABCDE"[old_answers[unknown_now.item_code]]
    # The first round has no progress: it has no round before it.
    assert report_of(first).progress is None


def test_a_firm_with_two_rounds_sees_its_progress_on_the_page(client, two_rounds):
    first, second, changed = two_rounds
    report = report_of(second)
    progress = report.progress
    page = page_of(client, second)
    block = section(page, "progress")
    text = page_text(block)
    assert squeeze(f"与上一轮（{first.label}）相比") in text
    assert squeeze(f"{format_score(progress.index_before)}→{format_score(progress.index_after)}") in text
    assert f"({format_change(progress.index_change)})" in text
    assert squeeze(f"{progress.level_before}→{progress.level_after}") in text
    for delta in progress.dimensions:
        row = re.search(rf'<tr data-dimension="{delta.code}">(.*?)</tr>', block, re.S).group(1)
        cells = [page_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        assert cells[1:] == [
            format_score(delta.before) if delta.before is not None else "数据不足",
            format_score(delta.after) if delta.after is not None else "数据不足",
            format_change(delta.change) if delta.change is not None else "–",
        ]
    for direction in ("improved", "regressed"):
        listed = re.search(rf'data-direction="{direction}".*?</details>', block, re.S).group(0)
        assert re.findall(r'<li data-item="([^"]+)">', listed) == [c.item_code for c in getattr(progress, direction)]
        assert set(changed[direction]) == set(re.findall(r'<li data-item="([^"]+)">', listed))
    assert "progress-versions" not in block
    assert positions(page, SECTION_HEADINGS_V2) == sorted(positions(page, SECTION_HEADINGS_V2))


def test_across_questionnaire_versions_only_the_dimension_scores_are_compared(client, questionnaire):
    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    from .conftest import SEED_2026_2_PATH

    first = submitted(questionnaire, realistic_answers(questionnaire, seed=2), name="济南天桥重工有限公司")
    questionnaire_upsert(definition=read_definition(SEED_2026_2_PATH))
    newer = selectors.questionnaire_current()
    second = second_round(first, realistic_answers(newer, seed=6))
    assert second.questionnaire_id == newer.id != first.questionnaire_id
    progress = report_of(second).progress
    assert progress.same_version is False and progress.previous_version == "2026.1"
    assert progress.improved == [] and progress.regressed == []
    assert [d.code for d in progress.dimensions] == ["D1", "D2", "D3", "D4", "D5"]
    assert all(d.change is not None for d in progress.dimensions if d.before is not None and d.after is not None)
    block = section(page_of(client, second), "progress")
    assert "progress-versions" in block and "只比较各维度得分" in block
    assert "progress-dimensions" in block and "data-direction" not in block
    english = section(page_of(client, second, "en"), "progress")
    assert "2026.1" in english and "only the dimension scores" in english


# --- the page: order and cost ----------------------------------------------------------------------------


def test_the_sections_are_in_the_plans_order(client, questionnaire_2026_2):
    assessment = submitted(questionnaire_2026_2, realistic_answers(questionnaire_2026_2, seed=3))
    page = page_of(client, assessment)
    ids = [heading for heading in SECTION_HEADINGS_V2 if heading != "progress-heading"]
    assert positions(page, ids) == sorted(positions(page, ids))
    assert 'id="progress"' not in page  # the firm's first round
    english = page_of(client, assessment, "en")
    assert positions(english, ids) == sorted(positions(english, ids))


def test_the_results_page_of_a_round_with_history_takes_few_queries(
    client, two_rounds, settings, django_assert_max_num_queries
):
    """The read model reads the previous round's answers with the round's own (one query) and the rounds once
    for the history and the progress: a rules-version-2 round (its plan reads the programmes and the paths)
    takes 21 queries for the page with its session, membership, round and audit event, as before the progress
    existed (tests/test_read_model.py: 19 for a version-1 round)."""
    settings.JINAN_MIN_GROUP_SIZE = 1
    _first, second, _changed = two_rounds
    user = Membership.objects.get(enterprise=second.enterprise).user
    client.force_login(user)
    url = reverse("surveys:results", args=[second.pk])
    client.get(url)
    with django_assert_max_num_queries(21):
        page = client.get(url).content.decode()
    assert 'id="progress"' in page and Assessment.objects.filter(enterprise=second.enterprise).count() == 2


# --- the charts: legible on a phone, the PDF's unchanged --------------------------------------------------


def test_the_pages_charts_are_drawn_for_a_phone_with_text_at_13_px_or_more(client, questionnaire_2026_2):
    import base64

    from surveys.reports import charts

    assessment = submitted(questionnaire_2026_2, realistic_answers(questionnaire_2026_2, seed=3))
    for language in ("zh-hans", "en"):
        page = page_of(client, assessment, language)
        images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"[^>]*width="(\d+)" height="(\d+)"', page)
        assert len(images) == 2
        for data, width, height in images:
            svg = base64.b64decode(data).decode()
            view_box = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
            # Drawn for about 340 px: shown near 1:1 on a 375 px phone (the page caps it at 420 px elsewhere).
            assert view_box[2] == charts.NARROW.width == int(width) and abs(view_box[3] - int(height)) <= 1
            sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)]
            assert sizes and min(sizes) >= 13, sorted(set(sizes))
    # The PDF keeps its own drawings: 480 pt wide with their small print.
    report = report_of(assessment)
    assert charts.chart_drawings(report)["radar"].width == charts.WIDTH == 480
    # A long English label wrapped onto more lines than it may have keeps the spaces between its words.
    font = charts.pdf_font_name()
    assert charts._wrap_text("Mastery of core technology", font, 13, 30) == "Mastery\nof\ncore technology"


def test_a_firm_with_two_rounds_sees_its_progress_in_the_pdf(two_rounds):
    """Page 1 of the PDF gives the index and every dimension before and after with the change; the chapter
    with the scores names every answer raised and lowered (text extracted with pypdf)."""
    from io import BytesIO

    from pypdf import PdfReader

    from surveys.reports import render_assessment_pdf

    first, second, changed = two_rounds
    report = report_of(second)
    progress = report.progress
    pages = [squeeze(page.extract_text()) for page in PdfReader(BytesIO(render_assessment_pdf(report)[2])).pages]
    first_page, rest = pages[0].replace("（", "(").replace("）", ")"), "".join(pages[1:])
    assert squeeze(first.label) in first_page
    assert squeeze(f"{format_score(progress.index_before)}→{format_score(progress.index_after)}") in first_page
    assert format_change(progress.index_change) in first_page
    for delta in progress.dimensions:
        if delta.change is not None:
            assert f"{format_score(delta.after)}({format_change(delta.change)})" in first_page
    # The table of changed answers: improved ones under their heading, then the lowered ones, in order.
    start = rest.index(squeeze(f"与上一轮相比的题目变化（{first.label}）"))
    table = rest[start : rest.index("全部题目与答案", start)]  # up to the appendix's heading
    improved_at = table.index(f"提升的题目（{len(progress.improved)}）")
    regressed_at = table.index(f"下降的题目（{len(progress.regressed)}）")
    listed = [table.index(c.item_code + squeeze(c.question)[:8], improved_at) for c in progress.improved]
    assert listed == sorted(listed) and max(listed) < regressed_at
    assert all(table.find(c.item_code, regressed_at) > 0 for c in progress.regressed)
    # Each row gives the options' letters before and after (or 不清楚 …), not their texts again.
    for change in progress.improved + progress.regressed:
        row_start = table.index(change.item_code + squeeze(change.question)[:8])
        row = table[row_start : row_start + len(squeeze(change.question)) + 40]
        assert squeeze(change.question) + change.before_short + change.after_short in row, row
    assert {c.item_code for c in progress.improved + progress.regressed} == set(
        changed["improved"] + changed["regressed"]
    )


@pytest.mark.parametrize(
    ("language", "level", "expected"), [("zh-hans", "高", "高优先级"), ("en", "High", "High priority")]
)
def test_a_recommendation_card_names_its_priority_in_the_users_language(language, level, expected):
    """Rules version 1's recommendation cards: the priority's level and the word, as one phrase (English once read
    "HighPriority")."""
    from types import SimpleNamespace

    from django.utils import translation

    from surveys.templatetags.plan_tags import recommendation_card

    answer = SimpleNamespace(item_code="P5.4", question="网络安全", answer="不清楚")
    rec = SimpleNamespace(priority=1, priority_label=level, horizon_label="90", text="分区", triggers=[answer])
    with translation.override(language):
        card = recommendation_card(rec)
    assert f'<span class="badge text-bg-danger">{expected}</span>' in card
    assert "<strong>P5.4</strong> 网络安全 — 不清楚" in card
