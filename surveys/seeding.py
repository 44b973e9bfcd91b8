"""Read and validate questionnaire definitions (seeds/README.md) before anything touches the database.

Validation is exhaustive: every problem is reported at once, each naming the file, the code of the
element (dimension, item, gate, rule …) and the field, so that an editor can fix a seed in one pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .scoring import (
    GATE_AREA_FLOOR,
    GATE_KEY_ITEMS,
    GATE_KINDS,
    GATE_UNKNOWN_SHARE,
    ITEM_OWNERS,
    MAX_SCORE,
    RULES_VERSION_1,
    RULES_VERSIONS,
)

HORIZONS = ("short", "medium", "long")
# Who leads a step, a rule or a path: the item owners' departments (scoring.ITEM_OWNERS).
DEPARTMENTS = ITEM_OWNERS
# An item's `horizons`: the horizon of the step to option 1, 2, 3 and 4.
STEP_HORIZONS = MAX_SCORE
PROBLEM_SCOPE_FIRM = "firm"
PROBLEM_SCOPE_CITY = "city"
PROBLEM_SCOPES = (PROBLEM_SCOPE_FIRM, PROBLEM_SCOPE_CITY)
PROGRAMME_LEVELS = ("national", "shandong", "jinan")
URL_SCHEMES = ("https://", "http://")
PATH_PRIORITY_MAX = 50
MIN_CONTEXT_OPTIONS = 2
# Column lengths of the rows these values go to (surveys/models.py), checked here so that a seed never
# fails half-way through a load.
CODE_MAX_LENGTH = 32
NAME_MAX_LENGTH = {"name_zh": 200, "name_en": 300}
URL_MAX_LENGTH = 500
USED_BY_MAX_LENGTH = 64
DIMENSION_COUNT = 5
COUNTERMEASURE_COUNT = 4
LEVEL_COUNT = 5
ITEMS_PER_DIMENSION = (6, 10)
TOTAL_ITEMS = (30, 50)
OPTIONS_PER_ITEM = MAX_SCORE + 1
MIN_RULES_PER_COUNTERMEASURE = 3
WEIGHT_TOLERANCE = 1e-6
MAX_RULES_VERSION = max(RULES_VERSIONS)


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


def bilingual(read: Callable[[str], Any], *fields: str) -> dict[str, Any]:
    """``{"<field>_zh": read("<field>_zh"), "<field>_en": read("<field>_en"), …}``: every text of the seed
    schema comes in both languages, read the same way from a YAML mapping or a model row."""
    return {f"{field}_{lang}": read(f"{field}_{lang}") for field in fields for lang in ("zh", "en")}


def normalize_definition(data: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form: defaults filled in, numbers as floats, so that equal definitions compare equal."""

    def text(value: Any) -> str:
        return "" if value is None else str(value).strip()

    def texts(source: Mapping[str, Any], *fields: str) -> dict[str, str]:
        return bilingual(lambda key: text(source.get(key)), *fields)

    # An item's covers are a set (stored as such): listed in the order of the problems, as exported.
    problem_order = {p["code"]: position for position, p in enumerate(data.get("problems") or [])}

    return {
        "version": text(data["version"]),
        "rules_version": int(data.get("rules_version", RULES_VERSION_1)),
        **texts(data, "title", "description"),
        "problems": [
            {
                "code": p["code"],
                "dimension": p["dimension"],
                **texts(p, "text"),
                **omit_defaults(
                    scope=PROBLEM_SCOPE_CITY if p.get("scope") == PROBLEM_SCOPE_CITY else "",
                    related_items=list(p.get("related_items") or []),
                ),
            }
            for p in data.get("problems") or []
        ],
        "dimensions": [
            {
                "code": d["code"],
                **texts(d, "name", "problem", "description"),
                "weight": round(float(d["weight"]), 4),
                "items": [
                    {
                        "code": i["code"],
                        **texts(i, "text", "help"),
                        "weight": round(float(i.get("weight", 1)), 3),
                        "allows_unknown": bool(i["allows_unknown"]),
                        "allows_na": bool(i["allows_na"]),
                        "owner": text(i.get("owner")),
                        **_normalize_step(i, texts, text),
                        "covers": sorted(dict.fromkeys(i.get("covers") or []), key=problem_order.__getitem__),
                        "options": [{"score": int(o["score"]), **texts(o, "label")} for o in i["options"]],
                    }
                    for i in d["items"]
                ],
            }
            for d in data["dimensions"]
        ],
        "levels": [
            {
                "code": lv["code"],
                **texts(lv, "name", "description"),
                "min_index": round(float(lv["min_index"]), 2),
            }
            for lv in data["levels"]
        ],
        "gates": [_normalize_gate(g, text) for g in data.get("gates") or []],
        "countermeasures": [
            {
                "code": c["code"],
                **texts(c, "title", "description"),
                "heading_zh": text(c["heading_zh"]),
                "rules": [
                    {
                        "code": r["code"],
                        "trigger": _normalize_trigger(r["trigger"]),
                        "priority": int(r["priority"]),
                        "horizon": r["horizon"],
                        **texts(r, "text"),
                        **omit_defaults(lead=text(r.get("lead")), programmes=list(r.get("programmes") or [])),
                    }
                    for r in c["rules"]
                ],
            }
            for c in data["countermeasures"]
        ],
        **omit_defaults(
            programmes=[
                {"code": p["code"], "level": p["level"], **texts(p, "name"), **omit_defaults(url=text(p.get("url")))}
                for p in data.get("programmes") or []
            ],
            paths=[_normalize_path(p, texts, text) for p in data.get("paths") or []],
            context_questions=[_normalize_context_question(q, texts) for q in data.get("context_questions") or []],
        ),
    }


