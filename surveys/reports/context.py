"""The data of one firm's PDF report: a submitted round as a plain dataclass tree.

This is the only part of the reports package that reads the database. Everything is read through
``selectors.assessment_result()`` (plus the answers, notes and covered problems, below) and localized here,
inside ``translation.override(language)``: the renderer receives strings and numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from surveys import scoring, selectors
from surveys.choices import DISTRICTS, INDUSTRIES, SIZE_CLASSES, ZONES, label_of
from surveys.models import Answer, Assessment, Item, Problem, RecommendationRule

LANGUAGE_ZH = "zh-hans"
LANGUAGE_EN = "en"
# The PDF's /Lang entry (BCP 47) per UI language.
PDF_LANGUAGE = {LANGUAGE_ZH: "zh-CN", LANGUAGE_EN: "en"}
NEXT_STEP_MARKERS = ("下一步：", "下一步:", "Next step:", "Next steps:")
SHORT_HORIZON = "short"
# A dimension's strengths are its answers at this option or above; its weaknesses those at or below
# scoring.WEAK_SCORE. The report names at most ANSWERS_NAMED of each.
STRONG_SCORE = 3
ANSWERS_NAMED = 3


class ReportNotAvailable(Assessment.DoesNotExist):
    """The round has no report: it is still a draft (only submitted rounds are scored)."""


# --- the tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    item_code: str
    question: str
    answer: str  # localized, e.g. "3 – …", "不清楚", "不适用"
    score: int | None  # 0–4 for a chosen option, None otherwise
    special: str  # "" (an option), "unknown", "na" or "missing"
    note: str = ""


@dataclass(frozen=True)
class ProblemRow:
    code: str
    text: str


@dataclass(frozen=True)
class PeerValue:
    label: str
    value: float | None


@dataclass(frozen=True)
class DimensionSection:
    code: str
    name: str
    problem: str  # the paper's heading of the problem area
    description: str
    weight: float  # share of the index, 0–1
    score: float | None  # None when nothing is scorable (all 不适用)
    insufficient_data: bool  # too many 不清楚: reported as "insufficient data", not as a low score
    unknown_share: float
    answered: int  # answers that count (不清楚 included, 不适用 excluded)
    unknown: int
    not_applicable: int
    strongest: list[AnswerRow]
    weakest: list[AnswerRow]
    unknown_items: list[AnswerRow]
    problems: list[ProblemRow]  # the paper's problems its items measure
    peers: list[PeerValue]  # the shown peer groups' means for this dimension
    answers: list[AnswerRow]  # every item, for the appendix


@dataclass(frozen=True)
class GateRow:
    code: str
    reason: str
    items: list[str]  # the item codes that made it fail


@dataclass(frozen=True)
class TriggerRow:
    item_code: str
    question: str
    answer: str


@dataclass(frozen=True)
class RecommendationRow:
    rule_code: str
    countermeasure_code: str
    countermeasure_title: str
    priority: int  # 1 high … 3 low
    priority_label: str
    horizon: str  # short | medium | long
    horizon_label: str
    text: str  # the whole recommendation
    body: str  # the text before its concrete next step
    next_step: str  # "下一步：…" / "Next step: …", or "" when the text has no marker
    action: str  # the next step without its marker (the whole text when there is none): the action plan's entry
    triggers: list[TriggerRow]


@dataclass(frozen=True)
class CountermeasureSection:
    code: str
    title: str
    heading: str  # the paper's heading, e.g. （一）…
    description: str
    recommendations: list[RecommendationRow]


@dataclass(frozen=True)
class ActionPeriod:
    title: str
    rows: list[RecommendationRow]


@dataclass(frozen=True)
class PeerSummary:
    key: str  # industry | district | city
    label: str  # the group, e.g. 通用设备制造业
    series_name: str  # its name in the charts' legends
    size: int
    shown: bool  # False below settings.JINAN_MIN_GROUP_SIZE: no averages are given
    mean_index: float | None
    percentile: float | None  # share of the group at or below the firm's index
    dimension_means: list[float | None]  # in dimension order


@dataclass(frozen=True)
class LevelRow:
    code: str
    name: str
    min_index: float


@dataclass(frozen=True)
class AssessmentReport:
    language: str  # "zh-hans" | "en"
    pdf_language: str  # "zh-CN" | "en"
    title: str
    questionnaire_title: str
    questionnaire_version: str
    enterprise_name: str
    uscc: str
    district: str
    zone: str
    industry: str
    size_class: str
    contact_name: str
    contact_phone: str
    round_label: str
    submitted_on: str
    generated_on: str
    index: float
    level_code: str
    level_name: str
    level_description: str
    provisional_level_code: str
    provisional_level_name: str
    levels: list[LevelRow]
    gates: list[GateRow]  # the gates that capped the level
    top_priorities: list[RecommendationRow]
    dimensions: list[DimensionSection]
    peers: list[PeerSummary]
    min_group_size: int
    countermeasures: list[CountermeasureSection]
    action_plan: list[ActionPeriod]
    firm_series_name: str
    disclaimer: str
    footer_note: str

    @property
    def insufficient_dimensions(self) -> list[DimensionSection]:
        return [d for d in self.dimensions if d.insufficient_data]


# --- building ---------------------------------------------------------------------------------------


def normalize_language(language: str) -> str:
    return LANGUAGE_EN if (language or "").lower().startswith("en") else LANGUAGE_ZH


def build_assessment_report(
    *, assessment: Assessment, language: str, result: selectors.ResultView | None = None
) -> AssessmentReport:
    """The report of a submitted round in ``language`` ("zh-hans" or "en"); ReportNotAvailable for a draft.

    ``result`` lets a caller that already read the result (the results page, in the same language) pass
    it in instead of reading it again.
    """
    if assessment.status != Assessment.STATUS_SUBMITTED or not assessment.result:
        raise ReportNotAvailable(_("本轮评估尚未提交，没有报告。"))
    language = normalize_language(language)
    with override(language):
        return _build(assessment, language, result or selectors.assessment_result(assessment=assessment))


def _build(assessment: Assessment, language: str, result: selectors.ResultView) -> AssessmentReport:
    enterprise = assessment.enterprise
    questionnaire = assessment.questionnaire
    stored_dimensions = {d["code"]: d for d in assessment.result["dimensions"]}
    answers_by_dimension = _answer_rows(assessment)
    problems_by_dimension = _covered_problems(assessment.questionnaire_id)

    peers = _peer_summaries(result)
    shown_peers = [p for p in peers if p.shown]

    dimensions = []
    for position, view in enumerate(result.dimensions):
        dim = view.dimension
        stored = stored_dimensions.get(dim.code, {})
        rows = answers_by_dimension.get(dim.id, [])
        scored = [r for r in rows if r.score is not None]
        # Stable sorts: among equal scores the questionnaire's order is kept.
        strongest = [r for r in sorted(scored, key=lambda r: -r.score) if r.score >= STRONG_SCORE][:ANSWERS_NAMED]
        weakest = [r for r in sorted(scored, key=lambda r: r.score) if r.score <= scoring.WEAK_SCORE][:ANSWERS_NAMED]
        dimensions.append(
            DimensionSection(
                code=dim.code,
                name=dim.name,
                problem=dim.problem,
                description=dim.description,
                weight=float(dim.weight),
                score=view.score,
                insufficient_data=view.insufficient_data,
                unknown_share=view.unknown_share,
                answered=int(stored.get("answered", len(rows))),
                unknown=int(stored.get("unknown", sum(r.special == scoring.UNKNOWN for r in rows))),
                not_applicable=int(
                    stored.get("not_applicable", sum(r.special == scoring.NOT_APPLICABLE for r in rows))
                ),
                strongest=strongest,
                weakest=weakest,
                unknown_items=[r for r in rows if r.special == scoring.UNKNOWN],
                problems=problems_by_dimension.get(dim.id, []),
                peers=[PeerValue(p.series_name, p.dimension_means[position]) for p in shown_peers],
                answers=rows,
            )
        )

    priority_labels = {value: str(label) for value, label in RecommendationRule.PRIORITY_CHOICES}
    horizon_labels = {value: str(label) for value, label in RecommendationRule.HORIZON_CHOICES}

    def recommendation_row(view: selectors.RecommendationView) -> RecommendationRow:
        rule = view.rule
        text = rule.text
        body, next_step, action = _split_next_step(text)
        return RecommendationRow(
            rule_code=rule.code,
            countermeasure_code=rule.countermeasure.code,
            countermeasure_title=rule.countermeasure.title,
            priority=view.priority,
            priority_label=priority_labels.get(view.priority, str(view.priority)),
            horizon=view.horizon,
            horizon_label=horizon_labels.get(view.horizon, view.horizon),
            text=text,
            body=body,
            next_step=next_step,
            action=action,
            triggers=[TriggerRow(t.item_code, t.item_text, t.answer_label) for t in view.items],
        )

    countermeasures = []
    all_rows: list[RecommendationRow] = []
    for cm_view in result.countermeasures:
        cm = cm_view.countermeasure
        rows = [recommendation_row(v) for v in cm_view.recommendations]
        all_rows.extend(rows)
        countermeasures.append(
            CountermeasureSection(
                code=cm.code, title=cm.title, heading=cm.heading_zh, description=cm.description, recommendations=rows
            )
        )
    by_rule = {row.rule_code: row for row in all_rows}
    top_priorities = [by_rule[v.rule.code] for v in result.top_recommendations if v.rule.code in by_rule]

    ordered = sorted(all_rows, key=lambda r: (r.priority, r.rule_code))
    action_plan = [
        ActionPeriod(_("未来90天"), [r for r in ordered if r.horizon == SHORT_HORIZON]),
        ActionPeriod(_("未来一年及更长"), [r for r in ordered if r.horizon != SHORT_HORIZON]),
    ]

    level, provisional = result.level, result.provisional_level
    return AssessmentReport(
        language=language,
        pdf_language=PDF_LANGUAGE[language],
        title=_("数实融合自评估报告"),
        questionnaire_title=questionnaire.title,
        questionnaire_version=questionnaire.version,
        enterprise_name=enterprise.name,
        uscc=enterprise.uscc,
        district=label_of(DISTRICTS, enterprise.district),
        zone=label_of(ZONES, enterprise.zone) if enterprise.zone else "",
        industry=f"{enterprise.industry} {label_of(INDUSTRIES, enterprise.industry)}",
        size_class=label_of(SIZE_CLASSES, enterprise.size_class),
        contact_name=enterprise.contact_name,
        contact_phone=enterprise.contact_phone,
        round_label=assessment.label,
        submitted_on=_date(assessment.submitted_at),
        generated_on=formats.date_format(timezone.localdate(), "DATE_FORMAT"),
        index=float(assessment.index if assessment.index is not None else assessment.result["index"]),
        level_code=level.code,
        level_name=level.name,
        level_description=level.description,
        provisional_level_code=provisional.code,
        provisional_level_name=provisional.name,
        levels=[LevelRow(lv.code, lv.name, float(lv.min_index)) for lv in result.levels],
        gates=[GateRow(g.gate.code, g.gate.reason, list(g.items)) for g in result.gates],
        top_priorities=top_priorities,
        dimensions=dimensions,
        peers=peers,
        min_group_size=int(settings.JINAN_MIN_GROUP_SIZE),
        countermeasures=countermeasures,
        action_plan=action_plan,
        firm_series_name=_("本企业"),
        disclaimer=_(
            "本报告是企业根据自身填报的答案生成的自评估结果，仅供企业内部改进参考；不是工业和信息化部（MIIT）"
            "中小企业数字化水平评测、智能制造能力成熟度（GB/T 39116，CMMM）评估，也不是山东省或济南市的任何官方评定。"
        ),
        footer_note=_("自评估结果，非工信部（MIIT）、CMMM 或山东省官方评定"),
    )


def _date(value) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATE_FORMAT")


def _split_next_step(text: str) -> tuple[str, str, str]:
    """(body, next step with its marker, next step without it); the seed's texts end in "下一步：…"."""
    for marker in NEXT_STEP_MARKERS:
        position = text.find(marker)
        if position > 0:
            next_step = text[position:].strip()
            return text[:position].rstrip(), next_step, next_step[len(marker) :].strip()
    return text, "", text


