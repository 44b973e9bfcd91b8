"""Writes of questionnaire versions: the validated seed into rows, never changing a version in use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import selectors
from ..models import (
    Answer,
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
from ..seeding import bilingual, diff_definitions, gate_params
from .errors import QuestionnaireInUseError

_M = TypeVar("_M", bound=models.Model)


@dataclass
class UpsertReport:
    version: str
    created_version: bool = False
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # ("created"|"updated"|"deleted", model) -> n

    @property
    def changed(self) -> bool:
        return self.created_version or any(self.counts.values())

    def summary(self) -> str:
        if not self.changed:
            return f"questionnaire {self.version}: no change"
        parts = [f"{action} {n} {model}" for (action, model), n in sorted(self.counts.items()) if n]
        head = "created" if self.created_version else "updated"
        return f"questionnaire {self.version}: {head} ({', '.join(parts)})"


class _Syncer:
    def __init__(self, report: UpsertReport):
        self.report = report

    def sync(self, model: type[_M], lookup: dict[str, Any], values: dict[str, Any]) -> _M:
        obj = model._default_manager.filter(**lookup).first()
        name = str(model._meta.model_name)  # always set on a concrete model
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean(validate_unique=False, validate_constraints=False)
            obj.save()
            self.report.counts["created", name] += 1
            return obj
        changed = [key for key, value in values.items() if getattr(obj, key) != value]
        if changed:
            for key in changed:
                setattr(obj, key, values[key])
            obj.full_clean(validate_unique=False, validate_constraints=False)
            obj.save(update_fields=changed)
            self.report.counts["updated", name] += 1
        return obj

    def delete_missing(self, queryset: QuerySet[Any], keep_ids: set[int]) -> None:
        doomed = queryset.exclude(id__in=keep_ids)
        count = doomed.count()
        if count:
            doomed.delete()
            self.report.counts["deleted", queryset.model._meta.model_name] += count


@transaction.atomic
def questionnaire_upsert(*, definition: dict[str, Any], dry_run: bool = False) -> UpsertReport:
    """Create or update a version from a validated, normalized definition (seeding.read_definition).

    Idempotent: unchanged content writes nothing. Refuses (QuestionnaireInUseError) to change a version
    that has submitted assessments. With ``dry_run`` everything is computed and rolled back.
    """
    version = definition["version"]
    report = UpsertReport(version=version)
    questionnaire = Questionnaire.objects.select_for_update().filter(version=version).first()
    if questionnaire is not None:
        current = selectors.questionnaire_export(questionnaire=questionnaire)
        changes = diff_definitions(current, definition)
        if not changes:
            return report
        if selectors.questionnaire_is_in_use(questionnaire=questionnaire):
            raise QuestionnaireInUseError(version, changes)

    syncer = _Syncer(report)
    questionnaire = _sync_questionnaire(syncer, questionnaire, definition)
    dimensions = _sync_by_code(syncer, Dimension, questionnaire, definition["dimensions"], _dimension_values)
    problems = _sync_by_code(
        syncer,
        Problem,
        questionnaire,
        definition["problems"],
        lambda problem: {
            "dimension": dimensions[problem["dimension"]],
            **bilingual(problem.__getitem__, "text"),
            "scope": problem.get("scope", Problem.SCOPE_FIRM),
            "related_items": problem.get("related_items", []),
        },
    )
    items = _sync_items(syncer, questionnaire, definition["dimensions"], dimensions, problems)
    # Answers in drafts for items that no longer exist go with them (submitted versions never get here).
    removed_items = Item.objects.filter(questionnaire=questionnaire).exclude(id__in=[i.id for i in items.values()])
    Answer.objects.filter(item__in=removed_items).delete()
    syncer.delete_missing(Item.objects.filter(questionnaire=questionnaire), {i.id for i in items.values()})
    syncer.delete_missing(Problem.objects.filter(questionnaire=questionnaire), {p.id for p in problems.values()})
    syncer.delete_missing(Dimension.objects.filter(questionnaire=questionnaire), {d.id for d in dimensions.values()})
    _sync_coded_rows(syncer, Level, questionnaire, definition["levels"], _level_values)
    _sync_coded_rows(syncer, Gate, questionnaire, definition["gates"], _gate_values)
    countermeasures = _sync_countermeasures(syncer, questionnaire, definition["countermeasures"])
    _sync_coded_rows(syncer, Programme, questionnaire, definition.get("programmes", []), _programme_values)
    _sync_coded_rows(
        syncer,
        RecognitionPath,
        questionnaire,
        definition.get("paths", []),
        lambda path: _path_values(path, countermeasures),
    )
    _sync_coded_rows(
        syncer, ContextQuestion, questionnaire, definition.get("context_questions", []), _context_question_values
    )

    if dry_run:
        transaction.set_rollback(True)
    elif report.changed:
        questionnaire_touch(questionnaire_id=questionnaire.id)
    return report


def questionnaire_touch(*, questionnaire_id: int) -> None:
    """Stamp a version as changed (``updated_at``): every process then reads its structure afresh
    (selectors/structure.py keeps it under this stamp). Called by whatever changes a version's content."""
    Questionnaire.objects.filter(id=questionnaire_id).update(updated_at=timezone.now())


