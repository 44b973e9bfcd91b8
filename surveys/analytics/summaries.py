"""The administrators' numbers read from the summary tables (surveys/models.py, "summary tables"), as plain
data: aggregates.py (and city.py through it) turns them into figures and applies the small-group rule.

Each function reads the cells of the coarsest grain that answers it exactly (surveys/selectors/summaries.py)
with one grouped query: a handful of rows for a page without filters, at most a few thousand with many, and
never the per-firm rows. Scores and indexes come back in hundredths, as the summaries keep them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Q, Sum

from ..models import SummaryCell, SummaryCount, SummaryFirm
from ..scopes import AdminScope
from ..selectors.administrators import Filters
from ..selectors.summaries import FIRM_ATTRIBUTES, Cells, cells
from ..suppression import min_group_size
from .histograms import HistogramSummary, interpolate, quantile_bounds

# The breakdowns' groupings (aggregates.BREAKDOWNS) as cell attributes.
GROUP_ATTRIBUTES = {
    "district": "district",
    "industry": "industry",
    "size_class": "size_class",
    "leading_chain": "leading_chain",
    "questionnaire__version": "questionnaire",
}


def registered(scope: AdminScope, filters: Filters) -> int:
    """Firms in scope matching the firm filters (district, industry, size, chain, sector)."""
    terms: dict[str, object] = {"sector": filters.sector or ""}
    if not scope.all_districts:
        terms["district__in"] = sorted(scope.districts)
    for attribute in FIRM_ATTRIBUTES:
        value = getattr(filters, attribute)
        if value:
            terms[attribute] = value
    return int(SummaryFirm.objects.filter(**terms).aggregate(n=Sum("firms"))["n"] or 0)


@dataclass(frozen=True)
class Selected:
    """The selected rounds: how many per level, and the questionnaire versions they are on (oldest first)."""

    rounds: int
    levels: dict[str, int]
    versions: list[str]


def selected(scope: AdminScope, filters: Filters) -> Selected:
    """The selected rounds per level and version (one query)."""
    where = cells(scope, filters).condition()
    rows = (
        SummaryCell.objects.filter(where)
        .values_list("level", "questionnaire__version", "questionnaire__created_at")
        .annotate(n=Sum("rounds"))
        .order_by()
    )
    levels: dict[str, int] = {}
    versions: dict[str, object] = {}
    total = 0
    for level, version, created, n in rows:
        n = int(n or 0)
        if not n:
            continue
        total += n
        levels[level] = levels.get(level, 0) + n
        versions[version] = created
    ordered = [version for version, _created in sorted(versions.items(), key=lambda pair: (pair[1], pair[0]))]
    return Selected(rounds=total, levels=levels, versions=ordered)


@dataclass(frozen=True)
class Distribution:
    """One histogram of the selected rounds, summarised: its HistogramSummary and the rounds below a line."""

    summary: HistogramSummary
    below: int = 0  # rounds whose value is under the ``below`` line asked for


def distributions(
    scope: AdminScope, filters: Filters, *, kinds: Iterable[str], below: int = 0
) -> dict[tuple[str, str], Distribution]:
    """(kind, code) → Distribution: of the index histogram (kind "index", code "") and of the usable scores'
    histograms (kind "score", code the dimension) of the selected rounds, ``below`` a line in hundredths.

    The cells' histogram rows are read as they are stored, with the cursor, and summed here: a grouped read
    would have the database sort them (or sum them as numeric, which arrives as Decimals), and both cost more
    than the sum in Python (make bench, dashboard). The figures are histograms.histogram_summary's over the
    summed histogram to the last bit: the same exact sum, divided by the count in Decimal arithmetic, and the
    same interpolation between the same two values (a value in hundredths divided by 100 is the float its
    Decimal gives)."""
    where = cells(scope, filters).condition("cell__")
    stored = SummaryCount.objects.filter(where, kind__in=list(kinds)).order_by()
    try:
        sql, params = stored.values_list("kind", "code", "value", "rounds").query.sql_with_params()
    except EmptyResultSet:  # no district in scope: nothing to read
        return {}
    summed: dict[tuple[str, str], dict[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    histogram: dict[int, int] = {}
    last = None
    for kind, code, value, n in rows:
        if (kind, code) != last:  # the rows come cell by cell, a histogram's values together within a cell
            last = (kind, code)
            histogram = summed.setdefault(last, {})
        histogram[value] = histogram.get(value, 0) + n
    found = {}
    for key, counts in summed.items():
        distribution = _distribution(counts, below)
        if distribution is not None:
            found[key] = distribution
    return found


def _distribution(histogram: dict[int, int], below: int) -> Distribution | None:
    """A histogram of values in hundredths summarised (None when it counts nothing), by the rule of
    histograms.quantiles_from_histogram: the values at the ranks from histograms.quantile_bounds, divided by 100
    before the interpolation as that function's floats are."""
    pairs = sorted(histogram.items())
    total = weighted = under = 0
    for value, n in pairs:
        total += n
        weighted += value * n
        if value < below:
            under += n
    if not total:
        return None
    quartiles = [interpolate(h, lower / 100, upper / 100) for h, lower, upper in quantile_bounds(pairs, total)]
    mean = float(Decimal(weighted).scaleb(-2) / total)
    return Distribution(HistogramSummary(total, mean, quartiles), under)


