"""Reads. Views and reports get their data from here, never by querying models themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, prefetch_related_objects
from django.utils.translation import gettext as _

from . import scoring
from .models import (
    Answer,
    Assessment,
    Countermeasure,
    Dimension,
    DimensionResult,
    Enterprise,
    Gate,
    Item,
    Level,
    Membership,
    Option,
    Questionnaire,
    RecommendationRule,
)


def questionnaire_get(*, version: str) -> Questionnaire:
    return Questionnaire.objects.get(version=version)


def questionnaire_current() -> Questionnaire | None:
    """The version new rounds use: the most recently created published one."""
    return Questionnaire.objects.filter(is_published=True).order_by("-created_at", "-id").first()


def questionnaire_is_in_use(*, questionnaire: Questionnaire) -> bool:
    return Assessment.objects.filter(questionnaire=questionnaire, status=Assessment.STATUS_SUBMITTED).exists()


def questionnaire_export(*, questionnaire: Questionnaire) -> dict[str, Any]:
    """The stored definition in the seed schema (seeds/README.md); loading it back gives the same rows."""
    dimensions = Dimension.objects.filter(questionnaire=questionnaire).prefetch_related(
        Prefetch(
            "items",
            queryset=Item.objects.order_by("position").prefetch_related("options", "covers"),
        )
    )
    countermeasures = Countermeasure.objects.filter(questionnaire=questionnaire).prefetch_related("rules")
    return {
        "version": questionnaire.version,
        "title_zh": questionnaire.title_zh,
        "title_en": questionnaire.title_en,
        "description_zh": questionnaire.description_zh,
        "description_en": questionnaire.description_en,
        "problems": [
            {"code": p.code, "dimension": p.dimension.code, "text_zh": p.text_zh, "text_en": p.text_en}
            for p in questionnaire.problems.select_related("dimension").order_by("position")
        ],
        "dimensions": [
            {
                "code": d.code,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                "problem_zh": d.problem_zh,
                "problem_en": d.problem_en,
                "description_zh": d.description_zh,
                "description_en": d.description_en,
                "weight": float(d.weight),
                "items": [
                    {
                        "code": i.code,
                        "text_zh": i.text_zh,
                        "text_en": i.text_en,
                        "help_zh": i.help_zh,
                        "help_en": i.help_en,
                        "weight": float(i.weight),
                        "allows_unknown": i.allows_unknown,
                        "allows_na": i.allows_na,
                        "covers": [p.code for p in sorted(i.covers.all(), key=lambda p: p.position)],
                        "options": [
                            {"score": o.score, "label_zh": o.label_zh, "label_en": o.label_en}
                            for o in sorted(i.options.all(), key=lambda o: o.score)
                        ],
                    }
                    for i in d.items.all()
                ],
            }
            for d in dimensions
        ],
        "levels": [
            {
                "code": lv.code,
                "name_zh": lv.name_zh,
                "name_en": lv.name_en,
                "description_zh": lv.description_zh,
                "description_en": lv.description_en,
                "min_index": float(lv.min_index),
            }
            for lv in questionnaire.levels.order_by("position")
        ],
        "gates": [_gate_export(g) for g in questionnaire.gates.order_by("position")],
        "countermeasures": [
            {
                "code": c.code,
                "title_zh": c.title_zh,
                "title_en": c.title_en,
                "heading_zh": c.heading_zh,
                "description_zh": c.description_zh,
                "description_en": c.description_en,
                "rules": [
                    {
                        "code": r.code,
                        "trigger": r.trigger,
                        "priority": r.priority,
                        "horizon": r.horizon,
                        "text_zh": r.text_zh,
                        "text_en": r.text_en,
                    }
                    for r in sorted(c.rules.all(), key=lambda r: r.position)
                ],
            }
            for c in countermeasures
        ],
    }


def _gate_export(gate: Gate) -> dict[str, Any]:
    return {
        "code": gate.code,
        "kind": gate.kind,
        "guards_level": gate.guards_level,
        **gate.params,
        "reason_zh": gate.reason_zh,
        "reason_en": gate.reason_en,
    }


def questionnaire_definition(*, questionnaire: Questionnaire) -> scoring.Definition:
    """The scoring engine's view of a stored version, read from the rows (the single source of truth)."""
    return scoring.Definition.from_dict(questionnaire_export(questionnaire=questionnaire))


# --- firms and rounds -------------------------------------------------------------------------------


def membership_for_user(*, user) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("enterprise").filter(user=user).first()


def active_enterprise_for_user(*, user) -> Enterprise | None:
    membership = membership_for_user(user=user)
    if membership is None or not membership.is_active_member:
        return None
    return membership.enterprise


