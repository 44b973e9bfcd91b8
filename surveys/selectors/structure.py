"""A questionnaire version's structure, read once per process and version: what every page of the firm path
needs (dimensions, items with their options, the rules a save checks, the context questions, the scoring
engine's definition).

A version with submitted answers never changes, and an unused one changes only through the loader or the
admin, both of which stamp ``Questionnaire.updated_at`` (services.questionnaire_touch). The structure is kept
under the version's id and that stamp, which every round brings along (its questionnaire is read with it),
so a process never serves a structure older than the rows, and asks the database for it once per version
instead of on every page, autosave and submission. The model instances here are shared between requests:
they are only read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db.models import Prefetch

from .. import scoring
from ..models import (
    ContextQuestion,
    Countermeasure,
    Dimension,
    Gate,
    Item,
    Level,
    Option,
    Problem,
    Programme,
    Questionnaire,
    RecognitionPath,
    RecommendationRule,
)
from .questionnaires import questionnaire_definition


class ItemRule(NamedTuple):
    """What a save checks of an item."""

    id: int
    code: str
    dimension_id: int
    allows_unknown: bool
    allows_na: bool


@dataclass(frozen=True)
class QuestionnaireStructure:
    questionnaire_id: int
    stamp: datetime
    dimensions: tuple[Dimension, ...]  # in order: page n is dimensions[n - 1]
    items: tuple[Item, ...]  # in the questionnaire's order
    options: dict[int, tuple[Option, ...]]  # item id -> its options, by score
    item_rules: dict[str, ItemRule]  # item code -> what a save checks
    context_questions: tuple[ContextQuestion, ...]
    definition: scoring.Definition
    # What a round's report adds (selectors/results.py).
    countermeasures: tuple[Countermeasure, ...]  # in order
    recommendation_rules: dict[str, RecommendationRule]  # by code
    levels: tuple[Level, ...]  # in order
    gates: dict[str, Gate]  # by code
    programmes: dict[str, Programme]  # by code
    paths: dict[str, RecognitionPath]  # by code
    covers: tuple[tuple[Item, Problem], ...]  # each item with each paper's problem it measures

    def page_items(self, dimension: Dimension) -> list[Item]:
        return [item for item in self.items if item.dimension_id == dimension.id]

    @property
    def dimensions_by_code(self) -> dict[str, Dimension]:
        return {d.code: d for d in self.dimensions}


# Versions kept per process: the current one and the few that older drafts and results still use.
_KEPT = 8
_lock = threading.Lock()
_kept: dict[tuple[int, datetime], QuestionnaireStructure] = {}


def questionnaire_structure(*, questionnaire: Questionnaire) -> QuestionnaireStructure:
    """The version's structure, from this process's memory when its stamp is unchanged."""
    key = (questionnaire.id, questionnaire.updated_at)
    found = _kept.get(key)
    if found is not None:
        return found
    structure = _read(questionnaire)
    with _lock:
        for old in [k for k in _kept if k[0] == questionnaire.id]:
            del _kept[old]  # an earlier stamp of the same version is never asked for again
        while len(_kept) >= _KEPT:
            del _kept[next(iter(_kept))]
        _kept[key] = structure
    return structure


def forget_structures() -> None:
    """Drop every kept structure (tests that change rows behind the loader's back)."""
    with _lock:
        _kept.clear()


def _read(questionnaire: Questionnaire) -> QuestionnaireStructure:
    dimensions = tuple(Dimension.objects.filter(questionnaire_id=questionnaire.id).order_by("position"))
    items = list(
        Item.objects.filter(questionnaire_id=questionnaire.id)
        .order_by("position")
        .prefetch_related(Prefetch("options", queryset=Option.objects.order_by("score")))
    )
    return QuestionnaireStructure(
        questionnaire_id=questionnaire.id,
        stamp=questionnaire.updated_at,
        dimensions=dimensions,
        items=tuple(items),
        options={item.id: tuple(item.options.all()) for item in items},
        item_rules={
            item.code: ItemRule(item.id, item.code, item.dimension_id, item.allows_unknown, item.allows_na)
            for item in items
        },
        context_questions=tuple(ContextQuestion.objects.filter(questionnaire_id=questionnaire.id).order_by("position")),
        definition=questionnaire_definition(questionnaire=questionnaire),
        countermeasures=tuple(Countermeasure.objects.filter(questionnaire_id=questionnaire.id).order_by("position")),
        recommendation_rules={r.code: r for r in RecommendationRule.objects.filter(questionnaire_id=questionnaire.id)},
        levels=tuple(Level.objects.filter(questionnaire_id=questionnaire.id).order_by("position")),
        gates={g.code: g for g in Gate.objects.filter(questionnaire_id=questionnaire.id)},
        programmes={p.code: p for p in Programme.objects.filter(questionnaire_id=questionnaire.id)},
        paths={p.code: p for p in RecognitionPath.objects.filter(questionnaire_id=questionnaire.id)},
        covers=_covers(questionnaire.id, {item.id: item for item in items}),
    )


def _covers(questionnaire_id: int, items: dict[int, Item]) -> tuple[tuple[Item, Problem], ...]:
    problems = {p.id: p for p in Problem.objects.filter(questionnaire_id=questionnaire_id)}
    links = Item.covers.through.objects.filter(item__questionnaire_id=questionnaire_id).values_list(
        "item_id", "problem_id"
    )
    return tuple((items[item_id], problems[problem_id]) for item_id, problem_id in links.order_by("id"))
