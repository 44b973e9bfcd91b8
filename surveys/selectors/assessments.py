"""Reads of a firm's rounds (the Assessment model) while they are filled in: pages, answers, progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from .. import scoring
from ..models import (
    Answer,
    Assessment,
    Dimension,
    Enterprise,
    Item,
    Option,
)
from .enterprises import active_enterprise_for_user

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def assessment_for_user(
    *, user: User | AnonymousUser, assessment_id: int, enterprise: Enterprise | None = None
) -> Assessment:
    """The round if the user is an active member of its firm; otherwise DoesNotExist, as for a missing one.

    ``enterprise``: the user's active firm when the caller has already checked the membership.
    """
    if enterprise is None:
        enterprise = active_enterprise_for_user(user=user)
    if enterprise is None:
        raise Assessment.DoesNotExist
    return Assessment.objects.select_related("enterprise", "questionnaire").get(id=assessment_id, enterprise=enterprise)


def assessment_list_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Assessment]:
    return Assessment.objects.filter(enterprise=enterprise).select_related("questionnaire").order_by("-created_at")


def assessment_draft(*, enterprise: Enterprise) -> Assessment | None:
    return Assessment.objects.filter(enterprise=enterprise, status=Assessment.STATUS_DRAFT).first()


def assessment_answer_values(*, assessment: Assessment) -> dict[str, scoring.AnswerValue]:
    """Answers in scoring.py's terms; a row holding only a note is no answer."""
    rows = Answer.objects.filter(assessment=assessment).values_list("item__code", "score", "special")
    values: dict[str, scoring.AnswerValue] = {}
    for code, score, special in rows:
        if special:
            values[code] = special
        elif score is not None:
            values[code] = score
    return values


@dataclass(frozen=True)
class ItemView:
    item: Item
    options: list[Option]
    answer: Answer | None

    @property
    def value(self) -> scoring.AnswerValue | None:
        return self.answer.value if self.answer else None

    @property
    def revision(self) -> int:
        return self.answer.revision if self.answer else 0

    @property
    def note(self) -> str:
        return self.answer.note if self.answer else ""


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    per_page: list[tuple[int, Dimension, int, int]]  # (page, dimension, answered, total)
    unanswered: list[tuple[int, Item]]  # (page, item)

    @property
    def complete(self) -> bool:
        return self.answered == self.total


@dataclass(frozen=True)
class PageView:
    number: int
    count: int
    dimension: Dimension
    items: list[ItemView]
    progress: Progress


def assessment_dimensions(*, assessment: Assessment) -> list[Dimension]:
    return list(Dimension.objects.filter(questionnaire_id=assessment.questionnaire_id).order_by("position"))


def _questionnaire_items(assessment: Assessment) -> list[Item]:
    return list(Item.objects.filter(questionnaire_id=assessment.questionnaire_id).order_by("position"))


def assessment_page(*, assessment: Assessment, number: int) -> PageView:
    """Page n (1-based) of the questionnaire: one dimension, its items, options and current answers, and the
    progress over the whole round (from the same rows: the page is shown on every click of "next")."""
    dimensions = assessment_dimensions(assessment=assessment)
    if not 1 <= number <= len(dimensions):
        raise Dimension.DoesNotExist
    dimension = dimensions[number - 1]
    items = _questionnaire_items(assessment)
    own = [item for item in items if item.dimension_id == dimension.id]
    prefetch_related_objects(own, "options")
    answers = {a.item_id: a for a in Answer.objects.filter(assessment=assessment)}
    answered_ids = {item_id for item_id, a in answers.items() if a.value is not None}
    return PageView(
        number=number,
        count=len(dimensions),
        dimension=dimension,
        items=[
            ItemView(item=i, options=sorted(i.options.all(), key=lambda o: o.score), answer=answers.get(i.id))
            for i in own
        ],
        progress=_progress(dimensions, items, answered_ids),
    )


def _progress(dimensions: list[Dimension], items: list[Item], answered_ids: set[int]) -> Progress:
    page_of = {d.id: n for n, d in enumerate(dimensions, start=1)}
    per_page = []
    for dimension in dimensions:
        own = [i for i in items if i.dimension_id == dimension.id]
        per_page.append((page_of[dimension.id], dimension, sum(i.id in answered_ids for i in own), len(own)))
    unanswered = [(page_of[i.dimension_id], i) for i in items if i.id not in answered_ids]
    return Progress(
        answered=len(answered_ids & {i.id for i in items}), total=len(items), per_page=per_page, unanswered=unanswered
    )


def assessment_progress(*, assessment: Assessment) -> Progress:
    answered_ids = set(
        Answer.objects.filter(assessment=assessment)
        .filter(Q(score__isnull=False) | ~Q(special=""))
        .values_list("item_id", flat=True)
    )
    return _progress(assessment_dimensions(assessment=assessment), _questionnaire_items(assessment), answered_ids)


def answer_label(item: Item, options: dict[int, Option], value: scoring.AnswerValue | None) -> str:
    if value == scoring.UNKNOWN:
        return str(_("不清楚"))
    if value == scoring.NOT_APPLICABLE:
        return str(_("不适用"))
    if value is None:
        return str(_("未作答"))
    option = options.get(value) if isinstance(value, int) else None
    return f"{value} – {option.label}" if option else str(value)
