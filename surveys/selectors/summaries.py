"""Reads of the summary tables (surveys/models.py, "summary tables"): which cells hold exactly the rounds a page
counts, the mean exactly as the database's AVG computes it, and the results page's comparison groups.

Which cells: the coarsest grain that keeps apart every attribute the question fixes (the administrator's
districts, the filters, the attribute a breakdown groups by); the selection (a round label, or each firm's
latest round), the version and the level are in every cell's key. A sector filter reads the sector grains,
where a firm counts once per sector (and once per pair of its sectors, which a grouping by sector with a sector
filter reads); every other question reads the others, where it counts once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from ..models import (
    SECTOR_PAIR_SEPARATOR,
    SUMMARY_GRAINS,
    SUMMARY_LATEST,
    SummaryCell,
    SummaryCount,
    sector_pairs_with,
    sector_partner,
)
from ..scopes import AdminScope
from .administrators import Filters
from .compiled import Compiled, Slots, compile_once

# Coarsest first: the first grain that keeps apart what a question needs answers it.
GRAIN_ORDER = ("all", "district", "industry", "size", "chain", "year", "sector", "fine", "sector_fine")
FIRM_ATTRIBUTES = ("district", "industry", "size_class", "leading_chain")


def grain_for(needed: set[str]) -> str:
    """The coarsest grain whose cells keep apart every attribute in ``needed`` (a sector only in the sector
    grains, and those only for a sector)."""
    for grain in GRAIN_ORDER:
        attributes = SUMMARY_GRAINS[grain]
        if ("sector" in attributes) == ("sector" in needed) and needed <= attributes:
            return grain
    raise ValueError(f"no grain keeps {sorted(needed)} apart")


@dataclass(frozen=True)
class Cells:
    """The cells of a question: their grain and the condition on SummaryCell (``prefix``: from a relation)."""

    grain: str
    scope: AdminScope
    filters: Filters
    every_label: bool  # every submitted round of every label, not the filters' selection
    round_filters: bool  # the filters on the round (year, level) apply
    by_sector: bool = False  # grouped by sector

    def condition(self, prefix: str = "") -> Q:
        terms: dict[str, object] = {"grain": self.grain, **self._firm_terms(), **self._round_terms()}
        condition = Q(**{f"{prefix}{name}": value for name, value in terms.items()})
        if self.every_label:
            condition &= ~Q(**{f"{prefix}label": SUMMARY_LATEST})
        if not self.filters.sector and "sector" in SUMMARY_GRAINS[self.grain]:
            condition &= sector_groups_condition(prefix)
        return condition

    def sector_shown(self, stored: str) -> str:
        """The sector a cell's sector stands for in a grouping by sector (models.sector_partner)."""
        return sector_partner(stored, self.filters.sector)

    def _firm_terms(self) -> dict[str, object]:
        """The scope's districts, the filters on the firm, and the sector (none outside the sector grains): the
        chosen one, or grouped by sector with a sector chosen, the chosen one and its pairs (its firms in each of
        their other sectors)."""
        terms: dict[str, object] = {}
        if not self.scope.all_districts:
            terms["district__in"] = sorted(self.scope.districts)
        for attribute in FIRM_ATTRIBUTES:
            value = getattr(self.filters, attribute)
            if value:
                terms[attribute] = value
        if self.filters.sector and self.by_sector:
            terms["sector__in"] = sector_codes_with(self.filters.sector)
        elif self.filters.sector or "sector" not in SUMMARY_GRAINS[self.grain]:
            terms["sector"] = self.filters.sector
        return terms

    def _round_terms(self) -> dict[str, object]:
        """The selection, the version and (unless every round counts) the year and the level."""
        filters = self.filters
        terms: dict[str, object] = {}
        if not self.every_label:
            terms["label"] = filters.round_label or SUMMARY_LATEST
        if filters.version:
            terms["questionnaire__version"] = filters.version
        if self.round_filters and filters.year is not None:
            terms["year"] = filters.year
        if self.round_filters and filters.level:
            terms["level"] = filters.level
        return terms


