"""Aggregates for the administrators' dashboard, exports and the city report.

Everything is computed in the database over the stored per-firm results (Assessment.index and .level,
DimensionResult.score) with a few GROUP BY queries; Python only reshapes the handful of rows that come back
(pandas where a pivot helps). Raw answers are read only for the item-level weaknesses, and then as one
COUNT … GROUP BY item.

Every queryset starts from surveys.scopes (:func:`round_queryset`, :func:`firm_queryset`): nothing here
can reach a firm outside the administrator's scope.

Small groups (settings.JINAN_MIN_GROUP_SIZE, 10 by default). A number that describes fewer than that many
firms is not shown: a count from 1 to the minimum − 1 becomes ``None`` ("<10"; zero stays zero), and so do a
mean, quartile or share of a group below the minimum and a share whose count is hidden. In a partition (the
level distribution, a breakdown by district …) where only one cell is hidden, the next smallest is hidden as
well, so that the hidden one cannot be worked out from the total.

Dimension results flagged ``insufficient_data`` (too many 不清楚) are left out of the dimension figures,
as on the firm's own results page, and counted separately.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import choices, selectors
from .choices import label_of
from .models import (
    Answer,
    Assessment,
    Countermeasure,
    Dimension,
    DimensionResult,
    Enterprise,
    Item,
    Level,
    Questionnaire,
    RecommendationRule,
)
from .scopes import AdminScope, scoped_assessments, scoped_enterprises

# A firm is "weak" in a problem area when its dimension score is below this (the questionnaire's
# {dimension: Dx, below: 40} recommendation rules use the same line).
WEAK_DIMENSION_SCORE = 40
# An item is a weakness when answered at one of the two lowest options (score ≤ 1) or 不清楚.
WEAK_ITEM_SCORE = 1
QUARTILES = (0.25, 0.5, 0.75)

BREAKDOWNS = {
    "district": ("district", choices.DISTRICTS),
    "industry": ("industry", choices.INDUSTRIES),
    "size": ("size_class", choices.SIZE_CLASSES),
    "chain": ("leading_chain", choices.LEADING_CHAINS),
}


def min_group_size() -> int:
    return int(settings.JINAN_MIN_GROUP_SIZE)


def breakdown_title(key: str) -> str:
    return {
        "district": _("区县"),
        "industry": _("行业"),
        "size": _("企业规模"),
        "chain": _("主导产业链"),
    }[key]


# --- filters ----------------------------------------------------------------------------------------


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


# --- small-group suppression ------------------------------------------------------------------------


def shown_count(n: int | None) -> int | None:
    """``n`` when it is 0 or at least the minimum group size, else None (shown as "<10")."""
    if n is None or 0 < n < min_group_size():
        return None
    return n


def suppress_partition(counts: dict[Any, int]) -> set[Any]:
    """The keys of a partition to hide: counts below the minimum, plus the next smallest when only one is."""
    minimum = min_group_size()
    hidden = {key for key, n in counts.items() if 0 < n < minimum}
    if len(hidden) == 1:
        rest = sorted((n, str(key), key) for key, n in counts.items() if key not in hidden and n > 0)
        if rest:
            hidden.add(rest[0][2])
    return hidden


def share(part: int | None, whole: int | None) -> float | None:
    """``part / whole`` in percent when both may be shown."""
    if part is None or not whole:
        return None
    if shown_count(part) is None or shown_count(whole) is None:
        return None
    return 100.0 * part / whole


# --- distributions from histograms ------------------------------------------------------------------
# Scores and indexes are stored with two decimals and take few distinct values, so the database returns a
# (value, count) histogram (a hash GROUP BY, cheaper than sorting every row for percentile_cont) and the mean
# and quartiles follow from it exactly, the same on PostgreSQL and SQLite.


@dataclass(frozen=True)
class HistogramSummary:
    n: int
    mean: float | None
    quartiles: list[float] | None  # Q1, median, Q3 (linear interpolation, as percentile_cont)


def histogram_summary(histogram: Iterable[tuple[Any, int]]) -> HistogramSummary:
    pairs = [(value, int(n)) for value, n in histogram if value is not None and n]
    total = sum(n for _value, n in pairs)
    if not total:
        return HistogramSummary(0, None, None)
    mean = float(sum(Decimal(value) * n for value, n in pairs) / total)
    return HistogramSummary(total, mean, quantiles_from_histogram(pairs))


def quantiles_from_histogram(histogram: Iterable[tuple[float, int]], probabilities=QUARTILES) -> list[float] | None:
    """percentile_cont over the values a (value, count) histogram describes; None when it is empty.

    The same definition as PostgreSQL's percentile_cont and statistics.quantiles(method="inclusive").
    """
    pairs = sorted((float(v), int(n)) for v, n in histogram if v is not None and n)
    total = sum(n for _value, n in pairs)
    if total == 0:
        return None
    cumulative = []
    running = 0
    for _value, n in pairs:
        running += n
        cumulative.append(running)  # ranks 0 … running-1 hold values up to this one

    def value_at(rank: int) -> float:
        return pairs[bisect.bisect_right(cumulative, rank)][0]

    result = []
    for p in probabilities:
        h = (total - 1) * p
        low = math.floor(h)
        lower = value_at(low)
        upper = value_at(min(low + 1, total - 1))
        result.append(lower + (h - low) * (upper - lower))
    return result


# --- reference data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionInfo:
    code: str
    name: str
    problem: str
    position: int


@dataclass(frozen=True)
class LevelInfo:
    code: str
    name: str


def reference_questionnaire() -> Questionnaire | None:
    """The version whose names label the dashboard (the current one; codes D1–D5 and L1–L5 are stable)."""
    return selectors.questionnaire_current() or Questionnaire.objects.order_by("-created_at").first()


def dimension_infos(questionnaire: Questionnaire | None) -> list[DimensionInfo]:
    if questionnaire is None:
        return []
    return [
        DimensionInfo(d.code, d.name, d.problem, d.position)
        for d in Dimension.objects.filter(questionnaire=questionnaire).order_by("position")
    ]


def level_infos(questionnaire: Questionnaire | None) -> list[LevelInfo]:
    if questionnaire is None:
        return []
    levels = Level.objects.filter(questionnaire=questionnaire).order_by("position")
    return [LevelInfo(lv.code, lv.name) for lv in levels]


# --- overview ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCell:
    code: str
    name: str
    firms: int | None  # None: hidden
    share: float | None  # percent of the firms with a submitted round


@dataclass(frozen=True)
class IndexSummary:
    firms: int | None  # rounds counted (None: fewer than the minimum)
    mean: float | None
    quartiles: list[float] | None  # Q1, median, Q3


@dataclass(frozen=True)
class Overview:
    registered: int | None  # firms in scope matching the firm filters
    submitted: int | None  # of them, firms with a round in the selection
    submitted_share: float | None
    index: IndexSummary
    levels: list[LevelCell]


def overview(scope: AdminScope, filters: Filters, *, levels: list[LevelInfo]) -> Overview:
    """Firms, submissions, index mean and quartiles, level distribution: a count and one GROUP BY (index, level)."""
    registered = firm_queryset(scope, filters).count()
    histogram = list(round_queryset(scope, filters).values_list("index", "level").annotate(n=Count("id")).order_by())
    total = sum(n for _index, _level, n in histogram)
    summary = histogram_summary((index, n) for index, _level, n in histogram if index is not None)
    counts = {lv.code: 0 for lv in levels}
    for _index, level, n in histogram:
        if level in counts:
            counts[level] += n
    hidden = suppress_partition(counts) if shown_count(total) is not None else set(counts)
    cells = []
    for lv in levels:
        n = None if lv.code in hidden else counts[lv.code]
        cells.append(LevelCell(lv.code, lv.name, n, share(n, total) if n is not None else None))
    shown_total = shown_count(total)
    return Overview(
        registered=shown_count(registered),
        submitted=shown_total,
        submitted_share=share(total, registered),
        index=IndexSummary(
            firms=shown_total,
            mean=summary.mean if shown_total else None,
            quartiles=summary.quartiles if shown_total else None,
        ),
        levels=cells,
    )


# --- dimensions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionStats:
    info: DimensionInfo
    firms: int | None  # firms with a usable score (None: fewer than the minimum)
    mean: float | None
    quartiles: list[float] | None
    weak: int | None  # firms below WEAK_DIMENSION_SCORE
    weak_share: float | None
    insufficient: int | None  # firms whose result had insufficient data (left out above)


def dimension_stats(scope: AdminScope, filters: Filters, *, dimensions: list[DimensionInfo]) -> list[DimensionStats]:
    """Firms, mean, quartiles, weak share and 'insufficient data' per dimension.

    One GROUP BY (dimension, score, insufficient) over the selected rounds' results: a few hundred rows (the
    scores take few distinct values) from which every figure follows exactly.
    """
    rows = (
        DimensionResult.objects.filter(assessment__in=round_queryset(scope, filters))
        .values_list("dimension__code", "score", "insufficient_data")
        .annotate(n=Count("id"))
        .order_by()
    )
    usable: dict[str, list[tuple[Decimal, int]]] = {}
    insufficient: dict[str, int] = {}
    for code, score, flagged, n in rows:
        if flagged:
            insufficient[code] = insufficient.get(code, 0) + n
        elif score is not None:
            usable.setdefault(code, []).append((score, n))
    stats = []
    for info in dimensions:
        summary = histogram_summary(usable.get(info.code, []))
        weak_count = sum(n for score, n in usable.get(info.code, []) if score < WEAK_DIMENSION_SCORE)
        n = shown_count(summary.n)
        weak = shown_count(weak_count) if n is not None else None
        stats.append(
            DimensionStats(
                info=info,
                firms=n,
                mean=summary.mean if n else None,
                quartiles=summary.quartiles if n else None,
                weak=weak,
                weak_share=share(weak, summary.n) if weak is not None else None,
                insufficient=shown_count(insufficient.get(info.code, 0)),
            )
        )
    return stats


# --- breakdowns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    key: str
    label: str
    firms: int | None  # None: hidden (fewer than the minimum, or hidden with the smallest)
    mean_index: float | None
    dimension_means: list[float | None]  # in the order of the dimensions
    weak_shares: list[float | None] = field(default_factory=list)  # percent below WEAK_DIMENSION_SCORE

    @property
    def hidden(self) -> bool:
        return self.firms is None


@dataclass(frozen=True)
class Breakdown:
    key: str  # district | industry | size | chain
    title: str
    rows: list[GroupRow]  # shown groups by size, then hidden ones
    hidden_groups: int


def breakdown(
    scope: AdminScope, filters: Filters, key: str, *, dimensions: list[DimensionInfo], with_dimensions: bool = True
) -> Breakdown:
    """Firms, mean index and (optionally) mean dimension scores per district, industry, size or chain."""
    attribute, labels = BREAKDOWNS[key]
    group = f"enterprise__{attribute}"
    rounds = round_queryset(scope, filters)
    index_rows = {row[group]: row for row in rounds.values(group).annotate(n=Count("id"), mean=Avg("index")).order_by()}
    hidden = suppress_partition({k: row["n"] for k, row in index_rows.items()})
    codes = [d.code for d in dimensions]
    means = pd.DataFrame(index=list(index_rows), columns=codes, dtype=float)
    weak = pd.DataFrame(index=list(index_rows), columns=codes, dtype=float)
    if with_dimensions and index_rows:
        frame = pd.DataFrame.from_records(
            list(
                dimension_results(rounds)
                .values(f"assessment__{group}", "dimension__code")
                .annotate(n=Count("id"), mean=Avg("score"), weak=Count("id", filter=Q(score__lt=WEAK_DIMENSION_SCORE)))
                .order_by()
            ),
            columns=[f"assessment__{group}", "dimension__code", "n", "mean", "weak"],
        )
        if not frame.empty:
            frame = frame.rename(columns={f"assessment__{group}": "group", "dimension__code": "code"})
            frame["mean"] = frame["mean"].astype(float)
            # A dimension mean needs as many usable scores as a group needs firms.
            frame.loc[frame["n"] < min_group_size(), "mean"] = float("nan")
            frame["weak_share"] = 100.0 * frame["weak"] / frame["n"]
            frame.loc[(frame["n"] < min_group_size()) | (frame["weak"] < min_group_size()), "weak_share"] = float("nan")
            means = frame.pivot_table(index="group", columns="code", values="mean", aggfunc="first").reindex(
                index=list(index_rows), columns=codes
            )
            weak = frame.pivot_table(index="group", columns="code", values="weak_share", aggfunc="first").reindex(
                index=list(index_rows), columns=codes
            )
    rows = []
    for value, row in index_rows.items():
        label = label_of(labels, value)
        if value in hidden:
            rows.append(GroupRow(value, label, None, None, [None] * len(codes), [None] * len(codes)))
            continue
        rows.append(
            GroupRow(
                key=value,
                label=label,
                firms=row["n"],
                mean_index=None if row["mean"] is None else float(row["mean"]),
                dimension_means=[_nan_to_none(means.loc[value, c]) for c in codes] if with_dimensions else [],
                weak_shares=[_nan_to_none(weak.loc[value, c]) for c in codes] if with_dimensions else [],
            )
        )
    order = {code: n for n, (code, _label) in enumerate(labels)}
    rows.sort(key=lambda r: (r.hidden, -(r.firms or 0), order.get(r.key, 999)))
    return Breakdown(key=key, title=breakdown_title(key), rows=rows, hidden_groups=len(hidden))


def _nan_to_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


# --- weaknesses -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountermeasureRef:
    code: str
    title: str
    heading: str


@dataclass(frozen=True)
class WeakItem:
    code: str
    text: str
    dimension_code: str
    dimension_name: str
    firms: int | None  # firms answering it at score ≤ 1 or 不清楚 (None: fewer than the minimum)
    share: float | None  # percent of the rounds counted that contain the item
    rules: list[str]  # codes of the recommendation rules the item triggers
    countermeasures: list[CountermeasureRef]


def weak_items(scope: AdminScope, filters: Filters, *, limit: int | None = 15) -> tuple[int | None, list[WeakItem]]:
    """The items most often answered at one of the two lowest options or 不清楚, with their countermeasures.

    Returns (rounds counted, items by frequency). One COUNT … GROUP BY over the answers of the selected rounds.
    """
    rounds = round_queryset(scope, filters)
    per_version = dict(rounds.values_list("questionnaire_id").annotate(n=Count("id")).order_by())
    total = sum(per_version.values())
    if shown_count(total) is None:
        return None, []
    counts = list(
        Answer.objects.filter(assessment__in=rounds)
        .filter(Q(score__lte=WEAK_ITEM_SCORE) | Q(special="unknown"))
        .values_list("item_id")
        .annotate(n=Count("id"))
        .order_by("-n", "item_id")
    )
    items = {
        i.id: i for i in Item.objects.filter(id__in=[item_id for item_id, _n in counts]).select_related("dimension")
    }
    rules = _item_rules({i.questionnaire_id for i in items.values()})
    result = []
    for item_id, n in counts:
        item = items[item_id]
        refs = rules.get((item.questionnaire_id, item.code), [])
        shown = shown_count(n)
        result.append(
            WeakItem(
                code=item.code,
                text=item.text,
                dimension_code=item.dimension.code,
                dimension_name=item.dimension.name,
                firms=shown,
                share=share(shown, per_version.get(item.questionnaire_id, 0)) if shown is not None else None,
                rules=[code for code, _cm in refs],
                countermeasures=_unique_countermeasures(cm for _code, cm in refs),
            )
        )
    return shown_count(total), result[:limit] if limit else result


def _item_rules(questionnaire_ids: set[int]) -> dict[tuple[int, str], list[tuple[str, CountermeasureRef]]]:
    """(questionnaire, item code) → the rules with an item trigger on it and their countermeasures."""
    mapping: dict[tuple[int, str], list[tuple[str, CountermeasureRef]]] = {}
    for rule in RecommendationRule.objects.filter(questionnaire_id__in=questionnaire_ids).select_related(
        "countermeasure"
    ):
        item = rule.trigger.get("item") if isinstance(rule.trigger, dict) else None
        if item:
            mapping.setdefault((rule.questionnaire_id, item), []).append((rule.code, _cm_ref(rule.countermeasure)))
    return mapping


def _cm_ref(cm: Countermeasure) -> CountermeasureRef:
    return CountermeasureRef(code=cm.code, title=cm.title, heading=cm.heading_zh)


def _unique_countermeasures(refs: Iterable[CountermeasureRef]) -> list[CountermeasureRef]:
    seen: dict[str, CountermeasureRef] = {}
    for ref in refs:
        seen.setdefault(ref.code, ref)
    return sorted(seen.values(), key=lambda r: r.code)


# --- change across rounds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    label: str
    firms: int
    mean_index: float | None
    dimension_means: list[float | None]


@dataclass(frozen=True)
class Trend:
    by_label: list[TrendRow]  # round labels with at least the minimum number of firms, oldest first
    by_year: list[TrendRow]  # submission years, oldest first
    hidden_labels: int  # labels left out because fewer firms used them


def trend(
    scope: AdminScope,
    filters: Filters,
    *,
    dimensions: list[DimensionInfo],
    with_dimensions: bool = True,
    with_years: bool = True,
) -> Trend:
    """Mean index (and dimension means) per round label and per submission year, over every submitted round."""
    rounds = all_rounds_queryset(scope, filters)
    minimum = min_group_size()
    label_rows = list(rounds.values("label").annotate(n=Count("id"), mean=Avg("index")).order_by("label"))
    shown = [row for row in label_rows if row["n"] >= minimum]
    dimension_means: dict[tuple[str, str], float | None] = {}
    if with_dimensions and shown:
        for row in (
            DimensionResult.objects.filter(
                assessment__in=rounds.filter(label__in=[r["label"] for r in shown]),
                insufficient_data=False,
                score__isnull=False,
            )
            .values("assessment__label", "dimension__code")
            .annotate(n=Count("id"), mean=Avg("score"))
            .order_by()
        ):
            mean = float(row["mean"]) if row["n"] >= minimum and row["mean"] is not None else None
            dimension_means[row["assessment__label"], row["dimension__code"]] = mean
    codes = [d.code for d in dimensions]
    by_label = [
        TrendRow(
            label=row["label"],
            firms=row["n"],
            mean_index=None if row["mean"] is None else float(row["mean"]),
            dimension_means=[dimension_means.get((row["label"], c)) for c in codes] if with_dimensions else [],
        )
        for row in shown
    ]
    by_year = []
    if with_years:
        by_year = [
            TrendRow(label=str(row["year"]), firms=row["n"], mean_index=float(row["mean"]), dimension_means=[])
            for row in rounds.annotate(year=ExtractYear("submitted_at"))
            .values("year")
            .annotate(n=Count("id"), mean=Avg("index"))
            .order_by("year")
            if row["year"] is not None and row["n"] >= minimum
        ]
    return Trend(by_label=by_label, by_year=by_year, hidden_labels=len(label_rows) - len(shown))


# --- the bundles the pages use, cached --------------------------------------------------------------
# The pages' figures are cached per scope, filters and language for settings.JINAN_DASHBOARD_CACHE_SECONDS
# (default 60; 0 turns the cache off). The key includes a fingerprint of the submitted rounds (their number
# and the sums of their ids and of the latest rounds' ids, read from an index), so a new submission shows
# within a second; a change of a firm's profile, or a new firm without a round, shows within the cache time.


def cache_seconds() -> int:
    return int(getattr(settings, "JINAN_DASHBOARD_CACHE_SECONDS", 60))


# The fingerprint is read at most once a second per process (a page and its charts share it).
FINGERPRINT_SECONDS = 1.0
_fingerprint_memo: tuple[float, str, tuple[int, int, int]] | None = None


def submissions_fingerprint() -> tuple[int, int, int]:
    """(submitted rounds, sum of their ids, sum of the latest rounds' ids): changes with every submission."""
    global _fingerprint_memo
    now = time.monotonic()
    alias = connection.settings_dict.get("NAME", "")
    memo = _fingerprint_memo
    if memo is not None and memo[1] == alias and now - memo[0] < FINGERPRINT_SECONDS:
        return memo[2]
    row = Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED).aggregate(
        n=Count("id"), ids=Sum("id"), latest=Sum("id", filter=Q(is_latest=True))
    )
    value = (row["n"], row["ids"] or 0, row["latest"] or 0)
    _fingerprint_memo = (now, alias, value)
    return value


