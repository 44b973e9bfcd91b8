"""The administrators' figures computed the way they were before the summary tables: scans of the per-firm rows
(Assessment, DimensionResult, Answer), copied from surveys/analytics/aggregates.py and surveys/selectors/results.py
as they stood. tests/manage/test_summary_readers.py compares every page's figures both ways: the summaries must
give exactly these.

Not imported by the application; kept verbatim (apart from imports) so that the comparison stays honest.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import Avg, Count, Q
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from surveys.analytics.aggregates import (
    BREAKDOWNS,
    SMALL,
    WEAK_DIMENSION_SCORE,
    WEAK_ITEM_SCORE,
    Breakdown,
    DimensionInfo,
    DimensionStats,
    GroupRow,
    IndexSummary,
    LevelCell,
    LevelInfo,
    Overview,
    Trend,
    TrendRow,
    WeakItem,
    _item_rules,
    _unique_countermeasures,
    breakdown_title,
)
from surveys.analytics.histograms import histogram_summary
from surveys.choices import DISTRICTS, INDUSTRIES, label_of
from surveys.models import Answer, Assessment, DimensionResult, Item
from surveys.scopes import AdminScope
from surveys.selectors.administrators import (
    Filters,
    all_assessments_queryset,
    assessment_labels,
    assessment_queryset,
    assessment_versions,
    dimension_results,
    enterprise_queryset,
    submitted_versions,
)
from surveys.selectors.results import PeerSummary
from surveys.suppression import min_group_size, partition_reasons, share, shown_count

__all__ = ["assessment_labels", "submitted_versions", "versions"]


def versions(scope: AdminScope, filters: Filters) -> list[str]:
    """The dashboard's versions, as it read them."""
    return assessment_versions(assessment_queryset(scope, filters))


def _breakdown_group(attribute: str) -> str:
    """The path from a round to what a breakdown groups by."""
    return attribute if "__" in attribute else f"enterprise__{attribute}"


def overview(scope: AdminScope, filters: Filters, *, levels: list[LevelInfo]) -> Overview:
    """Firms, submissions, index mean and quartiles, level distribution: a count and one GROUP BY (index, level)."""
    registered = enterprise_queryset(scope, filters).count()
    histogram = list(
        assessment_queryset(scope, filters).values_list("index", "level").annotate(n=Count("id")).order_by()
    )
    total = sum(n for _index, _level, n in histogram)
    summary = histogram_summary((index, n) for index, _level, n in histogram if index is not None)
    counts = {lv.code: 0 for lv in levels}
    for _index, level, n in histogram:
        if level in counts:
            counts[level] += n
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


