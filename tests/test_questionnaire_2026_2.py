"""Questionnaire 2026.2 as content: what the issue asks of the version itself (the file, read and validated
by the loader's own reader; the engine's behaviour on it is tested in test_scoring_v2.py)."""

import re

import pytest

from surveys import scoring
from surveys.seeding import HORIZONS, read_definition

from .conftest import SEED_2026_2_PATH, SEED_PATH

DATA = read_definition(SEED_2026_2_PATH)
OLD = read_definition(SEED_PATH)
ITEMS = {item["code"]: item for dim in DATA["dimensions"] for item in dim["items"]}
RULES = [rule for cm in DATA["countermeasures"] for rule in cm["rules"]]
LETTERS = "ABCDE"

# Time phrases and the horizon each implies (short ≤ 90 days, medium ≤ 1 year, long beyond).
TIME_PHRASES = {
    "short": r"30天|60天|90天|一个月|两个月|三个月|3个月|\b(30|60|90) days\b|\b(one|two|three) months?\b|\ba month\b",
    "medium": r"半年|六个月|6个月|一年内|12个月|\bsix months\b|\b6 months\b|\bwithin a year\b|\b12 months\b",
    "long": r"两年|三年|2年|3年|\btwo years\b|\bthree years\b",
}


def horizons_named(text):
    return {horizon for horizon, pattern in TIME_PHRASES.items() if re.search(pattern, text)}


def test_it_is_a_new_version_beside_2026_1_scored_by_rules_version_2():
    assert (DATA["version"], DATA["rules_version"]) == ("2026.2", 2)
    assert (OLD["version"], OLD.get("rules_version", 1)) == ("2026.1", 1)
    assert [d["code"] for d in DATA["dimensions"]] == [d["code"] for d in OLD["dimensions"]]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r["code"])
def test_every_rule_horizon_matches_the_time_its_text_names(rule):
    named = horizons_named(rule["text_zh"]) | horizons_named(rule["text_en"])
    if named:
        longest = max(named, key=HORIZONS.index)
        assert rule["horizon"] == longest, (rule["code"], named)
    assert rule.get("lead") in scoring.ITEM_OWNERS


@pytest.mark.parametrize("code", sorted(ITEMS))
def test_every_item_has_an_owned_next_rung_action_without_a_time_phrase(code):
    item = ITEMS[code]
    assert item["owner"] in scoring.ITEM_OWNERS
    assert item.get("lead", item["owner"]) in scoring.ITEM_OWNERS
    assert item["action_zh"] and item["action_en"]
    assert not horizons_named(item["action_zh"]) and not horizons_named(item["action_en"])
    assert len(item["horizons"]) == 4 and set(item["horizons"]) <= set(HORIZONS)
    # A higher rung never takes less time than a lower one.
    assert [HORIZONS.index(h) for h in item["horizons"]] == sorted(HORIZONS.index(h) for h in item["horizons"])


def test_gate_texts_quote_the_option_letters_the_form_shows():
    quoted = [(g["code"], m) for g in DATA["gates"] for m in re.findall(r"([A-E])级（(\d)分）", g["reason_zh"])]
    assert quoted
    for code, (letter, points) in quoted:
        assert LETTERS.index(letter) == int(points), code
    for gate in DATA["gates"]:
        for letter, points in re.findall(r"option ([A-E]) \((\d) points?\)", gate["reason_en"]):
            assert LETTERS.index(letter) == int(points), gate["code"]


def test_the_l3_floor_tolerates_two_gaps_among_the_seven_talent_items():
    gates = {g["code"]: g for g in DATA["gates"]}
    assert (gates["G-L3-FLOOR"]["min_score"], gates["G-L3-FLOOR"]["min_share"]) == (1, 0.7)
    assert "70%" in gates["G-L3-FLOOR"]["reason_zh"]
    assert len(next(d for d in DATA["dimensions"] if d["code"] == "D4")["items"]) == 7


def test_city_level_problems_are_context_never_a_firms_own_problem():
    city = {p["code"]: p for p in DATA["problems"] if p.get("scope") == "city"}
    assert {"PB-DATA-SILO", "PB-SEC-SUPERVISION", "PB-NO-PLATFORM"} <= set(city)
    covered = {code for item in ITEMS.values() for code in item.get("covers", ())}
    assert not covered & set(city)
    for problem in city.values():
        assert problem["related_items"] and set(problem["related_items"]) <= set(ITEMS)
    firm = {p["code"] for p in DATA["problems"] if p.get("scope", "firm") == "firm"}
    assert firm <= covered


def test_the_new_items_the_issue_asks_for():
    texts = {code: item["text_zh"] + item.get("help_zh", "") for code, item in ITEMS.items()}
    assert any("链主" in t and "平台" in t for t in texts.values())  # chain leader or platform
    assert any("国产" in t and ("PLC" in t or "DCS" in t) for t in texts.values())  # foreign industrial software
    # Counts that favoured large firms are asked relative to size.
    assert "每百名员工" in texts["P3.2"] and "÷" in texts["P3.2"]
    assert "÷ 员工总数" in texts["P4.3"]
    # Wording that fits process industries too.
    assert sum("DCS" in t or "装置" in t for t in texts.values()) >= 5


def test_the_barriers_question_is_unscored_multiple_choice_used_by_the_city_report():
    (question,) = DATA["context_questions"]
    assert (question["code"], question["multiple"], question["max_choices"], question["used_by"]) == (
        "C1",
        True,
        3,
        "city_report",
    )
    codes = [o["code"] for o in question["options"]]
    assert codes == ["cost", "people", "start", "security", "returns", "equipment", "lockin", "other"]
    assert [o["code"] for o in question["options"] if o.get("other")] == ["other"]
    assert question["code"] not in ITEMS


def test_mature_firms_get_recognition_and_leadership_paths_as_data():
    paths = {p["code"]: p for p in DATA["paths"]}
    assert {p["min_level"] for p in paths.values()} <= {"L4", "L5"}
    text = " ".join(p["text_zh"] for p in paths.values())
    for name in ("GB/T 39116", "标杆", "专精特新", "两化融合", "链主"):
        assert name in text
    programmes = {p["code"] for p in DATA["programmes"]}
    for path in paths.values():
        assert path["done_zh"] and path["done_en"] and set(path.get("programmes", ())) <= programmes
    # No invented addresses: every address is one the file's own texts already quote.
    for programme in DATA["programmes"]:
        if programme.get("url"):
            assert any(programme["url"] in item.get("help_zh", "") for item in ITEMS.values())
