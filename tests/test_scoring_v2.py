"""Scoring rules version 2 (seeds/README.md, "Rules version 2"): 不清楚 read as unknown rather than as the
worst answer, "verify" recommendations, next-rung actions and their ranking, the submission check.

Version 1 is left exactly as it was (tests/test_scoring.py); here it appears only as the baseline of the
issue's reproduction and of the comparison properties."""

import itertools
import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import scoring
from surveys.scoring import NOT_APPLICABLE as NA
from surveys.scoring import UNKNOWN as U
from surveys.seeding import normalize_definition, read_definition

from . import factories
from .conftest import SEED_PATH

# Module-level definitions: hypothesis reruns test bodies many times.
SEED = read_definition(SEED_PATH)  # questionnaire 2026.1, rules version 1 as stored
TEST_DATA = normalize_definition(factories.definition_dict())


def _definition(data, rules_version, *, all_na=False):
    data = json.loads(json.dumps(data))  # a deep copy
    data["rules_version"] = rules_version
    if all_na:
        for dim in data["dimensions"]:
            for item in dim["items"]:
                item["allows_na"] = True
    return scoring.Definition.from_dict(data)


SEED_V1, SEED_V2 = _definition(SEED, 1), _definition(SEED, 2)  # 2026.1 as it is, and read by version 2
SEED2_DATA = read_definition("seeds/questionnaire-2026.2.yaml")
SEED2 = scoring.Definition.from_dict(SEED2_DATA)
TEST_V1, TEST_V2 = _definition(TEST_DATA, 1), _definition(TEST_DATA, 2)
V1_OF = {SEED_V2.version: SEED_V1, TEST_V2.version: TEST_V1, SEED2.version: _definition(SEED2_DATA, 1)}
RANK = SEED_V2.level_rank  # L1 … L5 → 0 … 4, the same in both definitions
FLOOR_KINDS = (scoring.GATE_AREA_FLOOR, scoring.GATE_KEY_ITEMS)


def answers(**rows):
    """For the 5 × 6 test definition: answers(D1=[...6 values...], …); other dimensions answered 4."""
    return {f"P{d}.{n}": value for d in range(1, 6) for n, value in enumerate(rows.get(f"D{d}", [4] * 6), start=1)}


def every(values):
    return {f"D{d}": list(values) for d in range(1, 6)}


def seed_answers(**changes):
    """Questionnaire 2026.1 with the best option everywhere, except the given items."""
    return {**dict.fromkeys(SEED_V2.items, 4), **changes}


def seed2_answers(**changes):
    """Questionnaire 2026.2 with the best option everywhere, except the given items."""
    return {**dict.fromkeys(SEED2.items, 4), **changes}


def gate(result, code):
    return next(g for g in result.gates if g.code == code)


def test_rules_version_defaults_to_1_and_version_1_adds_nothing_to_the_stored_result():
    assert scoring.Definition.from_dict(TEST_DATA).rules_version == 1
    result = scoring.score(TEST_V1, answers(D1=[U, 1, 2, 3, 4, NA]))
    assert (result.rules_version, result.actions, result.top_actions) == (1, (), ())
    data = result.as_dict()
    assert "rules_version" not in data and "actions" not in data and "top_actions" not in data
    assert all(set(g) == {"code", "kind", "guards_level", "passed", "dimensions", "items"} for g in data["gates"])
    assert all("kind" not in r for r in data["recommendations"])


# --- the issue's reproduction ------------------------------------------------------------------------

TALENT_CODE = next(d["code"] for d in SEED["dimensions"] if "人才" in d["problem_zh"])
TALENT = next(d for d in SEED_V2.dimensions if d.code == TALENT_CODE)
TALENT_PAIRS = list(itertools.combinations([i.code for i in TALENT.items if i.allows_unknown], 2))


def test_the_talent_dimension_has_seven_items_in_both_versions():
    assert TALENT.code == "D4" and len(TALENT.items) == 7
    assert [i.code for d in SEED2.dimensions if d.code == "D4" for i in d.items] == [i.code for i in TALENT.items]


