"""load_questionnaire / export_questionnaire and the upsert service behind them."""

import json
from decimal import Decimal

import pytest
import yaml
from django.core.management import CommandError

from surveys import scoring, selectors
from surveys.models import (
    Assessment,
    ContextQuestion,
    Item,
    Option,
    Problem,
    Programme,
    Questionnaire,
    RecognitionPath,
    RecommendationRule,
)
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


# --- additions used by 2026.2 (seeds/README.md) --------------------------------------------------------

ADDITIONS = "tests/data/additions_2026_2.yaml"


def test_the_additions_load_idempotently_and_are_stored():
    first = run("load_questionnaire", ADDITIONS)
    for part in ("created 3 programme", "created 2 recognitionpath", "created 2 contextquestion"):
        assert part in first
    assert run("load_questionnaire", ADDITIONS).strip() == "questionnaire additions-1: no change"
    questionnaire = Questionnaire.objects.get(version="additions-1")
    item = Item.objects.get(questionnaire=questionnaire, code="P1.1")
    assert (item.action_zh, item.lead, item.programmes) == ("把 P1.1 提升一档", "finance", ["PG-ZJTX"])
    assert item.horizons == ["short", "medium", "medium", "long"]
    assert Item.objects.get(questionnaire=questionnaire, code="P1.2").lead == ""
    city = Problem.objects.get(questionnaire=questionnaire, code="PB-CITY")
    assert (city.scope, city.related_items, city.items.count()) == ("city", ["P5.1", "P5.2"], 0)
    assert Problem.objects.get(questionnaire=questionnaire, code="PB1").scope == "firm"
    rule = RecommendationRule.objects.get(questionnaire=questionnaire, code="R-P2.1")
    assert (rule.lead, rule.programmes) == ("production", ["PG-SD-SMART"])
    assert list(Programme.objects.filter(questionnaire=questionnaire).values_list("code", "level", "url")) == [
        ("PG-ZJTX", "national", "https://www.miit.gov.cn/"),
        ("PG-SD-SMART", "shandong", ""),
        ("PG-JN-CLOUD", "jinan", ""),
    ]
    path = RecognitionPath.objects.get(questionnaire=questionnaire, code="PATH-CMMM")
    assert (path.countermeasure.code, path.min_level, path.priority, path.done_en) == (
        "CM1",
        "L4",
        Decimal("12.50"),
        "The assessment report is issued",
    )
    c1 = ContextQuestion.objects.get(questionnaire=questionnaire, code="C1")
    assert (c1.multiple, c1.max_choices, c1.used_by) == (True, 3, "city_report")
    assert c1.options[-1] == {"code": "other", "label_zh": "其他", "label_en": "Other", "other": True}
    assert ContextQuestion.objects.get(questionnaire=questionnaire, code="C2").max_choices is None


def test_the_additions_export_round_trips(tmp_path):
    run("load_questionnaire", ADDITIONS)
    exported = json.loads(run("export_questionnaire", "additions-1"))
    assert exported == read_definition(ADDITIONS)
    assert {"programmes", "paths", "context_questions"} <= set(exported)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    assert run("load_questionnaire", str(path)).strip() == "questionnaire additions-1: no change"


def test_a_version_without_the_additions_exports_none_of_their_keys():
    run("load_questionnaire", SEED_PATH)
    exported = json.loads(run("export_questionnaire", "2026.1"))
    assert not {"programmes", "paths", "context_questions"} & set(exported)
    new_item_keys = {"action_zh", "action_en", "lead", "horizons", "programmes"}
    assert not any(new_item_keys & set(i) for d in exported["dimensions"] for i in d["items"])
    assert not any({"scope", "related_items"} & set(p) for p in exported["problems"])
    assert not any({"lead", "programmes"} & set(r) for c in exported["countermeasures"] for r in c["rules"])


def test_the_additions_of_an_unused_version_can_be_revised():
    data = read_definition(ADDITIONS)
    questionnaire_upsert(definition=data)
    questionnaire = Questionnaire.objects.get(version="additions-1")
    data["paths"][0]["priority"] = 20.0
    data["context_questions"].pop()
    del data["programmes"][0]["url"]
    data["problems"][-1]["related_items"] = ["P5.3"]
    data["dimensions"][0]["items"][0]["horizons"] = ["short"] * 4
    report = questionnaire_upsert(definition=data)
    assert report.counts["updated", "recognitionpath"] == 1
    assert report.counts["deleted", "contextquestion"] == 1
    assert report.counts["updated", "programme"] == 1
    assert report.counts["updated", "problem"] == 1 and report.counts["updated", "item"] == 1
    assert selectors.questionnaire_export(questionnaire=questionnaire) == data
    # Taking every addition out again leaves a version that exports as one without them.
    for key in ("programmes", "paths", "context_questions"):
        del data[key]
    for item in (i for d in data["dimensions"] for i in d["items"]):
        for key in ("programmes",):
            item.pop(key, None)
    for rule in (r for c in data["countermeasures"] for r in c["rules"]):
        rule.pop("programmes", None)
    report = questionnaire_upsert(definition=data)
    assert report.counts["deleted", "recognitionpath"] == 2 and report.counts["deleted", "programme"] == 3
    assert selectors.questionnaire_export(questionnaire=questionnaire) == data


