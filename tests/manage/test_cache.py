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
