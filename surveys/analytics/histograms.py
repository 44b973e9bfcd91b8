"""Distributions from histograms: quartiles and summaries computed from (value, count) rows."""

from __future__ import annotations

import bisect
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