def _cached(kind: str, scope: AdminScope, filters: Filters, compute, *extra):
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    questionnaire = reference_questionnaire()
    parts = (
        kind,
        scope.all_districts,
        tuple(sorted(scope.districts)),
        filters,
        get_language() or "",
        questionnaire.pk if questionnaire else None,
        min_group_size(),
        submissions_fingerprint(),
        extra,
    )
    key = "jinan:analytics:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


@dataclass(frozen=True)
class Dashboard:
    scope: AdminScope
    filters: Filters
    dimensions: list[DimensionInfo]
    levels: list[LevelInfo]
    overview: Overview
    dimension_stats: list[DimensionStats]
    trend: Trend


def dashboard(scope: AdminScope, filters: Filters, *, use_cache: bool = True) -> Dashboard:
    """Everything the overview page shows: four GROUP BY queries and a few small lookups (or the cache)."""

    def compute() -> Dashboard:
        questionnaire = reference_questionnaire()
        dimensions = dimension_infos(questionnaire)
        levels = level_infos(questionnaire)
        return Dashboard(
            scope=scope,
            filters=filters,
            dimensions=dimensions,
            levels=levels,
            overview=overview(scope, filters, levels=levels),
            dimension_stats=dimension_stats(scope, filters, dimensions=dimensions),
            trend=trend(scope, filters, dimensions=dimensions, with_dimensions=False, with_years=False),
        )

    return _cached("dashboard", scope, filters, compute) if use_cache else compute()


