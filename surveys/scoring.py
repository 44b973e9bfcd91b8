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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
# rounded to 6 decimals, by the same floating-point steps in both engines (Python's round() and numpy's
# differ on near-halves).
_ROUNDING = 1e6


def _round(value: float) -> float:
    return math.floor(value * _ROUNDING + 0.5) / _ROUNDING


def _round_array(values: np.ndarray) -> np.ndarray:
    return np.floor(values * _ROUNDING + 0.5) / _ROUNDING


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


def _check_answer(item: ItemDef, value: object) -> None:
    if value == UNKNOWN:
        if not item.allows_unknown:
            raise InvalidAnswerError(item.code, value)
    elif value == NOT_APPLICABLE:
        if not item.allows_na:
            raise InvalidAnswerError(item.code, value)
    elif type(value) is not int or not MIN_SCORE <= value <= MAX_SCORE:
        raise InvalidAnswerError(item.code, value)


def _unknown_limit(definition: Definition) -> float | None:
    limits = [g.max_share for g in definition.gates if g.kind == GATE_UNKNOWN_SHARE]
    return min(limits) if limits else None


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
    items = definition.items
    for code in answers:
        if code not in items:
            raise InvalidAnswerError(code, answers[code])

    unknown_limit = _unknown_limit(definition)
    dim_scores: list[DimensionScore] = []
    missing_all: list[str] = []
    # Per dimension, the answers that count, for the gates: (code, score) with 不清楚 as score 0.
    counted: dict[str, list[tuple[str, int]]] = {}
    unknown_items: dict[str, list[str]] = {}

    weighted_index = 0.0
    weight_used = 0.0
    for dim in definition.dimensions:
        total = 0.0
        denominator = 0.0
        n_unknown = n_na = n_missing = 0
        rows: list[tuple[str, int]] = []
        unknowns: list[str] = []
        weak: list[str] = []
        for item in dim.items:
            value = answers.get(item.code)
            if value is None:
                n_missing += 1
                missing_all.append(item.code)
                continue
            _check_answer(item, value)
            if value == NOT_APPLICABLE:
                n_na += 1
                continue
            if value == UNKNOWN:
                n_unknown += 1
                unknowns.append(item.code)
                weak.append(item.code)
                rows.append((item.code, 0))
                denominator += item.weight
                continue
            rows.append((item.code, value))
            total += item.weight * value
            denominator += item.weight
            if value <= WEAK_SCORE:
                weak.append(item.code)
        answered = len(rows)
        dim_score = _round(100.0 * total / (MAX_SCORE * denominator)) if denominator else None
        unknown_share = n_unknown / answered if answered else 0.0
        dim_scores.append(
            DimensionScore(
                code=dim.code,
                score=dim_score,
                answered=answered,
                unknown=n_unknown,
                not_applicable=n_na,
                missing=n_missing,
                unknown_share=unknown_share,
                insufficient_data=unknown_limit is not None and unknown_share > unknown_limit,
                weak_items=tuple(weak),
            )
        )
        counted[dim.code] = rows
        unknown_items[dim.code] = unknowns
        if dim_score is not None:
            weighted_index += dim.weight * dim_score
            weight_used += dim.weight

    if final and missing_all:
        raise IncompleteAnswersError(tuple(missing_all))

    index = _round(weighted_index / weight_used) if weight_used else 0.0
    levels = definition.levels
    provisional = 0
    for rank, level in enumerate(levels):
        if index >= level.min_index:
            provisional = rank

    gate_outcomes = tuple(
        _evaluate_gate(gate, definition, answers, counted, unknown_items) for gate in definition.gates
    )
    rank_of = definition.level_rank
    final_rank = provisional
    capped_by: list[str] = []
    for outcome in gate_outcomes:
        guarded = rank_of[outcome.guards_level]
        if not outcome.passed and guarded <= provisional:
            capped_by.append(outcome.code)
            final_rank = min(final_rank, max(guarded - 1, 0))

    dims_by_code = {d.code: d for d in dim_scores}
    gates_by_code = {g.code: g for g in gate_outcomes}
    capped = set(capped_by)
    recommendations = []
    for rule in definition.rules:
        triggered_items: tuple[str, ...] | None = None
        if rule.trigger == TRIGGER_ITEM:
            value = answers.get(rule.target)
            if value == UNKNOWN or (type(value) is int and value <= rule.threshold):
                triggered_items = (rule.target,)
        elif rule.trigger == TRIGGER_DIMENSION:
            dim_result = dims_by_code[rule.target]
            if dim_result.score is not None and dim_result.score < rule.threshold:
                triggered_items = dim_result.weak_items or _lowest_items(counted[rule.target])
        elif rule.target in capped:
            triggered_items = gates_by_code[rule.target].items
        if triggered_items is not None:
            recommendations.append(
                Recommendation(
                    rule=rule.code,
                    countermeasure=rule.countermeasure,
                    priority=rule.priority,
                    horizon=rule.horizon,
                    trigger=rule.trigger,
                    target=rule.target,
                    items=triggered_items,
                )
            )
    # Stable sort: within a priority the definition's order (countermeasure, then rule) is kept.
    recommendations.sort(key=lambda r: r.priority)

    return Result(
        version=definition.version,
        complete=not missing_all,
        missing=tuple(missing_all),
        dimensions=tuple(dim_scores),
        index=index,
        provisional_level=levels[provisional].code,
        level=levels[final_rank].code,
        gates=gate_outcomes,
        capped_by=tuple(capped_by),
        recommendations=tuple(recommendations),
    )


