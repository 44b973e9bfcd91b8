"""The scoring engine: a questionnaire definition and one firm's answers in, the result out.

Pure Python on purpose (a test guards that nothing here imports Django): the same code scores a
submission inside its transaction, a preview while the user is still answering, 60,000 synthetic firms in
the benchmark, and the property tests.

Conventions
- An answer is an option score 0–4, ``UNKNOWN`` (不清楚: scores 0 and is flagged) or ``NOT_APPLICABLE``
  (不适用: the item leaves the denominator).
- Dimension scores and the index are on 0–100. The index is the weighted mean of the dimension scores
  that exist (a dimension answered 不适用 throughout has none, and its weight is spread over the others).
- The provisional level comes from the index bands; every failed gate guarding a level at or below it
  lowers the final level to one below the level the gate guards.
- The definition carries a rules version (``Definition.rules_version``). Version 1 is the engine as it
  was first published, unchanged. Version 2 (seeds/README.md, "Rules version 2") changes how 不清楚 is
  read by the gates and the recommendations, and adds ranked next-rung actions and the submission check
  (``submission_check``). Each step below that differs says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "unknown"
NOT_APPLICABLE = "na"
SPECIAL_ANSWERS = (UNKNOWN, NOT_APPLICABLE)
MIN_SCORE = 0
MAX_SCORE = 4

GATE_AREA_FLOOR = "area_floor"
GATE_KEY_ITEMS = "key_items"
GATE_UNKNOWN_SHARE = "unknown_share"
GATE_KINDS = (GATE_AREA_FLOOR, GATE_KEY_ITEMS, GATE_UNKNOWN_SHARE)

TRIGGER_ITEM = "item"
TRIGGER_DIMENSION = "dimension"
TRIGGER_GATE = "gate"

RULES_VERSION_1 = 1
RULES_VERSION_2 = 2
RULES_VERSIONS = (RULES_VERSION_1, RULES_VERSION_2)

# The department of a firm that usually knows an item's answer (seeds: `owner`, optional).
ITEM_OWNERS = ("finance", "it", "hr", "production", "management", "quality")

# Rules version 2: what a recommendation is. "improve" rests on known answers (a finding); "verify" rests
# on 不清楚 answers and asks the firm to find out first (never a finding).
KIND_IMPROVE = "improve"
KIND_VERIFY = "verify"
# An action can also be a recognition or leadership path (seeds: `paths`) offered from a level up.
KIND_PATH = "path"

# Gate outcome status. Under rules version 2 a gate that is not passed is either "failed" (known answers
# fail it whatever the 不清楚 ones turn out to be) or "unverified" (it holds the level only because answers
# are 不清楚: resolving them could lift it). Version 1 knows passed and failed only.
STATUS_PASSED = "passed"
STATUS_FAILED = "failed"
STATUS_UNVERIFIED = "unverified"

# Rules version 2: a round may not be submitted with more than 1/3 of all its counted items (不适用 left
# out), or more than 1/2 of any dimension's, answered 不清楚 (compared in whole numbers: 3·unknown > counted).
SUBMIT_UNKNOWN_OVERALL_DIVISOR = 3
SUBMIT_UNKNOWN_DIMENSION_DIVISOR = 2

# Rules version 2: ranking of the next-rung actions (seeds/README.md, "Rules version 2").
BLOCKING_BONUS = 10.0  # index points added to an action whose item holds the next level back
TOP_ACTIONS_MIN = 5
TOP_ACTIONS_MAX = 8
TOP_ACTIONS_PER_GROUP = 3  # per countermeasure and per dimension, where the answers allow
TOP_PATHS_MAX = 3  # recognition paths in the top list, where the answers allow: the rest is the firm's own work

# Items at or below this score are "weak": they explain a low dimension score.
WEAK_SCORE = 1
# Float sums of weights (0.2 + 0.3 + …) must not move a firm across a band edge by 1e-15, so scores are
# rounded half up to 6 decimals (floor(x·10⁶ + ½), not round(), which rounds near-halves to even: the
# stored results of earlier submissions were rounded this way).
_ROUNDING = 1e6


def _round(value: float) -> float:
    return math.floor(value * _ROUNDING + 0.5) / _ROUNDING


AnswerValue = int | str


class ScoringError(ValueError):
    """The answers cannot be scored against this definition."""


class IncompleteAnswersError(ScoringError):
    def __init__(self, missing: tuple[str, ...]):
        self.missing = missing
        super().__init__(f"{len(missing)} item(s) not answered: {', '.join(missing)}")


class InvalidAnswerError(ScoringError):
    def __init__(self, item_code: str, value: object):
        self.item_code = item_code
        self.value = value
        super().__init__(f"item {item_code}: answer {value!r} is not allowed")


# --- definition -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemDef:
    code: str
    dimension: str
    weight: float = 1.0
    allows_unknown: bool = True
    allows_na: bool = False
    owner: str = ""  # one of ITEM_OWNERS, or "" (not given)


@dataclass(frozen=True, slots=True)
class DimensionDef:
    code: str
    weight: float
    items: tuple[ItemDef, ...]


@dataclass(frozen=True, slots=True)
class LevelDef:
    code: str
    min_index: float


@dataclass(frozen=True, slots=True)
class GateDef:
    code: str
    kind: str
    guards_level: str
    min_score: int = 0
    min_share: float = 0.0
    requirements: tuple[tuple[str, int], ...] = ()
    max_share: float = 1.0


@dataclass(frozen=True, slots=True)
class RuleDef:
    code: str
    countermeasure: str
    trigger: str
    target: str
    threshold: float = 0.0
    priority: int = 2
    horizon: str = "medium"


@dataclass(frozen=True, slots=True)
class PathDef:
    """Rules version 2: a recognition or leadership path offered to firms at ``min_level`` or above."""

    code: str
    min_level: str
    countermeasure: str
    priority: float


@dataclass(frozen=True, slots=True)
class Definition:
    version: str
    dimensions: tuple[DimensionDef, ...]
    levels: tuple[LevelDef, ...]
    gates: tuple[GateDef, ...] = ()
    rules: tuple[RuleDef, ...] = ()
    rules_version: int = RULES_VERSION_1
    paths: tuple[PathDef, ...] = ()
    # Derived lookups, filled in __post_init__.
    items: Mapping[str, ItemDef] = field(default_factory=dict, compare=False, repr=False)
    level_rank: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    item_countermeasure: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        items = {item.code: item for dim in self.dimensions for item in dim.items}
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "level_rank", {lv.code: i for i, lv in enumerate(self.levels)})
        object.__setattr__(self, "item_countermeasure", _item_countermeasures(self.dimensions, self.rules))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Definition:
        """Build from the seed/export schema (seeds/README.md); the input is assumed validated."""
        dimensions = tuple(
            DimensionDef(
                code=d["code"],
                weight=float(d["weight"]),
                items=tuple(
                    ItemDef(
                        code=i["code"],
                        dimension=d["code"],
                        weight=float(i.get("weight", 1)),
                        allows_unknown=bool(i.get("allows_unknown", True)),
                        allows_na=bool(i.get("allows_na", False)),
                        owner=str(i.get("owner") or ""),
                    )
                    for i in d["items"]
                ),
            )
            for d in data["dimensions"]
        )
        levels = tuple(LevelDef(code=lv["code"], min_index=float(lv["min_index"])) for lv in data["levels"])
        gates = tuple(
            GateDef(
                code=g["code"],
                kind=g["kind"],
                guards_level=g["guards_level"],
                min_score=int(g.get("min_score", 0)),
                min_share=float(g.get("min_share", 0)),
                requirements=tuple((r["item"], int(r["min_score"])) for r in g.get("requirements", ())),
                max_share=float(g.get("max_share", 1)),
            )
            for g in data.get("gates", ())
        )
        rules = []
        for cm in data.get("countermeasures", ()):
            for r in cm.get("rules", ()):
                trigger = r["trigger"]
                if "item" in trigger:
                    kind, target, threshold = TRIGGER_ITEM, trigger["item"], float(trigger["at_most"])
                elif "dimension" in trigger:
                    kind, target, threshold = TRIGGER_DIMENSION, trigger["dimension"], float(trigger["below"])
                else:
                    kind, target, threshold = TRIGGER_GATE, trigger["gate"], 0.0
                rules.append(
                    RuleDef(
                        code=r["code"],
                        countermeasure=cm["code"],
                        trigger=kind,
                        target=target,
                        threshold=threshold,
                        priority=int(r.get("priority", 2)),
                        horizon=r.get("horizon", "medium"),
                    )
                )
        paths = tuple(
            PathDef(
                code=p["code"],
                min_level=p["min_level"],
                countermeasure=p["countermeasure"],
                priority=float(p["priority"]),
            )
            for p in data.get("paths", ())
        )
        return cls(
            version=str(data["version"]),
            dimensions=dimensions,
            levels=levels,
            gates=gates,
            rules=tuple(rules),
            rules_version=int(data.get("rules_version", RULES_VERSION_1)),
            paths=paths,
        )


def _item_countermeasures(dimensions: Iterable[DimensionDef], rules: Iterable[RuleDef]) -> dict[str, str]:
    """The countermeasure each item's advice belongs to: that of the first rule triggered by the item, else
    that of the first rule triggered by its dimension; items with neither are left out."""
    by_item: dict[str, str] = {}
    by_dimension: dict[str, str] = {}
    for rule in rules:
        if rule.trigger == TRIGGER_ITEM:
            by_item.setdefault(rule.target, rule.countermeasure)
        elif rule.trigger == TRIGGER_DIMENSION:
            by_dimension.setdefault(rule.target, rule.countermeasure)
    result = {}
    for dim in dimensions:
        for item in dim.items:
            countermeasure = by_item.get(item.code) or by_dimension.get(dim.code)
            if countermeasure:
                result[item.code] = countermeasure
    return result


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DimensionScore:
    code: str
    score: float | None  # None: nothing scorable (all 不适用, or nothing answered in a preview)
    answered: int  # answers that count, 不清楚 included, 不适用 excluded
    unknown: int
    not_applicable: int
    missing: int
    unknown_share: float
    insufficient_data: bool  # too many 不清楚 to trust the score (the unknown-share gate's limit)
    weak_items: tuple[str, ...]  # answered at or below WEAK_SCORE, or 不清楚


@dataclass(frozen=True, slots=True)
class GateOutcome:
    code: str
    kind: str
    guards_level: str
    passed: bool
    dimensions: tuple[str, ...] = ()  # dimensions that failed it (or, version 2, that it holds unverified)
    items: tuple[str, ...] = ()  # known answers below the gate's option in those dimensions
    # Rules version 2: the 不清楚 answers that hold the gate unverified, to verify to lift it (() under 1).
    unverified: tuple[str, ...] = ()
    status: str = STATUS_PASSED  # STATUS_PASSED, STATUS_FAILED or (version 2) STATUS_UNVERIFIED


@dataclass(frozen=True, slots=True)
class Recommendation:
    rule: str
    countermeasure: str
    priority: int
    horizon: str
    trigger: str
    target: str
    items: tuple[str, ...]  # the answers that triggered it
    kind: str = KIND_IMPROVE  # rules version 2: KIND_VERIFY when it rests on 不清楚 answers


@dataclass(frozen=True, slots=True)
class Action:
    """Rules version 2: one candidate action with every component of its priority score. Three kinds:
    ``improve``, the step of one item from its current option to the next one up (whose label is the
    done-criterion); ``verify``, finding out an item answered 不清楚; ``path``, a recognition or leadership
    path of the definition offered from a level up (``path`` holds its code, ``item`` is empty)."""

    kind: str
    item: str
    dimension: str  # "" for a path
    countermeasure: str  # "" when no rule names the item or its dimension
    current: int | None  # the current option (improve only)
    next: int | None  # current + 1 (improve only)
    dimension_weight: float
    weight_share: float  # the item's weight ÷ the weights of its dimension's counted items
    rung_points: float  # 100 ÷ 4 = 25: one option up in dimension-score points at full weight
    gain: float  # dimension_weight × weight_share × rung_points: the index points one option up adds
    blocks: tuple[str, ...]  # gates that hold the next level back and count this answer
    bonus: float  # BLOCKING_BONUS when blocks, else 0
    priority: float  # gain + bonus; a path's own priority from the definition
    path: str = ""

    @property
    def key(self) -> str:
        """Unique within one result: the item code, ``verify:<item>`` or the path code."""
        if self.kind == KIND_PATH:
            return self.path
        return f"verify:{self.item}" if self.kind == KIND_VERIFY else self.item

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "item": self.item,
            "path": self.path,
            "dimension": self.dimension,
            "countermeasure": self.countermeasure,
            "current": self.current,
            "next": self.next,
            "dimension_weight": self.dimension_weight,
            "weight_share": self.weight_share,
            "rung_points": self.rung_points,
            "gain": self.gain,
            "blocks": list(self.blocks),
            "bonus": self.bonus,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Result:
    version: str
    complete: bool
    missing: tuple[str, ...]
    dimensions: tuple[DimensionScore, ...]
    index: float
    provisional_level: str
    level: str
    gates: tuple[GateOutcome, ...]
    capped_by: tuple[str, ...]  # failed gates that lowered the level, in definition order
    recommendations: tuple[Recommendation, ...]
    rules_version: int = RULES_VERSION_1
    # Rules version 2 (empty under version 1): every next-rung action, ranked, and the top list.
    actions: tuple[Action, ...] = ()
    top_actions: tuple[Action, ...] = ()

    def dimension(self, code: str) -> DimensionScore:
        for dim in self.dimensions:
            if dim.code == code:
                return dim
        raise KeyError(code)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, the form in which a submitted result is stored. Under rules version 1
        exactly the keys it always had; version 2 adds its own (``_add_version_2``)."""
        data = {
            "version": self.version,
            "complete": self.complete,
            "missing": list(self.missing),
            "index": self.index,
            "provisional_level": self.provisional_level,
            "level": self.level,
            "capped_by": list(self.capped_by),
            "dimensions": [
                {
                    "code": d.code,
                    "score": d.score,
                    "answered": d.answered,
                    "unknown": d.unknown,
                    "not_applicable": d.not_applicable,
                    "missing": d.missing,
                    "unknown_share": d.unknown_share,
                    "insufficient_data": d.insufficient_data,
                    "weak_items": list(d.weak_items),
                }
                for d in self.dimensions
            ],
            "gates": [
                {
                    "code": g.code,
                    "kind": g.kind,
                    "guards_level": g.guards_level,
                    "passed": g.passed,
                    "dimensions": list(g.dimensions),
                    "items": list(g.items),
                }
                for g in self.gates
            ],
            "recommendations": [
                {
                    "rule": r.rule,
                    "countermeasure": r.countermeasure,
                    "priority": r.priority,
                    "horizon": r.horizon,
                    "trigger": r.trigger,
                    "target": r.target,
                    "items": list(r.items),
                }
                for r in self.recommendations
            ],
        }
        if self.rules_version >= RULES_VERSION_2:
            self._add_version_2(data)
        return data

    def _add_version_2(self, data: dict[str, Any]) -> None:
        data["rules_version"] = self.rules_version
        for gate, outcome in zip(data["gates"], self.gates, strict=True):
            gate["unverified"] = list(outcome.unverified)
            gate["status"] = outcome.status
        for row, recommendation in zip(data["recommendations"], self.recommendations, strict=True):
            row["kind"] = recommendation.kind
        data["actions"] = [action.as_dict() for action in self.actions]
        data["top_actions"] = [action.key for action in self.top_actions]