def enterprise_by_uscc(*, uscc: str) -> Enterprise | None:
    return Enterprise.objects.filter(uscc=uscc).first()


def enterprise_members(*, enterprise: Enterprise):
    return Membership.objects.filter(enterprise=enterprise).select_related("user").order_by("status", "created_at")


def assessment_for_user(*, user, assessment_id: int, enterprise: Enterprise | None = None) -> Assessment:
    """The round if the user is an active member of its firm; otherwise DoesNotExist, as for a missing one.

    ``enterprise``: the user's active firm when the caller has already checked the membership.
    """
    if enterprise is None:
        enterprise = active_enterprise_for_user(user=user)
    if enterprise is None:
        raise Assessment.DoesNotExist
    return Assessment.objects.select_related("enterprise", "questionnaire").get(id=assessment_id, enterprise=enterprise)


def assessment_list_for_enterprise(*, enterprise: Enterprise):
    return Assessment.objects.filter(enterprise=enterprise).select_related("questionnaire").order_by("-created_at")


def assessment_draft(*, enterprise: Enterprise) -> Assessment | None:
    return Assessment.objects.filter(enterprise=enterprise, status=Assessment.STATUS_DRAFT).first()


def assessment_answer_values(*, assessment: Assessment) -> dict[str, Any]:
    """Answers in scoring.py's terms; a row holding only a note is no answer."""
    rows = Answer.objects.filter(assessment=assessment).values_list("item__code", "score", "special")
    values = {}
    for code, score, special in rows:
        if special:
            values[code] = special
        elif score is not None:
            values[code] = score
    return values


