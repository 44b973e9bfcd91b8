"""Validation of questionnaire definitions: the real seed passes, each broken file names its defect."""

from pathlib import Path

import pytest

from surveys import scoring
from surveys.seeding import DefinitionError, diff_definitions, read_definition

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
