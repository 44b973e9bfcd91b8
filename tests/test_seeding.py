"""Validation of questionnaire definitions: the real seed passes, each broken file names its defect."""

from pathlib import Path

import pytest

from surveys import scoring
from surveys.seeding import HORIZONS, DefinitionError, diff_definitions, read_definition

from .conftest import SEED_PATH

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def seed():
    return read_definition(SEED_PATH)


def test_the_seed_has_the_papers_five_areas_and_four_countermeasures(seed):
    assert [d["code"] for d in seed["dimensions"]] == ["D1", "D2", "D3", "D4", "D5"]
    names = "".join(d["problem_zh"] for d in seed["dimensions"])
    for phrase in ("引领带动", "融合程度", "核心技术", "人才", "生态"):
        assert phrase in names
    items = [i for d in seed["dimensions"] for i in d["items"]]
    assert 30 <= len(items) <= 50
    assert all(6 <= len(d["items"]) <= 10 for d in seed["dimensions"])
    assert all([o["score"] for o in i["options"]] == [0, 1, 2, 3, 4] for i in items)
    assert sum(d["weight"] for d in seed["dimensions"]) == pytest.approx(1)
    headings = [c["heading_zh"] for c in seed["countermeasures"]]
    assert headings == [
        "（一）强化数字经济与实体经济融合的平衡性",
        "（二）强化数字核心技术储备",
        "（三）加快培育跨界复合高端人才",
        "（四）强化数字基础设施建设",
    ]
    assert all(len(c["rules"]) >= 3 for c in seed["countermeasures"])


@pytest.mark.parametrize(
    "phrase",
    [
        "重硬件轻软件",
        "重制造轻服务",
        "重规模轻质量",
        "数据互通",
        "工艺",
        "芯片",
        "传感器",
        "设计开发软件",
        "工业云",
        "标准",
        "大数据进行经营管理和市场分析",
        "成本",
        "培训体系",
        "工业大数据",
        "共享",
        "数据孤岛",
        "隐私",
        "平台",
        "数据中心",
        "网络带宽",
        "云计算",
        "集群",
    ],
)
def test_every_problem_the_paper_names_is_covered_by_an_item(seed, phrase):
    problems = [p for p in seed["problems"] if phrase in p["text_zh"]]
    assert problems, f"no problem in the coverage list mentions {phrase}"
    covered = {c for d in seed["dimensions"] for i in d["items"] for c in i["covers"]}
    assert any(p["code"] in covered for p in problems)


def test_ratio_items_give_their_formula(seed):
    ratio_items = [
        i for d in seed["dimensions"] for i in d["items"] if "%" in "".join(o["label_zh"] for o in i["options"])
    ]
    assert ratio_items
    for item in ratio_items:
        assert "÷" in item["help_zh"] or "/" in item["help_zh"], item["code"]


def test_rule_texts_end_with_a_concrete_next_step(seed):
    for cm in seed["countermeasures"]:
        for rule in cm["rules"]:
            assert "下一步" in rule["text_zh"], rule["code"]
            assert "Next step" in rule["text_en"], rule["code"]


def test_the_seed_scores(seed):
    definition = scoring.Definition.from_dict(seed)
    top = {i["code"]: 4 for d in seed["dimensions"] for i in d["items"]}
    assert scoring.score(definition, top).level == "L5"
    assert scoring.score(definition, dict.fromkeys(top, 0)).level == "L1"


@pytest.mark.parametrize(
    ("filename", "element", "field", "message"),
    [
        ("unknown_trigger_item.yaml", "rule R-P2.1", "trigger.item", "unknown trigger item 'P9.9'"),
        ("four_options.yaml", "item P2.3", "options", "expected 5 options, found 4"),
        ("weights_not_one.yaml", "questionnaire", "dimensions.weight", "weights must sum to 1, they sum to 1.1"),
        ("missing_translation.yaml", "item P1.2", "text_en", "missing translation"),
        ("duplicate_code.yaml", "item P1.1", "code", "duplicate code"),
        ("uncovered_problem.yaml", "problem PB-ORPHAN", "covers", "no item covers this problem"),
        ("option_scores_out_of_order.yaml", "item P3.1", "options[3].score", "must be 3"),
        ("gate_unknown_item.yaml", "gate G-L4-KEY", "requirements.item", "unknown item 'P2.99'"),
        ("not_yaml.yaml", "file", "-", "is not valid YAML/JSON"),
    ],
)
def test_broken_files_are_refused_naming_file_element_and_field(filename, element, field, message):
    path = DATA / filename
    with pytest.raises(DefinitionError) as caught:
        read_definition(path)
    matching = [i for i in caught.value.issues if i.element == element and i.field == field]
    assert matching, [str(i) for i in caught.value.issues]
    assert message in matching[0].message
    assert str(matching[0]).startswith(str(path))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DefinitionError, match="cannot be read"):
        read_definition(tmp_path / "absent.yaml")


