"""How a score reads, on every page and in every PDF: the one rounding rule for display.

A score or an index (0–100) is shown to one decimal, a half rounded up (48.65 → "48.7", as a reader
rounds it, not as a binary float happens to: ``f"{48.65:.1f}"`` gives "48.6"). The results page, the
administrators' drill-down and firm list (template filters ``score``, ``score_change`` and ``percentile`` in
surveys/templatetags/scores.py), the dashboard's figures (``figure``, ``percent``, ``quartile`` in
manage_tags.py), the firm's PDF and the city PDF, the charts' value labels (charts.py) and the display
columns of the CSV/XLSX exports (exports.py: a table's ``display_columns``; a column of stored values at full
precision says so in its header) all format through these functions. Stored values keep their precision.

A count reads grouped by threes in both languages (``format_count``, from surveys/text.py: the ``firms``
filter, the PDFs, the charts' axes and bars, the services' sentences). A re-scored round's note
(``superseded_note``) and a countermeasure's source in the paper (``countermeasure_source``) are worded once
for the pages and the PDFs.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from ..text import format_count

__all__ = [
    "countermeasure_source",
    "display_number",
    "format_change",
    "format_count",  # its home is surveys/text.py, below the services, whose sentences group counts too
    "format_percentile",
    "format_score",
    "format_share",
    "round_score",
    "superseded_note",
]

if TYPE_CHECKING:
    from ..selectors.revisions import SupersededResult

SCORE_DECIMALS = 1
MISSING = "–"


def round_score(value: float | Decimal | int, decimals: int = SCORE_DECIMALS) -> Decimal:
    """``value`` to ``decimals`` decimals, a half away from zero, from its shortest decimal form
    (never "-0.0")."""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def format_score(value: float | Decimal | int | None, *, missing: str = MISSING) -> str:
    """A score or index for display: "48.7"; ``missing`` ("–") for None."""
    if value is None:
        return missing
    return str(round_score(value))


def format_change(value: float | Decimal | int | None, *, missing: str = MISSING) -> str:
    """A change between two rounds, signed: "+3.5", "-0.2", "+0.0"."""
    if value is None:
        return missing
    return f"{round_score(value):+}"


def format_percentile(value: float | Decimal | int | None, *, missing: str = MISSING) -> str:
    """A percentile (0–100) as a whole number, rounded by the same rule: "63" for 62.5."""
    if value is None:
        return missing
    return str(round_score(value, 0))


def format_share(share: float | Decimal | int | None, *, missing: str = MISSING) -> str:
    """A share (0–1) as a whole percentage, rounded by the same rule: "13%" for 0.125."""
    if share is None:
        return missing
    return f"{round_score(Decimal(str(share)) * 100, 0)}%"


def display_number(value: object) -> object:
    """A spreadsheet cell of a display column: a float or Decimal rounded by the rule (a Decimal, written
    as a number), anything else (a count, a text such as "数据不足" or "<10", None) unchanged."""
    if isinstance(value, bool) or not isinstance(value, float | Decimal):
        return value
    return round_score(value)


def superseded_note(superseded: SupersededResult) -> str:
    """The note on a re-scored round, in the active language, on the results page, the administrators' round
    page and the round's PDF alike: when it was re-scored, and the index and level it no longer has."""
    return _("本结果已于 %(date)s 按更新后的评分规则重新计算；此前的结果（指数 %(index)s，等级 %(level)s）已作废。") % {
        "date": superseded.rescored_date,
        "index": format_score(superseded.index),
        "level": superseded.level_code,
    }


def countermeasure_source(heading: str) -> str:
    """Where a countermeasure comes from: the paper's own (Chinese) heading, quoted as a citation, which an
    English page would otherwise show unexplained under the translated title."""
    return _("论文原文：%(heading)s") % {"heading": heading}
