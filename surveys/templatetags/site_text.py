"""Generated punctuation in templates, from surveys/text.py: ``{{ codes|join_list }}`` (``join_list:True``
for items that contain commas), ``{{ codes|join_list|in_brackets }}`` and ``{{ label|with_colon }}``. (An option with
its letter is written by surveys/templatetags/questionnaire_form.py, with surveys.text.option_text.)"""

from __future__ import annotations

from django import template

from surveys import text

register = template.Library()


@register.filter
def join_list(value, strong: bool = False) -> str:
    return text.join_list(value or (), strong=bool(strong))


@register.filter
def in_brackets(value) -> str:
    return text.in_brackets(value)


@register.filter
def with_colon(value) -> str:
    return text.with_colon(value)