# --- engine -----------------------------------------------------------------------------------------
# score() is a sequence of named steps, each a small function below it: (0) check and tally each
# dimension's answers, (1) the dimension scores, (2) the index, (3) the provisional level from the index
# bands, (4) the gates and the level they leave, (5) the recommendations, and under rules version 2
# (6) the ranked next-rung actions.


def score(
    definition: Definition,
    answers: Mapping[str, AnswerValue],
    *,
    final: bool = True,
) -> Result:
    """Score one firm.

    ``final=True`` (a submission) requires every item to be answered and raises
    ``IncompleteAnswersError`` otherwise; ``final=False`` (a preview) scores what is there.
    Answers for codes the definition does not know raise ``InvalidAnswerError``.
    """
    _check_item_codes(definition, answers)
    tallies = tuple(_tally_dimension(dim, answers) for dim in definition.dimensions)
    missing = tuple(code for tally in tallies for code in tally.missing)
    if final and missing:
        raise IncompleteAnswersError(missing)

    dimensions = _score_dimensions(definition, tallies)
    index = _weighted_index(definition, dimensions)
    provisional = _provisional_rank(definition, index)
    gates = _evaluate_gates(definition, answers, tallies)
    final_rank, capped_by = _apply_gates(definition, gates, provisional)
    actions: tuple[Action, ...] = ()
    top_actions: tuple[Action, ...] = ()
    if definition.rules_version >= RULES_VERSION_2:
        actions = _ranked_actions(definition, answers, tallies, gates, capped_by, final_rank)
        top_actions = _top_actions(actions, dimensions)
    return Result(
        version=definition.version,
        complete=not missing,
        missing=missing,
        dimensions=dimensions,
        index=index,
        provisional_level=definition.levels[provisional].code,
        level=definition.levels[final_rank].code,
        gates=gates,
        capped_by=capped_by,
        recommendations=_recommendations(definition, answers, dimensions, tallies, gates, capped_by),
        rules_version=definition.rules_version,
        actions=actions,
        top_actions=top_actions,
    )