def cells(
    scope: AdminScope, filters: Filters, *, by: str | None = None, every_label: bool = False, round_filters: bool = True
) -> Cells:
    """The cells holding the rounds a page counts: the selected ones (``every_label``: every submitted round,
    as "change across rounds" counts them, with no filter on the round but the version), kept apart by ``by``
    (a cell attribute, "year" included) when given."""
    needed = set()
    if not scope.all_districts or filters.district:
        needed.add("district")
    needed.update(attribute for attribute in FIRM_ATTRIBUTES[1:] if getattr(filters, attribute))
    if filters.sector:
        needed.add("sector")
    if round_filters and filters.year is not None:
        needed.add("year")
    if by is not None and by not in ("level", "questionnaire", "label"):
        needed.add(by)
    return Cells(grain_for(needed), scope, filters, every_label, round_filters, by_sector=by == "sector")


def sector_codes_with(chosen: str) -> list[str]:
    """The sector column's codes of the firms of ``chosen`` grouped by sector: the sector and its pairs. A pair's
    cells keep only the rounds and the dimensions' counts (surveys/services/summaries.py): a grouping by sector
    under a sector filter can read those and nothing else."""
    return [chosen, *sector_pairs_with(chosen)]


def sector_groups_condition(prefix: str = "") -> Q:
    """Grouped by sector with no sector chosen: every sector's rows (not the rows of all firms, "", nor the
    pairs) of the summaries' sector column."""
    column = f"{prefix}sector"
    return ~Q(**{column: ""}) & ~Q(**{f"{column}__contains": SECTOR_PAIR_SEPARATOR})


# --- means as the database computes them --------------------------------------------------------------

NUMERIC_MIN_SIG_DIGITS = 16  # PostgreSQL's numeric division: at least this many significant digits
NBASE_DIGITS = 4  # decimal digits per base-10000 digit of PostgreSQL's numeric
SQLITE_DIGITS = 15  # what Django keeps of SQLite's floating AVG()


def database_mean(total: int, n: int) -> float | None:
    """AVG() over ``n`` values with 2 decimals summing to ``total`` hundredths, exactly as the database gives it
    (the pages showed AVG()'s value before the summaries, and keep showing the same number to the last bit).

    PostgreSQL divides the exact numeric sum by the count (numeric_avg is numeric_div(sum, count)) to the scale
    its select_div_scale() picks, a half away from zero; SQLite divides its floating sum by the count and Django
    keeps 15 significant digits (for values on a binary grid the floating sum is exact; others may differ from
    SQLite's own running sum in the last bit)."""
    if not n:
        return None
    if connection.vendor == "postgresql":
        return float(_numeric_div(total, n))
    return float(Context(prec=SQLITE_DIGITS).create_decimal_from_float(total / 100 / n))


def _base_10000(value: Decimal) -> tuple[int, int]:
    """(weight, first digit) of a positive value in PostgreSQL's base-10000 digits."""
    weight = value.adjusted() // NBASE_DIGITS
    return weight, int(value.scaleb(-NBASE_DIGITS * weight))


def _numeric_div(total: int, n: int) -> Decimal:
    """PostgreSQL's numeric_div(total / 100 with display scale 2, n), PostgreSQL 12–17 (select_div_scale)."""
    dividend = Decimal(abs(total)).scaleb(-2)
    weight1, first1 = _base_10000(dividend) if total else (0, 0)
    weight2, first2 = _base_10000(Decimal(n))
    qweight = weight1 - weight2 - (1 if first1 <= first2 else 0)
    scale = min(max(NUMERIC_MIN_SIG_DIGITS - qweight * NBASE_DIGITS, 2, 0), 1000)
    # The exact quotient to ``scale`` decimals, a half away from zero (div_var with round = true).
    quotient, remainder = divmod(abs(total) * 10 ** (scale - 2), n)
    if 2 * remainder >= n:
        quotient += 1
    return Decimal(-quotient if total < 0 else quotient).scaleb(-scale)


def hundredths(value: Decimal) -> int:
    """A stored score or index (two decimals) as the summaries keep it."""
    return int(Decimal(value).scaleb(2).to_integral_value(rounding=ROUND_HALF_UP))


# --- the results page's comparison groups ---------------------------------------------------------------


@dataclass(frozen=True)
class PeerFigures:
    size: int  # latest rounds of the group on the version
    indexed: int  # of them with an index
    index_total: int  # their indexes' sum, in hundredths
    at_or_below: int  # of them with an index at or below the firm's


def _group_condition(groups: dict[str, tuple[str, dict[str, str]]], questionnaire_id: int, prefix: str = "") -> Q:
    condition = Q()
    for grain, values in groups.values():
        condition |= Q(**{f"{prefix}grain": grain, **{f"{prefix}{k}": v for k, v in values.items()}})
    return condition & Q(
        **{f"{prefix}label": SUMMARY_LATEST, f"{prefix}questionnaire_id": questionnaire_id, f"{prefix}sector": ""}
    )


