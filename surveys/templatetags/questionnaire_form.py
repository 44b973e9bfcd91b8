"""The questionnaire page's inputs of one question: ``{% answer_inputs row %}``.

A page shows eight questions with 40 and more radio buttons, each with its id, name, value and label, plus a
note per question. Written as template nodes they took most of the page's rendering time, the page being
the request a firm sends most. Here they are written as text: every value passes through ``html.escape``
(``_e``) on its way in, exactly what the template's autoescaping did (labels are questionnaire text, the note
is the user's), and only the finished inputs are marked safe (tests/security/test_xss.py lists this module
among the reviewed exceptions). The question's frame (fieldset, legend, help, a conflict's message) stays in
surveys/page.html.
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from surveys import text

register = template.Library()


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _radio(code: str, value: object, label: str, *, checked: bool, css: str) -> str:
    mark = " checked" if checked else ""
    return (
        f'<div class="{css}"><input class="form-check-input" type="radio" name="answer-{code}" id="a-{code}-{value}" '
        f'value="{value}"{mark}><label class="form-check-label" for="a-{code}-{value}">{_e(label)}</label></div>'
    )


@register.simple_tag
def answer_inputs(row: dict) -> str:
    """A row of surveys.views._page_context as inputs: the revision the save is based on, one radio button per
    option (the chosen one checked), "unknown" and "not applicable" where the item allows them, the note, and
    the place where autosave reports."""
    item = row["view"].item
    code = _e(item.code)
    parts = [f'<input type="hidden" name="rev-{code}" value="{_e(row["revision"])}">']
    for option, checked in row["options"]:
        label = text.option_text(option.score, option.label)
        parts.append(_radio(code, _e(option.score), label, checked=checked, css="form-check mb-1"))
    specials = [
        _radio(code, value, label, checked=row["selected"] == value, css="form-check")
        for value, label, allowed in (
            ("unknown", _("不清楚"), item.allows_unknown),
            ("na", _("不适用"), item.allows_na),
        )
        if allowed
    ]
    if specials:
        parts.append(f'<div class="d-flex flex-wrap gap-3 mt-2 pt-2 border-top">{"".join(specials)}</div>')
    error, note = row["error"], row["note"]
    invalid = " is-invalid" if error else ""
    described = f' aria-describedby="err-{code}"' if error else ""
    feedback = f'<div class="invalid-feedback" id="err-{code}">{_e(error)}</div>' if error else ""
    opened = " open" if note or error else ""
    parts.append(
        f'<details class="mt-2"{opened}><summary class="small">{_e(_("备注（可选）"))}</summary>'
        f'<label class="visually-hidden" for="n-{code}">{_e(_("%(code)s 的备注") % {"code": item.code})}</label>'
        f'<textarea class="form-control form-control-sm mt-1{invalid}" name="note-{code}" id="n-{code}" rows="2" '
        f'maxlength="1000"{described}>{_e(note)}</textarea>{feedback}</details>'
        '<div class="small mt-1 autosave-status" aria-live="polite"></div>'
    )
    return mark_safe("".join(parts))  # every value above went through _e
