"""The read model of a submitted round: what the results page, the firm's PDF and the administrators'
drill-down show, read from the stored result (never recomputed).

``assessment_report()`` reads everything once and localizes it inside ``translation.override(language)``:
the tree it returns (``AssessmentReport`` and the rows below it) holds strings and numbers only, no model
instance and no lazy translation, so that surveys/reports renders it without the ORM and the pages show
exactly the numbers the PDF prints. A score is kept to the two decimals the database stores
(Assessment.index, DimensionResult.score); how it is rounded for display is surveys/reports/formatting.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from .. import scoring
from ..choices import DISTRICTS, INDUSTRIES, PDF_LANGUAGE, SIZE_CLASSES, ZONES, label_of, normalize_language
from ..models import (
    Answer,
    Assessment,
    Countermeasure,
    Dimension,
    DimensionResult,
    Gate,
    Item,
    Level,
    Problem,
    RecommendationRule,
)
from ..scopes import AdminScope
from ..suppression import min_group_size
from .assessments import answer_label

NEXT_STEP_MARKERS = ("下一步：", "下一步:", "Next step:", "Next steps:")
SHORT_HORIZON = "short"
# A dimension's strengths are its answers at this option or above; its weaknesses those at or below
# scoring.WEAK_SCORE. The report names at most ANSWERS_NAMED of each.
STRONG_SCORE = 3
ANSWERS_NAMED = 3
# The comparison groups, in the order they are shown, and those that stay inside a district
# administrator's scope (the industry across the city and the whole city reach outside it).
PEER_GROUPS = ("industry", "district", "city")
IN_DISTRICT_PEERS = ("district",)
# Scores and indexes are kept to the two decimals the database stores.
STORED_DECIMALS = 2


class ReportNotAvailable(Assessment.DoesNotExist):
    """The round has no report: it is still a draft (only submitted rounds are scored)."""


# --- the tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    item_code: str
    question: str
    answer: str  # localized, e.g. "3 – …", "不清楚", "不适用", "未作答"
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
    peer_means: list[float | None]  # every group's mean, in AssessmentReport.peers order (None: hidden)
    answers: list[AnswerRow]  # every item, for the appendix


@dataclass(frozen=True)
class GateRow:
    code: str
    reason: str
    items: list[str]  # the item codes that made it fail
    # The gate guards the level just above the final one: it alone explains the level. The other failed gates
    # guard higher levels that this one already rules out, and would repeat its explanation on the page.
    sets_level: bool = True


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
class HistoryCell:
    score: float | None
    change: float | None  # against the previous submitted round; None for the first or a missing score


@dataclass(frozen=True)
class HistoryRow:
    """One submitted round of the firm (the report's own included)."""

    assessment_id: int
    label: str
    index: float
    index_change: float | None  # against the previous submitted round
    cells: list[HistoryCell]  # in the report's dimension order


@dataclass(frozen=True)
class AssessmentReport:
    assessment_id: int
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
    contact_name: str  # "" when the reader may not see it
    contact_phone: str
    round_label: str
    submitted_on: str  # in the language's date format (the PDF)
    submitted_date: str  # YYYY-MM-DD (the pages)
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
    history: list[HistoryRow]  # the firm's submitted rounds, newest first
    firm_series_name: str
    disclaimer: str
    footer_note: str

    @property
    def insufficient_dimensions(self) -> list[DimensionSection]:
        return [d for d in self.dimensions if d.insufficient_data]


# --- building ---------------------------------------------------------------------------------------


def assessment_report(*, assessment: Assessment, language: str, scope: AdminScope | None = None) -> AssessmentReport:
    """The read model of a submitted round in ``language``; ReportNotAvailable for a draft.

    ``scope``: an administrator's (surveys/scopes.py), for the administrators' copy: the contact person
    and phone only with ``view_contact_details``, and for a district administrator only the comparison
    group inside the scope (the firm's district). Without it, the firm's own copy.
    """
    if assessment.status != Assessment.STATUS_SUBMITTED or not assessment.result:
        raise ReportNotAvailable(_("本轮评估尚未提交，没有报告。"))
    language = normalize_language(language)
    with override(language):
        return _build(assessment, language, scope)


def _build(assessment: Assessment, language: str, scope: AdminScope | None) -> AssessmentReport:
    stored: dict[str, Any] = assessment.result or {}
    enterprise = assessment.enterprise
    questionnaire_id = assessment.questionnaire_id
    dimensions = {d.code: d for d in Dimension.objects.filter(questionnaire_id=questionnaire_id)}
    stored_dimensions = [d for d in stored["dimensions"] if d["code"] in dimensions]
    codes = [d["code"] for d in stored_dimensions]
    answers_by_dimension, answers_by_item = _answer_rows(assessment)
    problems_by_dimension = _covered_problems(questionnaire_id)

    all_districts = scope is None or scope.all_districts
    peers = _peer_summaries(assessment, PEER_GROUPS if all_districts else IN_DISTRICT_PEERS, codes)
    shown_peers = [p for p in peers if p.shown]

    sections = []
    for position, stored_dimension in enumerate(stored_dimensions):
        dimension = dimensions[stored_dimension["code"]]
        rows = answers_by_dimension.get(dimension.id, [])
        sections.append(
            _dimension_section(
                dimension,
                stored_dimension,
                rows,
                problems=problems_by_dimension.get(dimension.id, []),
                peers=[PeerValue(p.series_name, p.dimension_means[position]) for p in shown_peers],
                peer_means=[p.dimension_means[position] for p in peers],
            )
        )

    countermeasure_list = list(Countermeasure.objects.filter(questionnaire_id=questionnaire_id).order_by("position"))
    recommendations = _recommendation_rows(
        questionnaire_id, stored["recommendations"], {cm.id: cm for cm in countermeasure_list}, answers_by_item
    )
    countermeasures = [
        CountermeasureSection(
            code=cm.code,
            title=cm.title,
            heading=cm.heading_zh,
            description=cm.description,
            recommendations=[r for r in recommendations if r.countermeasure_code == cm.code],
        )
        for cm in countermeasure_list
    ]
    ordered = sorted(recommendations, key=lambda r: (r.priority, r.rule_code))

    levels = list(Level.objects.filter(questionnaire_id=questionnaire_id).order_by("position"))
    level_by_code = {lv.code: lv for lv in levels}
    level, provisional = level_by_code[stored["level"]], level_by_code[stored["provisional_level"]]
    gates = {g.code: g for g in Gate.objects.filter(questionnaire_id=questionnaire_id)}
    contacts = scope is None or scope.can_view_contacts
    questionnaire = assessment.questionnaire
    return AssessmentReport(
        assessment_id=assessment.pk,
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
        contact_name=enterprise.contact_name if contacts else "",
        contact_phone=enterprise.contact_phone if contacts else "",
        round_label=assessment.label,
        submitted_on=_date(assessment.submitted_at, "DATE_FORMAT"),
        submitted_date=_date(assessment.submitted_at, "Y-m-d"),
        generated_on=formats.date_format(timezone.localdate(), "DATE_FORMAT"),
        index=_stored_score(assessment.index if assessment.index is not None else stored["index"]),
        level_code=level.code,
        level_name=level.name,
        level_description=level.description,
        provisional_level_code=provisional.code,
        provisional_level_name=provisional.name,
        levels=[LevelRow(lv.code, lv.name, float(lv.min_index)) for lv in levels],
        gates=_gate_rows(stored, gates, _next_level_code(levels, level.code)),
        top_priorities=recommendations[:3],
        dimensions=sections,
        peers=peers,
        min_group_size=min_group_size(),
        countermeasures=countermeasures,
        action_plan=[
            ActionPeriod(_("未来90天"), [r for r in ordered if r.horizon == SHORT_HORIZON]),
            ActionPeriod(_("未来一年及更长"), [r for r in ordered if r.horizon != SHORT_HORIZON]),
        ],
        history=_history(assessment, codes),
        firm_series_name=_("本企业"),
        disclaimer=_(
            "本报告是企业根据自身填报的答案生成的自评估结果，仅供企业内部改进参考；不是工业和信息化部（MIIT）"
            "中小企业数字化水平评测、智能制造能力成熟度（GB/T 39116，CMMM）评估，也不是山东省或济南市的任何官方评定。"
        ),
        footer_note=_("自评估结果，非工信部（MIIT）、CMMM 或山东省官方评定"),
    )


def _gate_rows(stored: dict[str, Any], gates: dict[str, Gate], next_level: str | None) -> list[GateRow]:
    """The gates that capped the level, in definition order; those guarding ``next_level`` set it (all of
    them do when a stored result predates the guarded level's code)."""
    capped = [g for g in stored["gates"] if g["code"] in stored["capped_by"] and g["code"] in gates]
    setting = {g["code"] for g in capped if g.get("guards_level") == next_level} or {g["code"] for g in capped}
    return [
        GateRow(g["code"], gates[g["code"]].reason, list(g["items"]), sets_level=g["code"] in setting) for g in capped
    ]


def _next_level_code(levels: list[Level], code: str) -> str | None:
    """The code of the level after ``code`` (levels in order), None for the highest."""
    codes = [lv.code for lv in levels]
    return codes[codes.index(code) + 1] if code in codes[:-1] else None


def _stored_score(value: Any) -> float:
    """A score or index as the database stores it (two decimals), whether read from a column or from
    the result's JSON (six decimals), so that every page agrees with the columns the aggregates read."""
    return round(float(value), STORED_DECIMALS)


def _optional_score(value: Any) -> float | None:
    return None if value is None else _stored_score(value)


def _date(value: datetime | None, format_name: str) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), format_name)


