"""Every figure of the city report read from the summary tables equals the figure the per-firm rows gave.

Random cities (tests/summary_data.py: firms, register sectors, rounds of several labels on 2026.1 and 2026.2,
drafts, answers, results, barriers answers) are summarised by ``summaries_rebuild``; then ``city_report_data``
is computed both ways (the row-scan implementation is kept in tests/manage/legacy_city.py) city-wide and for a
district administrator, under many filter combinations and two minimum group sizes, and compared exactly
(dataclass equality: floats to the last bit), field by field.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import services
from surveys.analytics import city
from surveys.models import Assessment
from surveys.scopes import AdminScope
from surveys.selectors.administrators import Filters
from tests import summary_data

from . import legacy_city as legacy
from .test_summary_readers import filter_combinations

pytestmark = pytest.mark.django_db

CITY = AdminScope.city_wide()
DISTRICT = AdminScope(
    all_districts=False, districts=frozenset(summary_data.DISTRICTS[:1]), can_view_contacts=False, can_export=True
)
TWO = AdminScope(
    all_districts=False, districts=frozenset(summary_data.DISTRICTS[1:3]), can_view_contacts=False, can_export=True
)


@pytest.fixture
def versions(questionnaire, questionnaire_2026_2):
    """2026.1 and 2026.2 (loaded after it: the reference version, with the barriers question and the city-level
    problems)."""
    return [questionnaire, questionnaire_2026_2]


def assert_same_report(scope: AdminScope, filters: Filters) -> city.CityReportData:
    new = city.city_report_data(scope, filters)
    old = legacy.city_report_data(scope, filters)
    for name in (f.name for f in dataclasses.fields(city.CityReportData)):
        assert getattr(new, name) == getattr(old, name), (scope.label, filters, name)
    assert new == old
    return new


@pytest.mark.parametrize(("seed", "minimum"), [(21, 3), (22, 10)])
def test_every_city_report_figure_equals_the_row_scan(settings, versions, seed, minimum):
    settings.JINAN_MIN_GROUP_SIZE = minimum
    city_data = summary_data.random_city(versions, seed=seed, firms=100 if minimum < 10 else 220)
    services.summaries_rebuild()
    rnd = random.Random(seed)
    shown = {"prevalence": 0, "change": 0, "context": 0, "related": 0, "weak": 0}
    for scope in (CITY, DISTRICT, TWO):
        for filters in filter_combinations(city_data, rnd, extra=10 if scope is CITY else 4):
            data = assert_same_report(scope, filters)
            shown["prevalence"] += sum(
                1 for table in data.prevalence for row in table.rows if any(s is not None for s in row.shares)
            )
            shown["change"] += bool(data.change and data.change.firms)
            shown["context"] += sum(1 for c in data.context for row in c.rows if row.firms)
            shown["related"] += sum(1 for p in data.city_problems for i in p.items if i.low_share is not None)
            shown["weak"] += len(data.top_weak_items)
    # The reports were not all hidden or empty: the comparison compared something of every part.
    assert all(shown.values()), shown


def test_a_barrier_option_the_reference_lacks_is_counted_as_before(settings, versions):
    """Rounds that chose only an option the reference version does not offer: not counted as answering (the
    report counts the rows for that question), exactly as before."""
    settings.JINAN_MIN_GROUP_SIZE = 3
    summary_data.random_city(versions, seed=23, firms=90)
    rounds = list(Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED).order_by("id")[:25])
    for n, assessment in enumerate(rounds):
        assessment.context = {"C1": {"choices": ["retired-option"] + (["cost"] if n % 2 else []), "other": ""}}
    Assessment.objects.bulk_update(rounds, ["context"])
    services.summaries_rebuild()
    for scope, filters in ((CITY, Filters()), (DISTRICT, Filters()), (CITY, Filters(round_label="2025 T0"))):
        assert_same_report(scope, filters)


def test_a_district_administrator_without_districts_gets_an_empty_report(settings, versions):
    summary_data.random_city(versions, seed=24, firms=30)
    services.summaries_rebuild()
    nobody = AdminScope(all_districts=False, districts=frozenset(), can_view_contacts=False, can_export=True)
    data = city.city_report_data(nobody, Filters())
    assert data.overview.submitted == 0 and data.change is not None and data.change.firms == 0
    assert all(not row.firms for table in data.prevalence for row in table.rows)


def report_queries(scope: AdminScope, filters: Filters) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        city.city_report_data(scope, filters)
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(district="370112", round_label="2025 T0"), Filters(sector=summary_data.SECTORS[0])],
    ids=["city", "district-label", "sector"],
)
def test_the_number_of_queries_does_not_grow_with_the_firms(settings, versions, filters):
    settings.JINAN_MIN_GROUP_SIZE = 3
    # Coverage's cache (and the fingerprint it reads at most once a second) would make the count depend on time.
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    summary_data.random_city(versions, seed=25, firms=40)
    services.summaries_rebuild()
    small = report_queries(CITY, filters)
    summary_data.random_city(versions, seed=26, firms=240)
    services.summaries_rebuild()
    large = report_queries(CITY, filters)
    assert len(large) == len(small), "\n".join(large)
    # What the module docstring promises: no figure reads the per-firm tables (the rounds, their results and
    # answers, the firms, the register); the change since the previous round and, with a sector filter, the
    # table by sector and coverage's sector rows included.
    per_firm = ('"surveys_assessment"', '"surveys_dimensionresult"', '"surveys_answer"', '"surveys_enterprise"')
    per_firm += ('"surveys_registerentry"',)
    rows = [sql for sql in large if any(table in sql for table in per_firm)]
    assert rows == [], rows
