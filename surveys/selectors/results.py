"""The read model of a submitted round: what the results page, the firm's PDF and the administrators'
drill-down show, read from the stored result (never recomputed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from surveys.selectors.assessments import answer_label, assessment_answer_values

from ..models import (
    Assessment,
    Countermeasure,
    Dimension,
    DimensionResult,
    Enterprise,
    Gate,
    Item,
    Level,
    RecommendationRule,
)


@dataclass(frozen=True)
class TriggeringAnswer:
    item_code: str
    item_text: str
    answer_label: str


@dataclass(frozen=True)
class RecommendationView:
    rule: RecommendationRule
    priority: int
    horizon: str
    items: list[TriggeringAnswer]


@dataclass(frozen=True)
class CountermeasureView:
    countermeasure: Countermeasure
    recommendations: list[RecommendationView]


@dataclass(frozen=True)
class DimensionView:
    dimension: Dimension
    score: float | None
    unknown_share: float
    insufficient_data: bool


@dataclass(frozen=True)
class GateView:
    gate: Gate
    items: list[str]


@dataclass(frozen=True)
class PeerGroup:
    key: str  # "industry" | "district" | "city"
    label: str
    size: int
    shown: bool  # False when the group is below the minimum size
    mean_index: float | None = None
    percentile: float | None = None
    dimension_means: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryRow:
    assessment: Assessment
    dimension_scores: dict[str, float | None]
    changes: dict[str, float | None]  # against the previous submitted round
    index_change: float | None


@dataclass(frozen=True)
class ResultView:
    assessment: Assessment
    level: Level
    provisional_level: Level
    levels: list[Level]
    dimensions: list[DimensionView]
    gates: list[GateView]  # the gates that capped the level
    countermeasures: list[CountermeasureView]
    top_recommendations: list[RecommendationView]
    peers: list[PeerGroup]
    history: list[HistoryRow]


def assessment_result(*, assessment: Assessment) -> ResultView:
    """Everything the results page and the PDF show, read from the stored result (never recomputed)."""
    if assessment.status != Assessment.STATUS_SUBMITTED or not assessment.result:
        raise Assessment.DoesNotExist
    stored = assessment.result
    questionnaire_id = assessment.questionnaire_id
    levels = list(Level.objects.filter(questionnaire_id=questionnaire_id).order_by("position"))
    level_by_code = {lv.code: lv for lv in levels}
    dimensions = {d.code: d for d in Dimension.objects.filter(questionnaire_id=questionnaire_id)}
    gates = {g.code: g for g in Gate.objects.filter(questionnaire_id=questionnaire_id)}
    rules = {
        r.code: r
        for r in RecommendationRule.objects.filter(questionnaire_id=questionnaire_id).select_related("countermeasure")
    }
    items = {i.code: i for i in Item.objects.filter(questionnaire_id=questionnaire_id).prefetch_related("options")}
    options = {code: {o.score: o for o in item.options.all()} for code, item in items.items()}
    answers = assessment_answer_values(assessment=assessment)

    def triggering(codes) -> list[TriggeringAnswer]:
        return [
            TriggeringAnswer(code, items[code].text, answer_label(items[code], options[code], answers.get(code)))
            for code in codes
            if code in items
        ]

    recommendation_views = [
        RecommendationView(
            rule=rules[r["rule"]], priority=r["priority"], horizon=r["horizon"], items=triggering(r["items"])
        )
        for r in stored["recommendations"]
        if r["rule"] in rules
    ]
    by_countermeasure: dict[int, list[RecommendationView]] = {}
    for view in recommendation_views:
        by_countermeasure.setdefault(view.rule.countermeasure_id, []).append(view)
    countermeasures = [
        CountermeasureView(countermeasure=cm, recommendations=by_countermeasure.get(cm.id, []))
        for cm in Countermeasure.objects.filter(questionnaire_id=questionnaire_id).order_by("position")
    ]
    return ResultView(
        assessment=assessment,
        level=level_by_code[stored["level"]],
        provisional_level=level_by_code[stored["provisional_level"]],
        levels=levels,
        dimensions=[
            DimensionView(dimensions[d["code"]], d["score"], d["unknown_share"], d["insufficient_data"])
            for d in stored["dimensions"]
        ],
        gates=[
            GateView(gates[g["code"]], g["items"])
            for g in stored["gates"]
            if g["code"] in stored["capped_by"] and g["code"] in gates
        ],
        countermeasures=countermeasures,
        top_recommendations=recommendation_views[:3],
        peers=assessment_peer_groups(assessment=assessment),
        history=assessment_history(enterprise=assessment.enterprise),
    )


def assessment_peer_groups(*, assessment: Assessment) -> list[PeerGroup]:
    """The firm against its industry, its district and all of Jinan (latest submitted round per firm).

    Two scans for all three groups (conditional aggregates), so the page stays fast with 60,000 firms.
    Groups smaller than JINAN_MIN_GROUP_SIZE are reported with their size only.
    """
    from django.conf import settings

    from ..choices import DISTRICTS, INDUSTRIES, label_of

    minimum = settings.JINAN_MIN_GROUP_SIZE
    enterprise = assessment.enterprise
    groups = [
        ("industry", label_of(INDUSTRIES, enterprise.industry), Q(enterprise__industry=enterprise.industry)),
        ("district", label_of(DISTRICTS, enterprise.district), Q(enterprise__district=enterprise.district)),
        ("city", str(_("济南全市")), Q()),
    ]
    latest = Assessment.objects.filter(
        is_latest=True, status=Assessment.STATUS_SUBMITTED, questionnaire_id=assessment.questionnaire_id
    )
    below = Q(index__lte=assessment.index)
    aggregates = {}
    for key, _label, condition in groups:
        aggregates[f"{key}_size"] = Count("id", filter=condition)
        aggregates[f"{key}_mean"] = Avg("index", filter=condition)
        aggregates[f"{key}_below"] = Count("id", filter=condition & below)
    stats = latest.aggregate(**aggregates)

    shown = [(key, condition) for key, _label, condition in groups if stats[f"{key}_size"] >= minimum]
    means: dict[str, dict[str, float | None]] = {key: {} for key, _c in shown}
    if shown:
        prefixed = [(key, Q(**{f"assessment__{k}": v for k, v in condition.children})) for key, condition in shown]
        rows = (
            DimensionResult.objects.filter(
                assessment__is_latest=True,
                assessment__status=Assessment.STATUS_SUBMITTED,
                assessment__questionnaire_id=assessment.questionnaire_id,
            )
            .values("dimension__code")
            .annotate(**{key: Avg("score", filter=condition) for key, condition in prefixed})
        )
        for row in rows:
            for key, _c in shown:
                means[key][row["dimension__code"]] = None if row[key] is None else float(row[key])

    result = []
    for key, label, _condition in groups:
        size = stats[f"{key}_size"]
        if size < minimum:
            result.append(PeerGroup(key=key, label=label, size=size, shown=False))
            continue
        result.append(
            PeerGroup(
                key=key,
                label=label,
                size=size,
                shown=True,
                mean_index=float(stats[f"{key}_mean"]),
                percentile=round(100.0 * stats[f"{key}_below"] / size, 1),
                dimension_means=means[key],
            )
        )
    return result


def assessment_history(*, enterprise: Enterprise) -> list[HistoryRow]:
    rounds = list(
        Assessment.objects.filter(enterprise=enterprise, status=Assessment.STATUS_SUBMITTED)
        .order_by("submitted_at")
        .prefetch_related("dimension_results__dimension")
    )
    rows = []
    previous: dict[str, float | None] | None = None
    previous_index = None
    for assessment in rounds:
        scores = {
            r.dimension.code: None if r.score is None else float(r.score) for r in assessment.dimension_results.all()
        }
        changes = {}
        for code, value in scores.items():
            before = previous.get(code) if previous else None
            changes[code] = None if value is None or before is None else round(value - before, 2)
        index = float(assessment.index)
        rows.append(
            HistoryRow(
                assessment=assessment,
                dimension_scores=scores,
                changes=changes,
                index_change=None if previous_index is None else round(index - previous_index, 2),
            )
        )
        previous, previous_index = scores, index
    return list(reversed(rows))
