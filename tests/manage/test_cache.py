"""The pages' figures are cached, and a new submission shows at once (within a second in production)."""

import pytest

from surveys import analytics, scopes
from surveys.analytics import aggregates

from .conftest import submitted_firm

pytestmark = pytest.mark.django_db


def test_cached_figures_change_with_a_new_submission(
    settings, small_city, questionnaire, django_assert_max_num_queries, monkeypatch
):
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 60
    monkeypatch.setattr(aggregates, "FINGERPRINT_SECONDS", 0)
    scope = scopes.AdminScope.city_wide()
    filters = analytics.Filters(district="370112")
    first = analytics.dashboard(scope, filters)
    assert first.overview.submitted == 12
    with django_assert_max_num_queries(2):  # the reference version and the fingerprint
        again = analytics.dashboard(scope, filters)
    assert again == first
    submitted_firm(questionnaire, district="370112", seed=99)
    assert analytics.dashboard(scope, filters).overview.submitted == 13
    # Another scope or other filters are other entries.
    district = scopes.AdminScope(
        all_districts=False, districts=frozenset({"370104"}), can_view_contacts=False, can_export=False
    )
    assert analytics.dashboard(district, filters).overview.submitted == 0


def test_the_cache_can_be_turned_off(settings, small_city, django_assert_max_num_queries):
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    scope = scopes.AdminScope.city_wide()
    analytics.dashboard(scope, analytics.Filters())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        analytics.dashboard(scope, analytics.Filters())
    assert len(queries) >= 4


def test_cached_figures_change_when_a_round_changes_level_alone(settings, small_city, monkeypatch):
    """A re-scoring after a correction of the rules may move a round to another level with the same index: the
    cached level counts must follow (the fingerprint weighs each cell's rounds by the cell)."""
    from surveys import services
    from surveys.models import Assessment

    settings.JINAN_DASHBOARD_CACHE_SECONDS = 60
    settings.JINAN_MIN_GROUP_SIZE = 1  # every count shown
    monkeypatch.setattr(aggregates, "FINGERPRINT_SECONDS", 0)
    scope = scopes.AdminScope.city_wide()

    def level_counts() -> dict[str, int | None]:
        return {cell.code: cell.firms for cell in analytics.dashboard(scope, analytics.Filters()).overview.levels}

    before = level_counts()
    # Two latest rounds of one version and year at different levels: the target level's cells exist already, so
    # the number of cells, the rounds and the index sum stay the same; only where the round is counted moves.
    latest = list(Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED, is_latest=True).order_by("pk"))
    moved, other = next(
        (a, b)
        for a in latest
        for b in latest
        if a.level != b.level
        and a.questionnaire_id == b.questionnaire_id
        and a.submitted_at.year == b.submitted_at.year
    )
    original, target = moved.level, other.level
    services.summaries_round_delete(assessment=moved)
    Assessment.objects.filter(pk=moved.pk).update(level=target)
    moved.refresh_from_db()
    services.summaries_round_insert(assessment=moved)
    after = level_counts()
    assert after[target] == (before[target] or 0) + 1
    assert after[original] == before[original] - 1