def omit_defaults(**values: Any) -> dict[str, Any]:
    """The optional keys whose values are not the default (empty text, empty list, None): the additions of
    2026.2 (seeds/README.md) appear in a definition only where used, so a version without them reads, stores
    and exports exactly as before they existed."""
    return {key: value for key, value in values.items() if value is not None and value != "" and value != []}


def _normalize_step(item: Mapping[str, Any], texts: Callable[..., dict[str, str]], text) -> dict[str, Any]:
    """An item's next-rung step (action, lead, horizons, programmes), only the keys it gives."""
    actions = texts(item, "action")
    return {
        **(actions if any(actions.values()) else {}),
        **omit_defaults(
            lead=text(item.get("lead")),
            horizons=list(item.get("horizons") or []),
            programmes=list(item.get("programmes") or []),
        ),
    }


def _normalize_path(path: Mapping[str, Any], texts: Callable[..., dict[str, str]], text) -> dict[str, Any]:
    return {
        "code": path["code"],
        "min_level": path["min_level"],
        "countermeasure": path["countermeasure"],
        "lead": path["lead"],
        "horizon": path["horizon"],
        "priority": round(float(path["priority"]), 2),
        **texts(path, "text", "done"),
        **omit_defaults(programmes=list(path.get("programmes") or [])),
    }