# Step 0: check and sort the answers.


@dataclass(slots=True)
class _DimensionTally:
    """One dimension's answers sorted for the steps that follow."""

    code: str
    counted: list[tuple[str, int]] = field(default_factory=list)  # (item, score), 不清楚 as 0; 不适用 left out
    unknown: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)  # at or below WEAK_SCORE, or 不清楚
    missing: list[str] = field(default_factory=list)
    not_applicable: int = 0
    total: float = 0.0  # sum of weight × score
    denominator: float = 0.0  # sum of the weights of the counted items
    unknown_weight: float = 0.0  # sum of the weights of the 不清楚 items


def _check_item_codes(definition: Definition, answers: Mapping[str, AnswerValue]) -> None:
    for code, value in answers.items():
        if code not in definition.items:
            raise InvalidAnswerError(code, value)


def _check_answer(item: ItemDef, value: object) -> None:
    if value == UNKNOWN:
        allowed = item.allows_unknown
    elif value == NOT_APPLICABLE:
        allowed = item.allows_na
    else:
        allowed = type(value) is int and MIN_SCORE <= value <= MAX_SCORE
    if not allowed:
        raise InvalidAnswerError(item.code, value)


def _tally_dimension(dim: DimensionDef, answers: Mapping[str, AnswerValue]) -> _DimensionTally:
    tally = _DimensionTally(dim.code)
    for item in dim.items:
        value = answers.get(item.code)
        if value is None:
            tally.missing.append(item.code)
            continue
        _check_answer(item, value)
        if value == NOT_APPLICABLE:
            tally.not_applicable += 1
        elif isinstance(value, int):
            tally.counted.append((item.code, value))
            tally.total += item.weight * value
            tally.denominator += item.weight
            if value <= WEAK_SCORE:
                tally.weak.append(item.code)
        else:  # UNKNOWN: counts, scores 0
            tally.counted.append((item.code, 0))
            tally.unknown.append(item.code)
            tally.weak.append(item.code)
            tally.denominator += item.weight
            tally.unknown_weight += item.weight
    return tally


