"""Read and validate questionnaire definitions (seeds/README.md) before anything touches the database.

Validation is exhaustive: every problem is reported at once, each naming the file, the code of the
element (dimension, item, gate, rule …) and the field, so that an editor can fix a seed in one pass.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .scoring import GATE_AREA_FLOOR, GATE_KEY_ITEMS, GATE_KINDS, GATE_UNKNOWN_SHARE, MAX_SCORE

HORIZONS = ("short", "medium", "long")
DIMENSION_COUNT = 5
COUNTERMEASURE_COUNT = 4
LEVEL_COUNT = 5
ITEMS_PER_DIMENSION = (6, 10)
TOTAL_ITEMS = (30, 50)
OPTIONS_PER_ITEM = MAX_SCORE + 1
MIN_RULES_PER_COUNTERMEASURE = 3
WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Issue:
    source: str
    element: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.element}: {self.field}: {self.message}"


class DefinitionError(ValueError):
    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def read_definition(path: str | Path) -> dict[str, Any]:
    """Parse a YAML (or JSON) definition file and validate it; raise DefinitionError on any problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Issue(source, "file", "-", f"cannot be read: {exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError([Issue(source, "file", "-", f"is not valid YAML/JSON: {exc}")]) from exc
    issues = validate_definition(data, source=source)
    if issues:
        raise DefinitionError(issues)
    return normalize_definition(data)


def normalize_definition(data: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form: defaults filled in, numbers as floats, so that equal definitions compare equal."""

    def text(value: Any) -> str:
        return "" if value is None else str(value).strip()

    return {
        "version": text(data["version"]),
        "title_zh": text(data["title_zh"]),
        "title_en": text(data["title_en"]),
        "description_zh": text(data.get("description_zh")),
        "description_en": text(data.get("description_en")),
        "problems": [
            {
                "code": p["code"],
                "dimension": p["dimension"],
                "text_zh": text(p["text_zh"]),
                "text_en": text(p["text_en"]),
            }
            for p in data.get("problems") or []
        ],
        "dimensions": [
            {
                "code": d["code"],
                "name_zh": text(d["name_zh"]),
                "name_en": text(d["name_en"]),
                "problem_zh": text(d["problem_zh"]),
                "problem_en": text(d["problem_en"]),
                "description_zh": text(d["description_zh"]),
                "description_en": text(d["description_en"]),
                "weight": round(float(d["weight"]), 4),
                "items": [
                    {
                        "code": i["code"],
                        "text_zh": text(i["text_zh"]),
                        "text_en": text(i["text_en"]),
                        "help_zh": text(i.get("help_zh")),
                        "help_en": text(i.get("help_en")),
                        "weight": round(float(i.get("weight", 1)), 3),
                        "allows_unknown": bool(i["allows_unknown"]),
                        "allows_na": bool(i["allows_na"]),
                        "covers": list(i.get("covers") or []),
                        "options": [
                            {"score": int(o["score"]), "label_zh": text(o["label_zh"]), "label_en": text(o["label_en"])}
                            for o in i["options"]
                        ],
                    }
                    for i in d["items"]
                ],
            }
            for d in data["dimensions"]
        ],
        "levels": [
            {
                "code": lv["code"],
                "name_zh": text(lv["name_zh"]),
                "name_en": text(lv["name_en"]),
                "description_zh": text(lv["description_zh"]),
                "description_en": text(lv["description_en"]),
                "min_index": round(float(lv["min_index"]), 2),
            }
            for lv in data["levels"]
        ],
        "gates": [_normalize_gate(g, text) for g in data.get("gates") or []],
        "countermeasures": [
            {
                "code": c["code"],
                "title_zh": text(c["title_zh"]),
                "title_en": text(c["title_en"]),
                "heading_zh": text(c["heading_zh"]),
                "description_zh": text(c["description_zh"]),
                "description_en": text(c["description_en"]),
                "rules": [
                    {
                        "code": r["code"],
                        "trigger": _normalize_trigger(r["trigger"]),
                        "priority": int(r["priority"]),
                        "horizon": r["horizon"],
                        "text_zh": text(r["text_zh"]),
                        "text_en": text(r["text_en"]),
                    }
                    for r in c["rules"]
                ],
            }
            for c in data["countermeasures"]
        ],
    }


def gate_params(gate: Mapping[str, Any]) -> dict[str, Any]:
    kind = gate["kind"]
    if kind == GATE_AREA_FLOOR:
        return {"min_score": int(gate["min_score"]), "min_share": float(gate["min_share"])}
    if kind == GATE_KEY_ITEMS:
        return {"requirements": [{"item": r["item"], "min_score": int(r["min_score"])} for r in gate["requirements"]]}
    return {"max_share": float(gate["max_share"])}


def _normalize_gate(gate: Mapping[str, Any], text) -> dict[str, Any]:
    return {
        "code": gate["code"],
        "kind": gate["kind"],
        "guards_level": gate["guards_level"],
        **gate_params(gate),
        "reason_zh": text(gate["reason_zh"]),
        "reason_en": text(gate["reason_en"]),
    }


def _normalize_trigger(trigger: Mapping[str, Any]) -> dict[str, Any]:
    if "item" in trigger:
        return {"item": trigger["item"], "at_most": int(trigger["at_most"])}
    if "dimension" in trigger:
        return {"dimension": trigger["dimension"], "below": float(trigger["below"])}
    return {"gate": trigger["gate"]}


def definition_fingerprint(definition: Mapping[str, Any]) -> str:
    canonical = json.dumps(definition, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def diff_definitions(old: Any, new: Any, path: str = "") -> list[str]:
    """Human-readable list of where two normalized definitions differ (codes, not list positions)."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else key
            if key not in old:
                changes.append(f"{where}: added")
            elif key not in new:
                changes.append(f"{where}: removed")
            else:
                changes.extend(diff_definitions(old[key], new[key], where))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if all(isinstance(x, dict) and "code" in x for x in old + new):
            old_by = {x["code"]: x for x in old}
            new_by = {x["code"]: x for x in new}
            changes = []
            for code in list(dict.fromkeys([*old_by, *new_by])):
                where = f"{path}[{code}]"
                if code not in old_by:
                    changes.append(f"{where}: added")
                elif code not in new_by:
                    changes.append(f"{where}: removed")
                else:
                    changes.extend(diff_definitions(old_by[code], new_by[code], where))
            if not changes and [x["code"] for x in old] != [x["code"] for x in new]:
                changes.append(f"{path}: order changed")
            return changes
        if old != new:
            return [f"{path}: {old!r} -> {new!r}"]
        return []
    if old != new:
        return [f"{path}: {old!r} -> {new!r}"]
    return []


# --- validation -------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.issues: list[Issue] = []

    def add(self, element: str, field: str, message: str) -> None:
        self.issues.append(Issue(self.source, element, field, message))

    def text(self, obj: Mapping[str, Any], element: str, *fields: str) -> None:
        for name in fields:
            value = obj.get(name)
            if not isinstance(value, str) or not value.strip():
                label = "translation" if name.endswith("_en") else "text"
                self.add(element, name, f"missing {label}")

    def number(self, obj: Mapping[str, Any], element: str, name: str, low: float, high: float) -> float | None:
        value = obj.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.add(element, name, f"must be a number between {low} and {high}")
            return None
        if not low <= value <= high:
            self.add(element, name, f"{value} is outside {low}–{high}")
            return None
        return float(value)

    def boolean(self, obj: Mapping[str, Any], element: str, name: str) -> None:
        if not isinstance(obj.get(name), bool):
            self.add(element, name, "must be true or false")

    def code(self, obj: Mapping[str, Any], element_kind: str, seen: set[str]) -> str:
        code = obj.get("code")
        if not isinstance(code, str) or not code.strip():
            self.add(element_kind, "code", "missing code")
            return f"{element_kind}?"
        if code in seen:
            self.add(f"{element_kind} {code}", "code", "duplicate code")
        seen.add(code)
        return code

    def items_of(self, obj: Mapping[str, Any], element: str, name: str) -> list[Any]:
        value = obj.get(name)
        if not isinstance(value, list):
            self.add(element, name, "must be a list")
            return []
        bad = [x for x in value if not isinstance(x, dict)]
        if bad:
            self.add(element, name, "every entry must be a mapping")
            return [x for x in value if isinstance(x, dict)]
        return value


def validate_definition(data: Any, *, source: str) -> list[Issue]:
    check = _Checker(source)
    if not isinstance(data, dict):
        check.add("file", "-", "must contain a mapping at the top level")
        return check.issues

    version = data.get("version")
    if not isinstance(version, str | int | float) or isinstance(version, bool) or not str(version).strip():
        check.add("questionnaire", "version", "missing version")
    check.text(data, "questionnaire", "title_zh", "title_en")

    dimension_codes: set[str] = set()
    item_codes: set[str] = set()
    problem_codes: set[str] = set()
    covered: set[str] = set()
    item_allows_na: dict[str, bool] = {}

    dimensions = check.items_of(data, "questionnaire", "dimensions")
    if len(dimensions) != DIMENSION_COUNT:
        check.add("questionnaire", "dimensions", f"expected {DIMENSION_COUNT} dimensions, found {len(dimensions)}")
    weights: list[float] = []
    total_items = 0
    for dim in dimensions:
        code = check.code(dim, "dimension", dimension_codes)
        element = f"dimension {code}"
        check.text(dim, element, "name_zh", "name_en", "problem_zh", "problem_en", "description_zh", "description_en")
        weight = check.number(dim, element, "weight", 0, 1)
        if weight is not None:
            weights.append(weight)
        items = check.items_of(dim, element, "items")
        low, high = ITEMS_PER_DIMENSION
        if not low <= len(items) <= high:
            check.add(element, "items", f"expected {low}–{high} items, found {len(items)}")
        total_items += len(items)
        for item in items:
            item_code = check.code(item, "item", item_codes)
            item_element = f"item {item_code}"
            check.text(item, item_element, "text_zh", "text_en")
            for optional in ("help_zh", "help_en"):
                if optional in item and item[optional] is not None and not isinstance(item[optional], str):
                    check.add(item_element, optional, "must be text")
            if bool(item.get("help_zh")) != bool(item.get("help_en")):
                check.add(item_element, "help_en" if item.get("help_zh") else "help_zh", "missing translation")
            if "weight" in item:
                check.number(item, item_element, "weight", 0.001, 100)
            check.boolean(item, item_element, "allows_unknown")
            check.boolean(item, item_element, "allows_na")
            item_allows_na[item_code] = bool(item.get("allows_na"))
            covers = item.get("covers") or []
            if not isinstance(covers, list):
                check.add(item_element, "covers", "must be a list of problem codes")
                covers = []
            covered.update(c for c in covers if isinstance(c, str))
            options = item.get("options")
            if not isinstance(options, list) or len(options) != OPTIONS_PER_ITEM:
                found = len(options) if isinstance(options, list) else 0
                check.add(item_element, "options", f"expected {OPTIONS_PER_ITEM} options, found {found}")
                continue
            for expected, option in enumerate(options):
                if not isinstance(option, dict):
                    check.add(item_element, f"options[{expected}]", "must be a mapping")
                    continue
                if option.get("score") != expected or isinstance(option.get("score"), bool):
                    check.add(item_element, f"options[{expected}].score", f"must be {expected} (scores 0–4 in order)")
                check.text(option, f"{item_element} option {expected}", "label_zh", "label_en")
    low, high = TOTAL_ITEMS
    if dimensions and not low <= total_items <= high:
        check.add("questionnaire", "dimensions", f"expected {low}–{high} items in all, found {total_items}")
    if len(weights) == len(dimensions) and dimensions and abs(sum(weights) - 1) > WEIGHT_TOLERANCE:
        check.add("questionnaire", "dimensions.weight", f"weights must sum to 1, they sum to {sum(weights):g}")

    for problem in check.items_of(data, "questionnaire", "problems"):
        code = check.code(problem, "problem", problem_codes)
        check.text(problem, f"problem {code}", "text_zh", "text_en")
        if problem.get("dimension") not in dimension_codes:
            check.add(f"problem {code}", "dimension", f"unknown dimension {problem.get('dimension')!r}")
    for dim in dimensions:
        for item in dim.get("items") or []:
            if isinstance(item, dict):
                for c in item.get("covers") or []:
                    if c not in problem_codes:
                        check.add(f"item {item.get('code')}", "covers", f"unknown problem {c!r}")
    for code in sorted(problem_codes - covered):
        check.add(f"problem {code}", "covers", "no item covers this problem")

    level_codes: list[str] = []
    levels = check.items_of(data, "questionnaire", "levels")
    if len(levels) != LEVEL_COUNT:
        check.add("questionnaire", "levels", f"expected {LEVEL_COUNT} levels, found {len(levels)}")
    previous = None
    seen_levels: set[str] = set()
    for position, level in enumerate(levels):
        code = check.code(level, "level", seen_levels)
        level_codes.append(code)
        element = f"level {code}"
        check.text(level, element, "name_zh", "name_en", "description_zh", "description_en")
        minimum = check.number(level, element, "min_index", 0, 100)
        if minimum is not None:
            if position == 0 and minimum != 0:
                check.add(element, "min_index", "the first level must start at 0")
            if previous is not None and minimum <= previous:
                check.add(element, "min_index", "thresholds must increase strictly")
            previous = minimum

    gate_codes: set[str] = set()
    for gate in check.items_of(data, "questionnaire", "gates"):
        code = check.code(gate, "gate", gate_codes)
        element = f"gate {code}"
        check.text(gate, element, "reason_zh", "reason_en")
        if gate.get("guards_level") not in level_codes:
            check.add(element, "guards_level", f"unknown level {gate.get('guards_level')!r}")
        kind = gate.get("kind")
        if kind not in GATE_KINDS:
            check.add(element, "kind", f"must be one of {', '.join(GATE_KINDS)}")
        elif kind == GATE_AREA_FLOOR:
            check.number(gate, element, "min_score", 0, MAX_SCORE)
            check.number(gate, element, "min_share", 0, 1)
        elif kind == GATE_KEY_ITEMS:
            requirements = check.items_of(gate, element, "requirements")
            if not requirements:
                check.add(element, "requirements", "needs at least one item")
            for requirement in requirements:
                if requirement.get("item") not in item_codes:
                    check.add(element, "requirements.item", f"unknown item {requirement.get('item')!r}")
                score = requirement.get("min_score")
                if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
                    check.add(element, "requirements.min_score", "must be a whole number 0–4")
        elif kind == GATE_UNKNOWN_SHARE:
            check.number(gate, element, "max_share", 0, 1)

    rule_codes: set[str] = set()
    countermeasure_codes: set[str] = set()
    rules_for_dimension: set[str] = set()
    item_dimension = {
        item.get("code"): dim.get("code")
        for dim in dimensions
        for item in dim.get("items") or []
        if isinstance(item, dict)
    }
    countermeasures = check.items_of(data, "questionnaire", "countermeasures")
    if len(countermeasures) != COUNTERMEASURE_COUNT:
        check.add(
            "questionnaire",
            "countermeasures",
            f"expected {COUNTERMEASURE_COUNT} countermeasures, found {len(countermeasures)}",
        )
    for cm in countermeasures:
        code = check.code(cm, "countermeasure", countermeasure_codes)
        element = f"countermeasure {code}"
        check.text(cm, element, "title_zh", "title_en", "heading_zh", "description_zh", "description_en")
        rules = check.items_of(cm, element, "rules")
        if len(rules) < MIN_RULES_PER_COUNTERMEASURE:
            check.add(element, "rules", f"needs at least {MIN_RULES_PER_COUNTERMEASURE} rules, found {len(rules)}")
        for rule in rules:
            rule_code = check.code(rule, "rule", rule_codes)
            rule_element = f"rule {rule_code}"
            check.text(rule, rule_element, "text_zh", "text_en")
            priority = rule.get("priority")
            if isinstance(priority, bool) or priority not in (1, 2, 3):
                check.add(rule_element, "priority", "must be 1, 2 or 3")
            if rule.get("horizon") not in HORIZONS:
                check.add(rule_element, "horizon", f"must be one of {', '.join(HORIZONS)}")
            trigger = rule.get("trigger")
            if not isinstance(trigger, dict) or len({"item", "dimension", "gate"} & set(trigger)) != 1:
                check.add(rule_element, "trigger", "must name exactly one of item, dimension or gate")
                continue
            if "item" in trigger:
                if trigger["item"] not in item_codes:
                    check.add(rule_element, "trigger.item", f"unknown trigger item {trigger['item']!r}")
                else:
                    rules_for_dimension.add(item_dimension[trigger["item"]])
                at_most = trigger.get("at_most")
                if isinstance(at_most, bool) or not isinstance(at_most, int) or not 0 <= at_most < MAX_SCORE:
                    check.add(rule_element, "trigger.at_most", "must be a whole number 0–3")
            elif "dimension" in trigger:
                if trigger["dimension"] not in dimension_codes:
                    check.add(rule_element, "trigger.dimension", f"unknown trigger dimension {trigger['dimension']!r}")
                else:
                    rules_for_dimension.add(trigger["dimension"])
                if "below" in trigger:
                    check.number(trigger, rule_element, "below", 0.01, 100)
                else:
                    check.add(rule_element, "trigger.below", "missing threshold")
            elif trigger["gate"] not in gate_codes:
                check.add(rule_element, "trigger.gate", f"unknown trigger gate {trigger['gate']!r}")
    for code in sorted(dimension_codes - rules_for_dimension):
        check.add(f"dimension {code}", "rules", "no recommendation rule covers this dimension")
    return check.issues