@pytest.mark.parametrize("pair", TALENT_PAIRS)
def test_issue_12_two_unknown_talent_items_under_version_1_end_at_l2(pair):
    """Today's behaviour, kept for 2026.1: 不清楚 scores 0 in the area floors, so 5 of 7 (71 %) at the
    option fails the 80 % floor of L3 as well as L4 and L5, besides the unknown-share gate."""
    result = scoring.score(SEED_V1, seed_answers(**dict.fromkeys(pair, U)))
    assert result.index == pytest.approx(95.714286)
    assert (result.provisional_level, result.level) == ("L5", "L2")
    assert result.capped_by == ("G-L3-FLOOR", "G-L4-FLOOR", "G-L5-FLOOR", "G-UNKNOWN")


@pytest.mark.parametrize("pair", TALENT_PAIRS)
def test_issue_12_two_unknown_talent_items_in_2026_2_are_at_l3_capped_by_the_unknown_gate_with_verify_actions(pair):
    result = scoring.score(SEED2, seed2_answers(**dict.fromkeys(pair, U)))
    assert result.index == pytest.approx(95.714286)
    assert (result.provisional_level, result.level, result.capped_by) == ("L5", "L3", ("G-UNKNOWN",))
    unknown_gate = gate(result, "G-UNKNOWN")
    assert (unknown_gate.status, unknown_gate.dimensions, unknown_gate.unverified) == ("unverified", ("D4",), pair)
    # The floors judge the known answers (all at the top) and hold nothing.
    assert all(g.passed for g in result.gates if g.kind in FLOOR_KINDS)
    # Every recommendation asks to verify, none states a finding; the gate's one names both items.
    assert {r.kind for r in result.recommendations} == {scoring.KIND_VERIFY}
    assert next(r for r in result.recommendations if r.rule == "R-G-UNKNOWN").items == pair
    # The plan starts with verifying the two answers, each lifting the cap (the blocking bonus).
    first_two = result.top_actions[:2]
    assert [(a.kind, a.item, a.blocks) for a in first_two] == [("verify", code, ("G-UNKNOWN",)) for code in pair]
    assert not any(a.kind == scoring.KIND_IMPROVE for a in result.actions)


def test_issue_12_the_same_firm_with_the_two_answers_at_0_is_not_rated_higher_than_with_them_unknown():
    zeros = scoring.score(SEED2, seed2_answers(**{"P4.1": 0, "P4.3": 0}))
    one = scoring.score(SEED2, seed2_answers(**{"P4.1": U, "P4.3": 0}))
    both = scoring.score(SEED2, seed2_answers(**{"P4.1": U, "P4.3": U}))
    assert zeros.index == one.index == both.index  # 不清楚 still scores 0 in the index
    assert (zeros.level, one.level, both.level) == ("L3", "L3", "L3")
    assert zeros.capped_by == ("G-L4-FLOOR", "G-L5-FLOOR")  # 5 of 7 at C or above: below 80 %
    # One 不清楚 beside one 0: the L4 and L5 floors pass D4 only if the 不清楚 is good: held unverified.
    held = gate(one, "G-L4-FLOOR")
    assert (held.status, held.items, held.unverified) == ("unverified", ("P4.3",), ("P4.1",))


# --- 不清楚 in the gates -----------------------------------------------------------------------------


def test_a_floor_fails_on_known_answers_and_is_held_unverified_when_only_unknown_answers_decide():
    # D1 in the test definition (L3 floor: option B on 80 %): 3 known at the top, 2 不清楚, 1 不适用.
    result = scoring.score(TEST_V2, answers(D1=[U, U, 4, 4, 4, NA]))
    l3 = gate(result, "G-L3-FLOOR")
    assert (l3.passed, l3.status, l3.items, l3.unverified) == (False, "unverified", (), ("P1.1", "P1.2"))
    assert result.capped_by == ("G-L3-FLOOR", "G-UNKNOWN") and result.level == "L2"
    # With the two at B (known and reached) the floor passes; at A it fails on known answers.
    assert gate(scoring.score(TEST_V2, answers(D1=[1, 1, 4, 4, 4, NA])), "G-L3-FLOOR").passed
    failed = gate(scoring.score(TEST_V2, answers(D1=[0, 0, 4, 4, 4, NA])), "G-L3-FLOOR")
    assert (failed.status, failed.items, failed.unverified) == ("failed", ("P1.1", "P1.2"), ())


