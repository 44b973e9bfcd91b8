"""Reads for the administrators' side: the dashboard filters, the querysets every aggregate starts from
(always through surveys.scopes), and the firm list and drill-down.

A firm outside the administrator's scope answers DoesNotExist, exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.db.models import Count, FilteredRelation, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from surveys.selectors.assessments import answer_label
from surveys.suppression import min_group_size

from .. import choices
from ..choices import label_of
from ..models import (
    Answer,
    Assessment,
    Dimension,
    DimensionResult,
    Enterprise,
    Item,
)
from ..scopes import AdminScope, scoped_assessments, scoped_enterprises

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

    from .. import analytics

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
    from ..scopes import scoped_enterprises

    return scoped_enterprises(scope).get(id=enterprise_id)


def admin_firm_rounds(*, scope, enterprise: Enterprise):
    from ..scopes import scoped_assessments

    return (
        scoped_assessments(scope)
        .filter(enterprise_id=enterprise.id)
        .select_related("questionnaire")
        .order_by("-submitted_at", "-created_at")
    )


def admin_round(*, scope, enterprise_id: int, assessment_id: int) -> Assessment:
    """A submitted round of a firm in scope (drafts are the firm's work in progress: DoesNotExist)."""
    from ..scopes import scoped_assessments

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


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters (validated by the view's form); empty values mean "all"."""

    district: str = ""
    industry: str = ""
    size_class: str = ""
    leading_chain: str = ""
    round_label: str = ""  # "" = each firm's latest submitted round
    year: int | None = None  # year of submission
    level: str = ""

    def query_items(self) -> list[tuple[str, str]]:
        pairs = [
            ("district", self.district),
            ("industry", self.industry),
            ("size", self.size_class),
            ("chain", self.leading_chain),
            ("round", self.round_label),
            ("year", "" if self.year is None else str(self.year)),
            ("level", self.level),
        ]
        return [(key, value) for key, value in pairs if value]

    def query_string(self) -> str:
        """The filters as a URL query (without "?"), for links that keep the current view."""
        return urlencode(self.query_items())

    @property
    def is_empty(self) -> bool:
        return not self.query_items()

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) pairs of the filters in use, in the active language."""
        rows = []
        if self.district:
            rows.append((_("区县"), label_of(choices.DISTRICTS, self.district)))
        if self.industry:
            rows.append((_("行业"), label_of(choices.INDUSTRIES, self.industry)))
        if self.size_class:
            rows.append((_("企业规模"), label_of(choices.SIZE_CLASSES, self.size_class)))
        if self.leading_chain:
            rows.append((_("主导产业链"), label_of(choices.LEADING_CHAINS, self.leading_chain)))
        rows.append((_("轮次"), self.round_label or _("各企业最近一次提交")))
        if self.year is not None:
            rows.append((_("提交年份"), str(self.year)))
        if self.level:
            rows.append((_("等级"), self.level))
        return rows

    @property
    def enterprise_only(self) -> Filters:
        """The same filters without those on the round (round label, year, level)."""
        return replace(self, round_label="", year=None, level="")


def _enterprise_condition(filters: Filters, prefix: str = "") -> Q:
    condition = Q()
    for attribute in ("district", "industry", "size_class", "leading_chain"):
        value = getattr(filters, attribute)
        if value:
            condition &= Q(**{f"{prefix}{attribute}": value})
    return condition


def firm_queryset(scope: AdminScope, filters: Filters) -> QuerySet[Enterprise]:
    """The firms in scope that match the firm filters (district, industry, size, chain)."""
    return scoped_enterprises(scope).filter(_enterprise_condition(filters))


def round_queryset(scope: AdminScope, filters: Filters) -> QuerySet[Assessment]:
    """One submitted round per firm in scope: the latest, or the one with the chosen label."""
    rounds = scoped_assessments(scope).filter(status=Assessment.STATUS_SUBMITTED)
    rounds = rounds.filter(label=filters.round_label) if filters.round_label else rounds.filter(is_latest=True)
    rounds = rounds.filter(_enterprise_condition(filters, "enterprise__"))
    if filters.year is not None:
        rounds = rounds.filter(submitted_at__year=filters.year)
    if filters.level:
        rounds = rounds.filter(level=filters.level)
    return rounds


def firms_with_round(scope: AdminScope, filters: Filters) -> QuerySet[Enterprise]:
    """The firms matching the filters, each joined (LEFT JOIN as ``selected``) to its selected round.

    Without a filter on the round, firms that have not submitted yet are included (their round fields are
    NULL); a round label, year or level keeps only the firms with such a round.
    """
    condition = Q(assessments__status=Assessment.STATUS_SUBMITTED)
    if filters.round_label:
        condition &= Q(assessments__label=filters.round_label)
    else:
        condition &= Q(assessments__is_latest=True)
    firms = firm_queryset(scope, filters).annotate(selected=FilteredRelation("assessments", condition=condition))
    if filters.round_label or filters.year is not None or filters.level:
        firms = firms.filter(selected__id__isnull=False)
    if filters.year is not None:
        firms = firms.filter(selected__submitted_at__year=filters.year)
    if filters.level:
        firms = firms.filter(selected__level=filters.level)
    return firms


def all_rounds_queryset(scope: AdminScope, filters: Filters) -> QuerySet[Assessment]:
    """Every submitted round of the firms in scope matching the firm filters (for change across rounds)."""
    return scoped_assessments(scope).filter(
        _enterprise_condition(filters, "enterprise__"), status=Assessment.STATUS_SUBMITTED
    )


def dimension_results(rounds: QuerySet[Assessment]) -> QuerySet[DimensionResult]:
    """The usable dimension results of ``rounds`` (insufficient data and 'no score' left out)."""
    return DimensionResult.objects.filter(assessment__in=rounds, insufficient_data=False, score__isnull=False)


def round_labels(scope: AdminScope) -> list[str]:
    """Round labels used by at least the minimum number of firms in scope (newest first), for the filter."""
    rows = (
        scoped_assessments(scope)
        .filter(status=Assessment.STATUS_SUBMITTED)
        .values("label")
        .annotate(n=Count("id"))
        .filter(n__gte=min_group_size())
        .order_by("-label")
    )
    return [row["label"] for row in rows]


def submission_years(scope: AdminScope) -> list[int]:
    rows = (
        scoped_assessments(scope)
        .filter(status=Assessment.STATUS_SUBMITTED, submitted_at__isnull=False)
        .annotate(year=ExtractYear("submitted_at"))
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    return [int(y) for y in rows if y is not None]
