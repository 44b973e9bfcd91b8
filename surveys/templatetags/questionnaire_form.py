"""The questionnaire page's inputs of one question: ``{% answer_inputs row %}``.

A page shows eight questions with 40 and more radio buttons, each with its id, name, value and label, plus a
note per question. Written as template nodes they took most of the page's rendering time, the page being
the request a firm sends most; here each element is one ``format_html`` call, which escapes every value as
the template would (labels are questionnaire text, the note is the user's: nothing is marked safe). The
question's frame (fieldset, legend, help, a conflict's message) stays in surveys/page.html.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from surveys import text

register = template.Library()

_OPTION = (
    '<div class="form-check mb-1">'
    '<input class="form-check-input" type="radio" name="answer-{0}" id="a-{0}-{1}" value="{1}"%s>'
    '<label class="form-check-label" for="a-{0}-{1}">{2}</label>'
    "</div>"
)
_CHECKED, _UNCHECKED = _OPTION % " checked", _OPTION % ""
_SPECIAL = (
    '<div class="form-check">'
    '<input class="form-check-input" type="radio" name="answer-{0}" id="a-{0}-{1}" value="{1}"%s>'
    '<label class="form-check-label" for="a-{0}-{1}">{2}</label>'
    "</div>"
)
_SPECIAL_CHECKED, _SPECIAL_UNCHECKED = _SPECIAL % " checked", _SPECIAL % ""
_NOTE = (
    '<details class="mt-2"%s><summary class="small">{1}</summary>'
    '<label class="visually-hidden" for="n-{0}">{2}</label>'
    '<textarea class="form-control form-control-sm mt-1%s" name="note-{0}" id="n-{0}" rows="2" maxlength="1000"%s>'
    "{3}</textarea>%s</details>"
)
_NOTE_PLAIN = _NOTE % ("", "", "", "")
_NOTE_OPEN = _NOTE % (" open", "", "", "")
_NOTE_ERROR = _NOTE % (
    " open",
    " is-invalid",
    ' aria-describedby="err-{0}"',
    '<div class="invalid-feedback" id="err-{0}">{4}</div>',
)


@register.simple_tag
def answer_inputs(row: dict) -> str:
    """A row of surveys.views._page_context as inputs: the revision the save is based on, one radio button per
    option (the chosen one checked), "unknown" and "not applicable" where the item allows them, the note, and
    the place where autosave reports."""
    item = row["view"].item
    code = item.code
    parts = [format_html('<input type="hidden" name="rev-{}" value="{}">', code, row["revision"])]
    for option, checked in row["options"]:
        label = text.option_text(option.score, option.label)
        parts.append(format_html(_CHECKED if checked else _UNCHECKED, code, option.score, label))
    specials = [(value, label) for value, label, allowed in _specials(item) if allowed]
    if specials:
        choices = format_html_join(
            "",
            "{}",
            (
                (format_html(_SPECIAL_CHECKED if row["selected"] == value else _SPECIAL_UNCHECKED, code, value, label),)
                for value, label in specials
            ),
        )
        parts.append(format_html('<div class="d-flex flex-wrap gap-3 mt-2 pt-2 border-top">{}</div>', choices))
    error, note = row["error"], row["note"]
    note_format = _NOTE_ERROR if error else _NOTE_OPEN if note else _NOTE_PLAIN
    parts.append(format_html(note_format, code, _("备注（可选）"), _("%(code)s 的备注") % {"code": code}, note, error))
    parts.append(format_html('<div class="small mt-1 autosave-status" aria-live="polite">{}</div>', ""))
    return format_html_join("", "{}", ((part,) for part in parts))


def _specials(item) -> list[tuple[str, str, bool]]:
    return [("unknown", _("不清楚"), item.allows_unknown), ("na", _("不适用"), item.allows_na)]