def _lowest_items(rows: list[tuple[str, int]]) -> tuple[str, ...]:
    if not rows:
        return ()
    lowest = min(score for _, score in rows)
    return tuple(code for code, score in rows if score == lowest)


def _evaluate_gate(
    gate: GateDef,
    definition: Definition,
    answers: Mapping[str, AnswerValue],
    counted: Mapping[str, list[tuple[str, int]]],
    unknown_items: Mapping[str, list[str]],
) -> GateOutcome:
    failed_dims: list[str] = []
    failed_items: list[str] = []
    if gate.kind == GATE_AREA_FLOOR:
        for dim in definition.dimensions:
            rows = counted[dim.code]
            if not rows:
                continue
            below = [code for code, score in rows if score < gate.min_score]
            if (len(rows) - len(below)) / len(rows) < gate.min_share:
                failed_dims.append(dim.code)
                failed_items.extend(below)
    elif gate.kind == GATE_KEY_ITEMS:
        for item_code, min_score in gate.requirements:
            value = answers.get(item_code)
            # 不适用, 不清楚 or no answer cannot demonstrate a key capability.
            if type(value) is not int or value < min_score:
                failed_items.append(item_code)
                failed_dims.append(definition.items[item_code].dimension)
    else:  # GATE_UNKNOWN_SHARE
        for dim in definition.dimensions:
            rows = counted[dim.code]
            unknowns = unknown_items[dim.code]
            if rows and len(unknowns) / len(rows) > gate.max_share:
                failed_dims.append(dim.code)
                failed_items.extend(unknowns)
    return GateOutcome(
        code=gate.code,
        kind=gate.kind,
        guards_level=gate.guards_level,
        passed=not failed_items and not failed_dims,
        dimensions=tuple(dict.fromkeys(failed_dims)),
        items=tuple(failed_items),
    )


def score_many(
    definition: Definition, answer_sets: Iterable[Mapping[str, AnswerValue]], *, final: bool = True
) -> list[Result]:
    return [score(definition, answers, final=final) for answers in answer_sets]


# --- batch engine -----------------------------------------------------------------------------------
# The same rules as score(), vectorised over many firms for analytics and simulations. Answers are an
# int8 matrix (firms × items in definition order): 0–4, or one of the codes below. A test checks that
# both engines agree on random answers.

CODE_UNKNOWN = -1
CODE_NOT_APPLICABLE = -2
CODE_MISSING = -3


@dataclass(frozen=True)
class BatchResult:
    item_codes: tuple[str, ...]
    dimension_codes: tuple[str, ...]
    gate_codes: tuple[str, ...]
    rule_codes: tuple[str, ...]
    level_codes: tuple[str, ...]
    dimension_scores: np.ndarray  # (firms, dimensions), NaN where nothing is scorable
    index: np.ndarray  # (firms,)
    provisional_rank: np.ndarray  # (firms,) index into level_codes
    level_rank: np.ndarray  # (firms,)
    gate_failed: np.ndarray  # (firms, gates) bool
    capped: np.ndarray  # (firms, gates) bool: failed and lowered the level
    triggered: np.ndarray  # (firms, rules) bool

    def level(self, row: int) -> str:
        return self.level_codes[int(self.level_rank[row])]


def encode_answers(definition: Definition, answer_sets: Iterable[Mapping[str, AnswerValue]]) -> np.ndarray:
    codes = [item.code for dim in definition.dimensions for item in dim.items]
    special = {UNKNOWN: CODE_UNKNOWN, NOT_APPLICABLE: CODE_NOT_APPLICABLE, None: CODE_MISSING}
    rows = [[special.get(a, a) for a in map(answers.get, codes)] for answers in answer_sets]
    return np.asarray(rows, dtype=np.int8).reshape(len(rows), len(codes))


