"""Reads of questionnaire versions: the current one, its stored definition and the scoring engine's view of it."""

from __future__ import annotations

from functools import partial
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
from ..seeding import bilingual


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
        "rules_version": questionnaire.rules_version,
        **bilingual(partial(getattr, questionnaire), "title", "description"),
        "problems": [
            {"code": p.code, "dimension": p.dimension.code, **bilingual(partial(getattr, p), "text")}
            for p in questionnaire.problems.select_related("dimension").order_by("position")
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
        **bilingual(partial(getattr, gate), "reason"),
    }


def questionnaire_definition(*, questionnaire: Questionnaire) -> scoring.Definition:
    """The scoring engine's view of a stored version, read from the rows (the single source of truth)."""
    return scoring.Definition.from_dict(questionnaire_export(questionnaire=questionnaire))
