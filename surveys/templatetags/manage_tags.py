"""Template helpers of the administrators' pages: who sees the link, and how hidden figures read.

``{% load manage_tags %}`` then ``{% if user|is_administrator %}`` (and ``user|has_firm`` for "my firm"),
``{{ value|figure }}`` (one decimal, or suppression.hidden_phrase(), "不足10家", when the figure is hidden
because it describes too few firms),
``{{ n|firms }}``, ``{{ share|percent }}`` and ``{% query_with filters sort="name" %}`` for links that keep the filters.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from surveys import scopes, selectors
from surveys.reports.formatting import format_score, round_score
from surveys.suppression import hidden_phrase

register = template.Library()


@register.filter
def is_administrator(user) -> bool:
    return scopes.administrator_scope(user) is not None


@register.filter
def has_firm(user) -> bool:
    """The user belongs to a firm (an approved member, or one waiting for approval): "my firm" leads somewhere."""
    if not getattr(user, "is_authenticated", False):
        return False
    return selectors.membership_for_user(user=user) is not None


@register.filter
def figure(value, digits: int = 1) -> str:
    if value is None:
        return hidden_phrase()
    return str(round_score(value, int(digits)))


@register.filter
def firms(value) -> str:
    if value is None:
        return hidden_phrase()
    return intcomma(value)


@register.filter
def percent(value) -> str:
    if value is None:
        return hidden_phrase()
    return f"{round_score(value)}%"


@register.filter
def quartile(values, n: int) -> str:
    if not values:
        return hidden_phrase()
    return format_score(values[int(n)])


@register.simple_tag
def query_with(filters, **extra) -> str:
    """The filters' query string with ``extra`` parameters set (empty values dropped), starting with "?"."""
    pairs = [(k, v) for k, v in filters.query_items() if k not in extra]
    pairs += [(k, str(v)) for k, v in extra.items() if v not in (None, "")]
    return "?" + urlencode(pairs) if pairs else "?"