def test_a_dimension_over_the_unknown_limit_is_still_judged_by_the_floors_below_that_gates_level():
    """The unknown-share gate (guarding L4) speaks for D1 at L4 and above; the L3 floor still judges D1,
    whose known answers are mostly 0 (otherwise answering one more item 不清楚 would lift such a firm)."""
    result = scoring.score(TEST_V2, answers(D1=[U, U, 0, 0, 4, NA]))
    assert result.capped_by == ("G-L3-FLOOR", "G-UNKNOWN")
    assert gate(result, "G-L3-FLOOR").items == ("P1.3", "P1.4")
    assert gate(result, "G-L3-FLOOR").status == "failed"  # even with both 不清楚 at B: 3 of 5
    assert gate(result, "G-L4-FLOOR").passed and gate(result, "G-L5-FLOOR").passed
    assert result.level == "L2"


def test_a_floor_pass_that_does_not_depend_on_the_unknown_answers_lists_nothing_to_verify():
    # D1: one 不清楚 (20 %, tolerated) next to five 4s; even at 0 it would leave 5 of 6 at the option.
    result = scoring.score(TEST_V2, answers(D1=[U, 4, 4, 4, 4, 4]))
    assert result.level == "L5" and result.capped_by == ()
    assert all(g.unverified == () for g in result.gates)
    assert [a.kind for a in result.actions] == ["verify"]  # still: find out P1.1


def test_a_key_item_answered_unknown_holds_its_gate_unverified_and_is_to_verify():
    rows = {**every([3, 3, 3, 3, 0, NA]), "D2": [3, 3, 3, U, 4, NA]}
    v1, v2 = scoring.score(TEST_V1, answers(**rows)), scoring.score(TEST_V2, answers(**rows))
    assert (v1.level, v1.capped_by) == ("L3", ("G-L4-KEY",))
    key = gate(v2, "G-L4-KEY")
    assert (key.passed, key.status, key.items, key.unverified) == (False, "unverified", (), ("P2.4",))
    assert (v2.level, v2.capped_by) == ("L3", ("G-L4-KEY",))
    assert next(r for r in v2.recommendations if r.rule == "R-P2.4").kind == scoring.KIND_VERIFY
    assert next(r for r in v2.recommendations if r.rule == "R-G-L4-KEY").kind == scoring.KIND_VERIFY
    first = v2.top_actions[0]
    assert (first.kind, first.item, first.blocks) == ("verify", "P2.4", ("G-L4-KEY",))


def test_a_key_item_answered_not_applicable_leaves_its_gate():
    data = json.loads(json.dumps(TEST_DATA))
    data["dimensions"][1]["items"][3]["allows_na"] = True  # P2.4
    rows = {**every([3, 3, 3, 3, 0, NA]), "D2": [3, 3, 3, NA, 4, NA]}
    v1 = scoring.score(_definition(data, 1), answers(**rows))
    v2 = scoring.score(_definition(data, 2), answers(**rows))
    assert v1.capped_by == ("G-L4-KEY",)
    assert v2.capped_by == () and gate(v2, "G-L4-KEY").passed


def test_a_key_item_answered_below_its_option_still_fails():
    rows = {**every([3, 3, 3, 3, 0, NA]), "D2": [3, 3, 3, 1, 4, NA]}
    result = scoring.score(TEST_V2, answers(**rows))
    assert (result.level, result.capped_by) == ("L3", ("G-L4-KEY",))
    assert gate(result, "G-L4-KEY").items == ("P2.4",) and gate(result, "G-L4-KEY").status == "failed"


# --- recommendations ---------------------------------------------------------------------------------


def test_item_rules_on_unknown_answers_are_to_verify():
    result = scoring.score(TEST_V2, answers(D2=[1, 2, U, 0, 4, NA]))
    kinds = {r.rule: r.kind for r in result.recommendations}
    assert kinds["R-P2.3"] == scoring.KIND_VERIFY
    assert kinds["R-P2.1"] == kinds["R-P2.4"] == scoring.KIND_IMPROVE


def test_a_low_dimension_that_the_unknown_answers_could_lift_is_to_verify():
    # D3 scores 33.3 with 不清楚 as 0, but 50 with it at the top option: not a finding.
    result = scoring.score(TEST_V2, answers(D3=[0, 1, U, 3, 4, 0]))
    rule = next(r for r in result.recommendations if r.rule == "R-D3")
    assert (rule.kind, rule.items) == (scoring.KIND_VERIFY, ("P3.3",))


