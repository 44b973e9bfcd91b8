"""make bench-scale's COPY seeding (surveys/management/commands/_scale_seed.py) on a few hundred firms: the data
it writes is what the services would have written (summaries, scores, latest rounds), and the pages read it."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count

from surveys import scoring, selectors, services
from surveys.management.commands import _scale_seed
from surveys.models import Assessment, Enterprise, RegisterEntry
from surveys.scopes import ROLE_CITY

pytestmark = pytest.mark.django_db

FIRMS = 300


@pytest.fixture
def seeded(questionnaire):
    if connection.vendor != "postgresql":
        pytest.skip("the scale seeding uses COPY and PostgreSQL's catalogue: run with DATABASE_URL=postgres://…")
    # A small pool (4 scored answer sets per band instead of 96) keeps the test short.
    report = _scale_seed.scale_seed(firms=FIRMS, questionnaire=questionnaire, seed=7, pool_per_band=4)
    return questionnaire, report


def test_scale_seed_writes_consistent_firms_rounds_and_summaries(seeded, client):
    questionnaire, report = seeded
    assert report.firms == FIRMS == Enterprise.objects.count()
    assert _scale_seed.scale_seeded(FIRMS)
    assert RegisterEntry.objects.count() > FIRMS  # every firm, and some that have not signed up

    # Every firm has exactly one latest round, and it is submitted; some have an earlier round too.
    latest = Assessment.objects.filter(is_latest=True)
    assert latest.count() == FIRMS
    assert latest.values("enterprise_id").distinct().count() == FIRMS
    assert not latest.exclude(status=Assessment.STATUS_SUBMITTED).exists()
    assert report.rounds == Assessment.objects.count() > FIRMS
    two_rounds = Enterprise.objects.annotate(n=Count("assessments")).filter(n=2)
    assert two_rounds.exists()
    labels = set(Assessment.objects.filter(enterprise__in=two_rounds).values_list("label", flat=True))
    assert {"2025 T0", "2026 T0"} <= labels

    # The summaries rebuilt by the seeding are what the stored results give.
    check = services.summaries_differences()
    assert check.ok, check.examples

    # Stored levels, indexes and dimension results are the scoring engine's for the stored answers.
    definition = selectors.questionnaire_definition(questionnaire=questionnaire)
    for assessment in Assessment.objects.order_by("id")[::13]:
        recomputed = scoring.score(definition, selectors.assessment_answer_values(assessment=assessment))
        assert assessment.level == recomputed.level
        assert assessment.provisional_level == recomputed.provisional_level
        assert float(assessment.index) == pytest.approx(round(recomputed.index, 2))
        stored = {
            r.dimension.code: None if r.score is None else float(r.score)
            for r in assessment.dimension_results.select_related("dimension")
        }
        assert stored == {
            d.code: None if d.score is None else pytest.approx(round(d.score, 2), abs=0.005)
            for d in recomputed.dimensions
        }

    # The indexes and constraints dropped for the load are back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'answer_unique_per_item'")
        assert cursor.fetchone() is not None
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"

    # The dashboard renders over it for a city administrator (one seeding for both checks: it is the slow part).
    admin = get_user_model().objects.create_user(username="scale-city", password=None)
    services.administrator_grant(user=admin, role=ROLE_CITY)
    client.force_login(admin)
    response = client.get("/manage/", secure=True)
    assert response.status_code == 200
    assert f"{FIRMS}" in response.content.decode()