# Step 1: dimension scores.


def _unknown_limit(definition: Definition) -> float | None:
    limits = [g.max_share for g in definition.gates if g.kind == GATE_UNKNOWN_SHARE]
    return min(limits) if limits else None


def _score_dimensions(definition: Definition, tallies: Sequence[_DimensionTally]) -> tuple[DimensionScore, ...]:
    unknown_limit = _unknown_limit(definition)
    return tuple(_dimension_score(tally, unknown_limit) for tally in tallies)


def _dimension_score(tally: _DimensionTally, unknown_limit: float | None) -> DimensionScore:
    answered = len(tally.counted)
    unknown_share = len(tally.unknown) / answered if answered else 0.0
    return DimensionScore(
        code=tally.code,
        score=_round(100.0 * tally.total / (MAX_SCORE * tally.denominator)) if tally.denominator else None,
        answered=answered,
        unknown=len(tally.unknown),
        not_applicable=tally.not_applicable,
        missing=len(tally.missing),
        unknown_share=unknown_share,
        insufficient_data=unknown_limit is not None and unknown_share > unknown_limit,
        weak_items=tuple(tally.weak),
    )


# Step 2: the index, the weighted mean of the dimension scores that exist.


def _weighted_index(definition: Definition, dimensions: Iterable[DimensionScore]) -> float:
    total = weight_used = 0.0
    for dim, result in zip(definition.dimensions, dimensions, strict=True):
        if result.score is not None:
            total += dim.weight * result.score
            weight_used += dim.weight
    return _round(total / weight_used) if weight_used else 0.0


# Step 3: the provisional level, the highest band whose lower edge the index reaches.


def _provisional_rank(definition: Definition, index: float) -> int:
    rank = 0
    for position, level in enumerate(definition.levels):
        if index >= level.min_index:
            rank = position
    return rank


# Step 4: the gates, and the level they leave.


def _evaluate_gates(
    definition: Definition, answers: Mapping[str, AnswerValue], tallies: Sequence[_DimensionTally]
) -> tuple[GateOutcome, ...]:
    if definition.rules_version >= RULES_VERSION_2:
        return _evaluate_gates_v2(definition, answers, tallies)
    return tuple(_evaluate_gate(gate, definition, answers, tallies) for gate in definition.gates)