def breakdown_page(scope: AdminScope, filters: Filters, key: str) -> tuple[list[DimensionInfo], Breakdown]:
    def compute():
        dimensions = dimension_infos(reference_questionnaire())
        return dimensions, breakdown(scope, filters, key, dimensions=dimensions)

    return _cached("breakdown", scope, filters, compute, key)


def weaknesses_page(scope: AdminScope, filters: Filters) -> tuple[int | None, list[WeakItem]]:
    return _cached("weaknesses", scope, filters, lambda: weak_items(scope, filters, limit=None))


def round_labels_cached(scope: AdminScope) -> list[str]:
    return _cached("labels", scope, Filters(), lambda: round_labels(scope))


def trend_page(scope: AdminScope, filters: Filters) -> tuple[list[DimensionInfo], Trend]:
    def compute():
        dimensions = dimension_infos(reference_questionnaire())
        return dimensions, trend(scope, filters, dimensions=dimensions)

    return _cached("trend", scope, filters, compute)


# --- the city report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeakShareRow:
    label: str
    firms: int | None  # firms with a usable score in this group (None: hidden)
    weak_share: float | None  # percent weak (None: hidden)
    mean: float | None


@dataclass(frozen=True)
class ProblemArea:
    """One of the paper's five problem areas (a dimension): how widespread, where, and what it calls for."""

    stats: DimensionStats
    by_district: list[WeakShareRow]
    by_industry: list[WeakShareRow]
    hidden_industries: int
    weak_items: list[WeakItem]  # this dimension's items, most frequent first (at most five)
    countermeasures: list[CountermeasureRef]  # the countermeasures its rules belong to