@dataclass(frozen=True)
class ItemView:
    item: Item
    options: list[Option]
    answer: Answer | None

    @property
    def value(self):
        return self.answer.value if self.answer else None

    @property
    def revision(self) -> int:
        return self.answer.revision if self.answer else 0

    @property
    def note(self) -> str:
        return self.answer.note if self.answer else ""

    @property
    def is_answered(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    per_page: list[tuple[int, Dimension, int, int]]  # (page, dimension, answered, total)
    unanswered: list[tuple[int, Item]]  # (page, item)

    @property
    def complete(self) -> bool:
        return self.answered == self.total


@dataclass(frozen=True)
class PageView:
    number: int
    count: int
    dimension: Dimension
    items: list[ItemView]
    progress: Progress


def assessment_dimensions(*, assessment: Assessment) -> list[Dimension]:
    return list(Dimension.objects.filter(questionnaire_id=assessment.questionnaire_id).order_by("position"))


def _questionnaire_items(assessment: Assessment) -> list[Item]:
    return list(Item.objects.filter(questionnaire_id=assessment.questionnaire_id).order_by("position"))


def assessment_page(*, assessment: Assessment, number: int) -> PageView:
    """Page n (1-based) of the questionnaire: one dimension, its items, options and current answers, and the
    progress over the whole round (from the same rows: the page is shown on every click of "next")."""
    dimensions = assessment_dimensions(assessment=assessment)
    if not 1 <= number <= len(dimensions):
        raise Dimension.DoesNotExist
    dimension = dimensions[number - 1]
    items = _questionnaire_items(assessment)
    own = [item for item in items if item.dimension_id == dimension.id]
    prefetch_related_objects(own, "options")
    answers = {a.item_id: a for a in Answer.objects.filter(assessment=assessment)}
    answered_ids = {item_id for item_id, a in answers.items() if a.value is not None}
    return PageView(
        number=number,
        count=len(dimensions),
        dimension=dimension,
        items=[
            ItemView(item=i, options=sorted(i.options.all(), key=lambda o: o.score), answer=answers.get(i.id))
            for i in own
        ],
        progress=_progress(dimensions, items, answered_ids),
    )


def _progress(dimensions: list[Dimension], items: list[Item], answered_ids: set[int]) -> Progress:
    page_of = {d.id: n for n, d in enumerate(dimensions, start=1)}
    per_page = []
    for dimension in dimensions:
        own = [i for i in items if i.dimension_id == dimension.id]
        per_page.append((page_of[dimension.id], dimension, sum(i.id in answered_ids for i in own), len(own)))
    unanswered = [(page_of[i.dimension_id], i) for i in items if i.id not in answered_ids]
    return Progress(
        answered=len(answered_ids & {i.id for i in items}), total=len(items), per_page=per_page, unanswered=unanswered
    )


def assessment_progress(*, assessment: Assessment) -> Progress:
    answered_ids = set(
        Answer.objects.filter(assessment=assessment)
        .filter(Q(score__isnull=False) | ~Q(special=""))
        .values_list("item_id", flat=True)
    )
    return _progress(assessment_dimensions(assessment=assessment), _questionnaire_items(assessment), answered_ids)


# --- results ----------------------------------------------------------------------------------------


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


def answer_label(item: Item, options: dict[int, Option], value) -> str:
    if value == scoring.UNKNOWN:
        return str(_("不清楚"))
    if value == scoring.NOT_APPLICABLE:
        return str(_("不适用"))
    if value is None:
        return str(_("未作答"))
    option = options.get(value)
    return f"{value} – {option.label}" if option else str(value)


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

    from .choices import DISTRICTS, INDUSTRIES, label_of

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


# --- administrators ---------------------------------------------------------------------------------
# Every read below starts from surveys.scopes (through surveys.analytics' querysets): a firm outside the
# administrator's scope answers DoesNotExist, exactly like a missing one.

# The firm list sorts by these keys only (a leading "-" reverses); anything else falls back to the name.
ADMIN_FIRM_SORTS = {
    "name": "name",
    "uscc": "uscc",
    "district": "district",
    "industry": "industry",
    "size": "size_class",
    "round": "selected__label",
    "index": "selected__index",
    "level": "selected__level",
    "submitted": "selected__submitted_at",
}
ADMIN_FIRM_DEFAULT_SORT = "name"


def admin_firm_sort(sort: str) -> str:
    """The sort key if it is allowed, else the default: the list never orders by a user-supplied field."""
    key = (sort or "").removeprefix("-")
    return sort if key in ADMIN_FIRM_SORTS else ADMIN_FIRM_DEFAULT_SORT


def admin_firm_list(*, scope, filters, search: str = "", sort: str = ADMIN_FIRM_DEFAULT_SORT):
    """Firms in scope matching the filters and a search by name or USCC, each with its selected round."""
    from django.db.models import F

    from . import analytics

    firms = analytics.firms_with_round(scope, filters)
    search = (search or "").strip()
    if search:
        firms = firms.filter(Q(name__icontains=search) | Q(uscc__startswith=search.upper()))
    sort = admin_firm_sort(sort)
    field_name = ADMIN_FIRM_SORTS[sort.removeprefix("-")]
    expression = F(field_name).desc(nulls_last=True) if sort.startswith("-") else F(field_name).asc(nulls_last=True)
    return firms.annotate(
        round_id=F("selected__id"),
        round_label=F("selected__label"),
        round_index=F("selected__index"),
        round_level=F("selected__level"),
        round_submitted_at=F("selected__submitted_at"),
    ).order_by(expression, "id")


def admin_firm(*, scope, enterprise_id: int) -> Enterprise:
    from .scopes import scoped_enterprises

    return scoped_enterprises(scope).get(id=enterprise_id)


def admin_firm_rounds(*, scope, enterprise: Enterprise):
    from .scopes import scoped_assessments

    return (
        scoped_assessments(scope)
        .filter(enterprise_id=enterprise.id)
        .select_related("questionnaire")
        .order_by("-submitted_at", "-created_at")
    )


def admin_round(*, scope, enterprise_id: int, assessment_id: int) -> Assessment:
    """A submitted round of a firm in scope (drafts are the firm's work in progress: DoesNotExist)."""
    from .scopes import scoped_assessments

    return (
        scoped_assessments(scope)
        .select_related("enterprise", "questionnaire")
        .get(id=assessment_id, enterprise_id=enterprise_id, status=Assessment.STATUS_SUBMITTED)
    )


@dataclass(frozen=True)
class AdminAnswerRow:
    item: Item
    label: str  # "3 – …", "不清楚", "不适用", "未作答"
    score: int | None
    special: str
    note: str


def admin_round_answers(*, assessment: Assessment) -> list[tuple[Dimension, list[AdminAnswerRow]]]:
    """Every item of the round's questionnaire with the answer and note, grouped by dimension."""
    answers = {a.item_id: a for a in Answer.objects.filter(assessment=assessment)}
    items = Item.objects.filter(questionnaire_id=assessment.questionnaire_id).select_related("dimension")
    grouped: dict[int, tuple[Dimension, list[AdminAnswerRow]]] = {}
    for item in items.prefetch_related("options").order_by("position"):
        answer = answers.get(item.id)
        value = answer.value if answer else None
        row = AdminAnswerRow(
            item=item,
            label=answer_label(item, {o.score: o for o in item.options.all()}, value),
            score=answer.score if answer else None,
            special=answer.special if answer else "",
            note=answer.note if answer else "",
        )
        grouped.setdefault(item.dimension_id, (item.dimension, []))[1].append(row)
    return sorted(grouped.values(), key=lambda pair: pair[0].position)
