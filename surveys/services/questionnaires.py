"""Writes of questionnaire versions: the validated seed into rows, never changing a version in use."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from surveys.services.errors import QuestionnaireInUseError

from .. import selectors
from ..models import (
    Answer,
    Countermeasure,
    Dimension,
    Gate,
    Item,
    Level,
    Option,
    Problem,
    Questionnaire,
    RecommendationRule,
)
from ..seeding import diff_definitions, gate_params


@dataclass
class UpsertReport:
    version: str
    created_version: bool = False
    counts: Counter = field(default_factory=Counter)  # ("created"|"updated"|"deleted", model) -> n

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

    def sync(self, model, lookup: dict[str, Any], values: dict[str, Any]):
        obj = model.objects.filter(**lookup).first()
        name = model._meta.model_name
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

    def delete_missing(self, queryset, keep_ids: set[int]) -> None:
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
    if questionnaire is None:
        report.created_version = True
        questionnaire = Questionnaire.objects.create(
            version=version,
            title_zh=definition["title_zh"],
            title_en=definition["title_en"],
            description_zh=definition["description_zh"],
            description_en=definition["description_en"],
        )
    else:
        syncer.sync(
            Questionnaire,
            {"id": questionnaire.id},
            {key: definition[key] for key in ("title_zh", "title_en", "description_zh", "description_en")},
        )

    dimensions: dict[str, Dimension] = {}
    for position, dim in enumerate(definition["dimensions"], start=1):
        dimensions[dim["code"]] = syncer.sync(
            Dimension,
            {"questionnaire": questionnaire, "code": dim["code"]},
            {
                "position": position,
                "weight": Decimal(str(dim["weight"])),
                **{
                    key: dim[key]
                    for key in ("name_zh", "name_en", "problem_zh", "problem_en", "description_zh", "description_en")
                },
            },
        )

    problems: dict[str, Problem] = {}
    for position, problem in enumerate(definition["problems"], start=1):
        problems[problem["code"]] = syncer.sync(
            Problem,
            {"questionnaire": questionnaire, "code": problem["code"]},
            {
                "position": position,
                "dimension": dimensions[problem["dimension"]],
                "text_zh": problem["text_zh"],
                "text_en": problem["text_en"],
            },
        )

    items: dict[str, Item] = {}
    position = 0
    for dim in definition["dimensions"]:
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
                        for key in ("text_zh", "text_en", "help_zh", "help_en", "allows_unknown", "allows_na")
                    },
                },
            )
            items[item.code] = item
            for option in item_data["options"]:
                syncer.sync(
                    Option,
                    {"item": item, "score": option["score"]},
                    {"label_zh": option["label_zh"], "label_en": option["label_en"]},
                )
            wanted = {problems[code].id for code in item_data["covers"]}
            current_covers = set(item.covers.values_list("id", flat=True))
            if wanted != current_covers:
                item.covers.set(wanted)
                report.counts["updated", "coverage"] += 1

    # Answers in drafts for items that no longer exist go with them (submitted versions never get here).
    removed_items = Item.objects.filter(questionnaire=questionnaire).exclude(id__in=[i.id for i in items.values()])
    Answer.objects.filter(item__in=removed_items).delete()
    syncer.delete_missing(Item.objects.filter(questionnaire=questionnaire), {i.id for i in items.values()})
    syncer.delete_missing(Problem.objects.filter(questionnaire=questionnaire), {p.id for p in problems.values()})
    syncer.delete_missing(Dimension.objects.filter(questionnaire=questionnaire), {d.id for d in dimensions.values()})

    kept = set()
    for position, level in enumerate(definition["levels"], start=1):
        kept.add(
            syncer.sync(
                Level,
                {"questionnaire": questionnaire, "code": level["code"]},
                {
                    "position": position,
                    "min_index": Decimal(str(level["min_index"])).quantize(Decimal("0.01")),
                    **{key: level[key] for key in ("name_zh", "name_en", "description_zh", "description_en")},
                },
            ).id
        )
    syncer.delete_missing(Level.objects.filter(questionnaire=questionnaire), kept)

    kept = set()
    for position, gate in enumerate(definition["gates"], start=1):
        kept.add(
            syncer.sync(
                Gate,
                {"questionnaire": questionnaire, "code": gate["code"]},
                {
                    "position": position,
                    "kind": gate["kind"],
                    "guards_level": gate["guards_level"],
                    "params": gate_params(gate),
                    "reason_zh": gate["reason_zh"],
                    "reason_en": gate["reason_en"],
                },
            ).id
        )
    syncer.delete_missing(Gate.objects.filter(questionnaire=questionnaire), kept)

    kept_cm, kept_rules = set(), set()
    rule_position = 0
    for position, cm in enumerate(definition["countermeasures"], start=1):
        countermeasure = syncer.sync(
            Countermeasure,
            {"questionnaire": questionnaire, "code": cm["code"]},
            {
                "position": position,
                **{key: cm[key] for key in ("title_zh", "title_en", "heading_zh", "description_zh", "description_en")},
            },
        )
        kept_cm.add(countermeasure.id)
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
                    },
                ).id
            )
    syncer.delete_missing(RecommendationRule.objects.filter(questionnaire=questionnaire), kept_rules)
    syncer.delete_missing(Countermeasure.objects.filter(questionnaire=questionnaire), kept_cm)

    if dry_run:
        transaction.set_rollback(True)
    return report