def test_the_additions_of_a_used_version_never_change(tmp_path):
    from .model_factories import AssessmentFactory

    run("load_questionnaire", ADDITIONS)
    questionnaire = Questionnaire.objects.get(version="additions-1")
    AssessmentFactory(questionnaire=questionnaire, status=Assessment.STATUS_SUBMITTED)
    before = selectors.questionnaire_export(questionnaire=questionnaire)
    with open(ADDITIONS, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["paths"][0]["priority"] = 30
    data["context_questions"][0]["max_choices"] = 2
    data["problems"][-1]["scope"] = "firm"
    data["problems"][-1].pop("related_items")
    data["dimensions"][4]["items"][0]["covers"].append("PB-CITY")
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run("load_questionnaire", str(path))
    message = str(caught.value)
    assert "additions-1 already has submitted assessments" in message
    assert "paths[PATH-CMMM].priority: 12.5 -> 30.0" in message
    assert "context_questions[C1].max_choices: 3 -> 2" in message
    assert "problems[PB-CITY].scope: removed" in message
    assert selectors.questionnaire_export(questionnaire=questionnaire) == before
    assert run("load_questionnaire", ADDITIONS).strip() == "questionnaire additions-1: no change"


def test_the_order_of_an_items_covers_is_no_change(tmp_path):
    """Covers are a set: a used version reloaded with them listed in another order is not refused."""
    from .model_factories import AssessmentFactory

    with open(ADDITIONS, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    item = data["dimensions"][4]["items"][0]
    for name, covers in (("first.yaml", ["PB1", "PB5"]), ("second.yaml", ["PB5", "PB1"])):
        item["covers"] = covers
        (tmp_path / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run("load_questionnaire", str(tmp_path / "first.yaml"))
    AssessmentFactory(questionnaire=Questionnaire.objects.get(version="additions-1"), status="submitted")
    assert run("load_questionnaire", str(tmp_path / "second.yaml")).strip() == "questionnaire additions-1: no change"


def test_the_scoring_data_gives_the_engine_paths_leads_and_horizons():
    run("load_questionnaire", ADDITIONS)
    run("load_questionnaire", SEED_PATH)
    questionnaire = Questionnaire.objects.get(version="additions-1")
    data = selectors.questionnaire_scoring_data(questionnaire=questionnaire)
    assert [
        {key: p[key] for key in ("code", "min_level", "countermeasure", "lead", "horizon", "priority")}
        for p in data["paths"]
    ] == [
        {
            "code": "PATH-CMMM",
            "min_level": "L4",
            "countermeasure": "CM1",
            "lead": "it",
            "horizon": "long",
            "priority": 12.5,
        },
        {
            "code": "PATH-LEAD",
            "min_level": "L5",
            "countermeasure": "CM3",
            "lead": "management",
            "horizon": "medium",
            "priority": 8.0,
        },
    ]
    items = {i["code"]: i for d in data["dimensions"] for i in d["items"]}
    assert (items["P1.1"]["lead"], items["P1.1"]["horizons"]) == ("finance", ["short", "medium", "medium", "long"])
    assert (items["P1.2"]["lead"], items["P1.2"]["owner"]) == ("", "finance")  # no lead: the owner leads
    from_file = scoring.Definition.from_dict(read_definition(ADDITIONS))
    assert selectors.questionnaire_definition(questionnaire=questionnaire) == from_file
    # A version without the additions: every item with lead "" and horizons [], no paths.
    seed = selectors.questionnaire_scoring_data(questionnaire=Questionnaire.objects.get(version="2026.1"))
    assert seed["paths"] == []
    assert {(i["lead"], tuple(i["horizons"])) for d in seed["dimensions"] for i in d["items"]} == {("", ())}


def test_a_new_round_has_no_context_answers():
    from .model_factories import AssessmentFactory

    assert AssessmentFactory().context == {}


def test_the_2026_2_seed_loads_idempotently_and_round_trips(tmp_path):
    seed = "seeds/questionnaire-2026.2.yaml"
    assert run("load_questionnaire", seed, "--dry-run").startswith("[dry run] questionnaire 2026.2: created")
    run("load_questionnaire", seed)
    assert run("load_questionnaire", seed).strip() == "questionnaire 2026.2: no change"
    exported = json.loads(run("export_questionnaire", "2026.2"))
    assert exported == read_definition(seed)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    assert run("load_questionnaire", str(path)).strip() == "questionnaire 2026.2: no change"
