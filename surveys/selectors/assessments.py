"""Reads of a firm's rounds (the Assessment model) while they are filled in: pages, answers, progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .. import scoring
from ..choices import DEPARTMENTS, label_of
from ..models import (
    Answer,
    Assessment,
    ContextQuestion,
    Dimension,
    Enterprise,
    Item,
    Option,
    Questionnaire,
)
from ..text import is_chinese, option_letter, option_text
from .enterprises import active_enterprise_for_user
from .rows import assessment_of_enterprise
from .structure import questionnaire_structure

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
    # The firm just read is not joined again, and the SQL is written once: every firm request comes here.
    return assessment_of_enterprise(assessment_id=assessment_id, enterprise=enterprise)


def assessment_list_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Assessment]:
    return Assessment.objects.filter(enterprise=enterprise).select_related("questionnaire").order_by("-created_at")


def assessment_draft(*, enterprise: Enterprise) -> Assessment | None:
    """The firm's open round, on the questionnaire version it was started on (never moved to a newer one)."""
    return (
        Assessment.objects.filter(enterprise=enterprise, status=Assessment.STATUS_DRAFT)
        .select_related("questionnaire")
        .first()
    )


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
    return list(questionnaire_structure(questionnaire=assessment.questionnaire).dimensions)


def _questionnaire_items(assessment: Assessment) -> list[Item]:
    return list(questionnaire_structure(questionnaire=assessment.questionnaire).items)


def assessment_page_structure(*, assessment: Assessment, number: int) -> PageView:
    """Page n (1-based) without the round's answers (what a posted page is read against): no query once the
    version's structure is in memory. Dimension.DoesNotExist for a page the questionnaire lacks."""
    structure = questionnaire_structure(questionnaire=assessment.questionnaire)
    if not 1 <= number <= len(structure.dimensions):
        raise Dimension.DoesNotExist
    dimension = structure.dimensions[number - 1]
    return PageView(
        number=number,
        count=len(structure.dimensions),
        dimension=dimension,
        items=[
            ItemView(item=i, options=list(structure.options[i.id]), answer=None)
            for i in structure.page_items(dimension)
        ],
        progress=_progress(list(structure.dimensions), list(structure.items), set()),
    )


