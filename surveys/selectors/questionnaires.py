"""Reads of questionnaire versions: the current one, its stored definition and the scoring engine's view of it."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from .. import scoring
from ..models import (
    Assessment,
    Countermeasure,
    Dimension,
    Gate,
    Item,
    Questionnaire,
)


def questionnaire_get(*, version: str) -> Questionnaire:
    return Questionnaire.objects.get(version=version)


def questionnaire_current() -> Questionnaire | None:
    """The version new rounds use: the most recently created published one."""
    return Questionnaire.objects.filter(is_published=True).order_by("-created_at", "-id").first()


def questionnaire_is_in_use(*, questionnaire: Questionnaire) -> bool:
    return Assessment.objects.filter(questionnaire=questionnaire, status=Assessment.STATUS_SUBMITTED).exists()


def questionnaire_export(*, questionnaire: Questionnaire) -> dict[str, Any]:
    """The stored definition in the seed schema (seeds/README.md); loading it back gives the same rows."""
    dimensions = Dimension.objects.filter(questionnaire=questionnaire).prefetch_related(
        Prefetch(
            "items",
            queryset=Item.objects.order_by("position").prefetch_related("options", "covers"),
        )
    )
    countermeasures = Countermeasure.objects.filter(questionnaire=questionnaire).prefetch_related("rules")
    return {
        "version": questionnaire.version,
        "title_zh": questionnaire.title_zh,
        "title_en": questionnaire.title_en,
        "description_zh": questionnaire.description_zh,
        "description_en": questionnaire.description_en,
        "problems": [
            {"code": p.code, "dimension": p.dimension.code, "text_zh": p.text_zh, "text_en": p.text_en}
            for p in questionnaire.problems.select_related("dimension").order_by("position")
        ],
        "dimensions": [
            {
                "code": d.code,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                "problem_zh": d.problem_zh,
                "problem_en": d.problem_en,
                "description_zh": d.description_zh,
                "description_en": d.description_en,
                "weight": float(d.weight),
                "items": [
                    {
                        "code": i.code,
                        "text_zh": i.text_zh,
                        "text_en": i.text_en,
                        "help_zh": i.help_zh,
                        "help_en": i.help_en,
                        "weight": float(i.weight),
                        "allows_unknown": i.allows_unknown,
                        "allows_na": i.allows_na,
                        "covers": [p.code for p in sorted(i.covers.all(), key=lambda p: p.position)],
                        "options": [
                            {"score": o.score, "label_zh": o.label_zh, "label_en": o.label_en}
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
                "name_zh": lv.name_zh,
                "name_en": lv.name_en,
                "description_zh": lv.description_zh,
                "description_en": lv.description_en,
                "min_index": float(lv.min_index),
            }
            for lv in questionnaire.levels.order_by("position")
        ],
        "gates": [_gate_export(g) for g in questionnaire.gates.order_by("position")],
        "countermeasures": [
            {
                "code": c.code,
                "title_zh": c.title_zh,
                "title_en": c.title_en,
                "heading_zh": c.heading_zh,
                "description_zh": c.description_zh,
                "description_en": c.description_en,
                "rules": [
                    {
                        "code": r.code,
                        "trigger": r.trigger,
                        "priority": r.priority,
                        "horizon": r.horizon,
                        "text_zh": r.text_zh,
                        "text_en": r.text_en,
                    }
                    for r in sorted(c.rules.all(), key=lambda r: r.position)
                ],
            }
            for c in countermeasures
        ],
    }


def _gate_export(gate: Gate) -> dict[str, Any]:
    return {
        "code": gate.code,
        "kind": gate.kind,
        "guards_level": gate.guards_level,
        **gate.params,
        "reason_zh": gate.reason_zh,
        "reason_en": gate.reason_en,
    }


def questionnaire_definition(*, questionnaire: Questionnaire) -> scoring.Definition:
    """The scoring engine's view of a stored version, read from the rows (the single source of truth)."""
    return scoring.Definition.from_dict(questionnaire_export(questionnaire=questionnaire))
