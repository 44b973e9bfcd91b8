"""The plan's action cards on the results page: ``{% action_card action number %}`` (and, for a round scored by
rules version 1, ``{% recommendation_card rec %}``).

A round's plan has up to forty actions (the top ones and the others, grouped by countermeasure), each a card
with its reason, lead, done criterion, horizon, programmes and the answers behind it. As an included template
they were most of the results page's rendering time. Here the card is written as text: every value passes
through ``html.escape`` (``_e``) on its way in, exactly what the template's autoescaping did, and only the
finished card is marked safe (tests/security/test_xss.py lists this module among the reviewed exceptions).
The read model (surveys/selectors/results.py, ``PlanAction``) gives the texts; this only lays them out.
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from surveys import text
from surveys.reports.formatting import format_score

register = template.Library()

_KIND_BADGES = {"verify": "text-bg-info", "path": "text-bg-success"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


@register.simple_tag
def action_card(action, number: int | None = None, level: int = 4) -> str:
    """One action as a card: ``number`` is its rank in the top list (None in the grouped lists), ``level`` the
    heading level of its title."""
    level = int(level)
    badge = f'<span class="badge text-bg-primary me-1">{int(number)}</span>' if number else ""
    parts = [
        f'<article class="card mb-2 action-card" data-action="{_e(action.key)}" data-kind="{_e(action.kind)}" '
        f'data-horizon="{_e(action.horizon)}"><div class="card-body text-break">'
        f'<h{level} class="h6 card-title">{badge}<span class="badge '
        f'{_KIND_BADGES.get(action.kind, "text-bg-secondary")} me-1">{_e(action.kind_label)}</span>'
        f'<span class="action-title">{_e(action.title)}</span></h{level}>'
    ]
    if action.what != action.title:
        parts.append(f'<p class="mb-2 action-what">{_e(action.what)}</p>')
    parts.append('<dl class="row small mb-2">')
    for term, css, value in (
        (_("完成标志"), "action-done", action.done_criterion),
        (_("牵头部门"), "action-lead", action.lead_label),
        (_("期限"), "action-horizon", action.horizon_label),
    ):
        parts.append(f'<dt class="col-sm-3">{_e(term)}</dt><dd class="col-sm-9 {css}">{_e(value)}</dd>')
    if action.countermeasure_code:
        parts.append(
            f'<dt class="col-sm-3">{_e(_("对策"))}</dt><dd class="col-sm-9">{_e(action.countermeasure_title)}</dd>'
        )
    if action.programmes:
        items = "".join(f"<li>{_programme(p)}</li>" for p in action.programmes)
        parts.append(
            f'<dt class="col-sm-3">{_e(_("可利用的政策项目"))}</dt>'
            f'<dd class="col-sm-9"><ul class="list-unstyled mb-0">{items}</ul></dd>'
        )
    why = "".join(
        _e(part.text) + (_e(format_score(part.number)) if part.number is not None else "") for part in action.why
    )
    parts.append(f'</dl><p class="small text-body-secondary mb-1 action-why">{why}</p>')
    if action.answers:
        parts.append(_answers_details(_("依据的答案"), action.answers))
    parts.append("</div></article>")
    return mark_safe("".join(parts))  # every value above went through _e


_PRIORITY_BADGES = {1: "text-bg-danger", 2: "text-bg-warning"}


@register.simple_tag
def recommendation_card(rec) -> str:
    """One recommendation of a round scored by rules version 1 (grouped by countermeasure): its priority,
    horizon, text and the answers that triggered it."""
    parts = [
        '<div class="card mb-2"><div class="card-body"><p class="mb-1">'
        f'<span class="badge {_PRIORITY_BADGES.get(rec.priority, "text-bg-secondary")}">'
        f"{_e(_('%(level)s优先级') % {'level': rec.priority_label})}</span> "
        f'<span class="badge text-bg-light">{_e(rec.horizon_label)}</span></p>'
        f'<p class="mb-1">{_e(rec.text)}</p>'
    ]
    if rec.triggers:
        parts.append(_answers_details(_("触发该建议的答案"), rec.triggers))
    parts.append("</div></div>")
    return mark_safe("".join(parts))  # every value above went through _e


def _answers_details(summary: str, answers) -> str:
    """The answers behind a card, collapsed under ``summary``: code, question and the answer given."""
    items = "".join(f"<li><strong>{_e(a.item_code)}</strong> {_e(a.question)} — {_e(a.answer)}</li>" for a in answers)
    return f'<details><summary class="small">{_e(summary)}</summary><ul class="small mb-0">{items}</ul></details>'


def _programme(programme) -> str:
    name = _e(programme.name)
    if programme.url:
        name = f'<a href="{_e(programme.url)}" rel="noopener noreferrer">{name}</a>'
    return f'{name} <span class="text-body-secondary">{_e(text.in_brackets(programme.level_label))}</span>'
