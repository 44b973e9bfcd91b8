"""The one home of the small-group rule.

A number that describes fewer than settings.JINAN_MIN_GROUP_SIZE firms is not shown: a count from 1 to the
minimum − 1 becomes ``None`` (zero stays zero), and so do a mean, quartile or share of a group below the
minimum and a share whose count is hidden. In a partition where only one cell is hidden, the next smallest is
hidden as well (secondary suppression), so that the hidden one cannot be worked out from the total.

A hidden figure reads :func:`hidden_label` ("<10" with the default minimum) in tables, charts, PDFs and
exports, and :func:`hidden_phrase` ("不足10家") in the sentences of the administrators' pages.
Every reader of settings.JINAN_MIN_GROUP_SIZE goes through :func:`min_group_size`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


def min_group_size() -> int:
    return int(settings.JINAN_MIN_GROUP_SIZE)


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
