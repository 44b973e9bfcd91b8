"""Factories: questionnaire definitions in the seed schema, and model objects (factory_boy)."""

from __future__ import annotations

import copy
from typing import Any

WEIGHTS = (0.2, 0.3, 0.2, 0.15, 0.15)
LEVEL_MINIMA = (0, 20, 40, 60, 80)


def definition_dict(*, version: str = "test-1", items_per_dimension: int = 6, **overrides: Any) -> dict[str, Any]:
    """A small, valid definition with the real scheme's levels and gates (5 × 6 items)."""
    dimensions = []
    problems = []
    rules_by_cm: dict[str, list[dict[str, Any]]] = {f"CM{k}": [] for k in range(1, 5)}
    cm_of_dimension = {1: "CM4", 2: "CM1", 3: "CM2", 4: "CM3", 5: "CM4"}
    for d in range(1, 6):
        problems.append({"code": f"PB{d}", "dimension": f"D{d}", "text_zh": f"问题{d}", "text_en": f"Problem {d}"})
        items = []
        for n in range(1, items_per_dimension + 1):
            code = f"P{d}.{n}"
            items.append(
                {
                    "code": code,
                    "text_zh": f"题目 {code}",
                    "text_en": f"Question {code}",
                    "help_zh": "",
                    "help_en": "",
                    "allows_unknown": True,
                    "allows_na": n == items_per_dimension,
                    "covers": [f"PB{d}"],
                    "options": [{"score": s, "label_zh": f"选项{s}", "label_en": f"Option {s}"} for s in range(5)],
                }
            )
            rules_by_cm[cm_of_dimension[d]].append(
                _rule(f"R-{code}", {"item": code, "at_most": 1}, priority=2, horizon="short")
            )
        rules_by_cm[cm_of_dimension[d]].append(_rule(f"R-D{d}", {"dimension": f"D{d}", "below": 40}, priority=1))
        dimensions.append(
            {
                "code": f"D{d}",
                "name_zh": f"维度{d}",
                "name_en": f"Dimension {d}",
                "problem_zh": f"问题领域{d}",
                "problem_en": f"Problem area {d}",
                "description_zh": f"说明{d}",
                "description_en": f"Description {d}",
                "weight": WEIGHTS[d - 1],
                "items": items,
            }
        )
    gates = [
        _gate("G-L3-FLOOR", "area_floor", "L3", min_score=1, min_share=0.8),
        _gate("G-L4-FLOOR", "area_floor", "L4", min_score=2, min_share=0.8),
        _gate("G-L5-FLOOR", "area_floor", "L5", min_score=3, min_share=0.8),
        _gate(
            "G-L4-KEY",
            "key_items",
            "L4",
            requirements=[{"item": "P2.4", "min_score": 2}, {"item": "P5.4", "min_score": 2}],
        ),
        _gate(
            "G-L5-KEY",
            "key_items",
            "L5",
            requirements=[
                {"item": "P2.4", "min_score": 3},
                {"item": "P3.5", "min_score": 3},
                {"item": "P1.5", "min_score": 3},
            ],
        ),
        _gate("G-UNKNOWN", "unknown_share", "L4", max_share=0.2),
    ]
    for gate in gates:
        rules_by_cm["CM1"].append(_rule(f"R-{gate['code']}", {"gate": gate["code"]}, priority=1))
    data = {
        "version": version,
        "title_zh": "测试问卷",
        "title_en": "Test questionnaire",
        "description_zh": "测试用",
        "description_en": "For tests",
        "problems": problems,
        "dimensions": dimensions,
        "levels": [
            {
                "code": f"L{k + 1}",
                "name_zh": f"等级{k + 1}",
                "name_en": f"Level {k + 1}",
                "description_zh": f"等级说明{k + 1}",
                "description_en": f"Level description {k + 1}",
                "min_index": minimum,
            }
            for k, minimum in enumerate(LEVEL_MINIMA)
        ],
        "gates": gates,
        "countermeasures": [
            {
                "code": code,
                "title_zh": f"对策{code}",
                "title_en": f"Countermeasure {code}",
                "heading_zh": f"（{code}）对策标题",
                "description_zh": "对策说明",
                "description_en": "Countermeasure description",
                "rules": rules,
            }
            for code, rules in rules_by_cm.items()
        ],
    }
    data.update(overrides)
    return copy.deepcopy(data)


def _rule(code: str, trigger: dict[str, Any], *, priority: int, horizon: str = "medium") -> dict[str, Any]:
    return {
        "code": code,
        "trigger": trigger,
        "priority": priority,
        "horizon": horizon,
        "text_zh": f"建议 {code}。下一步：行动。",
        "text_en": f"Advice {code}. Next step: act.",
    }


def _gate(code: str, kind: str, guards_level: str, **params: Any) -> dict[str, Any]:
    return {
        "code": code,
        "kind": kind,
        "guards_level": guards_level,
        **params,
        "reason_zh": f"门槛 {code}",
        "reason_en": f"Gate {code}",
    }


def all_item_codes(data: dict[str, Any]) -> list[str]:
    return [item["code"] for dim in data["dimensions"] for item in dim["items"]]


def uniform_answers(data: dict[str, Any], value: int | str) -> dict[str, int | str]:
    return dict.fromkeys(all_item_codes(data), value)
