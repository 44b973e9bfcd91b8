"""Scores on the pages, rounded by the rule of every PDF (surveys/reports/formatting.py).

``{% load scores %}`` then ``{{ report.index|score }}`` ("48.7", "–" for None) and
``{{ cell.change|score_change }}`` ("+3.5"), ``{{ group.percentile|percentile }}`` ("63"),
``{{ d.unknown_share|share }}`` ("13%" for 0.125),
``{{ report.superseded|superseded_note }}`` (the note on a re-scored round, worded as in the PDF),
``{{ group.heading|countermeasure_source }}`` (the paper's heading quoted as a countermeasure's source).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django import template

from surveys.reports.formatting import (
    countermeasure_source,
    format_change,
    format_percentile,
    format_score,
    format_share,
    superseded_note,
)

if TYPE_CHECKING:
    from surveys.selectors.revisions import SupersededResult

register = template.Library()


@register.filter
def score(value: float | Decimal | int | None) -> str:
    return format_score(value)


@register.filter
def score_change(value: float | Decimal | int | None) -> str:
    return format_change(value)


@register.filter
def percentile(value: float | Decimal | int | None) -> str:
    return format_percentile(value)


@register.filter
def share(value: float | Decimal | int | None) -> str:
    return format_share(value)


@register.filter(name="superseded_note")
def superseded_note_filter(superseded: SupersededResult) -> str:
    return superseded_note(superseded)


@register.filter(name="countermeasure_source")
def countermeasure_source_filter(heading: str) -> str:
    return countermeasure_source(heading)
