"""Aggregates for the administrators' dashboard, exports and the city report.

Every figure is read from the summary tables (surveys/analytics/summaries.py; README "Summary tables"): counts,
sums and histograms kept per cell of rounds in the transaction of each submission, so that a page costs the
same at 60,000 and at a million firms. The figures are exactly those the per-firm rows give (the tests compute
them both ways): quartiles come from the histograms at the stored precision, and a mean the database used to
compute (AVG) is computed as the database computes it (selectors.summaries.database_mean).

Every figure is limited to the administrator's scope (surveys.scopes): a district administrator's figures are
sums over the cells of their districts, never over a firm outside them.

Small groups (settings.JINAN_MIN_GROUP_SIZE, 10 by default). A number that describes fewer than that many
firms is not shown: a count from 1 to the minimum − 1 becomes ``None`` ("<10"; zero stays zero), and so do a
mean, quartile or share of a group below the minimum and a share whose count is hidden. In a partition (the
level distribution, a breakdown by district …) where only one cell is hidden, the next smallest is hidden as
well, so that the hidden one cannot be worked out from the total.

Dimension results flagged ``insufficient_data`` (too many 不清楚) are left out of the dimension figures,
as on the firm's own results page, and counted separately.

Rounds of several questionnaire versions are aggregated together: the dimension codes D1–D5 are the same in
every version, so dimension figures compare across versions; the filter ``version`` keeps one, the
breakdown "by questionnaire version" sets them side by side, and the dashboard names the versions it counts.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import choices, selectors
from ..choices import label_of
from ..models import (
    SUMMARY_WEAK_SCORE,
    Countermeasure,
    Dimension,
    Item,
    Level,
    Questionnaire,
    RecommendationRule,
)
from ..scopes import AdminScope
from ..selectors.administrators import Filters
from ..selectors.summaries import database_mean
from ..suppression import SMALL, min_group_size, partition_reasons, share, shown_count
from . import summaries
from .histograms import HistogramSummary

# A firm is "weak" in a problem area when its dimension score is below this (the questionnaire's
# {dimension: Dx, below: 40} recommendation rules use the same line; the summaries count by it).
WEAK_DIMENSION_SCORE = SUMMARY_WEAK_SCORE

NO_DISTRIBUTION = summaries.Distribution(HistogramSummary(0, None, None))


# An item is a weakness when answered at one of the two lowest options (score ≤ 1) or 不清楚.
WEAK_ITEM_SCORE = 1


# key: (the firm's attribute, or a path from the round when it holds "__", its labels)
BREAKDOWNS = {
    "district": ("district", choices.DISTRICTS),
    "industry": ("industry", choices.INDUSTRIES),
    "size": ("size_class", choices.SIZE_CLASSES),
    "chain": ("leading_chain", choices.LEADING_CHAINS),
    "version": ("questionnaire__version", ()),
}


def breakdown_title(key: str) -> str:
    return {
        "district": _("区县"),
        "industry": _("行业"),
        "size": _("企业规模"),
        "chain": _("主导产业链"),
        "version": _("问卷版本"),
    }[key]


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


@dataclass(frozen=True)
class LevelCell:
    code: str
    name: str
    firms: int | None  # None: hidden
    share: float | None  # percent of the firms with a submitted round
    hidden_reason: str | None = None  # suppression.SMALL or PROTECTED when hidden


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
    """Firms, submissions, index mean and quartiles, level distribution: three reads of the summaries."""
    return overview_from(scope, filters, levels, summaries.selected(scope, filters))


def overview_from(
    scope: AdminScope,
    filters: Filters,
    levels: list[LevelInfo],
    chosen: summaries.Selected,
    distributions: dict[tuple[str, str], summaries.Distribution] | None = None,
) -> Overview:
    """:func:`overview` from the selection already read (``chosen``) and, when the caller has read it with its
    own, the index distribution (the dashboard and the city report read it with the dimensions' in one query)."""
    registered = summaries.registered(scope, filters)
    total = chosen.rounds
    if distributions is None:
        distributions = summaries.distributions(scope, filters, kinds=["index"])
    summary = distributions.get(("index", ""), NO_DISTRIBUTION).summary
    counts = {lv.code: chosen.levels.get(lv.code, 0) for lv in levels}
    hidden = partition_reasons(counts) if shown_count(total) is not None else dict.fromkeys(counts, SMALL)
    cells = []
    for lv in levels:
        n = None if lv.code in hidden else counts[lv.code]
        cells.append(LevelCell(lv.code, lv.name, n, share(n, total) if n is not None else None, hidden.get(lv.code)))
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
    """Firms, mean, quartiles, weak share and 'insufficient data' per dimension: the usable scores' distributions
    (from which every figure follows exactly) and the dimensions' counts, two reads of the summaries."""
    return dimension_stats_from(scope, filters, dimensions, score_distributions(scope, filters))


def score_distributions(
    scope: AdminScope, filters: Filters, *, kinds: Iterable[str] = ("score",)
) -> dict[tuple[str, str], summaries.Distribution]:
    """The distributions of ``kinds`` (the usable scores', and the index's when asked) with the rounds below the
    weak line: what :func:`dimension_stats_from` and :func:`overview_from` take."""
    return summaries.distributions(scope, filters, kinds=kinds, below=WEAK_DIMENSION_SCORE * 100)


def dimension_stats_from(
    scope: AdminScope,
    filters: Filters,
    dimensions: list[DimensionInfo],
    distributions: dict[tuple[str, str], summaries.Distribution],
) -> list[DimensionStats]:
    """:func:`dimension_stats` from the score distributions the caller has read (:func:`score_distributions`)."""
    counts = summaries.dimension_counts(scope, filters)
    stats = []
    for info in dimensions:
        usable = distributions.get(("score", info.code), NO_DISTRIBUTION)
        insufficient = counts.get((None, info.code), summaries.DimensionCounts()).insufficient
        stats.append(dimension_stat(info, usable.summary, usable.below, insufficient))
    return stats


def dimension_stat(
    info: DimensionInfo, summary: HistogramSummary, weak_count: int, insufficient: int
) -> DimensionStats:
    """A dimension's figures as every page shows them, from its usable scores' summary and counts: with fewer
    firms than the minimum, no mean, quartiles nor weak count (the one rule for the dashboard and the city
    report)."""
    n = shown_count(summary.n)
    weak = shown_count(weak_count) if n is not None else None
    return DimensionStats(
        info=info,
        firms=n,
        mean=summary.mean if n else None,
        quartiles=summary.quartiles if n else None,
        weak=weak,
        weak_share=share(weak, summary.n) if weak is not None else None,
        insufficient=shown_count(insufficient),
    )


@dataclass(frozen=True)
class GroupRow:
    key: str
    label: str
    firms: int | None  # None: hidden (fewer than the minimum, or hidden with the smallest)
    mean_index: float | None
    dimension_means: list[float | None]  # in the order of the dimensions
    weak_shares: list[float | None] = field(default_factory=list)  # percent below WEAK_DIMENSION_SCORE
    hidden_reason: str | None = None  # suppression.SMALL or PROTECTED when hidden

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
    """Firms, mean index and (optionally) mean dimension scores per district, industry, size, chain or
    questionnaire version: the groups' cells and their dimensions' counts, two reads of the summaries."""
    attribute, labels = BREAKDOWNS[key]
    groups = summaries.round_counts(scope, filters, by=attribute)
    hidden = partition_reasons({k: counts.rounds for k, counts in groups.items()})
    codes = [d.code for d in dimensions]
    by_dimension = summaries.dimension_counts(scope, filters, by=attribute) if with_dimensions and groups else {}
    rows = []
    for value, counts in groups.items():
        label = label_of(labels, value)
        if value in hidden:
            rows.append(GroupRow(value, label, None, None, [None] * len(codes), [None] * len(codes), hidden[value]))
            continue
        found = [by_dimension.get((value, code)) for code in codes]
        rows.append(
            GroupRow(
                key=value,
                label=label,
                firms=counts.rounds,
                mean_index=database_mean(counts.index_total, counts.indexed),
                dimension_means=[_group_mean(c) for c in found] if with_dimensions else [],
                weak_shares=[_weak_share(c) for c in found] if with_dimensions else [],
            )
        )
    order = {code: n for n, (code, _label) in enumerate(labels)}
    rows.sort(key=lambda r: (r.hidden, -(r.firms or 0), order.get(r.key, 999)))
    return Breakdown(key=key, title=breakdown_title(key), rows=rows, hidden_groups=len(hidden))


def _group_mean(counts: summaries.DimensionCounts | None) -> float | None:
    """A group's mean dimension score: it needs as many usable scores as a group needs firms."""
    if counts is None or not counts.usable or counts.usable < min_group_size():
        return None
    return database_mean(counts.total, counts.usable)


def _weak_share(counts: summaries.DimensionCounts | None) -> float | None:
    """Percent of a group's usable scores below WEAK_DIMENSION_SCORE, when both counts may be shown."""
    if counts is None or not counts.usable or min(counts.usable, counts.weak) < min_group_size():
        return None
    return 100.0 * counts.weak / counts.usable


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

    Returns (rounds counted, items by frequency): the selected rounds per version and the items' answers at
    those options, two reads of the summaries.
    """
    per_version = summaries.rounds_per_version(scope, filters)
    total = sum(per_version.values())
    if shown_count(total) is None:
        return None, []
    options = [str(score) for score in range(WEAK_ITEM_SCORE + 1)] + ["unknown"]
    found = summaries.item_counts(scope, filters, options=options)
    counts = {item_id: c.at(*options) for item_id, c in found.items()}
    result = weak_items_from_counts(counts, per_version)
    return shown_count(total), result[:limit] if limit else result


def weak_items_from_counts(counts: dict[int, int], per_version: dict[int, int]) -> list[WeakItem]:
    """The weak items from their counts (item id -> firms at the weak options), the most frequent first, each
    with its share of the selected rounds of its version and the countermeasures its rules belong to: the
    dashboard's list and the city report's, by one rule."""
    ranked = sorted(((item_id, n) for item_id, n in counts.items() if n), key=lambda p: (-p[1], p[0]))
    items = {
        i.id: i for i in Item.objects.filter(id__in=[item_id for item_id, _n in ranked]).select_related("dimension")
    }
    rules = _item_rules({i.questionnaire_id for i in items.values()})
    result = []
    for item_id, n in ranked:
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
    return result


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
    """Mean index (and dimension means) per round label and per submission year, over every submitted round:
    one read of the summaries per part."""
    minimum = min_group_size()
    label_rows = summaries.round_counts(scope, filters, by="label", every_label=True, ordered=True)
    shown = [label for label, counts in label_rows.items() if counts.rounds >= minimum]
    dimension_means: dict[tuple[str, str], float | None] = {}
    if with_dimensions and shown:
        for (label, code), counts in summaries.label_dimension_counts(scope, filters, shown).items():
            if counts.usable:
                usable = counts.usable >= minimum
                dimension_means[label, code] = database_mean(counts.total, counts.usable) if usable else None
    codes = [d.code for d in dimensions]
    by_label = [
        TrendRow(
            label=label,
            firms=label_rows[label].rounds,
            mean_index=database_mean(label_rows[label].index_total, label_rows[label].indexed),
            dimension_means=[dimension_means.get((label, c)) for c in codes] if with_dimensions else [],
        )
        for label in shown
    ]
    by_year = []
    if with_years:
        years = summaries.round_counts(scope, filters, by="year", every_label=True, ordered=True)
        by_year = [
            TrendRow(
                label=str(year),
                firms=counts.rounds,
                mean_index=database_mean(counts.index_total, counts.indexed),
                dimension_means=[],
            )
            for year, counts in years.items()
            if year and counts.rounds >= minimum
        ]
    return Trend(by_label=by_label, by_year=by_year, hidden_labels=len(label_rows) - len(shown))


def cache_seconds() -> int:
    return int(getattr(settings, "JINAN_DASHBOARD_CACHE_SECONDS", 60))


# The fingerprint is read at most once a second per process (a page and its charts share it).
FINGERPRINT_SECONDS = 1.0


_fingerprint_memo: tuple[float, str, tuple[int, int, int, int]] | None = None


def submissions_fingerprint() -> tuple[int, int, int, int]:
    """A value of the summaries that changes with every submission (summaries.fingerprint)."""
    global _fingerprint_memo
    now = time.monotonic()
    alias = connection.settings_dict.get("NAME", "")
    memo = _fingerprint_memo
    if memo is not None and memo[1] == alias and now - memo[0] < FINGERPRINT_SECONDS:
        return memo[2]
    value = summaries.fingerprint()
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
    versions: list[str] = field(default_factory=list)  # the questionnaire versions of the rounds counted

    @property
    def several_versions(self) -> bool:
        return len(self.versions) > 1


def dashboard(scope: AdminScope, filters: Filters, *, use_cache: bool = True) -> Dashboard:
    """Everything the overview page shows: five reads of the summaries and three small lookups (or the cache)."""

    def compute() -> Dashboard:
        questionnaire = reference_questionnaire()
        dimensions = dimension_infos(questionnaire)
        levels = level_infos(questionnaire)
        chosen = summaries.selected(scope, filters)
        distributions = score_distributions(scope, filters, kinds=("index", "score"))
        return Dashboard(
            scope=scope,
            filters=filters,
            dimensions=dimensions,
            levels=levels,
            overview=overview_from(scope, filters, levels, chosen, distributions),
            dimension_stats=dimension_stats_from(scope, filters, dimensions, distributions),
            trend=trend(scope, filters, dimensions=dimensions, with_dimensions=False, with_years=False),
            versions=chosen.versions,
        )

    return _cached("dashboard", scope, filters, compute) if use_cache else compute()


def breakdown_page(scope: AdminScope, filters: Filters, key: str) -> tuple[list[DimensionInfo], Breakdown]:
    def compute():
        dimensions = dimension_infos(reference_questionnaire())
        return dimensions, breakdown(scope, filters, key, dimensions=dimensions)

    return _cached("breakdown", scope, filters, compute, key)


def weaknesses_page(scope: AdminScope, filters: Filters) -> tuple[int | None, list[WeakItem]]:
    return _cached("weaknesses", scope, filters, lambda: weak_items(scope, filters, limit=None))


def assessment_labels_cached(scope: AdminScope) -> list[str]:
    return _cached("labels", scope, Filters(), lambda: summaries.assessment_labels(scope))


def submitted_versions_cached(scope: AdminScope) -> list[str]:
    return _cached("versions", scope, Filters(), lambda: summaries.submitted_versions(scope))


def trend_page(scope: AdminScope, filters: Filters) -> tuple[list[DimensionInfo], Trend]:
    def compute():
        dimensions = dimension_infos(reference_questionnaire())
        return dimensions, trend(scope, filters, dimensions=dimensions)

    return _cached("trend", scope, filters, compute)