def _dimension_section(
    dimension: Dimension,
    stored: dict[str, Any],
    rows: list[AnswerRow],
    *,
    problems: list[ProblemRow],
    peers: list[PeerValue],
    peer_means: list[float | None],
) -> DimensionSection:
    scored = [(r.score, r) for r in rows if r.score is not None]
    # Stable sorts: among equal scores the questionnaire's order is kept.
    strongest = [r for s, r in sorted(scored, key=lambda pair: -pair[0]) if s >= STRONG_SCORE][:ANSWERS_NAMED]
    weakest = [r for s, r in sorted(scored, key=lambda pair: pair[0]) if s <= scoring.WEAK_SCORE][:ANSWERS_NAMED]
    return DimensionSection(
        code=dimension.code,
        name=dimension.name,
        problem=dimension.problem,
        description=dimension.description,
        weight=float(dimension.weight),
        score=_optional_score(stored["score"]),
        insufficient_data=bool(stored["insufficient_data"]),
        unknown_share=float(stored["unknown_share"]),
        answered=int(stored.get("answered", len(rows))),
        unknown=int(stored.get("unknown", sum(r.special == scoring.UNKNOWN for r in rows))),
        not_applicable=int(stored.get("not_applicable", sum(r.special == scoring.NOT_APPLICABLE for r in rows))),
        strongest=strongest,
        weakest=weakest,
        unknown_items=[r for r in rows if r.special == scoring.UNKNOWN],
        problems=problems,
        peers=peers,
        peer_means=peer_means,
        answers=rows,
    )


