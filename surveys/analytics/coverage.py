"""Coverage against the business register: how many of the register's firms have been assessed.

``coverage(scope, filters)`` is what the coverage page, the dashboard and the city report show:

* **registered**: the register rows (``RegisterEntry``, imported by surveys/services/register.py) in the
  administrator's scope (by the row's district) that match the firm filters (district, industry, size class,
  leading chain, key sector), all taken from the register row;
* **assessed**: of those, the rows whose USCC belongs to a firm with a submitted round in the selection: each
  firm's latest submitted round, or the round with the chosen label; the year and questionnaire version
  filters narrow the selection. The level filter does not apply (a level describes an assessed firm;
  coverage asks whether a firm has been assessed at all), so registered − assessed is exactly the number of
  firms on the "not yet assessed" list (:func:`unassessed_firms`). The firm's own profile (its district,
  industry) is not read: the register says where a register firm belongs;
* **over time**: per round label (those the dashboard offers: used by at least the minimum number of firms
  in scope), oldest first, the register rows whose firm submitted a round with that label, against the
  register as it stands today (it has no history); the round, year and level filters do not apply;
* **assessed, not registered**: firms in scope with a submitted round in the selection (the dashboard's
  firm filters, on the firm's profile) whose USCC is not in the register at all.

Small groups (surveys/suppression.py). The registered counts are shown as they are: the register is public
data, and the "not yet assessed" list names its firms anyway. What is derived from the assessments is
suppressed as everywhere else: an assessed count from 1 to the minimum − 1 is hidden ("<N", reason SMALL),
and in a partition (districts, industries, sizes) where only one is, the next smallest is hidden as well
(PROTECTED, "—†"), so that it cannot be worked out from the total. Sector tags overlap (a firm may carry
several), so the sector rows form no partition: only small counts are hidden there. A share is hidden with
its count, and when the group itself has fewer registered firms than the minimum (suppression.share).
Note that the "not yet assessed" list, which outreach needs, necessarily tells which register firms have
taken part; the rule keeps the figures consistent with the rest of the site, it does not hide that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import choices
from ..models import Assessment, Enterprise, RegisterEntry, sector_lookup, sectors_decode
from ..scopes import AdminScope, district_condition
from ..selectors.administrators import Filters, assessment_queryset, selected_round_usccs
from ..suppression import SMALL, min_group_size, partition_reasons, share, shown_count
from ..text import join_list
from .aggregates import assessment_labels_cached, cache_seconds, submissions_fingerprint
from .exports import CHUNK_SIZE, Table


@dataclass(frozen=True)
class CoverageRow:
    key: str  # code ("370102", "C34", "small", "steel"; "" for the total)
    label: str  # localized label
    registered: int | None  # register firms (None: hidden by suppression; never, see the module docstring)
    assessed: int | None  # of those, firms with a submitted round in the selection (None: hidden)
    share: float | None  # percent assessed / registered (None when hidden or registered == 0)
    hidden_reason: str | None = None  # surveys.suppression.SMALL / PROTECTED when the assessed count is hidden


@dataclass(frozen=True)
class CoveragePoint:
    label: str  # round label
    registered: int
    assessed: int | None
    share: float | None


@dataclass(frozen=True)
class Coverage:
    total: CoverageRow
    by_district: list[CoverageRow]
    by_industry: list[CoverageRow]
    by_size: list[CoverageRow]
    by_sector: list[CoverageRow]
    over_time: list[CoveragePoint]  # per round label, oldest first
    assessed_not_registered: int  # firms with a submitted round in the selection whose USCC is not registered
    has_register: bool  # False when no register rows are in scope


# --- the querysets --------------------------------------------------------------------------------------


def scoped_register(scope: AdminScope) -> QuerySet[RegisterEntry]:
    """The register rows the scope may see (by the row's district)."""
    return RegisterEntry.objects.filter(district_condition(scope))


def register_queryset(scope: AdminScope, filters: Filters) -> QuerySet[RegisterEntry]:
    """The register rows in scope matching the firm filters (on the register row's own values)."""
    condition = Q()
    for attribute in ("district", "industry", "size_class", "leading_chain"):
        value = getattr(filters, attribute)
        if value:
            condition &= Q(**{attribute: value})
    if filters.sector:
        condition &= sector_lookup(filters.sector)
    return scoped_register(scope).filter(condition)


def _selection(filters: Filters) -> Filters:
    """The filters coverage applies: all but the level (see the module docstring)."""
    return replace(filters, level="")


def unassessed_firms(scope: AdminScope, filters: Filters) -> QuerySet[RegisterEntry]:
    """The register rows in scope matching the filters with no submitted round in the selection ("not yet
    assessed"), each with ``signed_up`` (a firm with the USCC has an account), by district, then name."""
    assessed = selected_round_usccs(_selection(filters))
    return (
        register_queryset(scope, filters)
        .exclude(uscc__in=assessed)
        .annotate(signed_up=Exists(Enterprise.objects.filter(uscc=OuterRef("uscc"))))
        .order_by("district", "name", "uscc")
    )


# --- figures --------------------------------------------------------------------------------------------


def _row(key: str, label: object, registered: int, assessed: int, reason: str | None) -> CoverageRow:
    shown = None if reason else assessed
    return CoverageRow(
        key=key,
        label=str(label),
        registered=registered,
        assessed=shown,
        share=share(shown, registered) if shown is not None else None,
        hidden_reason=reason,
    )


def _rows(pairs: Sequence[tuple[str, object]], counts: dict[str, list[int]], *, partition: bool) -> list[CoverageRow]:
    """One row per group with register firms, in the order of ``pairs``."""
    assessed = {key: n for key, (_registered, n) in counts.items()}
    if partition:
        reasons = partition_reasons(assessed)
    else:
        reasons = {key: SMALL for key, n in assessed.items() if shown_count(n) is None}
    return [
        _row(code, label, counts[code][0], counts[code][1], reasons.get(code))
        for code, label in pairs
        if code in counts
    ]


def _add(counts: dict[str, list[int]], key: str, registered: int, assessed: int) -> None:
    pair = counts.setdefault(key, [0, 0])
    pair[0] += registered
    pair[1] += assessed


def _over_time(scope: AdminScope, filters: Filters, registered: QuerySet[RegisterEntry]) -> list[CoveragePoint]:
    labels = assessment_labels_cached(scope)
    if not labels:
        return []
    rounds = Assessment.objects.filter(
        status=Assessment.STATUS_SUBMITTED, label__in=labels, enterprise__uscc__in=registered.values("uscc")
    )
    if filters.version:
        rounds = rounds.filter(questionnaire__version=filters.version)
    # A firm has at most one round per label (round_label_unique): counting rounds counts firms.
    counts = dict(rounds.values("label").annotate(n=Count("id")).order_by().values_list("label", "n"))
    total = registered.count()
    points = []
    for label in sorted(labels):
        assessed = shown_count(counts.get(label, 0))
        points.append(CoveragePoint(label, total, assessed, share(assessed, total) if assessed is not None else None))
    return points


def _assessed_not_registered(scope: AdminScope, filters: Filters) -> int:
    rounds = assessment_queryset(scope, _selection(filters))
    return rounds.exclude(enterprise__uscc__in=RegisterEntry.objects.values("uscc")).count()


# --- the cache -----------------------------------------------------------------------------------------

T = TypeVar("T")


def register_fingerprint() -> tuple[int, str]:
    """(rows, the latest change) of the whole register: changes with every import that changes anything."""
    row = RegisterEntry.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    return row["n"], str(row["changed"])


def _cached(kind: str, scope: AdminScope, filters: Filters, compute: Callable[[], T]) -> T:
    """``compute()``, kept like the dashboard's figures (JINAN_DASHBOARD_CACHE_SECONDS) until a submission or a
    change of the register."""
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    parts = (
        kind,
        scope.all_districts,
        tuple(sorted(scope.districts)),
        filters,
        get_language() or "",
        min_group_size(),
        submissions_fingerprint(),
        register_fingerprint(),
    )
    key = "jinan:coverage:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


# --- figures, continued ---------------------------------------------------------------------------------


def coverage(scope: AdminScope, filters: Filters) -> Coverage:
    """Registered and assessed firms in total and by district, industry, size class and sector, and per round
    label (see the module docstring): one GROUP BY over the register, one over the rounds, two counts; kept in
    the cache like the dashboard's figures until a submission or a change of the register."""
    return _cached("coverage", scope, filters, lambda: _coverage(scope, filters))


def _coverage(scope: AdminScope, filters: Filters) -> Coverage:
    if not scoped_register(scope).exists():
        empty = CoverageRow("", _("合计"), 0, 0, None)
        return Coverage(empty, [], [], [], [], [], _assessed_not_registered(scope, filters), has_register=False)
    registered = register_queryset(scope, filters)
    assessed_codes = selected_round_usccs(_selection(filters))
    groups = (
        registered.values("district", "industry", "size_class", "sectors")
        .annotate(n=Count("id"), assessed=Count("id", filter=Q(uscc__in=assessed_codes)))
        .order_by()
    )
    districts: dict[str, list[int]] = {}
    industries: dict[str, list[int]] = {}
    sizes: dict[str, list[int]] = {}
    sectors: dict[str, list[int]] = {}
    total = [0, 0]
    for group in groups:
        n, assessed = group["n"], group["assessed"]
        total[0] += n
        total[1] += assessed
        _add(districts, group["district"], n, assessed)
        _add(industries, group["industry"], n, assessed)
        _add(sizes, group["size_class"], n, assessed)
        for code in sectors_decode(group["sectors"]):
            _add(sectors, code, n, assessed)
    total_reason = SMALL if shown_count(total[1]) is None else None
    return Coverage(
        total=_row("", _("合计"), total[0], total[1], total_reason),
        by_district=_rows(choices.DISTRICTS, districts, partition=True),
        by_industry=_rows(choices.INDUSTRIES, industries, partition=True),
        by_size=_rows(choices.SIZE_CLASSES, sizes, partition=True),
        by_sector=_rows(choices.SECTORS, sectors, partition=False),
        over_time=_over_time(scope, filters, registered),
        assessed_not_registered=_assessed_not_registered(scope, filters),
        has_register=True,
    )


def coverage_total(scope: AdminScope, filters: Filters) -> CoverageRow | None:
    """Only the total row of :func:`coverage` (one query; the dashboard's block), or None without a register;
    cached like :func:`coverage`."""
    return _cached("total", scope, filters, lambda: _coverage_total(scope, filters))


def _coverage_total(scope: AdminScope, filters: Filters) -> CoverageRow | None:
    registered = register_queryset(scope, filters)
    counts = registered.aggregate(
        n=Count("id"), assessed=Count("id", filter=Q(uscc__in=selected_round_usccs(_selection(filters))))
    )
    if not counts["n"] and not scoped_register(scope).exists():
        return None
    reason = SMALL if shown_count(counts["assessed"]) is None else None
    return _row("", _("合计"), counts["n"], counts["assessed"], reason)


# --- the "not yet assessed" export ----------------------------------------------------------------------


def unassessed_table(scope: AdminScope, filters: Filters) -> Table:
    """The "not yet assessed" list as an export table (written by surveys/reports/exports.py, which
    neutralises formula-like text)."""
    firms = unassessed_firms(scope, filters)
    districts = {code: str(label) for code, label in choices.DISTRICTS}
    industries = {code: str(label) for code, label in choices.INDUSTRIES}
    sizes = {code: str(label) for code, label in choices.SIZE_CLASSES}
    chains = {code: str(label) for code, label in choices.LEADING_CHAINS}
    sector_names = {code: str(label) for code, label in choices.SECTORS}
    yes, no = _("是"), _("否")
    headers = [_("统一社会信用代码"), _("企业名称"), _("所在区县"), _("行业代码"), _("所属行业"), _("企业规模")]
    headers += [_("主导产业链"), _("重点产业领域"), _("已在平台注册账号")]

    def rows() -> Iterator[list[Any]]:
        columns = ("uscc", "name", "district", "industry", "size_class", "leading_chain", "sectors", "signed_up")
        for code, name, district, industry, size, chain, tags, signed_up in firms.values_list(*columns).iterator(
            CHUNK_SIZE
        ):
            yield [
                code,
                name,
                districts.get(district, district),
                industry,
                industries.get(industry, industry),
                sizes.get(size, size),
                chains.get(chain, chain),
                join_list(sector_names.get(tag, tag) for tag in sectors_decode(tags)),
                yes if signed_up else no,
            ]

    return Table(title=_("尚未评估的企业"), headers=headers, rows=rows(), count=firms.count)
