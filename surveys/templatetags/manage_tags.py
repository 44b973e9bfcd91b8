"""Template helpers of the administrators' pages: who sees the link, and how hidden figures read.

``{% load manage_tags %}`` then ``{% if user|is_administrator %}`` (and ``user|has_firm`` for "my firm"),
``{{ value|figure }}`` (one decimal), ``{{ n|firms }}``, ``{{ share|percent }}``, ``{{ values|quartile:1 }}`` and
``{% query_with filters sort="name" %}`` for links that keep the filters. A hidden figure reads as
surveys/suppression.py says: a count "<N" (``firms``), a share, mean or quartile "—*"; a cell hidden only to
protect another "—†" (``{{ n|firms:row.hidden_reason }}``, ``{{ share|percent:row.hidden_reason }}``,
``{{ mean|hidden_figure:row.hidden_reason }}``). ``{% suppression_notes %}`` lists the footnotes of the marks.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

from surveys import scopes, selectors
from surveys.reports.formatting import format_count, format_score, round_score
from surveys.suppression import footnotes, hidden_count, hidden_value

register = template.Library()


@register.filter
def is_administrator(user) -> bool:
    return scopes.administrator_scope(user) is not None


@register.filter
def shows_administration(request) -> bool:
    """The navigation's link to the administrators' pages (scopes.shows_administration: noted at login)."""
    return scopes.shows_administration(request)


@register.filter
def has_firm(user) -> bool:
    """The user belongs to a firm (an approved member, or one waiting for approval): "my firm" leads somewhere."""
    if not getattr(user, "is_authenticated", False):
        return False
    return selectors.membership_for_user(user=user) is not None


@register.filter
def figure(value, digits: int = 1) -> str:
    if value is None:
        return hidden_value()
    return str(round_score(value, int(digits)))


@register.filter
def hidden_figure(value, reason: str | None = None) -> str:
    """A mean (one decimal) of a row that may be hidden for ``reason`` (suppression.SMALL or PROTECTED)."""
    if value is None:
        return hidden_value(reason)
    return str(round_score(value))


@register.filter
def firms(value, reason: str | None = None) -> str:
    if value is None:
        return hidden_count(reason)
    return format_count(value)


@register.filter
def percent(value, reason: str | None = None) -> str:
    if value is None:
        return hidden_value(reason)
    return f"{round_score(value)}%"


@register.filter
def quartile(values, n: int) -> str:
    if not values:
        return hidden_value()
    return format_score(values[int(n)])


@register.simple_tag
def suppression_notes() -> list[str]:
    """The footnotes of the marks of hidden figures, in the active language."""
    return footnotes()


@register.simple_tag
def query_with(filters, **extra) -> str:
    """The filters' query string with ``extra`` parameters set (empty values dropped), starting with "?"."""
    pairs = [(k, v) for k, v in filters.query_items() if k not in extra]
    pairs += [(k, str(v)) for k, v in extra.items() if v not in (None, "")]
    return "?" + urlencode(pairs) if pairs else "?"
