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
class Definition:
    version: str
    dimensions: tuple[DimensionDef, ...]
    levels: tuple[LevelDef, ...]
    gates: tuple[GateDef, ...] = ()
    rules: tuple[RuleDef, ...] = ()
    # Derived lookups, filled in __post_init__.
    items: Mapping[str, ItemDef] = field(default_factory=dict, compare=False, repr=False)
    level_rank: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        items = {item.code: item for dim in self.dimensions for item in dim.items}
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "level_rank", {lv.code: i for i, lv in enumerate(self.levels)})

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
        return cls(
            version=str(data["version"]),
            dimensions=dimensions,
            levels=levels,
            gates=gates,
            rules=tuple(rules),
        )


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
    dimensions: tuple[str, ...] = ()  # dimensions that failed it
    items: tuple[str, ...] = ()  # answers that made it fail


@dataclass(frozen=True, slots=True)
class Recommendation:
    rule: str
    countermeasure: str
    priority: int
    horizon: str
    trigger: str
    target: str
    items: tuple[str, ...]  # the answers that triggered it


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

    def dimension(self, code: str) -> DimensionScore:
        for dim in self.dimensions:
            if dim.code == code:
                return dim
        raise KeyError(code)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, the form in which a submitted result is stored."""
        return {
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


# --- engine -----------------------------------------------------------------------------------------
# score() is a sequence of named steps, each a small function below it: (0) check and tally each
# dimension's answers, (1) the dimension scores, (2) the index, (3) the provisional level from the index
# bands, (4) the gates and the level they leave, (5) the recommendations.


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
    gates = tuple(_evaluate_gate(gate, definition, answers, tallies) for gate in definition.gates)
    final_rank, capped_by = _apply_gates(definition, gates, provisional)
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
    return GateOutcome(
        code=gate.code,
        kind=gate.kind,
        guards_level=gate.guards_level,
        passed=not failed_items and not failed_dims,
        dimensions=tuple(dict.fromkeys(failed_dims)),
        items=tuple(failed_items),
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
    )
    fired = []
    for rule in definition.rules:
        items = triggers.items_for(rule)
        if items is not None:
            fired.append(
                Recommendation(
                    rule=rule.code,
                    countermeasure=rule.countermeasure,
                    priority=rule.priority,
                    horizon=rule.horizon,
                    trigger=rule.trigger,
                    target=rule.target,
                    items=items,
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


def _lowest_items(rows: list[tuple[str, int]]) -> tuple[str, ...]:
    if not rows:
        return ()
    lowest = min(value for _, value in rows)
    return tuple(code for code, value in rows if value == lowest)
