import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from surveys import demo, scoring, selectors
from surveys.models import Assessment, DimensionResult, Enterprise, Membership
from surveys.uscc import validate

pytestmark = pytest.mark.django_db


def run_seed(*args):
    out, err = StringIO(), StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_seed_demo_prints_one_json_line_and_creates_consistent_firms(questionnaire):
    out, err = run_seed("--firms", "120")
    lines = out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["firms"] == 120 == Enterprise.objects.count()
    assert summary["submitted"] == 120
    assert sum(summary["levels"].values()) == 120
    assert set(summary["levels"]) == {"L1", "L2", "L3", "L4", "L5"}
    assert "demo_owner" in err and "120/120" in err

    assert all(validate(code).is_valid for code in Enterprise.objects.values_list("uscc", flat=True))
    assert Enterprise.objects.values("district").distinct().count() >= 8
    assert Enterprise.objects.filter(size_class="small").count() > Enterprise.objects.filter(size_class="large").count()

    # Stored results are what the engine computes from the stored answers.
    definition = selectors.questionnaire_definition(questionnaire=questionnaire)
    for assessment in Assessment.objects.order_by("?")[:10]:
        recomputed = scoring.score(definition, selectors.assessment_answer_values(assessment=assessment))
        assert assessment.level == recomputed.level
        assert float(assessment.index) == pytest.approx(recomputed.index, abs=0.006)
    assert Assessment.objects.filter(is_latest=True).count() == 120
    assert DimensionResult.objects.count() == 5 * Assessment.objects.count()


def test_answers_correlate_across_dimensions_like_real_firms(questionnaire):
    import statistics

    run_seed("--firms", "200")
    rows = {}
    for assessment_id, code, score in DimensionResult.objects.filter(assessment__is_latest=True).values_list(
        "assessment_id", "dimension__code", "score"
    ):
        rows.setdefault(assessment_id, {})[code] = float(score)
    d2 = [r["D2"] for r in rows.values()]
    d4 = [r["D4"] for r in rows.values()]
    assert statistics.correlation(d2, d4) > 0.4
    assert statistics.mean(d4) < statistics.mean(d2)  # talent lags behind integration, as the paper says


def test_if_empty_does_not_seed_twice_and_logins_work(client, questionnaire):
    run_seed("--firms", "15")
    out, _err = run_seed("--firms", "15", "--if-empty")
    assert json.loads(out)["firms"] == 15 == Enterprise.objects.count()
    owner = Membership.objects.get(user__username="demo_owner")
    assert owner.role == "owner"
    response = client.post("/accounts/login/", {"username": "demo_owner", "password": "Jinan-demo-2026"})
    assert response.status_code == 302


def test_demo_administrators_see_the_dashboard_in_their_scope(client, questionnaire):
    run_seed("--firms", "40")
    client.post("/accounts/login/", {"username": "city_admin", "password": "Jinan-demo-2026"})
    assert client.get("/manage/").status_code == 200
    district = client.__class__()
    district.post("/accounts/login/", {"username": "district_admin", "password": "Jinan-demo-2026"})
    listing = district.get("/manage/firms/?district=370104").content.decode()
    outside = Enterprise.objects.exclude(district="370112").values_list("uscc", flat=True)
    assert outside and not any(code in listing for code in outside)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
def test_the_seeded_tables_have_fresh_planner_statistics(questionnaire):
    run_seed("--firms", "40")
    with connection.cursor() as cursor:
        for model in (Enterprise, Assessment, DimensionResult):
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [model._meta.db_table])
            # -1 means "never analysed": the planner would guess the size of the bulk-loaded table
            assert cursor.fetchone()[0] == model.objects.count(), model.__name__


def test_seeding_is_announced_only_when_it_happens_and_the_logins_are_aligned(questionnaire):
    """`make run` shows the "Seeding" line (first run only) and prints the login lines under the URL."""
    import re

    _out, first = run_seed("--firms", "5", "--if-empty")
    assert first.splitlines()[0] == "Seeding 5 demo firms"
    _out, again = run_seed("--firms", "5", "--if-empty")
    assert "Seeding" not in again
    lines = again.split("Demo logins", 1)[1].splitlines()[1:]
    assert {"demo_owner", "district_admin", "admin"} <= {line.split()[0] for line in lines}
    columns = {re.match(r"  \S+ {2,}", line).end() for line in lines}
    assert len(columns) == 1, lines


def test_with_2026_2_loaded_latest_rounds_use_it_earlier_ones_2026_1_and_the_plans_are_summarised(
    questionnaire, questionnaire_2026_2
):
    out, err = run_seed("--firms", "300")
    latest = Assessment.objects.filter(is_latest=True)
    assert set(latest.values_list("questionnaire__version", flat=True)) == {"2026.2"}
    earlier = Assessment.objects.filter(is_latest=False)
    assert earlier.exists() and set(earlier.values_list("questionnaire__version", flat=True)) == {"2026.1"}
    # Stored 2026.2 results are what the engine computes from the stored answers, plan included.
    definition = selectors.questionnaire_definition(questionnaire=questionnaire_2026_2)
    for assessment in latest.order_by("?")[:10]:
        recomputed = scoring.score(definition, selectors.assessment_answer_values(assessment=assessment))
        assert assessment.result == json.loads(json.dumps(recomputed.as_dict()))
    # Most firms name their barriers; the choices are the question's own options, at most three.
    contexts = [c for c in latest.values_list("context", flat=True) if c]
    assert len(contexts) > 200
    assert all(1 <= len(c["C1"]["choices"]) <= 3 for c in contexts)

    statistics = demo.plan_statistics()
    assert statistics.firms == 300
    medians = ", ".join(f"{level} {value:g}" for level, value in statistics.top_actions_median.items())
    assert f"median top actions by level: {medians}" in err
    # Advice scales with maturity: every level gets a top list of five to eight actions …
    assert all(5 <= median <= 8 for median in statistics.top_actions_median.values())
    # … and an L4 firm's top actions address its weakest dimension.
    addressed, eligible = statistics.weakest_addressed["L4"]
    assert eligible > 0 and addressed == eligible