def _evaluate_gate(
    gate: GateDef,
    definition: Definition,
    answers: Mapping[str, AnswerValue],
    tallies: Sequence[_DimensionTally],
) -> GateOutcome:
    if gate.kind == GATE_AREA_FLOOR:
        failed_dims, failed_items = _area_floor_failures(gate, tallies)
    elif gate.kind == GATE_KEY_ITEMS:
        failed_dims, failed_items = _key_item_failures(gate, definition, answers)
    else:  # GATE_UNKNOWN_SHARE
        failed_dims, failed_items = _unknown_share_failures(gate, tallies)
    return _gate_outcome(gate, failed_dims, failed_items)


def _gate_outcome(
    gate: GateDef,
    failed_dims: Sequence[str],
    items: Sequence[str],
    unverified: Sequence[str] = (),
    held_dims: Sequence[str] = (),
) -> GateOutcome:
    """``failed_dims`` fail on known answers; ``held_dims`` (version 2) are held only by 不清楚 answers;
    ``items`` are the known answers below the gate's option in either."""
    if failed_dims:
        status = STATUS_FAILED
    elif held_dims:
        status = STATUS_UNVERIFIED
    else:
        status = STATUS_PASSED
    return GateOutcome(
        code=gate.code,
        kind=gate.kind,
        guards_level=gate.guards_level,
        passed=status == STATUS_PASSED,
        dimensions=tuple(dict.fromkeys([*failed_dims, *held_dims])),
        items=tuple(dict.fromkeys(items)),
        unverified=tuple(dict.fromkeys(unverified)),
        status=status,
    )


def _area_floor_failures(gate: GateDef, tallies: Sequence[_DimensionTally]) -> tuple[list[str], list[str]]:
    """Dimensions where too small a share of the counted answers reaches the gate's option, and those below."""
    failed_dims: list[str] = []
    failed_items: list[str] = []
    for tally in tallies:
        rows = tally.counted
        if not rows:
            continue
        below = [code for code, value in rows if value < gate.min_score]
        if (len(rows) - len(below)) / len(rows) < gate.min_share:
            failed_dims.append(tally.code)
            failed_items.extend(below)
    return failed_dims, failed_items


def _key_item_failures(
    gate: GateDef, definition: Definition, answers: Mapping[str, AnswerValue]
) -> tuple[list[str], list[str]]:
    failed_dims: list[str] = []
    failed_items: list[str] = []
    for item_code, min_score in gate.requirements:
        value = answers.get(item_code)
        # 不适用, 不清楚 or no answer cannot demonstrate a key capability.
        if not isinstance(value, int) or value < min_score:
            failed_items.append(item_code)
            failed_dims.append(definition.items[item_code].dimension)
    return failed_dims, failed_items


def _unknown_share_failures(gate: GateDef, tallies: Sequence[_DimensionTally]) -> tuple[list[str], list[str]]:
    failed_dims: list[str] = []
    failed_items: list[str] = []
    for tally in tallies:
        if tally.counted and len(tally.unknown) / len(tally.counted) > gate.max_share:
            failed_dims.append(tally.code)
            failed_items.extend(tally.unknown)
    return failed_dims, failed_items


# Step 4 under rules version 2. A gate never counts 不清楚 as failing, and 不清楚 never lifts a level:
# - an area floor fails a dimension when its known answers fail it even with every 不清楚 at the option
#   (a finding); when they pass it only with some 不清楚 at the option, the floor holds the level
#   *unverified* (STATUS_UNVERIFIED, the 不清楚 answers listed to verify), with the same effect on the level;
# - a key item answered below its option fails its gate; answered 不清楚 it holds the gate unverified;
#   不适用 (or, in a preview, no answer) leaves the requirement out;
# - a dimension over an unknown-share limit is held by that gate alone at its level and above: the area
#   floors guarding that level or above do not judge it (the unknown-share gate already holds it below
#   them, and its text says which answers to verify); the floors guarding lower levels still do.


def _evaluate_gates_v2(
    definition: Definition, answers: Mapping[str, AnswerValue], tallies: Sequence[_DimensionTally]
) -> tuple[GateOutcome, ...]:
    # For each dimension over an unknown-share limit, the lowest level such a gate guards.
    held: dict[str, int] = {}
    for gate in definition.gates:
        if gate.kind == GATE_UNKNOWN_SHARE:
            rank = definition.level_rank[gate.guards_level]
            for code in _unknown_share_failures(gate, tallies)[0]:
                held[code] = min(held.get(code, rank), rank)
    outcomes = []
    for gate in definition.gates:
        if gate.kind == GATE_AREA_FLOOR:
            rank = definition.level_rank[gate.guards_level]
            judged = [tally for tally in tallies if held.get(tally.code, rank + 1) > rank]
            outcomes.append(_area_floor_v2(gate, judged, answers))
        elif gate.kind == GATE_KEY_ITEMS:
            outcomes.append(_key_items_v2(gate, definition, answers))
        else:  # GATE_UNKNOWN_SHARE: what holds it is the 不清楚 answers themselves
            dims, unknown = _unknown_share_failures(gate, tallies)
            outcomes.append(_gate_outcome(gate, (), (), unverified=unknown, held_dims=dims))
    return tuple(outcomes)


