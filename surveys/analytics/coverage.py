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

Every figure is read from the summary tables (surveys/models.py: the coverage grains of SummaryCell, which count
the selected rounds of the firms with a register row by that row's attributes, and SummaryRegister, the register
rows by attribute), maintained in the transaction of every submission, firm change and register import, so that
their cost does not grow with the firms or the register; only the "not yet assessed" list reads the register rows.
With a sector filter the sector rows count the chosen sector's register rows in each of their tags: the summaries
keep each pair of tags too (models.sector_pair).

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
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import choices
from ..models import (
    SUMMARY_LATEST,
    Enterprise,
    RegisterEntry,
    SummaryCell,
    SummaryRegister,
    sector_lookup,
    sector_partner,
    sectors_decode,
)
from ..scopes import AdminScope, district_condition
from ..selectors.administrators import Filters, selected_round_exists
from ..selectors.summaries import sector_codes_with, sector_groups_condition
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
    return (
        register_queryset(scope, filters)
        .exclude(selected_round_exists(_selection(filters)))
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


# --- the summaries ------------------------------------------------------------------------------------

FINE_ATTRIBUTES = ("industry", "size_class", "leading_chain")  # what the coarse rows sum over
GROUP = ("district", "industry", "size_class")  # the partitions the coverage page shows


def _summary_condition(scope: AdminScope, filters: Filters, *, by_sector: bool = False) -> Q:
    """The scope's districts and the firm filters on SummaryRegister or a coverage cell (the register row's values
    in both); the sector filter's rows, else (``by_sector``) every sector's, else the rows themselves ("")."""
    terms: dict[str, object] = {}
    if not scope.all_districts:
        terms["district__in"] = sorted(scope.districts)
    for attribute in ("district", *FINE_ATTRIBUTES):
        value = getattr(filters, attribute)
        if value:
            terms[attribute] = value
    if filters.sector and by_sector:
        return Q(**terms, sector__in=sector_codes_with(filters.sector))
    if filters.sector or not by_sector:
        return Q(**terms, sector=filters.sector)
    return Q(**terms) & sector_groups_condition()


def _fine(filters: Filters, group: Sequence[str]) -> bool:
    """Whether the fine rows are needed: a filter or a grouping by industry, size or chain."""
    return any(getattr(filters, a) for a in FINE_ATTRIBUTES) or any(a in FINE_ATTRIBUTES for a in group)


def _sums(rows: QuerySet[Any], group: Sequence[str], column: str) -> dict[tuple[Any, ...], int]:
    """The sum of ``column`` per value of ``group`` (one GROUP BY; () → the whole sum under the key ())."""
    if not group:
        n = rows.aggregate(n=Sum(column))["n"]
        return {(): int(n)} if n else {}
    found: dict[tuple[Any, ...], int] = {}
    for *key, n in rows.values_list(*group).annotate(n=Sum(column)).values_list(*group, "n").order_by():
        if n:
            found[tuple(key)] = int(n)
    return found


def _registered(
    scope: AdminScope, filters: Filters, group: Sequence[str] = (), *, by_sector: bool = False
) -> dict[tuple[Any, ...], int]:
    """Register rows in scope matching the filters, per value of ``group`` (SummaryRegister)."""
    grain = "fine" if _fine(filters, group) else "district"
    rows = SummaryRegister.objects.filter(_summary_condition(scope, filters, by_sector=by_sector), grain=grain)
    return _sums(rows, group, "firms")


def _assessed(
    scope: AdminScope,
    filters: Filters,
    group: Sequence[str] = (),
    *,
    by_sector: bool = False,
    labels: Sequence[str] | None = None,
) -> dict[tuple[Any, ...], int]:
    """Of the register rows in scope matching the filters, those whose firm has a selected round, per value of
    ``group`` (the coverage cells: at most one round per firm and selection, so rounds are firms). ``labels``:
    the rounds with these labels (over time; no year filter), not the filters' selection."""
    year = filters.year if labels is None else None
    fine = _fine(filters, group) or year is not None
    sector = bool(filters.sector) or by_sector
    grain = {(False, False): "cov_district", (True, False): "cov_fine", (False, True): "cov_sector"}.get(
        (fine, sector), "cov_sec_fine"
    )
    condition = _summary_condition(scope, filters, by_sector=by_sector) & Q(grain=grain)
    if labels is None:
        condition &= Q(label=filters.round_label or SUMMARY_LATEST)
    else:
        condition &= Q(label__in=list(labels))
    if filters.version:
        condition &= Q(questionnaire__version=filters.version)
    if year is not None:
        condition &= Q(year=year)
    return _sums(SummaryCell.objects.filter(condition), group, "rounds")


def _has_register(scope: AdminScope) -> bool:
    return SummaryRegister.objects.filter(_summary_condition(scope, Filters()), grain="district").exists()


def _over_time(scope: AdminScope, filters: Filters, total: int) -> list[CoveragePoint]:
    labels = assessment_labels_cached(scope)
    if not labels:
        return []
    # A firm has at most one round per label (round_label_unique): counting rounds counts firms.
    counts = _assessed(scope, filters, ("label",), labels=labels)
    points = []
    for label in sorted(labels):
        assessed = shown_count(counts.get((label,), 0))
        points.append(CoveragePoint(label, total, assessed, share(assessed, total) if assessed is not None else None))
    return points


def _assessed_not_registered(scope: AdminScope, filters: Filters) -> int:
    """Selected rounds (firm filters on the profile, the level aside) of firms without a register row: the
    "cov_out" cells. A sector is a register tag: with a sector filter every selected firm is registered."""
    if filters.sector:
        return 0
    condition = Q(grain="cov_out", label=filters.round_label or SUMMARY_LATEST)
    if not scope.all_districts:
        condition &= Q(district__in=sorted(scope.districts))
    for attribute in ("district", *FINE_ATTRIBUTES):
        value = getattr(filters, attribute)
        if value:
            condition &= Q(**{attribute: value})
    if filters.version:
        condition &= Q(questionnaire__version=filters.version)
    if filters.year is not None:
        condition &= Q(year=filters.year)
    return _sums(SummaryCell.objects.filter(condition), (), "rounds").get((), 0)


# --- the cache -----------------------------------------------------------------------------------------

T = TypeVar("T")


def register_fingerprint() -> tuple[int, int]:
    """Changes with every change of the register: (rows, the last id) of its counts, which every import or
    deletion that changes a row recomputes (new ids; summaries_register_recount). Reads a few hundred rows."""
    row = SummaryRegister.objects.aggregate(n=Count("id"), last=Max("id"))
    return row["n"], int(row["last"] or 0)


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
    label (see the module docstring): a few GROUP BYs over the summaries; kept in the cache like the dashboard's
    figures until a submission or a change of the register."""
    return _cached("coverage", scope, filters, lambda: _coverage(scope, filters))


def _coverage(scope: AdminScope, filters: Filters) -> Coverage:
    if not _has_register(scope):
        empty = CoverageRow("", _("合计"), 0, 0, None)
        return Coverage(empty, [], [], [], [], [], _assessed_not_registered(scope, filters), has_register=False)
    selection = _selection(filters)
    registered = _registered(scope, selection, GROUP)
    assessed = _assessed(scope, selection, GROUP)
    districts: dict[str, list[int]] = {}
    industries: dict[str, list[int]] = {}
    sizes: dict[str, list[int]] = {}
    total = [0, 0]
    for key, n in registered.items():
        district, industry, size = key
        got = assessed.get(key, 0)
        total[0] += n
        total[1] += got
        _add(districts, district, n, got)
        _add(industries, industry, n, got)
        _add(sizes, size, n, got)
    total_reason = SMALL if shown_count(total[1]) is None else None
    return Coverage(
        total=_row("", _("合计"), total[0], total[1], total_reason),
        by_district=_rows(choices.DISTRICTS, districts, partition=True),
        by_industry=_rows(choices.INDUSTRIES, industries, partition=True),
        by_size=_rows(choices.SIZE_CLASSES, sizes, partition=True),
        by_sector=_rows(choices.SECTORS, _sector_counts(scope, selection), partition=False),
        over_time=_over_time(scope, selection, total[0]),
        assessed_not_registered=_assessed_not_registered(scope, filters),
        has_register=True,
    )


def _sector_counts(scope: AdminScope, filters: Filters) -> dict[str, list[int]]:
    """Registered and assessed per sector tag. With a sector filter, the rows carrying it in each of their tags:
    the summaries' pairs of the chosen sector with each other one (models.sector_pair)."""
    sectors: dict[str, list[int]] = {}
    assessed = _assessed(scope, filters, ("sector",), by_sector=True)
    for (code,), n in _registered(scope, filters, ("sector",), by_sector=True).items():
        _add(sectors, sector_partner(code, filters.sector), n, assessed.get((code,), 0))
    return sectors


def coverage_total(scope: AdminScope, filters: Filters) -> CoverageRow | None:
    """Only the total row of :func:`coverage` (the dashboard's block), or None without a register; cached like
    :func:`coverage`."""
    return _cached("total", scope, filters, lambda: _coverage_total(scope, filters))


def _coverage_total(scope: AdminScope, filters: Filters) -> CoverageRow | None:
    """Two small queries of the summaries (a third when nothing matches: is there a register in scope at all?)."""
    selection = _selection(filters)
    registered = _registered(scope, selection).get((), 0)
    if not registered and not _has_register(scope):
        return None
    assessed = _assessed(scope, selection).get((), 0)
    reason = SMALL if shown_count(assessed) is None else None
    return _row("", _("合计"), registered, assessed, reason)


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
