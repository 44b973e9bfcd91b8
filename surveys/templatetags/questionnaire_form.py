"""The questionnaire page's answer options: ``{% answer_options row %}``.

A page shows 40 and more radio buttons, each with its id, name, value and label. Written as template nodes
they took most of the page's rendering time; here each is one ``format_html`` call, which escapes every
value as the template would (the labels are questionnaire text, never marked safe).
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from surveys import text

register = template.Library()

_OPTION = (
    '<div class="form-check mb-1">'
    '<input class="form-check-input" type="radio" name="answer-{0}" id="a-{0}-{1}" value="{1}"%s>'
    '<label class="form-check-label" for="a-{0}-{1}">{2}</label>'
    "</div>"
)
_CHECKED, _UNCHECKED = _OPTION % " checked", _OPTION % ""


@register.simple_tag
def answer_options(row: dict) -> str:
    """The radio buttons of a row of surveys.views._page_context: one per option, the chosen one checked."""
    code = row["view"].item.code
    options = (
        format_html(
            _CHECKED if checked else _UNCHECKED, code, option.score, text.option_text(option.score, option.label)
        )
        for option, checked in row["options"]
    )
    return format_html_join("", "{}", ((option,) for option in options))