def test_a_low_dimension_whatever_the_unknown_answers_is_a_finding_naming_known_answers_only():
    result = scoring.score(TEST_V2, answers(D3=[0, 1, U, 1, 1, 0]))
    rule = next(r for r in result.recommendations if r.rule == "R-D3")
    assert (rule.kind, rule.items) == (scoring.KIND_IMPROVE, ("P3.1", "P3.2", "P3.4", "P3.5", "P3.6"))


# --- next-rung actions and their ranking -------------------------------------------------------------


def test_every_item_below_the_top_option_yields_one_action_with_its_score_components():
    result = scoring.score(TEST_V2, answers(D2=[0, 1, 2, 3, 4, NA], D4=[U, 3, 4, 4, 4, 4]))
    by_item = {a.item: a for a in result.actions if a.kind == scoring.KIND_IMPROVE}
    assert set(by_item) == {"P2.1", "P2.2", "P2.3", "P2.4", "P4.2"}  # not 4, not 不清楚, not 不适用
    (verify,) = [a for a in result.actions if a.kind == scoring.KIND_VERIFY]
    assert (verify.item, verify.current, verify.next, verify.key) == ("P4.1", None, None, "verify:P4.1")
    step = by_item["P4.2"]
    assert (step.current, step.next, step.dimension, step.countermeasure) == (3, 4, "D4", "CM3")
    assert step.dimension_weight == 0.15
    assert step.weight_share == pytest.approx(1 / 6, abs=1e-6)  # six counted items in D4, 不清楚 included
    assert step.rung_points == 25.0
    assert step.gain == pytest.approx(0.15 / 6 * 25)  # 0.625 index points
    assert (step.blocks, step.bonus) == ((), 0.0)
    assert step.priority == step.gain
    # D2 (2 of 5 known answers at option 3 or above) fails the L4 and L5 floors, which cap the level at L3:
    # its answers below those options block, each naming the gates.
    assert (result.level, result.capped_by) == ("L3", ("G-L4-FLOOR", "G-L5-FLOOR"))
    assert by_item["P2.1"].blocks == ("G-L4-FLOOR", "G-L5-FLOOR")
    assert by_item["P2.3"].blocks == ("G-L5-FLOOR",)
    assert by_item["P2.4"].blocks == ()
    assert by_item["P2.3"].priority == pytest.approx(0.3 / 5 * 25 + scoring.BLOCKING_BONUS)


def test_the_gain_is_the_index_points_the_step_adds():
    before = answers(D2=[0, 1, 2, 3, 4, NA], D4=[U, 3, 4, 4, 4, 4])
    result = scoring.score(TEST_V2, before)
    for action in result.actions:
        if action.kind != scoring.KIND_IMPROVE:
            continue
        after = scoring.score(TEST_V2, {**before, action.item: action.next})
        assert after.index - result.index == pytest.approx(action.gain, abs=1e-5)


def test_an_item_that_capped_the_level_gets_the_bonus_and_ranks_first():
    rows = {**every([3, 3, 3, 3, 0, NA]), "D2": [3, 3, 3, 1, 4, NA]}
    result = scoring.score(TEST_V2, answers(**rows))
    first = result.actions[0]
    assert (first.item, first.blocks, first.bonus) == ("P2.4", ("G-L4-KEY",), scoring.BLOCKING_BONUS)
    assert first.priority == pytest.approx(first.gain + scoring.BLOCKING_BONUS)
    assert result.top_actions[0] == first


def test_a_key_item_of_the_next_level_blocks_it_although_nothing_is_capped():
    # Index 57.1 (L3, not capped): P2.4 at 1 fails the L4 key gate, the next level's.
    rows = {**every([2, 3, 2, 2, 2, 3]), "D2": [2, 3, 2, 1, 2, 3]}
    result = scoring.score(TEST_V2, answers(**rows))
    assert (result.level, result.capped_by) == ("L3", ())
    by_item = {a.item: a for a in result.actions}
    assert by_item["P2.4"].blocks == ("G-L4-KEY",)
    assert result.actions[0].item == "P2.4"
    # A key item of a level two rungs up (L5) does not count: P1.5 at 2 fails G-L5-KEY only.
    assert by_item["P1.5"].blocks == ()