@dataclass(frozen=True)
class CountermeasureSummary:
    ref: CountermeasureRef
    description: str
    dimensions: list[DimensionInfo]  # the problem areas that call for it


@dataclass(frozen=True)
class CityReportData:
    scope_label: str
    filters: Filters
    dimensions: list[DimensionInfo]
    levels: list[LevelInfo]
    overview: Overview
    dimension_stats: list[DimensionStats]
    problem_areas: list[ProblemArea]
    countermeasures: list[CountermeasureSummary]
    questionnaire_version: str


def city_report_data(scope: AdminScope, filters: Filters) -> CityReportData:
    """The city report's figures for the scope and filters: plain data for surveys/reports/city.py."""
    questionnaire = reference_questionnaire()
    dimensions = dimension_infos(questionnaire)
    levels = level_infos(questionnaire)
    stats = dimension_stats(scope, filters, dimensions=dimensions)
    by_district = _weak_shares(scope, filters, "district")
    by_industry = _weak_shares(scope, filters, "industry")
    _total, items = weak_items(scope, filters, limit=None)
    called_for = _countermeasures_by_dimension(questionnaire)
    areas = []
    for stat in stats:
        code = stat.info.code
        industries = by_industry.get(code, [])
        areas.append(
            ProblemArea(
                stats=stat,
                by_district=by_district.get(code, []),
                by_industry=[r for r in industries if r.firms is not None],
                hidden_industries=sum(1 for r in industries if r.firms is None),
                weak_items=[i for i in items if i.dimension_code == code][:5],
                countermeasures=called_for.get(code, []),
            )
        )
    summaries = []
    if questionnaire is not None:
        for cm in Countermeasure.objects.filter(questionnaire=questionnaire).order_by("position"):
            summaries.append(
                CountermeasureSummary(
                    ref=_cm_ref(cm),
                    description=cm.description,
                    dimensions=[d for d in dimensions if any(r.code == cm.code for r in called_for.get(d.code, []))],
                )
            )
    return CityReportData(
        scope_label=scope.label,
        filters=filters,
        dimensions=dimensions,
        levels=levels,
        overview=overview(scope, filters, levels=levels),
        dimension_stats=stats,
        problem_areas=areas,
        countermeasures=summaries,
        questionnaire_version=questionnaire.version if questionnaire else "",
    )