def _area_floor_v2(
    gate: GateDef, tallies: Iterable[_DimensionTally], answers: Mapping[str, AnswerValue]
) -> GateOutcome:
    failed_dims: list[str] = []
    failed_items: list[str] = []
    held_dims: list[str] = []
    below_in_held: list[str] = []
    unverified: list[str] = []
    for tally in tallies:
        if not tally.counted:
            continue
        known = [(code, value) for code, value in tally.counted if answers.get(code) != UNKNOWN]
        below = [code for code, value in known if value < gate.min_score]
        reached, counted = len(known) - len(below), len(tally.counted)
        if (reached + len(tally.unknown)) / counted < gate.min_share:  # fails with every 不清楚 at the option
            failed_dims.append(tally.code)
            failed_items.extend(below)
        elif reached / counted < gate.min_share:  # passes only with some 不清楚 at the option
            held_dims.append(tally.code)
            below_in_held.extend(below)
            unverified.extend(tally.unknown)
    return _gate_outcome(gate, failed_dims, failed_items + below_in_held, unverified, held_dims)


def _key_items_v2(gate: GateDef, definition: Definition, answers: Mapping[str, AnswerValue]) -> GateOutcome:
    failed_dims: list[str] = []
    failed_items: list[str] = []
    held_dims: list[str] = []
    unverified: list[str] = []
    for item_code, min_score in gate.requirements:
        value = answers.get(item_code)
        if value == UNKNOWN:
            unverified.append(item_code)
            held_dims.append(definition.items[item_code].dimension)
        elif isinstance(value, int) and value < min_score:
            failed_items.append(item_code)
            failed_dims.append(definition.items[item_code].dimension)
    return _gate_outcome(gate, failed_dims, failed_items, unverified, held_dims)


def _apply_gates(definition: Definition, gates: Iterable[GateOutcome], provisional: int) -> tuple[int, tuple[str, ...]]:
    """The final level's rank, and the failed gates that lowered it (those guarding a level at or below the
    provisional one), in definition order."""
    final_rank = provisional
    capped_by: list[str] = []
    for outcome in gates:
        guarded = definition.level_rank[outcome.guards_level]
        if not outcome.passed and guarded <= provisional:
            capped_by.append(outcome.code)
            final_rank = min(final_rank, max(guarded - 1, 0))
    return final_rank, tuple(capped_by)


# Step 5: recommendations.


def _recommendations(
    definition: Definition,
    answers: Mapping[str, AnswerValue],
    dimensions: Iterable[DimensionScore],
    tallies: Sequence[_DimensionTally],
    gates: Iterable[GateOutcome],
    capped_by: Iterable[str],
) -> tuple[Recommendation, ...]:
    """The rules that fire, by priority; within a priority in the definition's order (countermeasure, rule)."""
    capped = set(capped_by)
    triggers = _Triggers(
        answers=answers,
        dimensions={d.code: d for d in dimensions},
        counted={t.code: t.counted for t in tallies},
        capping_gates={g.code: g for g in gates if g.code in capped},
        tallies={t.code: t for t in tallies},
    )
    version_2 = definition.rules_version >= RULES_VERSION_2
    fired = []
    for rule in definition.rules:
        found = triggers.finding_for(rule) if version_2 else _as_improvement(triggers.items_for(rule))
        if found is None:
            continue
        kind, items = found
        fired.append(
            Recommendation(
                rule=rule.code,
                countermeasure=rule.countermeasure,
                priority=rule.priority,
                horizon=rule.horizon,
                trigger=rule.trigger,
                target=rule.target,
                items=items,
                kind=kind,
            )
        )
    fired.sort(key=lambda r: r.priority)  # stable
    return tuple(fired)


@dataclass(frozen=True, slots=True)
class _Triggers:
    answers: Mapping[str, AnswerValue]
    dimensions: Mapping[str, DimensionScore]
    counted: Mapping[str, list[tuple[str, int]]]
    capping_gates: Mapping[str, GateOutcome]  # failed gates that lowered the level
    tallies: Mapping[str, _DimensionTally]

    def items_for(self, rule: RuleDef) -> tuple[str, ...] | None:
        """The answers that make the rule fire, or None when it does not."""
        if rule.trigger == TRIGGER_ITEM:
            value = self.answers.get(rule.target)
            if value == UNKNOWN or (isinstance(value, int) and value <= rule.threshold):
                return (rule.target,)
        elif rule.trigger == TRIGGER_DIMENSION:
            result = self.dimensions[rule.target]
            if result.score is not None and result.score < rule.threshold:
                return result.weak_items or _lowest_items(self.counted[rule.target])
        elif rule.target in self.capping_gates:
            return self.capping_gates[rule.target].items
        return None

    def finding_for(self, rule: RuleDef) -> tuple[str, tuple[str, ...]] | None:
        """Rules version 2: the rule fires as under version 1, but says whether it rests on known answers
        (KIND_IMPROVE, naming only known answers) or on 不清楚 ones (KIND_VERIFY, naming those)."""
        if rule.trigger == TRIGGER_ITEM:
            value = self.answers.get(rule.target)
            if value == UNKNOWN:
                return KIND_VERIFY, (rule.target,)
            if isinstance(value, int) and value <= rule.threshold:
                return KIND_IMPROVE, (rule.target,)
            return None
        if rule.trigger == TRIGGER_DIMENSION:
            return self._dimension_finding(rule)
        gate = self.capping_gates.get(rule.target)
        if gate is None:
            return None
        if gate.status == STATUS_UNVERIFIED:
            return KIND_VERIFY, gate.unverified
        return KIND_IMPROVE, gate.items

    def _dimension_finding(self, rule: RuleDef) -> tuple[str, tuple[str, ...]] | None:
        """A low dimension is a finding only when it stays below the threshold with every 不清楚 answer at
        the top option; otherwise its 不清楚 answers are to verify."""
        result = self.dimensions[rule.target]
        if result.score is None or result.score >= rule.threshold:
            return None
        tally = self.tallies[rule.target]
        best_case = _round(100.0 * (tally.total + MAX_SCORE * tally.unknown_weight) / (MAX_SCORE * tally.denominator))
        if best_case >= rule.threshold:
            return KIND_VERIFY, tuple(tally.unknown)
        unknown = set(tally.unknown)
        known = [(code, value) for code, value in tally.counted if code not in unknown]
        return KIND_IMPROVE, tuple(c for c in result.weak_items if c not in unknown) or _lowest_items(known)