def test_ties_are_broken_by_dimension_weight_then_by_the_weaker_answer_then_by_item_code():
    # Every dimension of 6 counted items at 3 but two items at 2: equal gains within a dimension.
    rows = {**every([3] * 6), "D2": [3, 3, 2, 3, 3, 3], "D3": [3, 2, 3, 3, 3, 3]}
    result = scoring.score(TEST_V2, answers(**rows))
    order = [a.item for a in result.actions]
    # D2 (weight .3) first, its 2 before its 3s; then D1 and D3 (weight .2): equal gain and weight, so
    # current option (P3.2 at 2 first), then item code; then D4 and D5 (.15).
    assert order[:6] == ["P2.3", "P2.1", "P2.2", "P2.4", "P2.5", "P2.6"]
    assert order[6] == "P3.2"
    assert order[7:18] == [f"P1.{n}" for n in range(1, 7)] + ["P3.1", "P3.3", "P3.4", "P3.5", "P3.6"]
    assert [a.dimension for a in result.actions[18:]] == ["D4"] * 6 + ["D5"] * 6


def test_the_top_list_holds_eight_with_at_most_three_per_countermeasure_and_dimension():
    result = scoring.score(TEST_V2, answers(**every([1] * 6)))
    top = result.top_actions
    assert len(result.actions) == 30 and len(top) == scoring.TOP_ACTIONS_MAX
    assert max(Counter(a.countermeasure for a in top).values()) <= 3
    assert max(Counter(a.dimension for a in top).values()) <= 3
    assert list(top) == [a for a in result.actions if a in top]  # in rank order


def test_the_top_list_fills_to_five_from_one_countermeasure_when_the_answers_allow_nothing_else():
    result = scoring.score(TEST_V2, answers(D2=[3, 3, 3, 3, 3, 3]))
    assert [a.item for a in result.top_actions] == ["P2.1", "P2.2", "P2.3", "P2.4", "P2.5"]


def test_the_top_list_is_shorter_only_when_there_are_fewer_candidates():
    result = scoring.score(TEST_V2, answers(D2=[3, 3, 4, 4, 4, 4], D5=[4, 4, 4, 4, 4, 2]))
    assert [a.item for a in result.top_actions] == ["P2.1", "P2.2", "P5.6"]


def test_version_2_result_as_dict_is_json_ready_and_carries_the_new_parts():
    result = scoring.score(TEST_V2, answers(D1=[U, U, 1, 2, 3, NA]))
    data = result.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["rules_version"] == 2
    assert {r["kind"] for r in data["recommendations"]} <= {"improve", "verify"}
    assert next(g for g in data["gates"] if g["code"] == "G-UNKNOWN")["unverified"] == ["P1.1", "P1.2"]
    assert [a["key"] for a in data["actions"]] == [a.key for a in result.actions]
    assert data["top_actions"] == [a.key for a in result.top_actions]
    assert {a["kind"] for a in data["actions"]} == {"improve", "verify"}
    assert next(g for g in data["gates"] if g["code"] == "G-UNKNOWN")["status"] == "unverified"
    assert set(data["actions"][0]) >= {"dimension_weight", "weight_share", "rung_points", "gain", "bonus", "priority"}


# --- submission check --------------------------------------------------------------------------------


def _owned(data, owners):
    data = json.loads(json.dumps(data))
    for dim in data["dimensions"]:
        for item in dim["items"]:
            item["owner"] = owners.get(item["code"], "")
    return data


def test_an_all_unknown_round_cannot_be_submitted_and_every_item_is_named():
    everything = {code: (U if item.allows_unknown else 0) for code, item in SEED_V2.items.items()}
    check = scoring.submission_check(SEED_V2, everything)
    assert not check.allowed and check.too_many_overall
    named = [code for block in check.dimensions for code in block.items]
    assert named == [code for code, value in everything.items() if value == U]
    assert all(block.too_many for block in check.dimensions)


def test_more_than_a_third_overall_is_refused_a_third_is_not():
    # 41 counted items in 2026.1: 13 不清楚 (39 ≤ 41) pass, 14 (42 > 41) do not; none is over half its dimension.
    allowed = [c for c, item in SEED_V2.items.items() if item.allows_unknown]
    spread = [c for c in allowed if c.endswith((".1", ".3", ".5"))]  # 3, 2 (P2.1 has no 不清楚), 3, 3, 3
    assert len(spread) == 14
    thirteen = scoring.submission_check(SEED_V2, seed_answers(**dict.fromkeys(spread[:13], U)))
    fourteen = scoring.submission_check(SEED_V2, seed_answers(**dict.fromkeys(spread, U)))
    assert thirteen.allowed and (thirteen.unknown, thirteen.counted) == (13, 41) and thirteen.dimensions == ()
    assert not fourteen.allowed and fourteen.too_many_overall
    assert not any(block.too_many for block in fourteen.dimensions)
    assert sorted(c for block in fourteen.dimensions for c in block.items) == sorted(spread)