def _normalize_context_question(question: Mapping[str, Any], texts: Callable[..., dict[str, str]]) -> dict[str, Any]:
    return {
        "code": question["code"],
        **texts(question, "text", "help"),
        "multiple": bool(question["multiple"]),
        **omit_defaults(max_choices=question.get("max_choices")),
        "used_by": str(question["used_by"]).strip(),
        "options": [
            {"code": o["code"], **texts(o, "label"), **({"other": True} if o.get("other") else {})}
            for o in question["options"]
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
        **bilingual(lambda key: text(gate.get(key)), "reason"),
    }


def _normalize_trigger(trigger: Mapping[str, Any]) -> dict[str, Any]:
    if "item" in trigger:
        return {"item": trigger["item"], "at_most": int(trigger["at_most"])}
    if "dimension" in trigger:
        return {"dimension": trigger["dimension"], "below": float(trigger["below"])}
    return {"gate": trigger["gate"]}


def diff_definitions(old: Any, new: Any, path: str = "") -> list[str]:
    """Human-readable list of where two normalized definitions differ (codes, not list positions)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return _diff_by_key(old, new, keys, lambda key: f"{path}.{key}" if path else key)
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, dict) and "code" in x for x in old + new):
        old_by = {x["code"]: x for x in old}
        new_by = {x["code"]: x for x in new}
        changes = _diff_by_key(old_by, new_by, list(dict.fromkeys([*old_by, *new_by])), lambda code: f"{path}[{code}]")
        if not changes and [x["code"] for x in old] != [x["code"] for x in new]:
            changes.append(f"{path}: order changed")
        return changes
    if old != new:
        return [f"{path}: {old!r} -> {new!r}"]
    return []


def _diff_by_key(
    old: Mapping[Any, Any], new: Mapping[Any, Any], keys: list[Any], where: Callable[[Any], str]
) -> list[str]:
    changes = []
    for key in keys:
        if key not in old:
            changes.append(f"{where(key)}: added")
        elif key not in new:
            changes.append(f"{where(key)}: removed")
        else:
            changes.extend(diff_definitions(old[key], new[key], where(key)))
    return changes


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

    def optional_pair(self, obj: Mapping[str, Any], element: str, name: str) -> None:
        """``<name>_zh``/``<name>_en`` may be left out, as text and in both languages or neither."""
        for lang in ("zh", "en"):
            key = f"{name}_{lang}"
            if obj.get(key) is not None and not isinstance(obj[key], str):
                self.add(element, key, "must be text")
        zh, en = obj.get(f"{name}_zh"), obj.get(f"{name}_en")
        if bool(zh) != bool(en):
            self.add(element, f"{name}_en" if zh else f"{name}_zh", "missing translation" if zh else "missing text")

    def one_of(self, obj: Mapping[str, Any], element: str, name: str, allowed: tuple[str, ...]) -> bool:
        if not _known(obj.get(name), allowed):
            self.add(element, name, f"must be one of {', '.join(allowed)}")
            return False
        return True

    def max_length(self, obj: Mapping[str, Any], element: str, name: str, limit: int) -> None:
        value = obj.get(name)
        if isinstance(value, str) and len(value.strip()) > limit:
            self.add(element, name, f"longer than {limit} characters")

    def codes_of(self, obj: Mapping[str, Any], element: str, name: str, kind: str, known: set[str]) -> list[str]:
        """An optional list of codes (``programmes``, ``related_items`` …), each one of ``known``."""
        value = obj.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(element, name, f"must be a list of {kind} codes")
            return []
        for code in value:
            if not _known(code, known):
                self.add(element, name, f"unknown {kind} {code!r}")
        repeated = sorted({c for c in value if isinstance(c, str) and value.count(c) > 1})
        if repeated:
            self.add(element, name, f"lists {', '.join(repeated)} more than once")
        return [c for c in value if isinstance(c, str)]

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


@dataclass
class _Codes:
    """The codes declared so far, for the cross-references checked after them."""

    dimensions: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    problems: set[str] = field(default_factory=set)
    covered: set[str] = field(default_factory=set)  # problems that some item covers
    levels: list[str] = field(default_factory=list)
    gates: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    dimensions_with_rules: set[str] = field(default_factory=set)
    countermeasures: set[str] = field(default_factory=set)
    city_problems: set[str] = field(default_factory=set)
    programmes: set[str] = field(default_factory=set)


def _known(value: Any, codes: set[str] | list[str] | tuple[str, ...]) -> bool:
    """``value`` is one of ``codes`` (a list or mapping in a broken file is simply unknown)."""
    return isinstance(value, str) and value in codes


def validate_definition(data: Any, *, source: str) -> list[Issue]:
    """Every problem of a seed/export definition, in the order of the file (an empty list: valid)."""
    check = _Checker(source)
    if not isinstance(data, dict):
        check.add("file", "-", "must contain a mapping at the top level")
        return check.issues
    codes = _Codes()
    version = data.get("version")
    if not isinstance(version, str | int | float) or isinstance(version, bool) or not str(version).strip():
        check.add("questionnaire", "version", "missing version")
    rules_version = data.get("rules_version", RULES_VERSION_1)
    if not _whole_number(rules_version, 0, MAX_RULES_VERSION) or rules_version not in RULES_VERSIONS:
        versions = " or ".join(str(v) for v in RULES_VERSIONS)
        check.add("questionnaire", "rules_version", f"must be {versions}")
    check.text(data, "questionnaire", "title_zh", "title_en")
    _check_programmes(check, data, codes)  # first: items, rules and paths refer to them
    dimensions = _check_dimensions(check, data, codes, steps_required=_whole_number(rules_version, 2, 2))
    _check_problems(check, data, dimensions, codes)
    _check_levels(check, data, codes)
    for gate in check.items_of(data, "questionnaire", "gates"):
        _check_gate(check, gate, codes)
    _check_countermeasures(check, data, dimensions, codes)
    _check_paths(check, data, codes)
    _check_context_questions(check, data, codes)
    return check.issues


def _check_dimensions(check: _Checker, data: Mapping[str, Any], codes: _Codes, *, steps_required: bool) -> list[Any]:
    dimensions = check.items_of(data, "questionnaire", "dimensions")
    if len(dimensions) != DIMENSION_COUNT:
        check.add("questionnaire", "dimensions", f"expected {DIMENSION_COUNT} dimensions, found {len(dimensions)}")
    weights: list[float] = []
    total_items = 0
    for dim in dimensions:
        weight, item_count = _check_dimension(check, dim, codes, steps_required=steps_required)
        if weight is not None:
            weights.append(weight)
        total_items += item_count
    low, high = TOTAL_ITEMS
    if dimensions and not low <= total_items <= high:
        check.add("questionnaire", "dimensions", f"expected {low}–{high} items in all, found {total_items}")
    if len(weights) == len(dimensions) and dimensions and abs(sum(weights) - 1) > WEIGHT_TOLERANCE:
        check.add("questionnaire", "dimensions.weight", f"weights must sum to 1, they sum to {sum(weights):g}")
    return dimensions


def _check_dimension(
    check: _Checker, dim: Mapping[str, Any], codes: _Codes, *, steps_required: bool
) -> tuple[float | None, int]:
    """The dimension's weight (None if invalid) and its number of items."""
    code = check.code(dim, "dimension", codes.dimensions)
    element = f"dimension {code}"
    check.text(dim, element, "name_zh", "name_en", "problem_zh", "problem_en", "description_zh", "description_en")
    weight = check.number(dim, element, "weight", 0, 1)
    items = check.items_of(dim, element, "items")
    low, high = ITEMS_PER_DIMENSION
    if not low <= len(items) <= high:
        check.add(element, "items", f"expected {low}–{high} items, found {len(items)}")
    for item in items:
        _check_item(check, item, codes, steps_required=steps_required)
    return weight, len(items)


def _check_item(check: _Checker, item: Mapping[str, Any], codes: _Codes, *, steps_required: bool) -> None:
    element = f"item {check.code(item, 'item', codes.items)}"
    check.text(item, element, "text_zh", "text_en")
    for optional in ("help_zh", "help_en"):
        if optional in item and item[optional] is not None and not isinstance(item[optional], str):
            check.add(element, optional, "must be text")
    if bool(item.get("help_zh")) != bool(item.get("help_en")):
        check.add(element, "help_en" if item.get("help_zh") else "help_zh", "missing translation")
    _check_step(check, item, element, codes, required=steps_required)
    if "weight" in item:
        check.number(item, element, "weight", 0.001, 100)
    check.boolean(item, element, "allows_unknown")
    check.boolean(item, element, "allows_na")
    if item.get("owner") not in (None, "", *ITEM_OWNERS):
        check.add(element, "owner", f"must be one of {', '.join(ITEM_OWNERS)}")
    covers = item.get("covers") or []
    if not isinstance(covers, list):
        check.add(element, "covers", "must be a list of problem codes")
        covers = []
    codes.covered.update(c for c in covers if isinstance(c, str))
    _check_options(check, item, element)


def _check_step(check: _Checker, item: Mapping[str, Any], element: str, codes: _Codes, *, required: bool) -> None:
    """The item's next-rung step (seeds/README.md, "Additions used by 2026.2"): optional, except that rules
    version 2 needs the action texts, the horizons and an owner or lead on every item."""
    if required:
        for name in ("action_zh", "action_en"):
            value = item.get(name)
            if not isinstance(value, str) or not value.strip():
                label = "translation" if name.endswith("_en") else "text"
                check.add(element, name, f"missing {label} (rules version 2 needs the next-rung action)")
    else:
        check.optional_pair(item, element, "action")
    if item.get("lead") not in (None, "") and not _known(item.get("lead"), DEPARTMENTS):
        check.add(element, "lead", f"must be one of {', '.join(DEPARTMENTS)}")
    _check_horizons(check, item, element, required=required)
    if required and not item.get("owner") and not item.get("lead"):
        check.add(element, "lead", "missing owner or lead (rules version 2 names who leads each step)")
    check.codes_of(item, element, "programmes", "programme", codes.programmes)


def _check_horizons(check: _Checker, item: Mapping[str, Any], element: str, *, required: bool) -> None:
    horizons = item.get("horizons")
    if horizons is None:
        if required:
            check.add(element, "horizons", "missing horizons (rules version 2 needs the horizon of each step)")
    elif not isinstance(horizons, list) or len(horizons) != STEP_HORIZONS:
        found = len(horizons) if isinstance(horizons, list) else 0
        check.add(element, "horizons", f"expected {STEP_HORIZONS} horizons (steps to options 1–4), found {found}")
    else:
        for horizon in horizons:
            if not _known(horizon, HORIZONS):
                check.add(element, "horizons", f"unknown horizon {horizon!r}, must be one of {', '.join(HORIZONS)}")


def _check_options(check: _Checker, item: Mapping[str, Any], element: str) -> None:
    options = item.get("options")
    if not isinstance(options, list) or len(options) != OPTIONS_PER_ITEM:
        found = len(options) if isinstance(options, list) else 0
        check.add(element, "options", f"expected {OPTIONS_PER_ITEM} options, found {found}")
        return
    for expected, option in enumerate(options):
        if not isinstance(option, dict):
            check.add(element, f"options[{expected}]", "must be a mapping")
            continue
        if option.get("score") != expected or isinstance(option.get("score"), bool):
            check.add(element, f"options[{expected}].score", f"must be {expected} (scores 0–4 in order)")
        check.text(option, f"{element} option {expected}", "label_zh", "label_en")


def _check_problems(check: _Checker, data: Mapping[str, Any], dimensions: list[Any], codes: _Codes) -> None:
    """The problems, the items' references to them, and the problems no item covers."""
    for problem in check.items_of(data, "questionnaire", "problems"):
        code = check.code(problem, "problem", codes.problems)
        check.text(problem, f"problem {code}", "text_zh", "text_en")
        if problem.get("dimension") not in codes.dimensions:
            check.add(f"problem {code}", "dimension", f"unknown dimension {problem.get('dimension')!r}")
        _check_problem_scope(check, problem, f"problem {code}", codes)
    for item in _item_mappings(dimensions):
        for c in item.get("covers") or []:
            if c not in codes.problems:
                check.add(f"item {item.get('code')}", "covers", f"unknown problem {c!r}")
            elif c in codes.city_problems:
                check.add(f"item {item.get('code')}", "covers", f"{c!r} is a city problem, which no item may cover")
    # City problems are context for the city report: no item covers them (list related_items instead).
    for code in sorted(codes.problems - codes.covered - codes.city_problems):
        check.add(f"problem {code}", "covers", "no item covers this problem")


def _check_problem_scope(check: _Checker, problem: Mapping[str, Any], element: str, codes: _Codes) -> None:
    scope = problem.get("scope")
    if scope is not None and not _known(scope, PROBLEM_SCOPES):
        check.add(element, "scope", f"must be one of {', '.join(PROBLEM_SCOPES)}")
        return
    related = check.codes_of(problem, element, "related_items", "item", codes.items)
    if scope == PROBLEM_SCOPE_CITY:
        if isinstance(problem.get("code"), str):
            codes.city_problems.add(problem["code"])
    elif related:
        check.add(element, "related_items", "only a city problem (scope: city) lists related items")


def _item_mappings(dimensions: list[Any]) -> list[Mapping[str, Any]]:
    return [item for dim in dimensions for item in dim.get("items") or [] if isinstance(item, dict)]


def _check_levels(check: _Checker, data: Mapping[str, Any], codes: _Codes) -> None:
    levels = check.items_of(data, "questionnaire", "levels")
    if len(levels) != LEVEL_COUNT:
        check.add("questionnaire", "levels", f"expected {LEVEL_COUNT} levels, found {len(levels)}")
    previous = None
    seen: set[str] = set()
    for position, level in enumerate(levels):
        code = check.code(level, "level", seen)
        codes.levels.append(code)
        element = f"level {code}"
        check.text(level, element, "name_zh", "name_en", "description_zh", "description_en")
        minimum = check.number(level, element, "min_index", 0, 100)
        if minimum is None:
            continue
        if position == 0 and minimum != 0:
            check.add(element, "min_index", "the first level must start at 0")
        if previous is not None and minimum <= previous:
            check.add(element, "min_index", "thresholds must increase strictly")
        previous = minimum


def _check_gate(check: _Checker, gate: Mapping[str, Any], codes: _Codes) -> None:
    element = f"gate {check.code(gate, 'gate', codes.gates)}"
    check.text(gate, element, "reason_zh", "reason_en")
    if gate.get("guards_level") not in codes.levels:
        check.add(element, "guards_level", f"unknown level {gate.get('guards_level')!r}")
    kind = gate.get("kind")
    if kind not in GATE_KINDS:
        check.add(element, "kind", f"must be one of {', '.join(GATE_KINDS)}")
    elif kind == GATE_AREA_FLOOR:
        check.number(gate, element, "min_score", 0, MAX_SCORE)
        check.number(gate, element, "min_share", 0, 1)
    elif kind == GATE_KEY_ITEMS:
        _check_requirements(check, gate, element, codes)
    elif kind == GATE_UNKNOWN_SHARE:
        check.number(gate, element, "max_share", 0, 1)


def _check_requirements(check: _Checker, gate: Mapping[str, Any], element: str, codes: _Codes) -> None:
    requirements = check.items_of(gate, element, "requirements")
    if not requirements:
        check.add(element, "requirements", "needs at least one item")
    for requirement in requirements:
        if requirement.get("item") not in codes.items:
            check.add(element, "requirements.item", f"unknown item {requirement.get('item')!r}")
        if not _whole_number(requirement.get("min_score"), 0, MAX_SCORE):
            check.add(element, "requirements.min_score", "must be a whole number 0–4")


def _whole_number(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_countermeasures(check: _Checker, data: Mapping[str, Any], dimensions: list[Any], codes: _Codes) -> None:
    """The countermeasures and their rules, and the dimensions that no rule covers."""
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
        element = f"countermeasure {check.code(cm, 'countermeasure', codes.countermeasures)}"
        check.text(cm, element, "title_zh", "title_en", "heading_zh", "description_zh", "description_en")
        rules = check.items_of(cm, element, "rules")
        if len(rules) < MIN_RULES_PER_COUNTERMEASURE:
            check.add(element, "rules", f"needs at least {MIN_RULES_PER_COUNTERMEASURE} rules, found {len(rules)}")
        for rule in rules:
            _check_rule(check, rule, codes, item_dimension)
    for code in sorted(codes.dimensions - codes.dimensions_with_rules):
        check.add(f"dimension {code}", "rules", "no recommendation rule covers this dimension")


def _check_rule(check: _Checker, rule: Mapping[str, Any], codes: _Codes, item_dimension: Mapping[Any, Any]) -> None:
    element = f"rule {check.code(rule, 'rule', codes.rules)}"
    check.text(rule, element, "text_zh", "text_en")
    priority = rule.get("priority")
    if isinstance(priority, bool) or priority not in (1, 2, 3):
        check.add(element, "priority", "must be 1, 2 or 3")
    if rule.get("horizon") not in HORIZONS:
        check.add(element, "horizon", f"must be one of {', '.join(HORIZONS)}")
    if rule.get("lead") not in (None, ""):
        check.one_of(rule, element, "lead", DEPARTMENTS)
    check.codes_of(rule, element, "programmes", "programme", codes.programmes)
    trigger = rule.get("trigger")
    if not isinstance(trigger, dict) or len({"item", "dimension", "gate"} & set(trigger)) != 1:
        check.add(element, "trigger", "must name exactly one of item, dimension or gate")
    elif "item" in trigger:
        if trigger["item"] not in codes.items:
            check.add(element, "trigger.item", f"unknown trigger item {trigger['item']!r}")
        else:
            codes.dimensions_with_rules.add(item_dimension[trigger["item"]])
        if not _whole_number(trigger.get("at_most"), 0, MAX_SCORE - 1):
            check.add(element, "trigger.at_most", "must be a whole number 0–3")
    elif "dimension" in trigger:
        _check_dimension_trigger(check, trigger, element, codes)
    elif trigger["gate"] not in codes.gates:
        check.add(element, "trigger.gate", f"unknown trigger gate {trigger['gate']!r}")


def _check_dimension_trigger(check: _Checker, trigger: Mapping[str, Any], element: str, codes: _Codes) -> None:
    if trigger["dimension"] not in codes.dimensions:
        check.add(element, "trigger.dimension", f"unknown trigger dimension {trigger['dimension']!r}")
    else:
        codes.dimensions_with_rules.add(trigger["dimension"])
    if "below" in trigger:
        check.number(trigger, element, "below", 0.01, 100)
    else:
        check.add(element, "trigger.below", "missing threshold")


# --- additions used by 2026.2 (seeds/README.md): programmes, paths, context questions ----------------


def _check_new_code(check: _Checker, obj: Mapping[str, Any], kind: str, seen: set[str]) -> str:
    code = check.code(obj, kind, seen)
    check.max_length(obj, f"{kind} {code}", "code", CODE_MAX_LENGTH)
    return code


def _check_programmes(check: _Checker, data: Mapping[str, Any], codes: _Codes) -> None:
    if data.get("programmes") is None:
        return
    for programme in check.items_of(data, "questionnaire", "programmes"):
        element = f"programme {_check_new_code(check, programme, 'programme', codes.programmes)}"
        check.one_of(programme, element, "level", PROGRAMME_LEVELS)
        check.text(programme, element, "name_zh", "name_en")
        for name, limit in NAME_MAX_LENGTH.items():
            check.max_length(programme, element, name, limit)
        url = programme.get("url")
        if url is None or url == "":
            continue
        if not isinstance(url, str) or not url.strip().startswith(URL_SCHEMES) or len(url.strip().split()) != 1:
            check.add(element, "url", "must be an address starting with https:// or http://")
        else:
            check.max_length(programme, element, "url", URL_MAX_LENGTH)


def _check_paths(check: _Checker, data: Mapping[str, Any], codes: _Codes) -> None:
    if data.get("paths") is None:
        return
    seen: set[str] = set()
    for path in check.items_of(data, "questionnaire", "paths"):
        element = f"path {_check_new_code(check, path, 'path', seen)}"
        if not _known(path.get("min_level"), codes.levels):
            check.add(element, "min_level", f"unknown level {path.get('min_level')!r}")
        if not _known(path.get("countermeasure"), codes.countermeasures):
            check.add(element, "countermeasure", f"unknown countermeasure {path.get('countermeasure')!r}")
        check.one_of(path, element, "lead", DEPARTMENTS)
        check.one_of(path, element, "horizon", HORIZONS)
        check.number(path, element, "priority", 0, PATH_PRIORITY_MAX)
        check.text(path, element, "text_zh", "text_en", "done_zh", "done_en")
        check.codes_of(path, element, "programmes", "programme", codes.programmes)


def _check_context_questions(check: _Checker, data: Mapping[str, Any], codes: _Codes) -> None:
    if data.get("context_questions") is None:
        return
    seen: set[str] = set()
    for question in check.items_of(data, "questionnaire", "context_questions"):
        code = _check_new_code(check, question, "context question", seen)
        element = f"context question {code}"
        if code in codes.items:
            check.add(element, "code", "is also an item code (context questions need codes of their own)")
        check.text(question, element, "text_zh", "text_en")
        check.optional_pair(question, element, "help")
        check.boolean(question, element, "multiple")
        used_by = question.get("used_by")
        if not isinstance(used_by, str) or not used_by.strip():
            check.add(element, "used_by", "missing used_by (where the answers are used, e.g. city_report)")
        check.max_length(question, element, "used_by", USED_BY_MAX_LENGTH)
        options = _check_context_options(check, question, element)
        max_choices = question.get("max_choices")
        if max_choices is None:
            continue
        if question.get("multiple") is not True:
            check.add(element, "max_choices", "only a question with multiple: true takes max_choices")
        elif not _whole_number(max_choices, 1, 10_000):
            check.add(element, "max_choices", "must be a whole number of at least 1")
        elif len(options) >= MIN_CONTEXT_OPTIONS and max_choices > len(options):
            check.add(element, "max_choices", f"{max_choices} is more than the {len(options)} options")


def _check_context_options(check: _Checker, question: Mapping[str, Any], element: str) -> list[Any]:
    options = check.items_of(question, element, "options")
    if len(options) < MIN_CONTEXT_OPTIONS:
        check.add(element, "options", f"needs at least {MIN_CONTEXT_OPTIONS} options, found {len(options)}")
    seen: set[str] = set()
    others = 0
    for option in options:
        option_element = f"{element} option {check.code(option, f'{element} option', seen)}"
        check.text(option, option_element, "label_zh", "label_en")
        if option.get("other") is not None:
            check.boolean(option, option_element, "other")
        others += option.get("other") is True
    if others > 1:
        check.add(element, "options", f"at most one option may be other: true, found {others}")
    return options
