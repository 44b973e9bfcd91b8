"""surveys/selectors/results.py: a submitted round becomes a plain, localized dataclass tree (its read model)."""

import dataclasses

import pytest

from surveys.models import Assessment
from surveys.seeding import read_definition
from surveys.selectors.results import AssessmentReport, ReportNotAvailable, assessment_report

from .conftest import FIRM_NAME, FIRM_ROUND, PEER_COUNT, SEED_PATH, UNKNOWN_DIMENSION

SEED = read_definition(SEED_PATH)


def leaves(value):
    """Every leaf value of the tree (dataclasses, lists, tuples and dicts are walked)."""
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from leaves(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from leaves(item)
    else:
        yield value


@pytest.mark.parametrize("name", ["report_zh", "report_en", "hostile_report"])
def test_the_report_holds_strings_and_numbers_only(rendered, name):
    report = getattr(rendered, name)
    assert isinstance(report, AssessmentReport)
    kinds = {type(leaf) for leaf in leaves(report)}
    # No model instances, no lazy translation proxies: the renderer never touches the ORM or gettext state.
    assert kinds <= {str, int, float, bool, type(None)}


def test_chinese_report_content(rendered):
    report = rendered.report_zh
    assert report.language == "zh-hans" and report.pdf_language == "zh-CN"
    assert report.enterprise_name == FIRM_NAME
    assert report.uscc == rendered.uscc
    assert report.round_label == FIRM_ROUND
    assert report.questionnaire_version == "2026.1"
    assert report.district == "历城区" and report.industry == "C34 通用设备制造业"
    assert report.contact_name == "李明"
    assert report.submitted_on  # a formatted date
    assert [d.name for d in report.dimensions] == [d["name_zh"] for d in SEED["dimensions"]]
    assert [c.title for c in report.countermeasures] == [c["title_zh"] for c in SEED["countermeasures"]]
    assert [c.heading for c in report.countermeasures] == [c["heading_zh"] for c in SEED["countermeasures"]]
    levels = {lv["code"]: lv for lv in SEED["levels"]}
    assert report.level_name == levels[report.level_code]["name_zh"]
    assert report.level_description == levels[report.level_code]["description_zh"]
    assert 0 <= report.index <= 100
    assert 1 <= len(report.top_priorities) <= 3
    assert "自评估" in report.disclaimer and "MIIT" in report.disclaimer


def test_every_item_is_in_the_appendix_with_its_answer_and_note(rendered):
    rows = [row for d in rendered.report_zh.dimensions for row in d.answers]
    assert [r.item_code for r in rows] == rendered.item_codes
    by_code = {r.item_code: r for r in rows}
    assert by_code["P2.2"].note == "数控设备 18 台，生产设备共 75 台。"
    assert by_code["P5.1"].answer == "不清楚" and by_code["P5.1"].special == "unknown"
    scored = [r for r in rows if r.special == ""]
    # An option is named by its letter, as the gate texts quote it: score 0 is A … 4 is E.
    assert scored and all(r.answer.startswith(f"{'ABCDE'[r.score]}. ") for r in scored)


def test_a_dimension_answered_unknown_throughout_is_insufficient_data(rendered):
    report = rendered.report_zh
    sections = {d.code: d for d in report.dimensions}
    unknown = sections[UNKNOWN_DIMENSION]
    assert unknown.insufficient_data
    assert unknown.unknown == unknown.answered and unknown.unknown_share == 1.0
    assert [r.item_code for r in unknown.unknown_items] == [r.item_code for r in unknown.answers]
    assert unknown.strongest == [] and unknown.weakest == []  # 不清楚 is not a weakness, it is missing data
    assert report.insufficient_dimensions == [unknown]
    assert not any(d.insufficient_data for code, d in sections.items() if code != UNKNOWN_DIMENSION)


def test_dimension_sections_name_answers_and_the_papers_problems(rendered):
    d1 = rendered.report_zh.dimensions[0]
    assert d1.problem == "数字经济引领带动作用不强"
    covered = {code for item in SEED["dimensions"][0]["items"] for code in item["covers"]}
    texts = {p["code"]: p["text_zh"] for p in SEED["problems"]}
    assert {p.code for p in d1.problems} == covered
    assert all(p.text == texts[p.code] for p in d1.problems)
    assert d1.weakest and all(r.score <= 1 for r in d1.weakest)
    assert all(r.score >= 3 for r in d1.strongest)
    assert [r.score for r in d1.weakest] == sorted(r.score for r in d1.weakest)


def test_recommendations_are_grouped_under_the_four_countermeasures_with_their_answers(rendered):
    report = rendered.report_zh
    assert [c.code for c in report.countermeasures] == ["CM1", "CM2", "CM3", "CM4"]
    rows = [r for c in report.countermeasures for r in c.recommendations]
    assert rows
    for cm in report.countermeasures:
        assert all(r.countermeasure_code == cm.code for r in cm.recommendations)
    item_rules = [r for r in rows if r.rule_code.startswith("R-P")]
    assert item_rules
    for row in item_rules:
        assert [t.item_code for t in row.triggers] == [row.rule_code.removeprefix("R-")]
        assert row.triggers[0].question and row.triggers[0].answer
    assert all(r.priority_label in {"高", "中", "低"} for r in rows)
    assert all(r.next_step.startswith("下一步") and r.action and r.body for r in rows)
    plan = report.action_plan
    assert [p.title for p in plan] == ["未来90天", "未来一年及更长"]
    assert all(r.horizon == "short" for r in plan[0].rows)
    assert all(r.horizon in {"medium", "long"} for r in plan[1].rows)
    assert sorted(r.rule_code for p in plan for r in p.rows) == sorted(r.rule_code for r in rows)
    assert [r.priority for r in plan[1].rows] == sorted(r.priority for r in plan[1].rows)


def test_peer_groups_below_the_minimum_size_are_not_shown(rendered):
    report = rendered.report_zh
    groups = {p.key: p for p in report.peers}
    assert groups["industry"].size == PEER_COUNT + 1 and groups["industry"].shown
    assert groups["city"].shown
    district = groups["district"]
    assert district.size == 9 and not district.shown  # 8 peers + the firm < 10
    assert district.mean_index is None and district.dimension_means == [None] * 5
    assert all(v is not None for v in groups["industry"].dimension_means)
    # Dimension sections carry the shown groups' means only.
    assert [v.label for v in report.dimensions[0].peers] == [groups["industry"].series_name, groups["city"].series_name]
    assert report.min_group_size == 10


def test_english_report_uses_the_english_content(rendered):
    report = rendered.report_en
    assert report.language == "en" and report.pdf_language == "en"
    assert [d.name for d in report.dimensions] == [d["name_en"] for d in SEED["dimensions"]]
    assert [c.title for c in report.countermeasures] == [c["title_en"] for c in SEED["countermeasures"]]
    assert report.level_description == {lv["code"]: lv for lv in SEED["levels"]}[report.level_code]["description_en"]
    assert report.dimensions[0].problem.startswith("The digital economy")
    rows = [r for c in report.countermeasures for r in c.recommendations]
    assert all(r.next_step.startswith("Next step") for r in rows)
    # The paper's headings exist in Chinese only.
    assert report.countermeasures[0].heading == "（一）强化数字经济与实体经济融合的平衡性"


@pytest.mark.django_db
def test_language_codes_are_normalized(firm_round):
    assert assessment_report(assessment=firm_round, language="en-us").language == "en"
    assert assessment_report(assessment=firm_round, language="zh-Hans").language == "zh-hans"
    assert assessment_report(assessment=firm_round, language="").language == "zh-hans"


@pytest.mark.django_db
def test_a_draft_has_no_report(draft_round):
    with pytest.raises(ReportNotAvailable):
        assessment_report(assessment=draft_round, language="zh-hans")
    # Views that turn a missing round into a 404 handle a draft the same way.
    assert issubclass(ReportNotAvailable, Assessment.DoesNotExist)
