"""The one home of the small-group rule.

A number that describes fewer than settings.JINAN_MIN_GROUP_SIZE firms is not shown: a count from 1 to the
minimum − 1 becomes ``None`` (zero stays zero), and so do a mean, quartile or share of a group below the
minimum and a share whose count is hidden. In a partition where only one cell is hidden, the next smallest is
hidden as well (secondary suppression), so that the hidden one cannot be worked out from the total.

Why a cell is hidden (:func:`partition_reasons`): ``SMALL``, it describes fewer than the minimum, or
``PROTECTED``, it was hidden only so that a small neighbour cannot be worked out from the total. How a hidden
cell reads is the same on every surface (pages, the city PDF, exports), and only the rendering layers
(surveys/templatetags/manage_tags.py, surveys/reports/formatting.py, surveys/analytics/exports.py) apply it:

* a count of a small group: :func:`hidden_label`, "<N" (N the minimum), never a percentage or a mean;
* a share, mean or quartile of a small group: "—*" (:data:`MARKS`), footnoted by :func:`footnotes`
  ("少于N家企业的组不显示比例和平均值");
* any figure of a protected cell, its count too: "—†", footnoted "为防止由合计推算出其他组而隐藏";
* charts leave hidden bars out and say so in a note (:func:`chart_note`).

:func:`hidden_phrase` ("不足10家") is the sentence form on the administrators' pages.
Every reader of settings.JINAN_MIN_GROUP_SIZE goes through :func:`min_group_size`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


def min_group_size() -> int:
    return int(settings.JINAN_MIN_GROUP_SIZE)


SMALL = "small"  # describes fewer than the minimum group size
PROTECTED = "protected"  # hidden only so that another hidden cell cannot be worked out from the total
MARKS = {SMALL: "*", PROTECTED: "†"}
DASH = "—"


def hidden_count(reason: str | None = None) -> str:
    """A hidden count: "<N" for a small group, "—†" for a protected cell (which is not small)."""
    return hidden_value(PROTECTED) if reason == PROTECTED else hidden_label()


def hidden_value(reason: str | None = None) -> str:
    """A hidden share, mean or quartile: "—*" (small group) or "—†" (protected cell); never "<N"."""
    return DASH + MARKS[PROTECTED if reason == PROTECTED else SMALL]


def footnotes() -> list[str]:
    """The footnotes of the marks, in the active language: "* …", "† …"."""
    n = min_group_size()
    return [
        f"{MARKS[SMALL]} " + _("少于%(n)d家企业的组不显示比例和平均值（企业数记为“<%(n)d”）") % {"n": n},
        f"{MARKS[PROTECTED]} " + _("为防止由合计推算出其他组而隐藏"),
    ]


def chart_note() -> str:
    """The note under a chart some of whose bars were left out."""
    return _("未画出的柱形：企业过少（%(small)s）或为防止推算而隐藏（%(protected)s）。") % {
        "small": MARKS[SMALL],
        "protected": MARKS[PROTECTED],
    }


def hidden_label() -> str:
    """What stands in a table cell, a chart or an export for a hidden figure: "<N" (N the minimum)."""
    return f"<{min_group_size()}"


def hidden_phrase() -> str:
    """The sentence form of a hidden figure, in the active language: "不足N家"."""
    return _("不足%(n)d家") % {"n": min_group_size()}


def shown_count(n: int | None) -> int | None:
    """``n`` when it is 0 or at least the minimum group size, else None (shown as hidden_label())."""
    if n is None or 0 < n < min_group_size():
        return None
    return n


def partition_reasons(counts: dict[Any, int]) -> dict[Any, str]:
    """The keys of a partition to hide and why: counts below the minimum (SMALL), plus the next smallest
    when only one is (PROTECTED)."""
    minimum = min_group_size()
    hidden = {key: SMALL for key, n in counts.items() if 0 < n < minimum}
    if len(hidden) == 1:
        rest = sorted((n, str(key), key) for key, n in counts.items() if key not in hidden and n > 0)
        if rest:
            hidden[rest[0][2]] = PROTECTED
    return hidden


def suppress_partition(counts: dict[Any, int]) -> set[Any]:
    """The keys of a partition to hide (see partition_reasons)."""
    return set(partition_reasons(counts))


def share(part: int | None, whole: int | None) -> float | None:
    """``part / whole`` in percent when both may be shown."""
    if part is None or not whole:
        return None
    if shown_count(part) is None or shown_count(whole) is None:
        return None
    return 100.0 * part / whole
