"""Distributions from histograms: quartiles and summaries computed from (value, count) rows."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

QUARTILES = (0.25, 0.5, 0.75)


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
    return [interpolate(h, lower, upper) for h, lower, upper in quantile_bounds(pairs, total, probabilities)]


def quantile_bounds(pairs: list[tuple[Any, int]], total: int, probabilities=QUARTILES) -> list[tuple[float, Any, Any]]:
    """For each probability p, (h, the value at rank floor(h), the value at the next rank) with h = (total - 1) × p:
    what percentile_cont interpolates between, found in one pass over ``pairs`` ((value, count), sorted by
    value, counts summing to ``total`` > 0)."""
    positions = [(total - 1) * p for p in probabilities]
    # The next rank is capped at the last one (a single value: both are it).
    wanted = sorted({rank for h in positions for rank in (math.floor(h), min(math.floor(h) + 1, total - 1))})
    at: dict[int, Any] = {}
    running, next_wanted = 0, 0
    for value, n in pairs:
        running += n  # ranks up to running - 1 hold values up to this one
        while next_wanted < len(wanted) and wanted[next_wanted] < running:
            at[wanted[next_wanted]] = value
            next_wanted += 1
        if next_wanted == len(wanted):
            break
    return [(h, at[math.floor(h)], at[min(math.floor(h) + 1, total - 1)]) for h in positions]


def interpolate(h: float, lower: float, upper: float) -> float:
    """percentile_cont's linear interpolation between the values at ranks floor(h) and floor(h) + 1."""
    return lower + (h - math.floor(h)) * (upper - lower)