def test_more_than_half_of_one_dimension_is_refused_with_who_knows_each_item():
    definition = _definition(_owned(SEED, {"P4.1": "hr", "P4.3": "hr", "P4.4": "management", "P4.5": "hr"}), 2)
    half = scoring.submission_check(definition, seed_answers(**dict.fromkeys(["P4.1", "P4.3", "P4.4"], U)))
    assert half.allowed  # 3 of 7
    over = scoring.submission_check(definition, seed_answers(**dict.fromkeys(["P4.1", "P4.3", "P4.4", "P4.5"], U)))
    assert not over.allowed and not over.too_many_overall
    (block,) = over.dimensions
    assert (block.dimension, block.unknown, block.counted, block.too_many) == ("D4", 4, 7, True)
    assert block.owners == ("hr", "hr", "management", "hr")
    assert over.by_owner() == {"hr": ("P4.1", "P4.3", "P4.5"), "management": ("P4.4",)}


def test_not_applicable_answers_are_not_counted():
    # D3: P3.3 不适用 leaves 8 counted items, of which 4 不清楚 is exactly half: allowed; 5 is not.
    base = {"P3.3": NA}
    four = dict.fromkeys(["P3.1", "P3.2", "P3.4", "P3.5"], U)
    assert scoring.submission_check(SEED_V2, seed_answers(**base, **four)).allowed
    assert not scoring.submission_check(SEED_V2, seed_answers(**base, **four, **{"P3.6": U})).allowed


def test_version_1_never_refuses():
    everything = {code: (U if item.allows_unknown else 0) for code, item in SEED_V1.items.items()}
    check = scoring.submission_check(SEED_V1, everything)
    assert check.allowed and check.dimensions == ()


def test_the_submission_check_refuses_answers_it_cannot_read():
    with pytest.raises(scoring.InvalidAnswerError):
        scoring.submission_check(SEED_V2, {"P9.9": 1})
    with pytest.raises(scoring.InvalidAnswerError):
        scoring.submission_check(SEED_V2, {"P2.1": U})  # P2.1 does not offer 不清楚


# --- properties over random answer sets under version 2 ----------------------------------------------

DEFINITIONS = (TEST_V2, SEED_V2, SEED2)


@st.composite
def firms(draw):
    """A definition (the 5 × 6 test one or 2026.1) and a complete answer set around a drawn maturity (with
    or without outliers at 0 and 4), with a drawn share of 不清楚 (none to most) and 不适用 where offered."""
    definition = draw(st.sampled_from(DEFINITIONS))
    base = draw(st.integers(0, 4))
    extremes = [0, 4] if draw(st.booleans()) else []
    unknown_weight = draw(st.sampled_from((0, 1, 2, 4)))
    result = {}
    for code, item in definition.items.items():
        pool = [base] * 4 + [max(base - 1, 0), min(base + 1, 4)] + extremes
        pool += [U] * unknown_weight if item.allows_unknown else []
        pool += [NA] if item.allows_na else []
        result[code] = draw(st.sampled_from(pool))
    return definition, result


def _floors(definition):
    return {g.code: g for g in definition.gates if g.kind in FLOOR_KINDS}


@settings(max_examples=300, deadline=None)
@given(firms(), st.data())
def test_raising_one_answer_never_lowers_the_index_or_the_level(firm, data):
    """Raising: a known option to a higher one, or 不清楚 to the top option. (不清楚 is not below 0 under
    version 2, so 不清楚 → a low option is resolving, not raising.)"""
    definition, values = firm
    code = data.draw(st.sampled_from(sorted(definition.items)))
    current = values[code]
    if current == U:
        higher = [scoring.MAX_SCORE]
    elif isinstance(current, int):
        higher = list(range(current + 1, scoring.MAX_SCORE + 1))
    else:
        higher = []
    if not higher:
        return
    before = scoring.score(definition, values)
    after = scoring.score(definition, {**values, code: data.draw(st.sampled_from(higher))})
    assert after.index >= before.index
    assert RANK[after.provisional_level] >= RANK[before.provisional_level]
    assert RANK[after.level] >= RANK[before.level]