def _peer_summaries(result: selectors.ResultView) -> list[PeerSummary]:
    codes = [view.dimension.code for view in result.dimensions]
    names = {
        "industry": _("行业平均（%(group)s）"),
        "district": _("区县平均（%(group)s）"),
        "city": _("全市平均（%(group)s）"),
    }
    summaries = []
    for group in result.peers:
        pattern = names.get(group.key, "%(group)s")
        summaries.append(
            PeerSummary(
                key=group.key,
                label=group.label,
                series_name=pattern % {"group": group.label},
                size=group.size,
                shown=group.shown,
                mean_index=group.mean_index if group.shown else None,
                percentile=group.percentile if group.shown else None,
                dimension_means=[group.dimension_means.get(code) if group.shown else None for code in codes],
            )
        )
    return summaries


def _answer_rows(assessment: Assessment) -> dict[int, list[AnswerRow]]:
    """Every item of the round's questionnaire with the firm's answer and note, per dimension id."""
    items = Item.objects.filter(questionnaire_id=assessment.questionnaire_id).order_by("position")
    items = items.prefetch_related("options")
    answers = {a.item_id: a for a in Answer.objects.filter(assessment=assessment)}
    rows: dict[int, list[AnswerRow]] = {}
    for item in items:
        answer = answers.get(item.id)
        value = answer.value if answer else None
        options = {o.score: o for o in item.options.all()}
        if value in (scoring.UNKNOWN, scoring.NOT_APPLICABLE):
            special = value
        elif value is None:
            special = "missing"
        else:
            special = ""
        rows.setdefault(item.dimension_id, []).append(
            AnswerRow(
                item_code=item.code,
                question=item.text,
                answer=selectors.answer_label(item, options, value),
                score=value if type(value) is int else None,
                special=special,
                note=answer.note if answer else "",
            )
        )
    return rows


def _covered_problems(questionnaire_id: int) -> dict[int, list[ProblemRow]]:
    """The paper's problems measured by each dimension's items, in the paper's order."""
    problems = {p.id: p for p in Problem.objects.filter(questionnaire_id=questionnaire_id)}
    pairs = (
        Item.covers.through.objects.filter(item__questionnaire_id=questionnaire_id)
        .values_list("item__dimension_id", "problem_id")
        .distinct()
    )
    covered: dict[int, set[int]] = {}
    for dimension_id, problem_id in pairs:
        covered.setdefault(dimension_id, set()).add(problem_id)
    return {
        dimension_id: [
            ProblemRow(problems[pid].code, problems[pid].text)
            for pid in sorted(ids, key=lambda pid: problems[pid].position)
            if pid in problems
        ]
        for dimension_id, ids in covered.items()
    }