def dimension_stats(scope: AdminScope, filters: Filters, *, dimensions: list[DimensionInfo]) -> list[DimensionStats]:
    """Firms, mean, quartiles, weak share and 'insufficient data' per dimension.

    One GROUP BY (dimension, score, insufficient) over the selected rounds' results: a few hundred rows (the
    scores take few distinct values) from which every figure follows exactly.
    """
    rows = (
        DimensionResult.objects.filter(assessment__in=assessment_queryset(scope, filters))
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


def breakdown(
    scope: AdminScope, filters: Filters, key: str, *, dimensions: list[DimensionInfo], with_dimensions: bool = True
) -> Breakdown:
    """Firms, mean index and (optionally) mean dimension scores per district, industry, size, chain or
    questionnaire version."""
    attribute, labels = BREAKDOWNS[key]
    group = _breakdown_group(attribute)
    rounds = assessment_queryset(scope, filters)
    index_rows = {row[group]: row for row in rounds.values(group).annotate(n=Count("id"), mean=Avg("index")).order_by()}
    hidden = partition_reasons({k: row["n"] for k, row in index_rows.items()})
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
            rows.append(GroupRow(value, label, None, None, [None] * len(codes), [None] * len(codes), hidden[value]))
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


def weak_items(scope: AdminScope, filters: Filters, *, limit: int | None = 15) -> tuple[int | None, list[WeakItem]]:
    """The items most often answered at one of the two lowest options or 不清楚, with their countermeasures.

    Returns (rounds counted, items by frequency). One COUNT … GROUP BY over the answers of the selected rounds.
    """
    rounds = assessment_queryset(scope, filters)
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


def trend(
    scope: AdminScope,
    filters: Filters,
    *,
    dimensions: list[DimensionInfo],
    with_dimensions: bool = True,
    with_years: bool = True,
) -> Trend:
    """Mean index (and dimension means) per round label and per submission year, over every submitted round."""
    rounds = all_assessments_queryset(scope, filters)
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


def _peer_summaries(assessment: Assessment, keys: tuple[str, ...], codes: list[str]) -> list[PeerSummary]:
    """The firm against the groups ``keys`` of its industry, its district and all of Jinan (each firm's
    latest submitted round of the same questionnaire).

    Two scans for all groups (conditional aggregates), so the page stays fast with 60,000 firms. Groups
    smaller than JINAN_MIN_GROUP_SIZE are reported with their size only.
    """
    enterprise = assessment.enterprise
    # key: (label, series name pattern, the firm's own value of the fields that define the group)
    every: dict[str, tuple[str, str, dict[str, str]]] = {
        "industry": (
            label_of(INDUSTRIES, enterprise.industry),
            _("行业平均（%(group)s）"),
            {"industry": enterprise.industry},
        ),
        "district": (
            label_of(DISTRICTS, enterprise.district),
            _("区县平均（%(group)s）"),
            {"district": enterprise.district},
        ),
        "city": (_("济南全市"), _("全市平均（%(group)s）"), {}),
    }

    def condition(key: str, prefix: str) -> Q:
        return Q(**{f"{prefix}enterprise__{field}": value for field, value in every[key][2].items()})

    groups = [(key, every[key][0], every[key][1], condition(key, "")) for key in keys]
    minimum = min_group_size()
    latest = Assessment.objects.filter(
        is_latest=True, status=Assessment.STATUS_SUBMITTED, questionnaire_id=assessment.questionnaire_id
    )
    below = Q(index__lte=assessment.index)
    aggregates: dict[str, Any] = {}
    for key, _label, _series, group in groups:
        aggregates[f"{key}_size"] = Count("id", filter=group)
        aggregates[f"{key}_mean"] = Avg("index", filter=group)
        aggregates[f"{key}_below"] = Count("id", filter=group & below)
    stats = latest.aggregate(**aggregates)

    shown = [key for key in keys if stats[f"{key}_size"] >= minimum]
    means: dict[str, dict[str, float | None]] = {key: {} for key in shown}
    if shown:
        # Like the administrators' figures: a result with insufficient data is no score and is left out of
        # the means (Avg leaves out a missing score by itself).
        rows = (
            DimensionResult.objects.filter(
                assessment__is_latest=True,
                assessment__status=Assessment.STATUS_SUBMITTED,
                assessment__questionnaire_id=assessment.questionnaire_id,
                insufficient_data=False,
            )
            .values("dimension__code")
            .annotate(**{key: Avg("score", filter=condition(key, "assessment__")) for key in shown})
        )
        for row in rows:
            for key in shown:
                means[key][row["dimension__code"]] = None if row[key] is None else float(row[key])

    summaries = []
    for key, label, series, _group in groups:
        size = int(stats[f"{key}_size"])
        visible = size >= minimum
        summaries.append(
            PeerSummary(
                key=key,
                label=label,
                series_name=series % {"group": label},
                size=size,
                shown=visible,
                mean_index=float(stats[f"{key}_mean"]) if visible else None,
                # Unrounded: the display rounds it once (formatting.format_percentile), never twice.
                percentile=100.0 * stats[f"{key}_below"] / size if visible else None,
                dimension_means=[means[key].get(code) if visible else None for code in codes],
            )
        )
    return summaries
