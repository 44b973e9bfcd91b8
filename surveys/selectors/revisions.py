"""A re-scored round's earlier result, as the results page and the administrators' round page note it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from ..models import Assessment, ResultRevision


@dataclass(frozen=True)
class SupersededResult:
    """The round's result was re-computed under corrected rules on ``rescored_date``; the previous result
    (``index``, ``level_code``) no longer stands."""

    rescored_date: str  # YYYY-MM-DD, in the site's time zone
    index: float | None
    level_code: str


def superseded_result(*, assessment: Assessment) -> SupersededResult | None:
    """None for a round never re-scored (no query: its row says revision 1); otherwise one query for its
    current revision and the one before."""
    current = assessment.result_revision
    if current <= 1:
        return None
    rows = {
        number: (index, level, created_at)
        for number, index, level, created_at in ResultRevision.objects.filter(
            assessment_id=assessment.pk, number__in=(current - 1, current)
        ).values_list("number", "index", "level", "created_at")
    }
    if current not in rows or current - 1 not in rows:
        return None
    index, level, _created = rows[current - 1]
    return SupersededResult(
        rescored_date=timezone.localtime(rows[current][2]).strftime("%Y-%m-%d"),
        index=None if index is None else float(index),
        level_code=level,
    )