def _as_improvement(items: tuple[str, ...] | None) -> tuple[str, tuple[str, ...]] | None:
    return None if items is None else (KIND_IMPROVE, items)


def _lowest_items(rows: list[tuple[str, int]]) -> tuple[str, ...]:
    if not rows:
        return ()
    lowest = min(value for _, value in rows)
    return tuple(code for code, value in rows if value == lowest)


# Step 6 (rules version 2): actions, ranked by a priority score that explains itself.


def _ranked_actions(
    definition: Definition,
    answers: Mapping[str, AnswerValue],
    tallies: Sequence[_DimensionTally],
    gates: Iterable[GateOutcome],
    capped_by: Iterable[str],
    final_rank: int,
) -> tuple[Action, ...]:
    """One ``improve`` action per item answered below the top option, one ``verify`` action per item
    answered 不清楚 (不适用 yields none), and the definition's paths offered at the final level; ranked by
    ``_rank_key``."""
    blocking, blocking_unknown = _blocking_gates(definition, gates, capped_by, final_rank)
    actions = []
    for dim, tally in zip(definition.dimensions, tallies, strict=True):
        for item in dim.items:
            value = answers.get(item.code)
            if isinstance(value, int) and value < MAX_SCORE:
                blocks = blocking.get(item.code, ())
                actions.append(_action(definition, dim, item, KIND_IMPROVE, value, tally.denominator, blocks))
            elif value == UNKNOWN:
                blocks = blocking_unknown.get(item.code, ())
                actions.append(_action(definition, dim, item, KIND_VERIFY, None, tally.denominator, blocks))
    actions.extend(
        _path_action(path) for path in definition.paths if definition.level_rank[path.min_level] <= final_rank
    )
    return tuple(sorted(actions, key=_rank_key))


def _action(
    definition: Definition,
    dim: DimensionDef,
    item: ItemDef,
    kind: str,
    current: int | None,
    denominator: float,
    blocks: tuple[str, ...],
) -> Action:
    """An improve action's gain is what one option up adds; a verify action's is the same measure, the
    least an answer found to be better than the lowest option would add."""
    weight_share = item.weight / denominator
    rung_points = 100.0 / MAX_SCORE  # one option up
    gain = _round(dim.weight * weight_share * rung_points)
    bonus = BLOCKING_BONUS if blocks else 0.0
    return Action(
        kind=kind,
        item=item.code,
        dimension=dim.code,
        countermeasure=definition.item_countermeasure.get(item.code, ""),
        current=current,
        next=None if current is None else current + 1,
        dimension_weight=dim.weight,
        weight_share=_round(weight_share),
        rung_points=rung_points,
        gain=gain,
        blocks=blocks,
        bonus=bonus,
        priority=_round(gain + bonus),
    )


def _path_action(path: PathDef) -> Action:
    return Action(
        kind=KIND_PATH,
        item="",
        dimension="",
        countermeasure=path.countermeasure,
        current=None,
        next=None,
        dimension_weight=0.0,
        weight_share=0.0,
        rung_points=0.0,
        gain=0.0,
        blocks=(),
        bonus=0.0,
        priority=path.priority,
        path=path.code,
    )


