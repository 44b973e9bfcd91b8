"""The plan of a rules-version-2 round (questionnaire 2026.2): the read model's ranked actions, the results
page's action cards and the firm's PDF (issue 12, items 2–5). A 2026.1 round has no plan and keeps its
recommendations."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from surveys import scoring, selectors
from surveys.choices import DEPARTMENTS, label_of
from surveys.models import Item, Membership, RecommendationRule
from surveys.reports import render_assessment_pdf
from surveys.reports.formatting import format_score
from tests.reports.conftest import new_member, realistic_answers, submit_round

pytestmark = pytest.mark.django_db

HORIZON_LABELS = {"short": "未来90天", "medium": "一年内", "long": "一年以上"}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def best_answers(questionnaire, **changes):
    """The best option on every item of ``questionnaire``, except ``changes``."""
    codes = Item.objects.filter(questionnaire=questionnaire).values_list("code", flat=True)
    return {**dict.fromkeys(codes, 4), **changes}


def submitted(questionnaire, answers, *, name="济南齐鲁智造有限公司"):
    user, enterprise = new_member(name=name)
    assessment = submit_round(enterprise=enterprise, user=user, answers=answers, label="2026 第一轮")
    assert assessment.questionnaire_id == questionnaire.id
    return assessment


def rendered(client, assessment, language="zh-hans"):
    """(read model, results page HTML, PDF text without whitespace) of a round, as its firm sees them."""
    report = selectors.assessment_report(assessment=assessment, language=language)
    client.force_login(Membership.objects.get(enterprise=assessment.enterprise).user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("surveys:results", args=[assessment.pk])).content.decode()
    data = render_assessment_pdf(report)[2]
    text = squeeze("".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages))
    return report, page, text


def page_text(page: str) -> str:
    return squeeze(html.unescape(re.sub(r"<[^>]+>", " ", page)))


def page_top_cards(page: str) -> list[dict[str, str]]:
    """The top actions' cards in page order: key, horizon code and the shown title, lead, done, horizon."""
    top = re.search(r'<ol class="list-unstyled mb-3" id="top-actions">(.*?)</ol>', page, re.S).group(1)
    cards = []
    for card in re.findall(r'<article class="card mb-2 action-card"(.*?)</article>', top, re.S):

        def field(name: str, source: str = card) -> str:
            return html.unescape(re.search(rf'class="[^"]*{name}">(.*?)</', source, re.S).group(1)).strip()

        cards.append(
            {
                "key": html.unescape(re.search(r'data-action="([^"]*)"', card).group(1)),
                "horizon": re.search(r'data-horizon="([^"]*)"', card).group(1),
                "title": field("action-title"),
                "lead": field("action-lead"),
                "done": field("action-done"),
                "horizon_label": field("action-horizon"),
            }
        )
    return cards


def why_text(row) -> str:
    return "".join(p.text + ("" if p.number is None else format_score(p.number)) for p in row.why)


def pdf_top_rows(report) -> list[str]:
    """Each top action's row of the PDF summary table, as extracted (cells left to right; a path whose text
    is its title is not repeated)."""
    return [
        squeeze(
            f"{n}{row.title}{'' if row.what == row.title else row.what}"
            f"{row.lead_label}{row.done_criterion}{row.horizon_label}"
        )
        for n, row in enumerate(report.top_actions, start=1)
    ]


def in_order(text: str, needles: list[str]) -> bool:
    position = 0
    for needle in needles:
        position = text.find(needle, position)
        if position < 0:
            return False
        position += len(needle)
    return True


# --- (a) the L5-type firm: its one 不清楚 answer is to verify, never a finding ---------------------------


def test_an_unknown_investment_answer_is_only_a_verify_action_with_its_owner(client, questionnaire_2026_2):
    item = Item.objects.get(questionnaire=questionnaire_2026_2, code="P2.6")
    assert "数字化投入" in item.text and item.owner == "finance"
    assessment = submitted(questionnaire_2026_2, best_answers(questionnaire_2026_2, **{"P2.6": scoring.UNKNOWN}))
    report, page, pdf = rendered(client, assessment)
    assert report.has_plan and report.rules_version == 2
    assert report.level_code == "L5" and report.gates == []  # one 不清楚 in nine: tolerated, nothing held

    every = report.top_actions + [row for group in report.more_actions for row in group.actions]
    on_item = [row for row in every if any(a.item_code == "P2.6" for a in row.answers)]
    assert [(row.kind, row.key) for row in on_item] == [("verify", "verify:P2.6")]
    (verify,) = on_item
    finance = label_of(DEPARTMENTS, "finance")
    assert verify.lead == "finance" and verify.lead_label == finance
    assert verify.title == f"核实：{item.text}"
    assert verify.what.startswith("该题答了“不清楚”。") and f"请{finance}查明" in verify.what
    assert "不把它当作企业的短板" in verify.what and verify.done_criterion == f"答案已由{finance}核实并更新为具体选项"
    assert verify.answers[0].answer == "不清楚" and verify.horizon == "short"
    # No recommendation row rests on it, no gate names it as failing.
    assert not [
        r for c in report.countermeasures for r in c.recommendations if any(t.item_code == "P2.6" for t in r.triggers)
    ]
    assert not [g for g in report.gates if "P2.6" in g.items]
    assert all(g.status == scoring.STATUS_UNVERIFIED for g in report.gates if "P2.6" in g.unverified)

    # Neither the page nor the PDF states a finding built on it: not the rule's text, not a low option.
    rule = RecommendationRule.objects.get(questionnaire=questionnaire_2026_2, code="R-P2.6")
    lows = [o.label_zh for o in item.options.filter(score__lte=2)]
    shown = page_text(page)
    for where, text in (("page", shown), ("PDF", pdf)):
        assert squeeze(rule.text_zh)[:20] not in text, where
        assert "不足营业收入的0.5%" not in text and "低于营业收入的0.5%" not in text, where
        assert not any(squeeze(label) in text for label in lows), where
        assert squeeze(verify.title) in text and squeeze(verify.what) in text, where