def _answer_rows(assessment: Assessment) -> tuple[dict[int, list[AnswerRow]], dict[str, AnswerRow]]:
    """Every item of the round's questionnaire with the firm's answer and note: per dimension id (in the
    questionnaire's order) and per item code."""
    items = Item.objects.filter(questionnaire_id=assessment.questionnaire_id).order_by("position")
    answers = {a.item_id: a for a in Answer.objects.filter(assessment=assessment)}
    by_dimension: dict[int, list[AnswerRow]] = {}
    by_item: dict[str, AnswerRow] = {}
    for item in items.prefetch_related("options"):
        answer = answers.get(item.id)
        value = answer.value if answer else None
        if value in scoring.SPECIAL_ANSWERS:
            special = str(value)
        elif value is None:
            special = "missing"
        else:
            special = ""
        row = AnswerRow(
            item_code=item.code,
            question=item.text,
            answer=answer_label(item, {o.score: o for o in item.options.all()}, value),
            score=value if type(value) is int else None,
            special=special,
            note=answer.note if answer else "",
        )
        by_dimension.setdefault(item.dimension_id, []).append(row)
        by_item[item.code] = row
    return by_dimension, by_item


def _covered_problems(questionnaire_id: int) -> dict[int, list[ProblemRow]]:
    """The paper's problems measured by each dimension's items, in the paper's order (one query)."""
    links = (
        Item.covers.through.objects.filter(item__questionnaire_id=questionnaire_id)
        .select_related("item", "problem")
        .only("item__dimension_id", "problem__code", "problem__position", "problem__text_zh", "problem__text_en")
    )
    covered: dict[int, dict[int, Problem]] = {}
    for link in links:
        covered.setdefault(link.item.dimension_id, {})[link.problem_id] = link.problem
    return {
        dimension_id: [ProblemRow(p.code, p.text) for p in sorted(problems.values(), key=lambda p: p.position)]
        for dimension_id, problems in covered.items()
    }