@settings(max_examples=400, deadline=None)
@given(firms(), st.data())
def test_turning_a_known_answer_into_unknown_never_raises_the_index_or_the_level(firm, data):
    definition, values = firm
    known = sorted(c for c, v in values.items() if isinstance(v, int) and definition.items[c].allows_unknown)
    if not known:
        return
    code = data.draw(st.sampled_from(known))
    before = scoring.score(definition, values)
    after = scoring.score(definition, {**values, code: U})
    assert after.index <= before.index
    assert RANK[after.level] <= RANK[before.level]


@settings(max_examples=300, deadline=None)
@given(firms())
def test_unknown_never_counts_as_failing_a_floor_gate(firm):
    """The area floors and key items never name a 不清楚 answer as failing; a gate held only by 不清楚
    answers says so (status unverified) and passes once exactly the answers it lists are found to be at the
    top option; a failed floor fails on known answers whatever its 不清楚 answers turn out to be."""
    definition, values = firm
    result = scoring.score(definition, values)
    unknown = {c for c, v in values.items() if v == U}
    optimistic = scoring.score(definition, {c: scoring.MAX_SCORE if v == U else v for c, v in values.items()})
    for outcome, resolved_all in zip(result.gates, optimistic.gates, strict=True):
        assert set(outcome.unverified) <= unknown
        if outcome.kind in FLOOR_KINDS:
            assert not unknown & set(outcome.items)
        if outcome.status == scoring.STATUS_FAILED:
            assert outcome.kind != scoring.GATE_UNKNOWN_SHARE and not resolved_all.passed
        elif outcome.status == scoring.STATUS_UNVERIFIED:
            assert outcome.unverified and not outcome.passed
            resolved = {**values, **dict.fromkeys(outcome.unverified, scoring.MAX_SCORE)}
            assert gate(scoring.score(definition, resolved), outcome.code).passed
        else:
            assert outcome.passed and outcome.unverified == () and outcome.items == ()


@settings(max_examples=300, deadline=None)
@given(firms())
def test_version_2_scores_like_version_1_and_never_rates_lower(firm):
    definition, values = firm
    v1, v2 = scoring.score(V1_OF[definition.version], values), scoring.score(definition, values)
    assert (v2.index, v2.provisional_level, v2.dimensions) == (v1.index, v1.provisional_level, v1.dimensions)
    assert RANK[v2.level] >= RANK[v1.level]


@settings(max_examples=300, deadline=None)
@given(firms())
def test_every_firm_below_the_top_somewhere_gets_actions_ranked_by_the_documented_rule(firm):
    definition, values = firm
    result = scoring.score(definition, values)
    below_top = {c for c, v in values.items() if isinstance(v, int) and v < scoring.MAX_SCORE}
    unknown = {c for c, v in values.items() if v == U}
    by_kind = {kind: [a for a in result.actions if a.kind == kind] for kind in ("improve", "verify", "path")}
    assert {a.item for a in by_kind["improve"]} == below_top
    assert {a.item for a in by_kind["verify"]} == unknown
    offered = {p.code for p in definition.paths if RANK[p.min_level] <= RANK[result.level]}
    assert {a.path for a in by_kind["path"]} == offered
    if below_top:
        assert result.top_actions
    for action in by_kind["improve"]:
        assert action.next == action.current + 1 == values[action.item] + 1
    for action in by_kind["improve"] + by_kind["verify"]:
        assert action.gain == pytest.approx(
            action.dimension_weight * action.weight_share * action.rung_points, abs=1e-5
        )
        assert action.bonus == (scoring.BLOCKING_BONUS if action.blocks else 0.0)
        assert action.priority == pytest.approx(action.gain + action.bonus)
    key = [
        (-a.priority, not a.blocks, -a.gain, -a.dimension_weight, -1 if a.current is None else a.current, a.key)
        for a in result.actions
    ]
    assert key == sorted(key)
    # Nothing stated as a finding rests on a 不清楚 answer.
    for recommendation in result.recommendations:
        if recommendation.kind == scoring.KIND_IMPROVE:
            assert not unknown & set(recommendation.items)
    assert not unknown & {a.item for a in by_kind["improve"]}


def _group(action):
    return action.countermeasure or f"dimension:{action.dimension}"