def assessment_page(*, assessment: Assessment, number: int) -> PageView:
    """Page n (1-based) of the questionnaire: one dimension, its items, options and current answers, and the
    progress over the whole round (from the same rows: the page is shown on every click of "next")."""
    structure = questionnaire_structure(questionnaire=assessment.questionnaire)
    if not 1 <= number <= len(structure.dimensions):
        raise Dimension.DoesNotExist
    dimension = structure.dimensions[number - 1]
    answers = {a.item_id: a for a in Answer.objects.filter(assessment=assessment)}
    answered_ids = {item_id for item_id, a in answers.items() if a.value is not None}
    return PageView(
        number=number,
        count=len(structure.dimensions),
        dimension=dimension,
        items=[
            ItemView(item=i, options=list(structure.options[i.id]), answer=answers.get(i.id))
            for i in structure.page_items(dimension)
        ],
        progress=_progress(list(structure.dimensions), list(structure.items), answered_ids),
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


def answer_short(value: scoring.AnswerValue | None) -> str:
    """An answer in a few characters, for a compact comparison: the option's letter ("B"), or 不清楚, 不适用,
    未作答 as ``answer_label`` writes them."""
    if type(value) is int and 0 <= value <= scoring.MAX_SCORE:
        return option_letter(value)
    return _no_option_label(value)


def _no_option_label(value: scoring.AnswerValue | None) -> str:
    if value == scoring.UNKNOWN:
        return str(_("不清楚"))
    if value == scoring.NOT_APPLICABLE:
        return str(_("不适用"))
    if value is None:
        return str(_("未作答"))
    return str(value)


def answer_label(item: Item, options: dict[int, Option], value: scoring.AnswerValue | None) -> str:
    """An answer as the pages and PDFs list it: the option with its letter ("B. …", text.option_text),
    不清楚, 不适用 or 未作答."""
    if type(value) is not int or value not in options:
        return _no_option_label(value)
    return option_text(value, options[value].label)


# --- the review page: the 不清楚 answers that stand in the way, and the context questions ------------


@dataclass(frozen=True)
class UnknownItem:
    item: Item
    page: int  # the questionnaire page that holds the item


@dataclass(frozen=True)
class UnknownGroup:
    """The 不清楚 items that one department of a firm usually knows ("" when the version names none)."""

    department: str
    label: str
    items: list[UnknownItem]


@dataclass(frozen=True)
class CrowdedDimension:
    """A dimension with more than half of its counted answers 不清楚."""

    dimension: Dimension
    unknown: int
    counted: int


@dataclass(frozen=True)
class UnknownAnswersView:
    """Why a round cannot be submitted yet (scoring.submission_check), in the terms of the page."""

    unknown: int
    counted: int
    too_many_overall: bool  # more than a third of all counted answers
    crowded: list[CrowdedDimension]
    groups: list[UnknownGroup]  # in the order of choices.DEPARTMENTS, "" last


@dataclass(frozen=True)
class Review:
    progress: Progress
    unknowns: UnknownAnswersView | None  # None: the 不清楚 answers do not stand in the way


def assessment_submission_check(*, assessment: Assessment) -> scoring.SubmissionCheck:
    """The engine's verdict on the round's 不清楚 answers (always allowed under rules version 1)."""
    definition = questionnaire_structure(questionnaire=assessment.questionnaire).definition
    return scoring.submission_check(definition, assessment_answer_values(assessment=assessment))


def assessment_review(*, assessment: Assessment, check: scoring.SubmissionCheck | None = None) -> Review:
    """The review page's data: the progress and, when too many answers are 不清楚, which ones, grouped by
    the department that usually knows them. ``check``: the verdict of a refused submission, else computed
    here (only under rules version 2: version 1 never refuses)."""
    dimensions = assessment_dimensions(assessment=assessment)
    items = _questionnaire_items(assessment)
    answered_ids = set(
        Answer.objects.filter(assessment=assessment)
        .filter(Q(score__isnull=False) | ~Q(special=""))
        .values_list("item_id", flat=True)
    )
    progress = _progress(dimensions, items, answered_ids)
    if check is None and assessment.questionnaire.rules_version >= scoring.RULES_VERSION_2:
        check = assessment_submission_check(assessment=assessment)
    if check is None or check.allowed:
        return Review(progress=progress, unknowns=None)
    return Review(progress=progress, unknowns=_unknown_answers_view(check, dimensions, items))


def _unknown_answers_view(
    check: scoring.SubmissionCheck, dimensions: list[Dimension], items: list[Item]
) -> UnknownAnswersView:
    page_of = {d.id: n for n, d in enumerate(dimensions, start=1)}
    by_dimension_code = {d.code: d for d in dimensions}
    by_item_code = {i.code: i for i in items}
    order = [code for code, _label in DEPARTMENTS]
    grouped: dict[str, list[UnknownItem]] = {}
    for block in check.dimensions:
        for code, owner in zip(block.items, block.owners, strict=True):
            item = by_item_code[code]
            # Who usually knows the answer; an item without an owner is asked of the department that leads it.
            department = owner or (item.lead if item.lead in order else "")
            grouped.setdefault(department, []).append(UnknownItem(item=item, page=page_of[item.dimension_id]))
    groups = [
        UnknownGroup(
            department=department,
            label=label_of(DEPARTMENTS, department) if department else str(_("未注明部门")),
            items=sorted(grouped[department], key=lambda u: u.item.position),
        )
        for department in sorted(grouped, key=lambda d: order.index(d) if d in order else len(order))
    ]
    return UnknownAnswersView(
        unknown=check.unknown,
        counted=check.counted,
        too_many_overall=check.too_many_overall,
        crowded=[
            CrowdedDimension(dimension=by_dimension_code[b.dimension], unknown=b.unknown, counted=b.counted)
            for b in check.dimensions
            if b.too_many
        ],
        groups=groups,
    )


class ContextOption(NamedTuple):
    code: str
    label: str  # in the active language
    other: bool  # asks for a short text


def context_questions(*, questionnaire: Questionnaire) -> list[ContextQuestion]:
    """The version's unscored context questions, in their order (none for versions without them)."""
    return list(questionnaire_structure(questionnaire=questionnaire).context_questions)


def context_options(question: ContextQuestion) -> list[ContextOption]:
    """The question's options with their labels in the active language (Chinese when no English is given)."""
    return [
        ContextOption(code=str(o["code"]), label=_option_label(o), other=bool(o.get("other"))) for o in question.options
    ]


def _option_label(option: dict[str, Any]) -> str:
    if not is_chinese() and option.get("label_en"):
        return str(option["label_en"])
    return str(option.get("label_zh") or option["code"])
