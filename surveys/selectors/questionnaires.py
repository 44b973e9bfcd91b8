"""Reads of questionnaire versions: the current one, its stored definition and the scoring engine's view of it."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db.models import Prefetch

from .. import scoring
from ..models import (
    Assessment,
    ContextQuestion,
    Countermeasure,
    Dimension,
    Gate,
    Item,
    Problem,
    Programme,
    Questionnaire,
    RecognitionPath,
    RecommendationRule,
)
from ..seeding import bilingual, omit_defaults


def questionnaire_get(*, version: str) -> Questionnaire:
    return Questionnaire.objects.get(version=version)


def questionnaire_current() -> Questionnaire | None:
    """The version new rounds use: the most recently created published one."""
    return Questionnaire.objects.filter(is_published=True).order_by("-created_at", "-id").first()


def questionnaire_is_in_use(*, questionnaire: Questionnaire) -> bool:
    return Assessment.objects.filter(questionnaire=questionnaire, status=Assessment.STATUS_SUBMITTED).exists()


def questionnaire_export(*, questionnaire: Questionnaire) -> dict[str, Any]:
    """The stored definition in the seed schema (seeds/README.md); loading it back gives the same rows.

    It equals ``seeding.read_definition`` of the file it was loaded from: the optional keys of 2026.2 appear
    only where the version uses them (seeding.omit_defaults), so a version without them exports as before."""
    dimensions = Dimension.objects.filter(questionnaire=questionnaire).prefetch_related(
        Prefetch(
            "items",
            queryset=Item.objects.order_by("position").prefetch_related("options", "covers"),
        )
    )
    countermeasures = Countermeasure.objects.filter(questionnaire=questionnaire).prefetch_related("rules")
    return {
        "version": questionnaire.version,
        "rules_version": questionnaire.rules_version,
        **bilingual(partial(getattr, questionnaire), "title", "description"),
        "problems": [
            _problem_export(p) for p in questionnaire.problems.select_related("dimension").order_by("position")
        ],
        "dimensions": [
            {
                "code": d.code,
                **bilingual(partial(getattr, d), "name", "problem", "description"),
                "weight": float(d.weight),
                "items": [
                    {
                        "code": i.code,
                        **bilingual(partial(getattr, i), "text", "help"),
                        "weight": float(i.weight),
                        "allows_unknown": i.allows_unknown,
                        "allows_na": i.allows_na,
                        "owner": i.owner,
                        **_step_export(i),
                        "covers": [p.code for p in sorted(i.covers.all(), key=lambda p: p.position)],
                        "options": [
                            {"score": o.score, **bilingual(partial(getattr, o), "label")}
                            for o in sorted(i.options.all(), key=lambda o: o.score)
                        ],
                    }
                    for i in d.items.all()
                ],
            }
            for d in dimensions
        ],
        "levels": [
            {
                "code": lv.code,
                **bilingual(partial(getattr, lv), "name", "description"),
                "min_index": float(lv.min_index),
            }
            for lv in questionnaire.levels.order_by("position")
        ],
        "gates": [_gate_export(g) for g in questionnaire.gates.order_by("position")],
        "countermeasures": [
            {
                "code": c.code,
                **bilingual(partial(getattr, c), "title", "description"),
                "heading_zh": c.heading_zh,
                "rules": [
                    {
                        "code": r.code,
                        "trigger": r.trigger,
                        "priority": r.priority,
                        "horizon": r.horizon,
                        **bilingual(partial(getattr, r), "text"),
                        **_rule_extras_export(r),
                    }
                    for r in sorted(c.rules.all(), key=lambda r: r.position)
                ],
            }
            for c in countermeasures
        ],
        **omit_defaults(
            programmes=[_programme_export(p) for p in questionnaire.programmes.order_by("position")],
            paths=[_path_export(p) for p in questionnaire.paths.select_related("countermeasure").order_by("position")],
            context_questions=[
                _context_question_export(q) for q in questionnaire.context_questions.order_by("position")
            ],
        ),
    }


def _problem_export(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "dimension": problem.dimension.code,
        **bilingual(partial(getattr, problem), "text"),
        **omit_defaults(
            scope="" if problem.scope == Problem.SCOPE_FIRM else problem.scope,
            related_items=list(problem.related_items),
        ),
    }


def _step_export(item: Item) -> dict[str, Any]:
    """The item's next-rung step, only the keys the version gives (as seeding.normalize_definition)."""
    actions = bilingual(partial(getattr, item), "action")
    return {
        **(actions if any(actions.values()) else {}),
        **omit_defaults(lead=item.lead, horizons=list(item.horizons), programmes=list(item.programmes)),
    }


def _rule_extras_export(rule: RecommendationRule) -> dict[str, Any]:
    return omit_defaults(lead=rule.lead, programmes=list(rule.programmes))


def _programme_export(programme: Programme) -> dict[str, Any]:
    return {
        "code": programme.code,
        "level": programme.level,
        **bilingual(partial(getattr, programme), "name"),
        **omit_defaults(url=programme.url),
    }


def _path_export(path: RecognitionPath) -> dict[str, Any]:
    return {
        "code": path.code,
        "min_level": path.min_level,
        "countermeasure": path.countermeasure.code,
        "lead": path.lead,
        "horizon": path.horizon,
        "priority": float(path.priority),
        **bilingual(partial(getattr, path), "text", "done"),
        **omit_defaults(programmes=list(path.programmes)),
    }


def _context_question_export(question: ContextQuestion) -> dict[str, Any]:
    return {
        "code": question.code,
        **bilingual(partial(getattr, question), "text", "help"),
        "multiple": question.multiple,
        **omit_defaults(max_choices=question.max_choices),
        "used_by": question.used_by,
        "options": list(question.options),
    }


def _gate_export(gate: Gate) -> dict[str, Any]:
    return {
        "code": gate.code,
        "kind": gate.kind,
        "guards_level": gate.guards_level,
        **gate.params,
        **bilingual(partial(getattr, gate), "reason"),
    }


def questionnaire_scoring_data(*, questionnaire: Questionnaire) -> dict[str, Any]:
    """What ``scoring.Definition.from_dict`` reads for a stored version: the export, with the keys the engine
    reads always present. Every item has ``lead`` ("" when the version names none: the owner leads) and
    ``horizons`` ([] when not given; else the horizons of the steps to options 1–4), and the definition has
    ``paths`` ([] when none; each with code, min_level, countermeasure, lead, horizon and priority, and
    its texts). ``Definition.from_dict`` of a file's ``read_definition`` must read the same, taking a key
    left out as these defaults."""
    data = questionnaire_export(questionnaire=questionnaire)
    for dimension in data["dimensions"]:
        for item in dimension["items"]:
            item.setdefault("lead", "")
            item.setdefault("horizons", [])
    data.setdefault("paths", [])
    return data


def questionnaire_definition(*, questionnaire: Questionnaire) -> scoring.Definition:
    """The scoring engine's view of a stored version, read from the rows (the single source of truth)."""
    return scoring.Definition.from_dict(questionnaire_scoring_data(questionnaire=questionnaire))