def _laminar_room(actions, per_group):
    """How many actions the limits allow at most, when each dimension lies within one countermeasure."""
    by_dimension = Counter(a.dimension for a in actions)
    groups = {}
    for a in actions:
        groups.setdefault(_group(a), set()).add(a.dimension)
    return sum(min(per_group, sum(min(per_group, by_dimension[d]) for d in dims)) for dims in groups.values())


@settings(max_examples=300, deadline=None)
@given(firms())
def test_the_top_list_holds_five_to_eight_with_at_most_three_per_countermeasure_and_dimension_where_possible(firm):
    definition, values = firm
    result = scoring.score(definition, values)
    actions, top = result.actions, result.top_actions
    low, high, per = scoring.TOP_ACTIONS_MIN, scoring.TOP_ACTIONS_MAX, scoring.TOP_ACTIONS_PER_GROUP
    assert list(top) == [a for a in actions if a in top]  # a selection, in rank order
    if len(actions) < low:
        assert len(top) == len(actions)
    else:
        assert low <= len(top) <= high
    per_group, per_dimension = Counter(map(_group, top)), Counter(a.dimension for a in top if a.dimension)
    # The countermeasure limit is broken only when the answers leave fewer than five actions within it.
    if sum(min(per, n) for n in Counter(map(_group, actions)).values()) >= low:
        assert max(per_group.values()) <= per
    # At most three recognition paths, unless the list could not reach five without more.
    if sum(a.kind == "path" for a in top) > scoring.TOP_PATHS_MAX:
        assert len(top) == min(low, len(actions))
    # Both limits are relaxed only to fill the list up to five (or to every action when there are fewer).
    if max(per_group.values(), default=0) > per or max(per_dimension.values(), default=0) > per:
        assert len(top) == min(low, len(actions))
    # Where every dimension lies within one countermeasure (the test definition) the selection is exact.
    dimension_groups = {d: {_group(a) for a in actions if a.dimension == d} for d in {a.dimension for a in actions}}
    if all(len(g) == 1 for g in dimension_groups.values()):
        room = _laminar_room(actions, per)
        if room >= low:
            assert max(per_dimension.values()) <= per
            assert len(top) == min(high, room)


@settings(max_examples=100, deadline=None)
@given(firms(), st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_answer_order(firm, rnd):
    definition, values = firm
    keys = list(values)
    rnd.shuffle(keys)
    assert scoring.score(definition, values) == scoring.score(definition, {k: values[k] for k in keys})
    assert scoring.submission_check(definition, values) == scoring.submission_check(
        definition, {k: values[k] for k in keys}
    )


def test_issue_12_a_weak_security_dimension_without_a_graded_protection_filing_gets_security_actions_first():
    """The issue: a firm with the security dimension at 50 and no 等保 filing got nothing on security. On
    2026.2 every answer below the top option is a step, and the weakest dimension is always in the top list."""
    d5 = next(d for d in SEED2.dimensions if d.code == "D5")
    low = {item.code: 2 for item in d5.items}  # option C everywhere: the dimension scores 50
    result = scoring.score(SEED2, seed2_answers(**{**low, "P5.4": 1}))
    assert result.dimension("D5").score < 50
    security = [a for a in result.actions if a.dimension == "D5"]
    assert {a.item for a in security} == set(low)
    top = [a for a in result.top_actions if a.dimension == "D5"]
    assert top and top[0].item == "P5.4"  # the key item of L4, below its option: blocks the next level
    assert "G-L4-KEY" in top[0].blocks
    # Only D5 has steps to take: the list is filled to five from it (the limits give way only here).
    assert len(top) == len(result.top_actions) == scoring.TOP_ACTIONS_MIN


def test_an_l5_firm_gets_at_most_three_paths_and_three_per_countermeasure():
    result = scoring.score(SEED2, seed2_answers(**{"P1.5": 3}))
    assert result.level == "L5"
    assert len(result.actions) == 1 + len(SEED2.paths)  # one step and every path of L4 and L5
    top = result.top_actions
    assert "P1.5" in {a.item for a in top}  # the weakest dimension's step
    assert len(top) == scoring.TOP_ACTIONS_MIN
    assert max(Counter(_group(a) for a in top).values()) <= scoring.TOP_ACTIONS_PER_GROUP
    # Five need a fourth path: the path limit gives way before the countermeasure limit does.
    assert sum(a.kind == scoring.KIND_PATH for a in top) == 4