def _sync_questionnaire(
    syncer: _Syncer, questionnaire: Questionnaire | None, definition: dict[str, Any]
) -> Questionnaire:
    values = {key: definition[key] for key in ("title_zh", "title_en", "description_zh", "description_en")}
    values["rules_version"] = definition["rules_version"]
    if questionnaire is None:
        syncer.report.created_version = True
        return Questionnaire.objects.create(version=definition["version"], **values)
    syncer.sync(Questionnaire, {"id": questionnaire.id}, values)
    return questionnaire


def _sync_items(
    syncer: _Syncer,
    questionnaire: Questionnaire,
    dimensions_data: list[dict[str, Any]],
    dimensions: dict[str, Dimension],
    problems: dict[str, Problem],
) -> dict[str, Item]:
    """Items numbered through the questionnaire, with their options and the problems they cover."""
    items: dict[str, Item] = {}
    position = 0
    for dim in dimensions_data:
        for item_data in dim["items"]:
            position += 1
            item = syncer.sync(
                Item,
                {"questionnaire": questionnaire, "code": item_data["code"]},
                {
                    "position": position,
                    "dimension": dimensions[dim["code"]],
                    "weight": Decimal(str(item_data["weight"])),
                    **{
                        key: item_data[key]
                        for key in ("text_zh", "text_en", "help_zh", "help_en", "allows_unknown", "allows_na", "owner")
                    },
                    **_step_values(item_data),
                },
            )
            items[item.code] = item
            for option in item_data["options"]:
                syncer.sync(
                    Option,
                    {"item": item, "score": option["score"]},
                    {"label_zh": option["label_zh"], "label_en": option["label_en"]},
                )
            _sync_coverage(syncer, item, {problems[code].id for code in item_data["covers"]})
    return items


def _step_values(item: dict[str, Any]) -> dict[str, Any]:
    """The item's next-rung step; the keys a version leaves out (seeding.omit_defaults) are stored empty."""
    return {
        "action_zh": item.get("action_zh", ""),
        "action_en": item.get("action_en", ""),
        "lead": item.get("lead", ""),
        "horizons": item.get("horizons", []),
        "programmes": item.get("programmes", []),
    }


def _sync_coverage(syncer: _Syncer, item: Item, wanted: set[int]) -> None:
    if wanted != set(item.covers.values_list("id", flat=True)):
        item.covers.set(wanted)
        syncer.report.counts["updated", "coverage"] += 1


def _sync_by_code(
    syncer: _Syncer,
    model: type[_M],
    questionnaire: Questionnaire,
    rows: list[dict[str, Any]],
    values: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, _M]:
    """Rows identified by (questionnaire, code), numbered in file order: {code: row}."""
    return {
        row["code"]: syncer.sync(
            model, {"questionnaire": questionnaire, "code": row["code"]}, {"position": position, **values(row)}
        )
        for position, row in enumerate(rows, start=1)
    }


