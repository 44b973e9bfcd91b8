"""The rules version and the items' owners in a questionnaire definition: validated, normalised, stored,
exported and loaded back; a version without them is read exactly as before (rules version 1)."""

import json

import pytest
import yaml
from django.core.management import CommandError

from surveys import scoring, selectors
from surveys.models import Item, Questionnaire
from surveys.seeding import DefinitionError, normalize_definition, read_definition, validate_definition
from surveys.services import QuestionnaireInUseError, questionnaire_upsert

from . import factories
from .conftest import SEED_PATH
from .model_factories import run_command, seed_in_use

run = run_command


def version_2_data(**owners):
    data = factories.definition_dict(version="test-2", rules_version=2)
    for dim in data["dimensions"]:
        for item in dim["items"]:
            # What rules version 2 needs on every item (seeds/README.md, "Additions used by 2026.2").
            item.update(action_zh="行动", action_en="Action", lead="management", horizons=["short"] * 4)
            if item["code"] in owners:
                item["owner"] = owners[item["code"]]
    return data


def issues(data):
    return [(i.element, i.field, i.message) for i in validate_definition(data, source="x.yaml")]


def test_a_definition_without_them_is_rules_version_1_without_owners():
    seed = read_definition(SEED_PATH)
    assert seed["rules_version"] == 1
    assert {i["owner"] for d in seed["dimensions"] for i in d["items"]} == {""}
    assert scoring.Definition.from_dict(seed).rules_version == 1


def test_rules_version_2_and_owners_are_valid_and_normalised():
    data = version_2_data(**{"P1.1": "finance", "P4.2": "hr"})
    assert issues(data) == []
    normal = normalize_definition(data)
    assert normal["rules_version"] == 2
    owners = {i["code"]: i["owner"] for d in normal["dimensions"] for i in d["items"]}
    assert (owners["P1.1"], owners["P4.2"], owners["P2.1"]) == ("finance", "hr", "")
    definition = scoring.Definition.from_dict(normal)
    assert definition.rules_version == 2 and definition.items["P1.1"].owner == "finance"


@pytest.mark.parametrize("value", [3, 0, "2", 2.0, True, None])
def test_an_unknown_rules_version_is_refused(value):
    assert issues(version_2_data() | {"rules_version": value}) == [("questionnaire", "rules_version", "must be 1 or 2")]


@pytest.mark.parametrize("value", ["marketing", "IT", 1, ["hr"]])
def test_an_unknown_owner_is_refused(value):
    assert issues(version_2_data(**{"P3.2": value})) == [
        ("item P3.2", "owner", "must be one of finance, it, hr, production, management, quality")
    ]


def test_every_documented_owner_is_accepted():
    owners = dict(zip(factories.all_item_codes(factories.definition_dict()), scoring.ITEM_OWNERS, strict=False))
    assert issues(version_2_data(**owners)) == []


def test_a_yaml_file_with_rules_version_2_reads(tmp_path):
    path = tmp_path / "v2.yaml"
    path.write_text(yaml.safe_dump(version_2_data(**{"P2.2": "it"}), allow_unicode=True), encoding="utf-8")
    assert read_definition(path)["rules_version"] == 2
    broken = tmp_path / "v9.yaml"
    broken.write_text(yaml.safe_dump(version_2_data() | {"rules_version": 9}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="rules_version: must be 1 or 2"):
        read_definition(broken)


@pytest.mark.django_db
def test_stored_exported_and_loaded_back_unchanged(tmp_path):
    data = normalize_definition(version_2_data(**{"P1.1": "finance", "P5.4": "it"}))
    assert questionnaire_upsert(definition=data).created_version
    questionnaire = Questionnaire.objects.get(version="test-2")
    assert questionnaire.rules_version == 2
    assert Item.objects.get(questionnaire=questionnaire, code="P5.4").owner == "it"
    exported = json.loads(run("export_questionnaire", "test-2"))
    assert exported == data
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    assert run("load_questionnaire", str(path)).strip() == "questionnaire test-2: no change"
    definition = selectors.questionnaire_definition(questionnaire=questionnaire)
    assert definition == scoring.Definition.from_dict(data)
    assert definition.rules_version == 2 and definition.items["P1.1"].owner == "finance"


@pytest.mark.django_db
def test_the_seed_is_stored_as_rules_version_1():
    run("load_questionnaire", SEED_PATH)
    questionnaire = Questionnaire.objects.get(version="2026.1")
    assert questionnaire.rules_version == 1
    assert selectors.questionnaire_export(questionnaire=questionnaire)["rules_version"] == 1
    assert selectors.questionnaire_definition(questionnaire=questionnaire).rules_version == 1


@pytest.mark.django_db
def test_the_rules_version_and_owners_of_an_unused_version_can_be_revised():
    data = normalize_definition(version_2_data())
    questionnaire_upsert(definition=data)
    data["rules_version"] = 1
    data["dimensions"][0]["items"][0]["owner"] = "management"
    report = questionnaire_upsert(definition=data)
    assert report.counts["updated", "questionnaire"] == 1 and report.counts["updated", "item"] == 1
    assert selectors.questionnaire_export(questionnaire=Questionnaire.objects.get(version="test-2")) == data


@pytest.mark.django_db
def test_the_rules_version_of_a_used_version_never_changes(tmp_path):
    def to_version_2(data):
        data["rules_version"] = 2
        for dim in data["dimensions"]:  # what version 2 needs on every item, so that the file is valid
            for item in dim["items"]:
                item.update(action_zh="行动", action_en="Action", lead="management", horizons=["short"] * 4)

    questionnaire, path = seed_in_use(SEED_PATH, tmp_path, to_version_2)
    with pytest.raises(CommandError, match="2026.1 already has submitted assessments"):
        run("load_questionnaire", str(path))
    with pytest.raises(QuestionnaireInUseError) as caught:
        questionnaire_upsert(definition=read_definition(path))
    assert "rules_version: 1 -> 2" in caught.value.changes
    questionnaire.refresh_from_db()
    assert questionnaire.rules_version == 1