def _blocking_gates(
    definition: Definition, gates: Iterable[GateOutcome], capped_by: Iterable[str], final_rank: int
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The gates that hold the next level back (those that capped the level and those guarding the level
    just above the final one), by the known answers below their option that they count, and by the
    不清楚 answers that hold them unverified."""
    capped = set(capped_by)
    known: dict[str, list[str]] = {}
    unknown: dict[str, list[str]] = {}
    for gate in gates:
        holds_back = gate.code in capped or definition.level_rank[gate.guards_level] == final_rank + 1
        if gate.passed or not holds_back:
            continue
        for code in gate.items:
            known.setdefault(code, []).append(gate.code)
        for code in gate.unverified:
            unknown.setdefault(code, []).append(gate.code)
    return (
        {code: tuple(codes) for code, codes in known.items()},
        {code: tuple(codes) for code, codes in unknown.items()},
    )


def _rank_key(action: Action) -> tuple[float, bool, float, float, int, str]:
    """Higher priority first; ties: blocking first, then the larger gain, then the heavier dimension, then
    the lower current option (the weakest answer first; 不清楚 and paths before any option), and only last
    the action's key (as text), so that the order never rests on the file's order alone."""
    current = -1 if action.current is None else action.current
    return (-action.priority, not action.blocks, -action.gain, -action.dimension_weight, current, action.key)


def _top_actions(ranked: Sequence[Action], dimensions: Sequence[DimensionScore]) -> tuple[Action, ...]:
    """Up to TOP_ACTIONS_MAX actions: first the best-ranked action on the weakest dimension (the lowest
    score; ties by code), then in rank order, skipping one whose countermeasure or dimension already has
    TOP_ACTIONS_PER_GROUP, or a path when TOP_PATHS_MAX are in; when that leaves fewer than
    TOP_ACTIONS_MIN, filled up to it in rank order keeping the countermeasure and path limits, then the
    countermeasure limit only, then without limits (only when the answers allow nothing else). Returned
    in rank order."""
    chosen: list[Action] = []
    weakest = _weakest_dimension(dimensions, {a.dimension for a in ranked})
    if weakest is not None:
        chosen.append(next(a for a in ranked if a.dimension == weakest))
    _fill(chosen, ranked, TOP_ACTIONS_MAX, per_countermeasure=True, per_dimension=True, per_path=True)
    _fill(chosen, ranked, TOP_ACTIONS_MIN, per_countermeasure=True, per_dimension=False, per_path=True)
    _fill(chosen, ranked, TOP_ACTIONS_MIN, per_countermeasure=True, per_dimension=False, per_path=False)
    _fill(chosen, ranked, TOP_ACTIONS_MIN, per_countermeasure=False, per_dimension=False, per_path=False)
    return tuple(sorted(chosen, key=_rank_key))


def _weakest_dimension(dimensions: Sequence[DimensionScore], with_actions: set[str]) -> str | None:
    scored = [(d.score, d.code) for d in dimensions if d.score is not None and d.code in with_actions]
    return min(scored)[1] if scored else None


def _group(action: Action) -> str:
    """The countermeasure an action counts against (its dimension when no rule gives it one)."""
    return action.countermeasure or f"dimension:{action.dimension}"


def _fill(
    chosen: list[Action],
    ranked: Sequence[Action],
    size: int,
    *,
    per_countermeasure: bool,
    per_dimension: bool,
    per_path: bool,
) -> None:
    groups: dict[str, int] = {}
    dimensions: dict[str, int] = {}
    for action in chosen:
        groups[_group(action)] = groups.get(_group(action), 0) + 1
        dimensions[action.dimension] = dimensions.get(action.dimension, 0) + 1
    paths = sum(action.kind == KIND_PATH for action in chosen)
    for action in ranked:
        if len(chosen) >= size:
            return
        if action in chosen:
            continue
        if per_countermeasure and groups.get(_group(action), 0) >= TOP_ACTIONS_PER_GROUP:
            continue
        if per_path and action.kind == KIND_PATH and paths >= TOP_PATHS_MAX:
            continue
        if per_dimension and action.dimension and dimensions.get(action.dimension, 0) >= TOP_ACTIONS_PER_GROUP:
            continue
        chosen.append(action)
        groups[_group(action)] = groups.get(_group(action), 0) + 1
        dimensions[action.dimension] = dimensions.get(action.dimension, 0) + 1
        paths += action.kind == KIND_PATH


# --- submission check (rules version 2) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnknownAnswers:
    """One dimension's 不清楚 answers that stand in the way of a submission, and who usually knows each."""

    dimension: str
    items: tuple[str, ...]
    owners: tuple[str, ...]  # the item's owner (ITEM_OWNERS) or "", in the order of items
    unknown: int
    counted: int  # answers that count, 不清楚 included, 不适用 excluded
    too_many: bool  # more than 1/SUBMIT_UNKNOWN_DIMENSION_DIVISOR of the dimension


@dataclass(frozen=True, slots=True)
class SubmissionCheck:
    allowed: bool
    unknown: int
    counted: int
    too_many_overall: bool  # more than 1/SUBMIT_UNKNOWN_OVERALL_DIVISOR of all counted answers
    # What to resolve: every dimension with 不清楚 when there are too many overall, else those over their limit.
    dimensions: tuple[UnknownAnswers, ...]

    def by_owner(self) -> dict[str, tuple[str, ...]]:
        """The items to resolve grouped by the department that usually knows them ("" for not given)."""
        grouped: dict[str, list[str]] = {}
        for block in self.dimensions:
            for code, owner in zip(block.items, block.owners, strict=True):
                grouped.setdefault(owner, []).append(code)
        return {owner: tuple(codes) for owner, codes in grouped.items()}


def submission_check(definition: Definition, answers: Mapping[str, AnswerValue]) -> SubmissionCheck:
    """Whether a round may be submitted as far as its 不清楚 answers go (completeness is score()'s check).

    Rules version 2 refuses more than a third of all counted answers, or more than half of any dimension's,
    answered 不清楚 (不适用 and missing answers are not counted). Version 1 never refuses.
    """
    _check_item_codes(definition, answers)
    tallies = [_tally_dimension(dim, answers) for dim in definition.dimensions]
    unknown = sum(len(t.unknown) for t in tallies)
    counted = sum(len(t.counted) for t in tallies)
    if definition.rules_version < RULES_VERSION_2:
        return SubmissionCheck(allowed=True, unknown=unknown, counted=counted, too_many_overall=False, dimensions=())
    too_many_overall = unknown * SUBMIT_UNKNOWN_OVERALL_DIVISOR > counted
    blocks = []
    for tally in tallies:
        too_many = len(tally.unknown) * SUBMIT_UNKNOWN_DIMENSION_DIVISOR > len(tally.counted)
        if tally.unknown and (too_many or too_many_overall):
            blocks.append(
                UnknownAnswers(
                    dimension=tally.code,
                    items=tuple(tally.unknown),
                    owners=tuple(definition.items[code].owner for code in tally.unknown),
                    unknown=len(tally.unknown),
                    counted=len(tally.counted),
                    too_many=too_many,
                )
            )
    allowed = not too_many_overall and not any(block.too_many for block in blocks)
    return SubmissionCheck(
        allowed=allowed, unknown=unknown, counted=counted, too_many_overall=too_many_overall, dimensions=tuple(blocks)
    )