# The comparison groups' shape: per group, its key, grain and the attributes its cells are chosen by.
GroupShape = tuple[tuple[str, str, tuple[str, ...]], ...]


def _shape(groups: dict[str, tuple[str, dict[str, str]]]) -> GroupShape:
    return tuple((key, grain, tuple(values)) for key, (grain, values) in groups.items())


def _slotted_groups(shape: GroupShape, slots: Slots) -> dict[str, tuple[str, dict[str, str]]]:
    return {key: (grain, {a: slots.text(f"{key}.{a}") for a in attributes}) for key, grain, attributes in shape}


def _group_values(groups: dict[str, tuple[str, dict[str, str]]]) -> dict[str, str]:
    return {f"{key}.{a}": value for key, (_grain, values) in groups.items() for a, value in values.items()}


@functools.cache
def _peer_figures_sql(shape: GroupShape) -> Compiled:
    def build(slots: Slots) -> tuple[str, list[Any]]:
        groups, questionnaire_id = _slotted_groups(shape, slots), slots.integer("questionnaire")
        cell_rows = (
            SummaryCell.objects.filter(_group_condition(groups, questionnaire_id))
            .values("grain")
            .annotate(a=Sum("rounds"), b=Sum("indexed"), c=Sum("index_total"))
            .values_list("grain", "a", "b", "c")
            .order_by()
        )
        below_rows = (
            SummaryCount.objects.filter(
                _group_condition(groups, questionnaire_id, "cell__"), kind="index", value__lte=slots.integer("index")
            )
            .values("cell__grain")
            .annotate(n=Sum("rounds"))
            .values_list("cell__grain", "n")
            .order_by()
        )
        cells_sql, cells_params = cell_rows.query.sql_with_params()
        below_sql, below_params = below_rows.query.sql_with_params()
        return (
            f"SELECT c.*, 0 FROM ({cells_sql}) c UNION ALL SELECT b.*, 0, 0, 1 FROM ({below_sql}) b",
            [*cells_params, *below_params],
        )

    return compile_once(build)


def peer_figures(
    *, questionnaire_id: int, groups: dict[str, tuple[str, dict[str, str]]], index: Decimal
) -> dict[str, PeerFigures]:
    """Per group (key → (grain, the firm's values of the grain's attributes)), the firms' latest rounds on the
    version: how many, their index sum, and how many are at or below ``index``. One query: the groups' cells
    and, from their index histograms, the rounds at or below (compiled once per shape of the groups)."""
    query = _peer_figures_sql(_shape(groups))
    values = {**_group_values(groups), "questionnaire": questionnaire_id, "index": hundredths(index)}
    found: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params_for(values))
        for grain, a, b, c, is_below in cursor.fetchall():
            figures = found.setdefault(grain, [0, 0, 0, 0])
            if is_below:
                figures[3] = int(a or 0)
            else:
                figures[:3] = [int(a or 0), int(b or 0), int(c or 0)]
    return {key: PeerFigures(*found.get(grain, [0, 0, 0, 0])) for key, (grain, _values) in groups.items()}


@functools.cache
def _peer_dimension_totals_sql(shape: GroupShape) -> Compiled:
    def build(slots: Slots) -> QuerySet[Any]:
        condition = _group_condition(_slotted_groups(shape, slots), slots.integer("questionnaire"), "cell__")
        return (
            SummaryCount.objects.filter(condition, kind="dim", option="usable")
            .values("cell__grain", "code")
            .annotate(n=Sum("rounds"), total=Sum("total"))
            .values_list("cell__grain", "code", "n", "total")
            .order_by()
        )

    return compile_once(build)


def peer_dimension_totals(
    *, questionnaire_id: int, groups: dict[str, tuple[str, dict[str, str]]]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per group, per dimension code: (usable scores, their sum in hundredths) of the latest rounds on the
    version. One query (compiled once per shape of the groups)."""
    query = _peer_dimension_totals_sql(_shape(groups))
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params_for({**_group_values(groups), "questionnaire": questionnaire_id}))
        rows = cursor.fetchall()
    by_grain: dict[str, dict[str, tuple[int, int]]] = {}
    for grain, code, n, total in rows:
        by_grain.setdefault(grain, {})[code] = (int(n or 0), int(total or 0))
    return {key: by_grain.get(grain, {}) for key, (grain, _values) in groups.items()}