@dataclass(frozen=True)
class DimensionCounts:
    results: int = 0  # results stored
    usable: int = 0  # neither insufficient data nor no score
    total: int = 0  # the usable scores' sum, in hundredths
    weak: int = 0  # usable and below the weak line
    insufficient: int = 0


def _dimension_counts(rows) -> dict[tuple, DimensionCounts]:
    found: dict[tuple, dict[str, int]] = {}
    for *key, option, n, total in rows:
        figures = found.setdefault(tuple(key), {})
        figures[option] = figures.get(option, 0) + int(n or 0)
        if option == "usable":
            figures["total"] = figures.get("total", 0) + int(total or 0)
    return {key: DimensionCounts(**figures) for key, figures in found.items()}


def dimension_counts(scope: AdminScope, filters: Filters, *, by: str | None = None) -> dict[tuple, DimensionCounts]:
    """(group, dimension code) → DimensionCounts of the selected rounds (group None without ``by``, a cell
    attribute or "questionnaire__version")."""
    chosen = cells(scope, filters, by=_attribute(by))
    group = [f"cell__{by}"] if by else []
    rows = (
        SummaryCount.objects.filter(chosen.condition("cell__"), kind="dim")
        .values_list(*group, "code", "option")
        .annotate(n=Sum("rounds"), t=Sum("total"))
        .order_by()
    )
    counts = _dimension_counts(_shown_groups(chosen, rows))
    return counts if by else {(None, code): figures for (code,), figures in counts.items()}