# --- (b) two 不清楚 talent answers: L3, held by the unknown gate "to verify", the plan starts there ----


def test_two_unknown_talent_answers_are_l3_to_verify_first(client, questionnaire_2026_2):
    answers = best_answers(questionnaire_2026_2, **{"P4.1": scoring.UNKNOWN, "P4.3": scoring.UNKNOWN})
    report, page, pdf = rendered(client, submitted(questionnaire_2026_2, answers))
    assert report.level_code == "L3" and report.provisional_level_code == "L5"
    (gate,) = report.gates
    assert (gate.code, gate.status, gate.status_label, gate.unverified) == (
        "G-UNKNOWN",
        "unverified",
        "待核实",
        ["P4.1", "P4.3"],
    )
    assert gate.reason.endswith("请先核实：P4.1、P4.3。") and gate.items == []

    first, second = report.top_actions[:2]
    assert [(a.kind, a.key) for a in (first, second)] == [("verify", "verify:P4.1"), ("verify", "verify:P4.3")]
    for action, code in ((first, "P4.1"), (second, "P4.3")):
        item = Item.objects.get(questionnaire=questionnaire_2026_2, code=code)
        assert action.title == f"核实：{item.text}" and action.lead_label == label_of(DEPARTMENTS, item.owner)
        assert action.blocks == ["G-UNKNOWN"] and "G-UNKNOWN" in why_text(action)
    # Nothing says the firm failed: no improve action, no recommendation on a talent item.
    every = report.top_actions + [row for group in report.more_actions for row in group.actions]
    assert not [row for row in every if row.kind == scoring.KIND_IMPROVE]
    assert not [r for c in report.countermeasures for r in c.recommendations]

    # "What stands between you and L4": the gate as 待核实, with the two answers to find out.
    block = re.search(
        r'<li class="card mb-2 blocking-gate" data-gate="G-UNKNOWN" data-status="unverified">(.*?)</ul>', page, re.S
    )
    assert block and "待核实" in block.group(1)
    assert re.findall(r"P4\.[13]", block.group(1))[:2] == ["P4.1", "P4.3"]
    assert "因以下短板门槛未达到而调整" not in page and "未通过</span>" not in block.group(1)
    assert [card["key"] for card in page_top_cards(page)[:2]] == ["verify:P4.1", "verify:P4.3"]
    assert squeeze("G-UNKNOWN待核实") in pdf and "请先核实：P4.1、P4.3" in pdf


# --- (c) and (d): every top action is owned, dated and the same on the page and in the PDF ------------


@pytest.fixture
def mixed_round(questionnaire_2026_2):
    return submitted(questionnaire_2026_2, realistic_answers(questionnaire_2026_2, seed=3), name="济南泉城装备有限公司")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_top_action_has_a_lead_a_done_criterion_and_a_matching_horizon(client, mixed_round, language):
    report, page, pdf = rendered(client, mixed_round, language)
    assert 5 <= len(report.top_actions) <= 8
    labels = {period.code: period.title for period in report.plan_periods}
    assert list(labels) == ["short", "medium", "long"]
    if language == "zh-hans":
        assert labels == HORIZON_LABELS
    else:
        assert labels == {"short": "Next 90 days", "medium": "Within a year", "long": "Longer"}
    for row in report.top_actions:
        assert row.lead and row.lead_label and row.done_criterion and row.what and row.title
        assert row.horizon_label == labels[row.horizon]
    cards = page_top_cards(page)
    assert [card["key"] for card in cards] == [row.key for row in report.top_actions]
    for card, row in zip(cards, report.top_actions, strict=True):
        assert (card["lead"], card["done"], card["title"]) == (row.lead_label, row.done_criterion, row.title)
        assert card["horizon_label"] == labels[card["horizon"]] == row.horizon_label
    for expected in pdf_top_rows(report):
        assert expected in pdf
    # The plan by horizon: every action once, under the period of its horizon.
    periods = {period.code: [row.key for row in period.actions] for period in report.plan_periods}
    every = report.top_actions + [row for group in report.more_actions for row in group.actions]
    assert sorted(key for keys in periods.values() for key in keys) == sorted(row.key for row in every)
    assert all(row.key in periods[row.horizon] for row in every)


