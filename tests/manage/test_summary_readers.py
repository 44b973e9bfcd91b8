"""Every figure read from the summary tables equals the figure the per-firm rows gave before them.

Random cities (tests/summary_data.py: firms, register sectors, rounds of several labels and two questionnaire
versions, drafts, answers, results, context answers) are summarised by ``summaries_rebuild``; then the
dashboard's overview and dimension statistics, every breakdown, the weaknesses, the change across rounds, the
versions and labels, and the results page's comparison groups are computed both ways, for several scopes and
many filter combinations, and compared exactly (dataclass equality: floats to the last bit). The row-scan
implementations are kept in tests/manage/legacy_aggregates.py.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection

from surveys import analytics, services
from surveys.analytics import aggregates
from surveys.analytics import summaries as readers
from surveys.models import Assessment, Item
from surveys.scopes import AdminScope
from surveys.selectors.administrators import Filters, assessment_queryset
from surveys.selectors.results import PEER_GROUPS, _peer_summaries
from surveys.selectors.summaries import database_mean, grain_for
from tests import summary_data
from tests.model_factories import questionnaire as factory_questionnaire

from . import legacy_aggregates as legacy

pytestmark = pytest.mark.django_db

CITY = AdminScope.city_wide()
TWO = AdminScope(
    all_districts=False, districts=frozenset(summary_data.DISTRICTS[:2]), can_view_contacts=False, can_export=True
)
NONE = AdminScope(all_districts=False, districts=frozenset(), can_view_contacts=False, can_export=True)


@pytest.fixture
def versions(questionnaire):
    """The seed version (2026.1) and a small one loaded after it (the current version, its names label the
    dashboard)."""
    return [questionnaire, factory_questionnaire("summary-2")]


def filter_combinations(city: summary_data.City, rnd: random.Random, extra: int) -> list[Filters]:
    """No filter, each filter alone, and ``extra`` random combinations of them."""
    choices = {
        "district": summary_data.DISTRICTS,
        "industry": summary_data.INDUSTRIES,
        "size_class": summary_data.SIZES,
        "leading_chain": summary_data.CHAINS,
        "round_label": summary_data.LABELS,
        "year": (2024, 2025, 2026),
        "level": summary_data.LEVELS,
        "version": tuple(v.version for v in city.versions),
        "sector": summary_data.SECTORS,
    }
    combinations = [Filters()] + [Filters(**{name: values[0]}) for name, values in choices.items()]
    for _n in range(extra):
        chosen = {name: rnd.choice(values) for name, values in choices.items() if rnd.random() < 0.35}
        combinations.append(Filters(**chosen))
    return combinations


def assert_same_figures(scope: AdminScope, filters: Filters) -> None:
    questionnaire = aggregates.reference_questionnaire()
    dimensions = aggregates.dimension_infos(questionnaire)
    levels = aggregates.level_infos(questionnaire)
    where = (scope, filters)
    assert aggregates.overview(scope, filters, levels=levels) == legacy.overview(scope, filters, levels=levels), where
    assert aggregates.dimension_stats(scope, filters, dimensions=dimensions) == legacy.dimension_stats(
        scope, filters, dimensions=dimensions
    ), where
    for key in aggregates.BREAKDOWNS:
        new = aggregates.breakdown(scope, filters, key, dimensions=dimensions)
        old = legacy.breakdown(scope, filters, key, dimensions=dimensions)
        # Groups of equal size outside the labels' order (versions) come in the database's order, either way.
        assert sorted(new.rows, key=repr) == sorted(old.rows, key=repr), (where, key)
        assert replace(new, rows=[]) == replace(old, rows=[]), (where, key)
        assert [r.firms for r in new.rows] == [r.firms for r in old.rows], (where, key)
    assert aggregates.weak_items(scope, filters, limit=None) == legacy.weak_items(scope, filters, limit=None), where
    assert aggregates.trend(scope, filters, dimensions=dimensions) == legacy.trend(
        scope, filters, dimensions=dimensions
    ), where
    assert readers.selected(scope, filters).versions == legacy.versions(scope, filters), where


@pytest.mark.parametrize(("seed", "minimum"), [(1, 3), (2, 1), (3, 10)])
def test_every_page_figure_equals_the_row_scan(settings, versions, seed, minimum):
    settings.JINAN_MIN_GROUP_SIZE = minimum
    city = summary_data.random_city(versions, seed=seed, firms=90 if minimum < 10 else 160)
    services.summaries_rebuild()
    rnd = random.Random(seed)
    for scope in (CITY, TWO, NONE):
        assert readers.assessment_labels(scope) == legacy.assessment_labels(scope)
        assert readers.submitted_versions(scope) == legacy.submitted_versions(scope)
        for filters in filter_combinations(city, rnd, extra=8 if scope is CITY else 3):
            assert_same_figures(scope, filters)
    # The figures are not all hidden or empty: the comparison compared something.
    board = analytics.dashboard(CITY, Filters(), use_cache=False)
    assert board.overview.submitted and board.overview.index.quartiles and board.trend.by_label


def test_the_comparison_groups_equal_the_row_scan(settings, versions):
    settings.JINAN_MIN_GROUP_SIZE = 3
    summary_data.random_city(versions, seed=5, firms=120)
    services.summaries_rebuild()
    rounds = list(
        Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED).select_related("enterprise").order_by("id")
    )
    codes = ["D1", "D2", "D3", "D4", "D5"]
    shown = 0
    for assessment in random.Random(5).sample(rounds, 25):
        for keys in (PEER_GROUPS, ("district",)):
            new = _peer_summaries(assessment, keys, codes)
            assert new == legacy._peer_summaries(assessment, keys, codes), assessment.pk
            shown += sum(p.shown for p in new)
    assert shown > 25


def test_the_city_reports_counts_equal_the_rows(settings, versions):
    """The answers per item and option, and the context answers, for the city report (city.py)."""
    settings.JINAN_MIN_GROUP_SIZE = 3
    summary_data.random_city(versions, seed=7, firms=80)
    services.summaries_rebuild()
    for scope, filters in ((CITY, Filters()), (TWO, Filters(sector="steel")), (CITY, Filters(round_label="2025 T0"))):
        rounds = assessment_queryset(scope, filters)
        expected: dict[int, Counter] = {}
        for item_id, score, special in rounds.values_list("answers__item_id", "answers__score", "answers__special"):
            if item_id is not None and (special or score is not None):
                expected.setdefault(item_id, Counter())[special or str(score)] += 1
        found = readers.item_counts(scope, filters)
        assert {item_id: Counter(c.options) for item_id, c in found.items()} == expected
        for question in ("C1", "C2"):
            answered, options = 0, Counter()
            for context in rounds.values_list("context", flat=True):
                chosen = (context.get(question) or {}).get("choices") or []
                answered += bool(chosen)
                options.update(set(chosen))
            assert readers.context_counts(scope, filters, question=question) == (answered, dict(options))
    assert Item.objects.filter(id__in=list(found)).exists()


def test_the_grain_is_the_coarsest_that_keeps_the_question_apart():
    assert grain_for(set()) == "all"
    assert grain_for({"district"}) == "district"
    assert grain_for({"industry"}) == "industry"
    assert grain_for({"district", "industry"}) == "fine"
    assert grain_for({"year"}) == "year"
    assert grain_for({"year", "size_class"}) == "fine"
    assert grain_for({"sector"}) == "sector"
    assert grain_for({"sector", "district"}) == "sector_fine"


def test_the_mean_is_the_databases_avg(versions):
    """database_mean(sum, n) against AVG() over values that sum to it, including long quotients."""
    rnd = random.Random(9)
    step = summary_data.grid()
    with connection.cursor() as cursor:
        for _n in range(200):
            values = [Decimal(rnd.randrange(0, int(100 / step) + 1)) * step for _k in range(rnd.randrange(1, 60))]
            values = [v.quantize(Decimal("0.01")) for v in values]
            union = " UNION ALL ".join(["SELECT CAST(%s AS DECIMAL(6, 2)) AS v"] * len(values))
            cursor.execute(f"SELECT AVG(v) FROM ({union}) x", values)
            (average,) = cursor.fetchone()
            expected = float(average) if connection.vendor == "postgresql" else _sqlite_avg(average)
            assert database_mean(int(sum(values) * 100), len(values)) == expected, values


def _sqlite_avg(value: float) -> float:
    """AVG() of a decimal column as Django gives it on SQLite: 15 significant digits."""
    from decimal import Context

    return float(Context(prec=15).create_decimal_from_float(value))


@pytest.mark.parametrize("by", ["district", "industry", "size_class", "leading_chain", "sector"])
def test_the_dimension_counts_by_group_equal_the_rows(settings, versions, by):
    """What the city report's prevalence tables need (city.py): per group and dimension, the results, the usable
    scores, their sum, the weak ones and those with insufficient data; a firm counts in each of its sectors."""
    from surveys.models import DimensionResult, RegisterEntry, sectors_decode

    summary_data.random_city(versions, seed=13, firms=70)
    services.summaries_rebuild()
    for scope, filters in ((CITY, Filters()), (TWO, Filters(level="L2")), (CITY, Filters(round_label="2025 T0"))):
        sectors = dict(RegisterEntry.objects.values_list("uscc", "sectors"))
        expected: dict[tuple, Counter] = {}
        rows = DimensionResult.objects.filter(assessment__in=assessment_queryset(scope, filters)).values_list(
            f"assessment__enterprise__{by}" if by != "sector" else "assessment__enterprise__uscc",
            "dimension__code",
            "score",
            "insufficient_data",
        )
        for group, code, score, insufficient in rows:
            groups = sectors_decode(sectors.get(group, "")) if by == "sector" else [group]
            usable = not insufficient and score is not None
            for key in groups:
                c = expected.setdefault((key, code), Counter())
                c["results"] += 1
                c["insufficient"] += insufficient
                c["usable"] += usable
                c["weak"] += usable and score < 40
                c["total"] += int(score * 100) if usable else 0
        found = {
            key: Counter({name: value for name, value in vars(counts).items() if value})
            for key, counts in readers.dimension_counts(scope, filters, by=by).items()
        }
        assert found == {key: +c for key, c in expected.items()}, (scope, filters)