def test_diff_names_codes_not_positions(seed):
    changed = read_definition(SEED_PATH)
    changed["dimensions"][1]["items"][0]["options"][2]["label_zh"] = "改过的文字"
    changes = diff_definitions(seed, changed)
    assert len(changes) == 1
    assert changes[0].startswith("dimensions[D2].items[P2.1].options")


# --- additions used by 2026.2 (seeds/README.md) --------------------------------------------------------

ADDITIONS = DATA / "additions_2026_2.yaml"
DEPARTMENTS = "must be one of finance, it, hr, production, management, quality"


def test_the_additions_of_2026_2_are_valid_and_normalised():
    data = read_definition(ADDITIONS)
    assert data["rules_version"] == 2
    items = {i["code"]: i for d in data["dimensions"] for i in d["items"]}
    assert items["P1.1"]["action_en"] == "Move P1.1 one option up"
    assert (items["P1.1"]["lead"], items["P1.1"]["programmes"]) == ("finance", ["PG-ZJTX"])
    assert items["P1.1"]["horizons"] == ["short", "medium", "medium", "long"]
    assert "lead" not in items["P1.2"] and items["P1.2"]["owner"] == "finance"  # the owner leads
    assert "programmes" not in items["P1.2"]
    problems = {p["code"]: p for p in data["problems"]}
    assert problems["PB-CITY"]["scope"] == "city" and problems["PB-CITY"]["related_items"] == ["P5.1", "P5.2"]
    assert "scope" not in problems["PB1"]  # "firm", the default, is left out like every default
    # A city problem is covered by no item, and needs none.
    assert not any("PB-CITY" in i["covers"] for i in items.values())
    rules = {r["code"]: r for c in data["countermeasures"] for r in c["rules"]}
    assert (rules["R-P2.1"]["lead"], rules["R-P2.1"]["programmes"]) == ("production", ["PG-SD-SMART"])
    assert "lead" not in rules["R-D2"] and "programmes" not in rules["R-D2"]
    assert [(p["code"], p["level"], p.get("url")) for p in data["programmes"]] == [
        ("PG-ZJTX", "national", "https://www.miit.gov.cn/"),
        ("PG-SD-SMART", "shandong", None),
        ("PG-JN-CLOUD", "jinan", None),
    ]
    assert [
        (p["code"], p["min_level"], p["countermeasure"], p["lead"], p["horizon"], p["priority"]) for p in data["paths"]
    ] == [
        ("PATH-CMMM", "L4", "CM1", "it", "long", 12.5),
        ("PATH-LEAD", "L5", "CM3", "management", "medium", 8.0),
    ]
    c1, c2 = data["context_questions"]
    assert (c1["multiple"], c1["max_choices"], c1["used_by"]) == (True, 3, "city_report")
    assert [o.get("other", False) for o in c1["options"]] == [False, False, False, True]
    assert (c2["multiple"], "max_choices" in c2, c2["help_zh"]) == (False, False, "")
    assert all(h in HORIZONS for i in items.values() for h in i["horizons"])


def test_a_definition_without_the_additions_normalises_exactly_as_before():
    seed = read_definition(SEED_PATH)
    assert list(seed) == [
        "version",
        "rules_version",
        "title_zh",
        "title_en",
        "description_zh",
        "description_en",
        "problems",
        "dimensions",
        "levels",
        "gates",
        "countermeasures",
    ]
    assert {key for p in seed["problems"] for key in p} == {"code", "dimension", "text_zh", "text_en"}
    item_keys = {key for d in seed["dimensions"] for i in d["items"] for key in i}
    assert item_keys == {
        "code",
        "text_zh",
        "text_en",
        "help_zh",
        "help_en",
        "weight",
        "allows_unknown",
        "allows_na",
        "owner",
        "covers",
        "options",
    }
    rule_keys = {key for c in seed["countermeasures"] for r in c["rules"] for key in r}
    assert rule_keys == {"code", "trigger", "priority", "horizon", "text_zh", "text_en"}