def _shown_groups(chosen: Cells, rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    """Rows whose first column is the grouping's value, with a sector pair read as the sector it stands for."""
    if not chosen.by_sector:
        return rows
    return [(chosen.sector_shown(group), *rest) for group, *rest in rows]


def dimension_counts_by(
    scope: AdminScope, filters: Filters, bys: Iterable[str]
) -> dict[str, dict[tuple, DimensionCounts]]:
    """For each of ``bys`` (cell attributes, "sector" among them), what :func:`dimension_counts` gives by it: one
    query, each grouping read from its own grain (a UNION ALL of their grouped reads)."""
    parts, params = [], []
    keys = list(bys)
    chosen = [cells(scope, filters, by=_attribute(by)) for by in keys]
    for n, by in enumerate(keys):
        rows = (
            SummaryCount.objects.filter(chosen[n].condition("cell__"), kind="dim")
            .values_list(f"cell__{_attribute(by)}", "code", "option")
            .annotate(n=Sum("rounds"), t=Sum("total"))
            .order_by()
        )
        try:
            sql, found = rows.query.sql_with_params()
        except EmptyResultSet:  # no district in scope: nothing to read
            continue
        # n is the position of a grouping in ``keys``: a constant of this function, never input.
        parts.append(f"SELECT {int(n)} AS g, x.* FROM ({sql}) x")
        params.extend(found)
    grouped: dict[int, list] = {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for position, *row in cursor.fetchall():
                grouped.setdefault(position, []).append(row)
    return {by: _dimension_counts(_shown_groups(chosen[n], grouped.get(n, []))) for n, by in enumerate(keys)}


def _attribute(by: str | None) -> str | None:
    return None if by is None else GROUP_ATTRIBUTES.get(by, by)


@dataclass(frozen=True)
class RoundCounts:
    rounds: int
    indexed: int  # with an index
    index_total: int  # in hundredths


def round_counts(
    scope: AdminScope, filters: Filters, *, by: str, every_label: bool = False, ordered: bool = False
) -> dict:
    """group → RoundCounts of the selected rounds (``every_label``: of every submitted round, the filters on the
    round left aside but the version) per value of ``by`` (a cell attribute, "label", "year" or
    "questionnaire__version"); groups without a round are left out. ``ordered``: in the database's order of
    the values (its collation for labels, as the pages have always listed them)."""
    where = cells(scope, filters, by=_attribute(by), every_label=every_label, round_filters=not every_label)
    rows = (
        SummaryCell.objects.filter(where.condition())
        .values_list(by)
        .annotate(n=Sum("rounds"), indexed=Sum("indexed"), total=Sum("index_total"))
        .order_by(*([by] if ordered else []))
    )
    return {
        key: RoundCounts(int(n), int(indexed or 0), int(total or 0))
        for key, n, indexed, total in _shown_groups(where, rows)
        if n
    }


def label_dimension_counts(scope: AdminScope, filters: Filters, labels: list[str]) -> dict[tuple, DimensionCounts]:
    """(label, dimension code) → DimensionCounts over every submitted round with one of ``labels``."""
    where = cells(scope, filters, every_label=True, round_filters=False).condition("cell__")
    rows = (
        SummaryCount.objects.filter(where, kind="dim", cell__label__in=labels)
        .values_list("cell__label", "code", "option")
        .annotate(n=Sum("rounds"), t=Sum("total"))
        .order_by()
    )
    return _dimension_counts(rows)


@dataclass(frozen=True)
class PreviousRoundCounts:
    """The selected rounds that have a previous round (the firm's round submitted before, of any version), for
    one label of that previous round."""

    rounds: int
    now_above: int  # of them, at one of the levels asked for now
    now_total: int  # their indexes' sum now, in hundredths
    then_total: int  # their previous rounds' indexes' sum, in hundredths
    then_above: int  # of them, at one of the levels asked for then


def previous_round_counts(
    scope: AdminScope, filters: Filters, *, levels: Iterable[str]
) -> dict[str, PreviousRoundCounts]:
    """Previous round's label → PreviousRoundCounts of the selected rounds, at or above ``levels`` (one query)."""
    where = cells(scope, filters).condition("cell__")
    rows = (
        SummaryCount.objects.filter(where, kind__in=["prev", "prevnow"])
        .values_list("kind", "code", "option", "cell__level")
        .annotate(n=Sum("rounds"), t=Sum("total"))
        .order_by()
    )
    wanted = set(levels)
    found: dict[str, list[int]] = {}
    for kind, label, option, level, n, total in rows:
        figures = found.setdefault(label, [0, 0, 0, 0, 0])
        n, total = int(n or 0), int(total or 0)
        if kind == "prevnow":
            figures[0] += n
            figures[1] += n if level in wanted else 0
            figures[2] += total
        else:
            figures[3] += total
            figures[4] += n if option in wanted else 0
    return {label: PreviousRoundCounts(*figures) for label, figures in found.items() if figures[0]}


def rounds_per_version(scope: AdminScope, filters: Filters) -> dict[int, int]:
    """Questionnaire id → selected rounds on it."""
    rows = (
        SummaryCell.objects.filter(cells(scope, filters).condition())
        .values_list("questionnaire_id")
        .annotate(n=Sum("rounds"))
        .order_by()
    )
    return {questionnaire_id: int(n) for questionnaire_id, n in rows if n}


ITEM_OPTIONS = ("0", "1", "2", "3", "4", "unknown", "na")


@dataclass(frozen=True)
class ItemCounts:
    """The selected rounds' answers to one item, per option ("0"…"4", "unknown", "na")."""

    options: dict[str, int]

    def at(self, *options: str) -> int:
        return sum(self.options.get(option, 0) for option in options)

    @property
    def answered(self) -> int:  # an option or 不清楚
        return self.at("0", "1", "2", "3", "4", "unknown")


def item_counts(scope: AdminScope, filters: Filters, *, options: Iterable[str] = ITEM_OPTIONS) -> dict[int, ItemCounts]:
    """Item id → the selected rounds' answers to it at ``options`` (items without any left out)."""
    where = cells(scope, filters).condition("cell__")
    rows = (
        SummaryCount.objects.filter(where, kind="item", option__in=list(options))
        .values_list("value", "option")
        .annotate(n=Sum("rounds"))
        .order_by()
    )
    found: dict[int, dict[str, int]] = {}
    for item_id, option, n in rows:
        if n:
            counts = found.setdefault(item_id, {})
            counts[option] = counts.get(option, 0) + int(n)
    return {item_id: ItemCounts(counts) for item_id, counts in found.items()}


def context_counts(scope: AdminScope, filters: Filters, *, question: str) -> tuple[int, dict[str, int]]:
    """(selected rounds that answered the context question ``question`` with any option, rounds per option
    code chosen), by code, over every version's question of that code."""
    where = cells(scope, filters).condition("cell__")
    rows = (
        SummaryCount.objects.filter(where, kind="context", code=question)
        .values_list("option")
        .annotate(n=Sum("rounds"))
        .order_by()
    )
    counts = {option: int(n) for option, n in rows if n}
    return counts.pop("", 0), counts


# --- the filter form's choices and the cache's fingerprint -----------------------------------------------


def _every_label(scope: AdminScope) -> Q:
    return cells(scope, Filters(), every_label=True, round_filters=False).condition()


def assessment_labels(scope: AdminScope) -> list[str]:
    """Round labels used by at least the minimum number of firms in scope (newest first), for the filter."""
    rows = (
        SummaryCell.objects.filter(_every_label(scope))
        .values_list("label")
        .annotate(n=Sum("rounds"))
        .filter(n__gte=min_group_size())
        .order_by("-label")
    )
    return [label for label, n in rows if n]


def submitted_versions(scope: AdminScope) -> list[str]:
    """The questionnaire versions of the submitted rounds in scope, oldest first, for the version filter."""
    rows = (
        SummaryCell.objects.filter(_every_label(scope))
        .values_list("questionnaire__version", "questionnaire__created_at")
        .annotate(n=Sum("rounds"))
        .order_by()
    )
    found = [(created, version) for version, created, n in rows if n]
    return [version for _created, version in sorted(found)]


def fingerprint() -> tuple[int, int, int, int]:
    """Changes with every submission and every re-scoring: (cells of the coarsest grain, rounds in them, sum of
    their indexes, and the rounds weighted by their cell's id, which moves when a round changes level alone)."""
    row = SummaryCell.objects.filter(grain="all").aggregate(
        n=Count("id"), counted=Sum("rounds"), total=Sum("index_total"), placed=Sum(F("rounds") * F("id"))
    )
    return (row["n"], int(row["counted"] or 0), int(row["total"] or 0), int(row["placed"] or 0))