def test_the_top_actions_are_the_same_on_the_page_and_in_the_pdf_in_the_same_order(client, mixed_round):
    report, page, pdf = rendered(client, mixed_round)
    keys = [row.key for row in report.top_actions]
    assert keys == mixed_round.result["top_actions"]
    assert [card["key"] for card in page_top_cards(page)] == keys
    assert in_order(pdf, pdf_top_rows(report))
    # Each improve action's title names the step and its done-criterion the next option, by letter.
    for row in report.top_actions:
        if row.kind == scoring.KIND_IMPROVE:
            entry = next(a for a in mixed_round.result["actions"] if a["key"] == row.key)
            letters = "ABCDE"
            assert row.title.endswith(f"从 {letters[entry['current']]} 提升到 {letters[entry['next']]}")
            assert row.done_criterion.startswith(f"{letters[entry['next']]}. ")
        assert why_text(row).startswith(f"排第 {row.rank}（共 ")
        assert squeeze(why_text(row)) in pdf and squeeze(why_text(row)) in page_text(page)
    # The rest: grouped, every group collapsed on the page, all in the PDF.
    assert report.more_actions and page.count('<details class="mb-2 more-actions"') == len(report.more_actions)
    for group in report.more_actions:
        assert [row.rank for row in group.actions] == sorted(row.rank for row in group.actions)
        assert all(squeeze(row.title) in pdf for row in group.actions)
    assert "改进建议" not in page and "四、改进建议" not in pdf


# --- (e) 2026.1 keeps its recommendations and has no plan --------------------------------------------


def test_a_2026_1_round_has_no_plan_and_keeps_its_recommendations(client, questionnaire):
    assessment = submitted(questionnaire, realistic_answers(questionnaire, seed=3))
    report, page, pdf = rendered(client, assessment)
    assert report.rules_version == 1 and not report.has_plan
    assert (report.top_actions, report.more_actions, report.plan_periods) == ([], [], [])
    assert report.top_priorities and [p.title for p in report.action_plan] == ["未来90天", "未来一年及更长"]
    assert all(g.status == "failed" and g.status_label == "" for g in report.gates)
    assert 'id="plan"' not in page and "改进建议" in page
    assert "四、改进建议" in pdf and "最优先的三项建议" in pdf and "按期限的行动计划" not in pdf


def test_a_2026_1_round_renders_unchanged_once_2026_2_is_loaded(client, questionnaire):
    """Loading 2026.2 changes nothing about rounds on 2026.1: the same stored result, index and level on the
    page and in the PDF, and the engine still scores its answers on 2026.1 to the same result."""
    from surveys.models import Questionnaire
    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    from .conftest import SEED_2026_2_PATH

    assessment = submitted(questionnaire, realistic_answers(questionnaire, seed=5))
    before_result = assessment.result
    before = rendered(client, assessment)
    questionnaire_upsert(definition=read_definition(SEED_2026_2_PATH))
    assert selectors.questionnaire_current() == Questionnaire.objects.get(version="2026.2")
    assessment.refresh_from_db()
    after = rendered(client, assessment)
    assert assessment.result == before_result
    report = after[0]
    assert (report.index, report.level_code, report.questionnaire_version) == (
        before[0].index,
        before[0].level_code,
        "2026.1",
    )
    shown = format_score(report.index)
    assert shown in page_text(after[1]) and shown in after[2]
    assert f"{report.level_code}{report.level_name}" in page_text(after[1])
    assert report.level_name in after[2]
    assert page_text(after[1]) == page_text(before[1])
    definition = selectors.questionnaire_definition(questionnaire=questionnaire)
    rescored = scoring.score(definition, selectors.assessment_answer_values(assessment=assessment))
    assert (rescored.level, round(rescored.index, 2)) == (assessment.level, float(assessment.index))


def test_an_administrator_sees_the_firms_top_actions_in_the_same_order(client, questionnaire_2026_2):
    from surveys.scopes import ROLE_CITY
    from surveys.services import administrator_grant

    from .model_factories import UserFactory

    assessment = submitted(questionnaire_2026_2, best_answers(questionnaire_2026_2, **{"P4.1": "unknown", "P2.2": 1}))
    admin = UserFactory()
    administrator_grant(user=admin, role=ROLE_CITY)
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    url = reverse("manage:round", args=[assessment.enterprise_id, assessment.pk])
    page = client.get(url).content.decode()
    report = selectors.assessment_report(assessment=assessment, language="zh-hans")
    text = page_text(page)
    positions = [text.find(squeeze(html.unescape(row.title))) for row in report.top_actions]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert "企业的重点行动" in text and "触发的建议" not in text