def _weak_shares(scope: AdminScope, filters: Filters, key: str) -> dict[str, list[WeakShareRow]]:
    """Per dimension code: share of firms below WEAK_DIMENSION_SCORE in each group (one GROUP BY)."""
    attribute, labels = BREAKDOWNS[key]
    group = f"assessment__enterprise__{attribute}"
    rows = list(
        dimension_results(round_queryset(scope, filters))
        .values(group, "dimension__code")
        .annotate(n=Count("id"), weak=Count("id", filter=Q(score__lt=WEAK_DIMENSION_SCORE)), mean=Avg("score"))
        .order_by()
    )
    by_code: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_code.setdefault(row["dimension__code"], {})[row[group]] = row
    order = {code: n for n, (code, _label) in enumerate(labels)}
    result = {}
    for code, groups in by_code.items():
        hidden = suppress_partition({k: r["n"] for k, r in groups.items()})
        out = []
        for value, row in sorted(groups.items(), key=lambda kv: (-kv[1]["n"], order.get(kv[0], 999))):
            if value in hidden:
                out.append(WeakShareRow(label_of(labels, value), None, None, None))
                continue
            weak = shown_count(row["weak"])
            out.append(
                WeakShareRow(
                    label=label_of(labels, value),
                    firms=row["n"],
                    weak_share=share(weak, row["n"]) if weak is not None else None,
                    mean=float(row["mean"]),
                )
            )
        result[code] = sorted(out, key=lambda r: r.firms is None)
    return result


def _countermeasures_by_dimension(questionnaire: Questionnaire | None) -> dict[str, list[CountermeasureRef]]:
    """Dimension code → the countermeasures whose rules are triggered by the dimension or one of its items."""
    if questionnaire is None:
        return {}
    item_dimension = dict(Item.objects.filter(questionnaire=questionnaire).values_list("code", "dimension__code"))
    found: dict[str, list[CountermeasureRef]] = {}
    rules = RecommendationRule.objects.filter(questionnaire=questionnaire).select_related("countermeasure")
    for rule in rules.order_by("countermeasure__position", "position"):
        trigger = rule.trigger if isinstance(rule.trigger, dict) else {}
        code = trigger.get("dimension") or item_dimension.get(trigger.get("item", ""))
        if code:
            found.setdefault(code, []).append(_cm_ref(rule.countermeasure))
    return {code: _unique_countermeasures(refs) for code, refs in found.items()}
