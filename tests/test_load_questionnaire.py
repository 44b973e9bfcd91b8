"""load_questionnaire / export_questionnaire and the upsert service behind them."""

import json

import pytest
from django.core.management import CommandError

from surveys import selectors
from surveys.models import Item, Option, Questionnaire
from surveys.seeding import normalize_definition, read_definition
from surveys.services import QuestionnaireInUseError, questionnaire_upsert

from . import factories
from .conftest import SEED_PATH
from .model_factories import run_command, seed_in_use

pytestmark = pytest.mark.django_db


run = run_command


def test_loading_the_seed_twice_reports_no_change_the_second_time():
    first = run("load_questionnaire", SEED_PATH)
    assert "created" in first
    counts = (Item.objects.count(), Option.objects.count())
    second = run("load_questionnaire", SEED_PATH)
    assert second.strip() == "questionnaire 2026.1: no change"
    assert (Item.objects.count(), Option.objects.count()) == counts


def test_dry_run_validates_and_writes_nothing():
    out = run("load_questionnaire", SEED_PATH, "--dry-run")
    assert out.startswith("[dry run] questionnaire 2026.1: created")
    assert not Questionnaire.objects.exists()


def test_export_has_the_documented_shape_and_round_trips(tmp_path):
    run("load_questionnaire", SEED_PATH)
    exported = json.loads(run("export_questionnaire", "2026.1"))
    assert exported["version"] == "2026.1"
    assert len(exported["dimensions"]) == 5
    items = [i for d in exported["dimensions"] for i in d["items"]]
    assert 30 <= len(items) <= 50
    for item in items:
        assert {"code", "text_zh", "text_en", "options", "allows_unknown", "allows_na"} <= set(item)
        assert [o["score"] for o in item["options"]] == [0, 1, 2, 3, 4]
        assert all(o["label_zh"] and o["label_en"] for o in item["options"])
    assert {"code", "name_zh", "name_en", "weight", "items"} <= set(exported["dimensions"][0])
    assert len(exported["countermeasures"]) == 4
    assert all(len(c["rules"]) >= 3 for c in exported["countermeasures"])
    assert len(exported["levels"]) == 5 and exported["gates"]
    # The exported JSON is the same definition as the seed, and loads back as "no change".
    assert exported == read_definition(SEED_PATH)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    assert "no change" in run("load_questionnaire", str(path))


def test_export_of_an_unknown_version_fails():
    with pytest.raises(CommandError, match="no questionnaire version"):
        run("export_questionnaire", "1999.9")


def test_a_broken_file_fails_with_every_problem_and_loads_nothing():
    with pytest.raises(CommandError) as caught:
        run("load_questionnaire", "tests/data/four_options.yaml")
    assert "item P2.3: options: expected 5 options, found 4" in str(caught.value)
    assert "nothing was loaded" in str(caught.value)
    assert not Questionnaire.objects.exists()


def test_a_version_without_submissions_can_still_be_revised():
    data = normalize_definition(factories.definition_dict())
    questionnaire_upsert(definition=data)
    data["dimensions"][0]["items"][0]["text_zh"] = "修订后的题目"
    data["dimensions"][4]["items"].pop()  # P5.6, the last item, removed
    report = questionnaire_upsert(definition=data)
    assert report.changed
    assert report.counts["updated", "item"] == 1
    assert report.counts["deleted", "item"] == 1
    stored = selectors.questionnaire_export(questionnaire=Questionnaire.objects.get(version="test-1"))
    assert stored == data


def test_a_version_with_submitted_assessments_never_changes(tmp_path):
    def change(data):
        data["dimensions"][1]["items"][0]["options"][2]["label_zh"] = "改过的文字"
        data["dimensions"][0]["weight"] = 0.25
        data["dimensions"][1]["weight"] = 0.25

    questionnaire, path = seed_in_use(SEED_PATH, tmp_path, change)
    before = selectors.questionnaire_export(questionnaire=questionnaire)
    with pytest.raises(CommandError) as caught:
        run("load_questionnaire", str(path))
    message = str(caught.value)
    assert "2026.1 already has submitted assessments" in message
    assert "new version" in message
    assert "dimensions[D2].items[P2.1].options" in message
    assert "dimensions[D1].weight: 0.2 -> 0.25" in message
    assert selectors.questionnaire_export(questionnaire=questionnaire) == before
    # The unchanged file still loads as "no change": idempotence is not a modification.
    assert "no change" in run("load_questionnaire", SEED_PATH)


def test_the_service_raises_a_typed_error_for_a_used_version():
    from .model_factories import AssessmentFactory

    data = normalize_definition(factories.definition_dict())
    questionnaire_upsert(definition=data)
    AssessmentFactory(questionnaire=Questionnaire.objects.get(version="test-1"), status="submitted")
    data["title_en"] = "Renamed"
    with pytest.raises(QuestionnaireInUseError) as caught:
        questionnaire_upsert(definition=data)
    assert caught.value.changes == ["title_en: 'Test questionnaire' -> 'Renamed'"]


def test_definition_from_the_database_scores_like_the_file():
    from surveys import scoring

    run("load_questionnaire", SEED_PATH)
    stored = selectors.questionnaire_definition(questionnaire=Questionnaire.objects.get(version="2026.1"))
    from_file = scoring.Definition.from_dict(read_definition(SEED_PATH))
    assert stored == from_file
