"""Reads for the administrators' side: the dashboard filters, the querysets every aggregate starts from
(always through surveys.scopes), and the firm list and drill-down.

A firm outside the administrator's scope answers DoesNotExist, exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from .. import choices
from ..choices import label_of
from ..models import (
    Assessment,
    DimensionResult,
    Enterprise,
    RegisterEntry,
    sector_lookup,
)
from ..scopes import AdminScope, scoped_assessments, scoped_enterprises
from ..suppression import min_group_size

# The firm list sorts by these keys only (a leading "-" reverses); anything else falls back to the name.
ENTERPRISE_LIST_SORTS = {
    "name": "name",
    "uscc": "uscc",
    "district": "district",
    "industry": "industry",
    "size": "size_class",
    "round": "selected__label",
    "version": "selected__questionnaire__version",
    "index": "selected__index",
    "level": "selected__level",
    "submitted": "selected__submitted_at",
}


ENTERPRISE_LIST_DEFAULT_SORT = "name"


def enterprise_list_sort(sort: str) -> str:
    """The sort key if it is allowed, else the default: the list never orders by a user-supplied field."""
    key = (sort or "").removeprefix("-")
    return sort if key in ENTERPRISE_LIST_SORTS else ENTERPRISE_LIST_DEFAULT_SORT


def enterprise_list_for_administrator(
    *, scope: AdminScope, filters: Filters, search: str = "", sort: str = ENTERPRISE_LIST_DEFAULT_SORT
) -> QuerySet[Enterprise]:
    """Firms in scope matching the filters and a search by name or USCC, each with its selected round."""
    firms = enterprises_with_selected_assessment(scope, filters)
    search = (search or "").strip()
    if search:
        firms = firms.filter(Q(name__icontains=search) | Q(uscc__startswith=search.upper()))
    sort = enterprise_list_sort(sort)
    field_name = ENTERPRISE_LIST_SORTS[sort.removeprefix("-")]
    expression = F(field_name).desc(nulls_last=True) if sort.startswith("-") else F(field_name).asc(nulls_last=True)
    return firms.annotate(
        round_id=F("selected__id"),
        round_label=F("selected__label"),
        round_version=F("selected__questionnaire__version"),
        round_index=F("selected__index"),
        round_level=F("selected__level"),
        round_submitted_at=F("selected__submitted_at"),
    ).order_by(expression, "id")


def enterprise_for_administrator(*, scope: AdminScope, enterprise_id: int) -> Enterprise:
    return scoped_enterprises(scope).get(id=enterprise_id)


def assessment_list_for_administrator(*, scope: AdminScope, enterprise: Enterprise) -> QuerySet[Assessment]:
    return (
        scoped_assessments(scope)
        .filter(enterprise_id=enterprise.id)
        .select_related("enterprise", "questionnaire")  # the selected round's read model reads both
        .order_by("-submitted_at", "-created_at")
    )


def assessment_for_administrator(*, scope: AdminScope, enterprise_id: int, assessment_id: int) -> Assessment:
    """A submitted round of a firm in scope (drafts are the firm's work in progress: DoesNotExist)."""
    return (
        scoped_assessments(scope)
        .select_related("enterprise", "questionnaire")
        .get(id=assessment_id, enterprise_id=enterprise_id, status=Assessment.STATUS_SUBMITTED)
    )


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
    version: str = ""  # the questionnaire version of the rounds ("" = every version)
    sector: str = ""  # a key sector (choices.SECTORS): firms whose USCC is a business register row tagged with it

    def query_items(self) -> list[tuple[str, str]]:
        pairs = [
            ("district", self.district),
            ("industry", self.industry),
            ("size", self.size_class),
            ("chain", self.leading_chain),
            ("round", self.round_label),
            ("year", "" if self.year is None else str(self.year)),
            ("level", self.level),
            ("version", self.version),
            ("sector", self.sector),
        ]
        return [(key, value) for key, value in pairs if value]

    def query_string(self) -> str:
        """The filters as a URL query (without "?"), for links that keep the current view."""
        return urlencode(self.query_items())

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
        if self.sector:
            rows.append((_("重点产业领域"), label_of(choices.SECTORS, self.sector)))
        rows.append((_("轮次"), self.round_label or _("各企业最近一次提交")))
        if self.year is not None:
            rows.append((_("提交年份"), str(self.year)))
        if self.level:
            rows.append((_("等级"), self.level))
        if self.version:
            rows.append((_("问卷版本"), self.version))
        return rows


def _enterprise_condition(filters: Filters, prefix: str = "") -> Q:
    condition = Q()
    for attribute in ("district", "industry", "size_class", "leading_chain"):
        value = getattr(filters, attribute)
        if value:
            condition &= Q(**{f"{prefix}{attribute}": value})
    if filters.sector:
        # A sector is a tag of the business register, not of the firm's profile: the firms whose USCC is a
        # register row with the tag (a subquery on the code).
        tagged = RegisterEntry.objects.filter(sector_lookup(filters.sector)).values("uscc")
        condition &= Q(**{f"{prefix}uscc__in": tagged})
    return condition


def enterprise_queryset(scope: AdminScope, filters: Filters) -> QuerySet[Enterprise]:
    """The firms in scope that match the firm filters (district, industry, size, chain)."""
    return scoped_enterprises(scope).filter(_enterprise_condition(filters))


def _selected_round_condition(filters: Filters, prefix: str) -> Q:
    """The round a firm is represented by: the one with the chosen label, else its latest submitted one."""
    if filters.round_label:
        return Q(**{f"{prefix}label": filters.round_label})
    return Q(**{f"{prefix}is_latest": True})


def _round_filters_condition(filters: Filters, prefix: str) -> Q:
    """The filters on the selected round itself: year of submission, level and questionnaire version."""
    condition = Q()
    if filters.year is not None:
        condition &= Q(**{f"{prefix}submitted_at__year": filters.year})
    if filters.level:
        condition &= Q(**{f"{prefix}level": filters.level})
    return condition & _version_condition(filters, prefix)


def _version_condition(filters: Filters, prefix: str) -> Q:
    return Q(**{f"{prefix}questionnaire__version": filters.version}) if filters.version else Q()


def assessment_queryset(scope: AdminScope, filters: Filters) -> QuerySet[Assessment]:
    """One submitted round per firm in scope: the latest, or the one with the chosen label."""
    return scoped_assessments(scope).filter(
        _selected_round_condition(filters, ""),
        _enterprise_condition(filters, "enterprise__"),
        _round_filters_condition(filters, ""),
        status=Assessment.STATUS_SUBMITTED,
    )


def selected_round_exists(filters: Filters) -> Exists:
    """True for a business register row (the outer query's ``uscc``) whose firm, of any district, has a submitted
    round in the selection: the label or each firm's latest, year and version, whatever the firm's own profile
    says (the register, not the profile, says where a firm belongs there). Correlated, so that the database looks
    up each row's firm by its USCC: an ``IN`` over every assessed firm's USCC is hashed only while it fits in
    memory, and beyond that (a million firms) is rescanned for every register row."""
    return Exists(
        Assessment.objects.filter(
            _selected_round_condition(filters, ""),
            _round_filters_condition(filters, ""),
            status=Assessment.STATUS_SUBMITTED,
            enterprise__uscc=OuterRef("uscc"),
        )
    )


def enterprises_with_selected_assessment(scope: AdminScope, filters: Filters) -> QuerySet[Enterprise]:
    """The firms matching the filters, each joined (LEFT JOIN as ``selected``) to its selected round.

    Without a filter on the round, firms that have not submitted yet are included (their round fields are
    NULL); a round label, year, level or questionnaire version keeps only the firms with such a round.
    """
    condition = Q(assessments__status=Assessment.STATUS_SUBMITTED) & _selected_round_condition(filters, "assessments__")
    firms = enterprise_queryset(scope, filters).annotate(selected=FilteredRelation("assessments", condition=condition))
    if filters.round_label or filters.year is not None or filters.level or filters.version:
        firms = firms.filter(selected__id__isnull=False)
    return firms.filter(_round_filters_condition(filters, "selected__"))


def all_assessments_queryset(scope: AdminScope, filters: Filters) -> QuerySet[Assessment]:
    """Every submitted round of the firms in scope matching the firm filters and the version filter (for change
    across rounds)."""
    return scoped_assessments(scope).filter(
        _enterprise_condition(filters, "enterprise__"),
        _version_condition(filters, ""),
        status=Assessment.STATUS_SUBMITTED,
    )


def dimension_results(rounds: QuerySet[Assessment]) -> QuerySet[DimensionResult]:
    """The usable dimension results of ``rounds`` (insufficient data and 'no score' left out)."""
    return DimensionResult.objects.filter(assessment__in=rounds, insufficient_data=False, score__isnull=False)


def assessment_versions(rounds: QuerySet[Assessment]) -> list[str]:
    """The questionnaire versions of ``rounds``, oldest first (the order they were loaded in)."""
    rows = rounds.order_by().values_list("questionnaire__version", "questionnaire__created_at").distinct()
    return [version for version, _created in sorted(rows, key=lambda row: (row[1], row[0]))]


def submitted_versions(scope: AdminScope) -> list[str]:
    """The questionnaire versions of the submitted rounds in scope, for the version filter."""
    return assessment_versions(scoped_assessments(scope).filter(status=Assessment.STATUS_SUBMITTED))


def assessment_labels(scope: AdminScope) -> list[str]:
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