def _recommendation_rows(
    questionnaire_id: int,
    stored: list[dict[str, Any]],
    countermeasures: dict[int, Countermeasure],
    answers: dict[str, AnswerRow],
) -> list[RecommendationRow]:
    """The round's recommendations in the stored order (priority first), each with the answers behind it."""
    rules = {r.code: r for r in RecommendationRule.objects.filter(questionnaire_id=questionnaire_id)}
    priority_labels = {value: str(label) for value, label in RecommendationRule.PRIORITY_CHOICES}
    horizon_labels = {value: str(label) for value, label in RecommendationRule.HORIZON_CHOICES}
    rows = []
    for entry in stored:
        rule = rules.get(entry["rule"])
        countermeasure = countermeasures.get(rule.countermeasure_id) if rule else None
        if rule is None or countermeasure is None:
            continue
        body, next_step, action = _split_next_step(rule.text)
        rows.append(
            RecommendationRow(
                rule_code=rule.code,
                countermeasure_code=countermeasure.code,
                countermeasure_title=countermeasure.title,
                priority=int(entry["priority"]),
                priority_label=priority_labels.get(entry["priority"], str(entry["priority"])),
                horizon=str(entry["horizon"]),
                horizon_label=horizon_labels.get(entry["horizon"], str(entry["horizon"])),
                text=rule.text,
                body=body,
                next_step=next_step,
                action=action,
                triggers=[
                    TriggerRow(answers[code].item_code, answers[code].question, answers[code].answer)
                    for code in entry["items"]
                    if code in answers
                ],
            )
        )
    return rows


def _split_next_step(text: str) -> tuple[str, str, str]:
    """(body, next step with its marker, next step without it); the seed's texts end in "下一步：…"."""
    for marker in NEXT_STEP_MARKERS:
        position = text.find(marker)
        if position > 0:
            next_step = text[position:].strip()
            return text[:position].rstrip(), next_step, next_step[len(marker) :].strip()
    return text, "", text