def _sync_coded_rows(
    syncer: _Syncer,
    model: type[Level] | type[Gate] | type[Programme] | type[RecognitionPath] | type[ContextQuestion],
    questionnaire: Questionnaire,
    rows: list[dict[str, Any]],
    values: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """As _sync_by_code; rows no longer listed are deleted."""
    kept = {obj.id for obj in _sync_by_code(syncer, model, questionnaire, rows, values).values()}
    syncer.delete_missing(model.objects.filter(questionnaire=questionnaire), kept)


def _dimension_values(dimension: dict[str, Any]) -> dict[str, Any]:
    return {
        "weight": Decimal(str(dimension["weight"])),
        **bilingual(dimension.__getitem__, "name", "problem", "description"),
    }


def _level_values(level: dict[str, Any]) -> dict[str, Any]:
    return {
        "min_index": Decimal(str(level["min_index"])).quantize(Decimal("0.01")),
        **bilingual(level.__getitem__, "name", "description"),
    }


def _gate_values(gate: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": gate["kind"],
        "guards_level": gate["guards_level"],
        "params": gate_params(gate),
        **bilingual(gate.__getitem__, "reason"),
    }


def _programme_values(programme: dict[str, Any]) -> dict[str, Any]:
    return {"level": programme["level"], **bilingual(programme.__getitem__, "name"), "url": programme.get("url", "")}


def _path_values(path: dict[str, Any], countermeasures: dict[str, Countermeasure]) -> dict[str, Any]:
    return {
        "min_level": path["min_level"],
        "countermeasure": countermeasures[path["countermeasure"]],
        "lead": path["lead"],
        "horizon": path["horizon"],
        "priority": Decimal(str(path["priority"])).quantize(Decimal("0.01")),
        **bilingual(path.__getitem__, "text", "done"),
        "programmes": path.get("programmes", []),
    }


def _context_question_values(question: dict[str, Any]) -> dict[str, Any]:
    return {
        **bilingual(question.__getitem__, "text", "help"),
        "multiple": question["multiple"],
        "max_choices": question.get("max_choices"),
        "used_by": question["used_by"],
        "options": question["options"],
    }


def _sync_countermeasures(
    syncer: _Syncer, questionnaire: Questionnaire, countermeasures_data: list[dict[str, Any]]
) -> dict[str, Countermeasure]:
    """Countermeasures and their rules; the rules are numbered through the questionnaire. {code: row}."""
    kept: dict[str, Countermeasure] = {}
    kept_rules = set()
    rule_position = 0
    for position, cm in enumerate(countermeasures_data, start=1):
        countermeasure = syncer.sync(
            Countermeasure,
            {"questionnaire": questionnaire, "code": cm["code"]},
            {
                "position": position,
                **{key: cm[key] for key in ("title_zh", "title_en", "heading_zh", "description_zh", "description_en")},
            },
        )
        kept[countermeasure.code] = countermeasure
        for rule in cm["rules"]:
            rule_position += 1
            kept_rules.add(
                syncer.sync(
                    RecommendationRule,
                    {"questionnaire": questionnaire, "code": rule["code"]},
                    {
                        "position": rule_position,
                        "countermeasure": countermeasure,
                        "trigger": rule["trigger"],
                        "priority": rule["priority"],
                        "horizon": rule["horizon"],
                        "text_zh": rule["text_zh"],
                        "text_en": rule["text_en"],
                        "lead": rule.get("lead", ""),
                        "programmes": rule.get("programmes", []),
                    },
                ).id
            )
    syncer.delete_missing(RecommendationRule.objects.filter(questionnaire=questionnaire), kept_rules)
    syncer.delete_missing(Countermeasure.objects.filter(questionnaire=questionnaire), {c.id for c in kept.values()})
    return kept