# One file per rule: the valid additions_2026_2.yaml with one defect (each file's first line says which).
BROKEN_ADDITIONS = [
    ("v2_missing_action", "item P1.3", "action_en", "missing translation (rules version 2 needs"),
    ("v2_missing_horizons", "item P2.2", "horizons", "missing horizons (rules version 2 needs"),
    ("v2_missing_lead", "item P3.1", "lead", "missing owner or lead (rules version 2"),
    ("action_without_translation", "item P1.1", "action_en", "missing translation"),
    ("unknown_item_lead", "item P1.2", "lead", DEPARTMENTS),
    ("three_horizons", "item P2.3", "horizons", "expected 4 horizons (steps to options 1–4), found 3"),
    ("unknown_horizon", "item P4.1", "horizons", "unknown horizon 'soon', must be one of short, medium, long"),
    ("unknown_item_programme", "item P3.1", "programmes", "unknown programme 'PG-NONE'"),
    ("unknown_rule_lead", "rule R-P2.1", "lead", DEPARTMENTS),
    ("unknown_rule_programme", "rule R-P2.1", "programmes", "unknown programme 'PG-NONE'"),
    ("unknown_problem_scope", "problem PB2", "scope", "must be one of firm, city"),
    ("firm_problem_related_items", "problem PB3", "related_items", "only a city problem (scope: city)"),
    ("city_problem_unknown_item", "problem PB-CITY", "related_items", "unknown item 'P9.9'"),
    ("covers_city_problem", "item P5.3", "covers", "'PB-CITY' is a city problem, which no item may cover"),
    ("unknown_programme_level", "programme PG-JN-CLOUD", "level", "must be one of national, shandong, jinan"),
    ("programme_url_not_http", "programme PG-SD-SMART", "url", "must be an address starting with https://"),
    ("duplicate_programme", "programme PG-ZJTX", "code", "duplicate code"),
    ("programme_missing_translation", "programme PG-ZJTX", "name_en", "missing translation"),
    ("path_unknown_level", "path PATH-CMMM", "min_level", "unknown level 'L6'"),
    ("path_unknown_countermeasure", "path PATH-LEAD", "countermeasure", "unknown countermeasure 'CM9'"),
    ("path_unknown_lead", "path PATH-CMMM", "lead", DEPARTMENTS),
    ("path_unknown_horizon", "path PATH-LEAD", "horizon", "must be one of short, medium, long"),
    ("path_priority_too_high", "path PATH-CMMM", "priority", "80 is outside 0–50"),
    ("path_missing_done", "path PATH-LEAD", "done_en", "missing translation"),
    ("path_unknown_programme", "path PATH-LEAD", "programmes", "unknown programme 'PG-NONE'"),
    ("duplicate_context_question", "context question C1", "code", "duplicate code"),
    ("context_question_item_code", "context question P1.1", "code", "is also an item code"),
    ("duplicate_context_option", "context question C1 option cost", "code", "duplicate code"),
    ("two_other_options", "context question C1", "options", "at most one option may be other: true, found 2"),
    ("max_choices_single", "context question C2", "max_choices", "only a question with multiple: true"),
    ("max_choices_zero", "context question C1", "max_choices", "must be a whole number of at least 1"),
    ("max_choices_above_options", "context question C1", "max_choices", "5 is more than the 4 options"),
    ("context_multiple_not_bool", "context question C2", "multiple", "must be true or false"),
    ("context_missing_used_by", "context question C2", "used_by", "missing used_by"),
    ("context_one_option", "context question C2", "options", "needs at least 2 options, found 1"),
    ("context_other_not_bool", "context question C1 option other", "other", "must be true or false"),
]


@pytest.mark.parametrize(("case", "element", "field", "message"), BROKEN_ADDITIONS)
def test_broken_additions_are_refused_with_exactly_their_defect(case, element, field, message):
    path = DATA / f"additions_{case}.yaml"
    with pytest.raises(DefinitionError) as caught:
        read_definition(path)
    assert [(i.element, i.field) for i in caught.value.issues] == [(element, field)], [
        str(i) for i in caught.value.issues
    ]
    assert message in caught.value.issues[0].message
    assert str(caught.value.issues[0]).startswith(str(path))


def test_every_broken_additions_file_is_tested():
    files = {p.name for p in DATA.glob("additions_*.yaml")} - {ADDITIONS.name}
    assert files == {f"additions_{case}.yaml" for case, *_ in BROKEN_ADDITIONS}