def _peer_summaries(assessment: Assessment, keys: tuple[str, ...], codes: list[str]) -> list[PeerSummary]:
    """The firm against the groups ``keys`` of its industry, its district and all of Jinan (each firm's
    latest submitted round of the same questionnaire).

    Two scans for all groups (conditional aggregates), so the page stays fast with 60,000 firms. Groups
    smaller than JINAN_MIN_GROUP_SIZE are reported with their size only.
    """
    enterprise = assessment.enterprise
    # key: (label, series name pattern, the firm's own value of the fields that define the group)
    every: dict[str, tuple[str, str, dict[str, str]]] = {
        "industry": (
            label_of(INDUSTRIES, enterprise.industry),
            _("行业平均（%(group)s）"),
            {"industry": enterprise.industry},
        ),
        "district": (
            label_of(DISTRICTS, enterprise.district),
            _("区县平均（%(group)s）"),
            {"district": enterprise.district},
        ),
        "city": (_("济南全市"), _("全市平均（%(group)s）"), {}),
    }

    def condition(key: str, prefix: str) -> Q:
        return Q(**{f"{prefix}enterprise__{field}": value for field, value in every[key][2].items()})

    groups = [(key, every[key][0], every[key][1], condition(key, "")) for key in keys]
    minimum = min_group_size()
    latest = Assessment.objects.filter(
        is_latest=True, status=Assessment.STATUS_SUBMITTED, questionnaire_id=assessment.questionnaire_id
    )
    below = Q(index__lte=assessment.index)
    aggregates: dict[str, Any] = {}
    for key, _label, _series, group in groups:
        aggregates[f"{key}_size"] = Count("id", filter=group)
        aggregates[f"{key}_mean"] = Avg("index", filter=group)
        aggregates[f"{key}_below"] = Count("id", filter=group & below)
    stats = latest.aggregate(**aggregates)

    shown = [key for key in keys if stats[f"{key}_size"] >= minimum]
    means: dict[str, dict[str, float | None]] = {key: {} for key in shown}
    if shown:
        rows = (
            DimensionResult.objects.filter(
                assessment__is_latest=True,
                assessment__status=Assessment.STATUS_SUBMITTED,
                assessment__questionnaire_id=assessment.questionnaire_id,
            )
            .values("dimension__code")
            .annotate(**{key: Avg("score", filter=condition(key, "assessment__")) for key in shown})
        )
        for row in rows:
            for key in shown:
                means[key][row["dimension__code"]] = None if row[key] is None else float(row[key])

    summaries = []
    for key, label, series, _group in groups:
        size = int(stats[f"{key}_size"])
        visible = size >= minimum
        summaries.append(
            PeerSummary(
                key=key,
                label=label,
                series_name=series % {"group": label},
                size=size,
                shown=visible,
                mean_index=float(stats[f"{key}_mean"]) if visible else None,
                percentile=round(100.0 * stats[f"{key}_below"] / size, 1) if visible else None,
                dimension_means=[means[key].get(code) if visible else None for code in codes],
            )
        )
    return summaries


def _history(assessment: Assessment, codes: list[str]) -> list[HistoryRow]:
    """The firm's submitted rounds, newest first, each with its dimension scores in ``codes`` order and the
    changes against the round before it (one query)."""
    rows = (
        Assessment.objects.filter(enterprise_id=assessment.enterprise_id, status=Assessment.STATUS_SUBMITTED)
        .order_by("submitted_at", "id")
        .values_list("id", "label", "index", "dimension_results__dimension__code", "dimension_results__score")
    )
    rounds: dict[int, tuple[str, float, dict[str, float | None]]] = {}
    for round_id, round_label, round_index, code, score in rows:
        round_scores = rounds.setdefault(round_id, (round_label, _stored_score(round_index or 0), {}))[2]
        if code is not None:
            round_scores[code] = _optional_score(score)
    history = []
    previous: dict[str, float | None] = {}
    previous_index: float | None = None
    for round_id, (label, index, scores) in rounds.items():
        cells = []
        for code in codes:
            value, before = scores.get(code), previous.get(code)
            change = None if value is None or before is None else round(value - before, STORED_DECIMALS)
            cells.append(HistoryCell(score=value, change=change))
        history.append(
            HistoryRow(
                assessment_id=round_id,
                label=label,
                index=index,
                index_change=None if previous_index is None else round(index - previous_index, STORED_DECIMALS),
                cells=cells,
            )
        )
        previous, previous_index = scores, index
    return list(reversed(history))