def score_batch(definition: Definition, matrix: np.ndarray) -> BatchResult:
    """Score every row of an encoded answer matrix (see encode_answers); no completeness check."""
    item_list = [item for dim in definition.dimensions for item in dim.items]
    column = {item.code: i for i, item in enumerate(item_list)}
    weights = np.array([item.weight for item in item_list], dtype=np.float64)
    a = np.asarray(matrix, dtype=np.int8)
    n = a.shape[0]
    scores = np.where(a >= 0, a, 0).astype(np.float64)
    unknown = a == CODE_UNKNOWN
    counted = (a >= 0) | unknown

    dim_count = len(definition.dimensions)
    dim_scores = np.full((n, dim_count), np.nan)
    answered = np.zeros((n, dim_count), dtype=np.int32)
    unknown_count = np.zeros((n, dim_count), dtype=np.int32)
    spans = []
    start = 0
    # Sums are accumulated column by column in definition order, exactly as score() adds them, so that
    # both engines round to the same last digit.
    index_sum = np.zeros(n)
    weight_used = np.zeros(n)
    for d, dim in enumerate(definition.dimensions):
        cols = slice(start, start + len(dim.items))
        spans.append(cols)
        total = np.zeros(n)
        denominator = np.zeros(n)
        for col in range(start, start + len(dim.items)):
            w = weights[col]
            total += w * scores[:, col]
            denominator += np.where(counted[:, col], w, 0.0)
        start += len(dim.items)
        with np.errstate(invalid="ignore", divide="ignore"):
            dim_scores[:, d] = np.where(
                denominator > 0, _round_array(100.0 * total / (MAX_SCORE * denominator)), np.nan
            )
        answered[:, d] = counted[:, cols].sum(axis=1)
        unknown_count[:, d] = unknown[:, cols].sum(axis=1)
        has_score = denominator > 0
        index_sum += np.where(has_score, dim.weight * np.nan_to_num(dim_scores[:, d]), 0.0)
        weight_used += np.where(has_score, dim.weight, 0.0)

    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(weight_used > 0, _round_array(index_sum / weight_used), 0.0)
    thresholds = np.array([lv.min_index for lv in definition.levels[1:]])
    provisional = (index[:, None] >= thresholds[None, :]).sum(axis=1)

    gate_failed = np.zeros((n, len(definition.gates)), dtype=bool)
    for g, gate in enumerate(definition.gates):
        if gate.kind == GATE_AREA_FLOOR:
            ok = counted & (a >= gate.min_score)
            for d, cols in enumerate(spans):
                has = answered[:, d] > 0
                with np.errstate(invalid="ignore", divide="ignore"):
                    share = ok[:, cols].sum(axis=1) / np.where(has, answered[:, d], 1)
                gate_failed[:, g] |= has & (share < gate.min_share)
        elif gate.kind == GATE_KEY_ITEMS:
            for item_code, min_score in gate.requirements:
                gate_failed[:, g] |= a[:, column[item_code]] < min_score
        else:
            has = answered > 0
            share = unknown_count / np.where(has, answered, 1)
            gate_failed[:, g] = (has & (share > gate.max_share)).any(axis=1)

    rank_of = definition.level_rank
    guards = np.array([rank_of[gate.guards_level] for gate in definition.gates], dtype=np.int64)
    capped = gate_failed & (guards[None, :] <= provisional[:, None])
    caps = np.where(capped, np.maximum(guards - 1, 0)[None, :], len(definition.levels))
    level_rank = np.minimum(provisional, caps.min(axis=1, initial=len(definition.levels)))

    dim_position = {dim.code: d for d, dim in enumerate(definition.dimensions)}
    gate_position = {gate.code: g for g, gate in enumerate(definition.gates)}
    triggered = np.zeros((n, len(definition.rules)), dtype=bool)
    for r, rule in enumerate(definition.rules):
        if rule.trigger == TRIGGER_ITEM:
            col = a[:, column[rule.target]]
            triggered[:, r] = (col == CODE_UNKNOWN) | ((col >= 0) & (col <= rule.threshold))
        elif rule.trigger == TRIGGER_DIMENSION:
            values = dim_scores[:, dim_position[rule.target]]
            triggered[:, r] = ~np.isnan(values) & (np.nan_to_num(values, nan=np.inf) < rule.threshold)
        else:
            triggered[:, r] = capped[:, gate_position[rule.target]]

    return BatchResult(
        item_codes=tuple(item.code for item in item_list),
        dimension_codes=tuple(dim.code for dim in definition.dimensions),
        gate_codes=tuple(gate.code for gate in definition.gates),
        rule_codes=tuple(rule.code for rule in definition.rules),
        level_codes=tuple(lv.code for lv in definition.levels),
        dimension_scores=dim_scores,
        index=index,
        provisional_rank=provisional,
        level_rank=level_rank,
        gate_failed=gate_failed,
        capped=capped,
        triggered=triggered,
    )
