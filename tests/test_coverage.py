"""Coverage against the business register (surveys/analytics/coverage.py): the figures equal a direct count in
SQL on random data, the district scope holds, small groups are suppressed, and the sector filter."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys.analytics.coverage import (
    coverage,
    coverage_total,
    unassessed_firms,
    unassessed_table,
)
from surveys.choices import DISTRICTS, INDUSTRIES, SECTORS, SIZE_CLASSES
from surveys.models import Assessment, sectors_encode
from surveys.scopes import AdminScope
from surveys.selectors.administrators import Filters, assessment_queryset
from surveys.suppression import PROTECTED, SMALL
from tests.model_factories import AssessmentFactory, EnterpriseFactory, RegisterEntryFactory, register_uscc

pytestmark = pytest.mark.django_db

CITY = AdminScope.city_wide()
TWO_DISTRICTS = AdminScope(
    all_districts=False, districts=frozenset({"370112", "370102"}), can_view_contacts=False, can_export=True
)
LABELS = ("2025 T0", "2026 T0", "2026 T1")


@pytest.fixture(autouse=True)
def _no_cache(settings):
    """Figures computed afresh in every test (test_the_figures_are_cached_until_the_register_changes turns the
    cache on)."""
    from django.core.cache import cache

    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


def submit(enterprise, questionnaire, labels, *, version_questionnaire=None):
    """Submitted rounds with these labels (in order, a year apart), the last one the latest."""
    start = timezone.now() - timedelta(days=400)
    for n, label in enumerate(labels):
        AssessmentFactory(
            enterprise=enterprise,
            questionnaire=version_questionnaire or questionnaire,
            label=label,
            status=Assessment.STATUS_SUBMITTED,
            submitted_at=start + timedelta(days=180 * n),
            is_latest=n == len(labels) - 1,
            level=f"L{1 + n}",
        )


@pytest.fixture
def random_city(questionnaire):
    """About 300 register rows and 260 signed-up firms, overlapping, with random rounds; some firms outside the
    register, some with a draft only."""
    rnd = random.Random(14)
    districts = [code for code, _label in DISTRICTS]
    industries = [code for code, _label in INDUSTRIES[:8]]
    sizes = [code for code, _label in SIZE_CLASSES]
    sectors = [code for code, _label in SECTORS]
    for n in range(1, 301):
        district = rnd.choice(districts[:6])
        entry = RegisterEntryFactory(
            uscc=register_uscc(n, district),
            district=district,
            industry=rnd.choice(industries),
            size_class=rnd.choice(sizes),
            leading_chain=rnd.choice(["", "EQUIP", "IT"]),
            sectors=sectors_encode(rnd.sample(sectors, rnd.choice([0, 0, 1, 2]))),
        )
        if rnd.random() < 0.75:
            # The firm's own profile may say another district: the register is what coverage reads.
            firm = EnterpriseFactory(uscc=entry.uscc, district=rnd.choice([district, district, "370114"]))
            roll = rnd.random()
            if roll < 0.7:
                submit(firm, questionnaire, rnd.sample(LABELS, rnd.randint(1, 3)))
            elif roll < 0.85:
                AssessmentFactory(enterprise=firm, questionnaire=questionnaire, label="2026 T1")  # a draft
    for n in range(301, 321):  # signed up and assessed, not in the register
        firm = EnterpriseFactory(uscc=register_uscc(n, "370112"), district=rnd.choice(["370112", "370104"]))
        submit(firm, questionnaire, [rnd.choice(LABELS)])


def sql_rows(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def sql_counts(*, group: str = "", where: str = "1=1", params=(), round_where: str = "a.is_latest") -> dict:
    """group → (registered, assessed) by a plain SQL query over the tables (no group: {"all": …})."""
    query = f"""
        SELECT {group or "'all'"}, COUNT(*),
               SUM(CASE WHEN EXISTS (
                   SELECT 1 FROM surveys_enterprise e JOIN surveys_assessment a ON a.enterprise_id = e.id
                   WHERE e.uscc = r.uscc AND a.status = 'submitted' AND {round_where}
               ) THEN 1 ELSE 0 END)
        FROM surveys_registerentry r
        WHERE {where}
        {f"GROUP BY {group}" if group else ""}
    """
    return {key: (registered, assessed) for key, registered, assessed in sql_rows(query, params)}


def in_districts(scope: AdminScope) -> tuple[str, tuple]:
    if scope.all_districts:
        return "1=1", ()
    codes = sorted(scope.districts)
    return f"r.district IN ({', '.join(['%s'] * len(codes))})", tuple(codes)


def assert_rows_match(rows, expected: dict, minimum: int) -> None:
    assert {row.key for row in rows} == set(expected)
    for row in rows:
        registered, assessed = expected[row.key]
        assert row.registered == registered, row
        if row.hidden_reason is None:
            assert row.assessed == assessed, row
            if registered >= minimum:
                assert row.share == pytest.approx(100 * assessed / registered), row
        else:
            assert row.assessed is None and row.share is None
            assert row.hidden_reason == PROTECTED or 0 < assessed < minimum, row


@pytest.mark.parametrize("scope", [CITY, TWO_DISTRICTS], ids=["city", "two-districts"])
@pytest.mark.parametrize("minimum", [3, 10])
def test_coverage_equals_a_direct_count_in_sql(random_city, settings, scope, minimum):
    settings.JINAN_MIN_GROUP_SIZE = minimum
    result = coverage(scope, Filters())
    where, params = in_districts(scope)
    total = sql_counts(where=where, params=params)["all"]
    assert (result.total.registered, result.total.assessed) == total
    assert result.has_register
    assert_rows_match(result.by_district, sql_counts(group="r.district", where=where, params=params), minimum)
    assert_rows_match(result.by_industry, sql_counts(group="r.industry", where=where, params=params), minimum)
    assert_rows_match(result.by_size, sql_counts(group="r.size_class", where=where, params=params), minimum)
    for row in result.by_sector:
        expected = sql_counts(where=f"{where} AND r.sectors LIKE %s", params=(*params, f"%,{row.key},%"))
        assert_rows_match([replace(row, key="all")], expected, minimum)
    if not scope.all_districts:
        assert {row.key for row in result.by_district} <= scope.districts
    # Every firm counted is in the register and in scope: the "not yet assessed" list is the rest.
    assert unassessed_firms(scope, Filters()).count() == total[0] - total[1]
    assert coverage_total(scope, Filters()) == result.total


def test_filters_and_a_round_label_equal_sql(random_city, settings):
    settings.JINAN_MIN_GROUP_SIZE = 3
    filters = Filters(size_class="small", round_label="2026 T0", sector="steel")
    result = coverage(CITY, filters)
    expected = sql_counts(
        where="r.size_class = %s AND r.sectors LIKE %s",
        params=("small", "%,steel,%"),
        round_where="a.label = '2026 T0'",
    )["all"]
    assert result.total.registered == expected[0] > 0
    assert result.total.assessed == (expected[1] if expected[1] == 0 or expected[1] >= 3 else None)
    # A level filter does not change coverage (it describes assessed firms only).
    assert coverage(CITY, replace(filters, level="L2")) == result
    # A year narrows the selection to rounds submitted that year.
    year = timezone.localdate().year
    by_year = coverage(CITY, Filters(year=year))
    expected_year = sql_counts(
        round_where=f"a.is_latest AND a.submitted_at >= '{year}-01-01' AND a.submitted_at < '{year + 1}-01-01'",
    )["all"]
    assert by_year.total.registered == expected_year[0]
    assert by_year.total.assessed in (expected_year[1], None)


def test_over_time_and_assessed_not_registered_equal_sql(random_city, settings):
    settings.JINAN_MIN_GROUP_SIZE = 3
    result = coverage(TWO_DISTRICTS, Filters())
    where, params = in_districts(TWO_DISTRICTS)
    registered = sql_rows(f"SELECT COUNT(*) FROM surveys_registerentry r WHERE {where}", params)[0][0]
    by_label = dict(
        sql_rows(
            f"""SELECT a.label, COUNT(DISTINCT e.id) FROM surveys_assessment a
                JOIN surveys_enterprise e ON e.id = a.enterprise_id
                JOIN surveys_registerentry r ON r.uscc = e.uscc
                WHERE a.status = 'submitted' AND {where} GROUP BY a.label""",
            params,
        )
    )
    assert [point.label for point in result.over_time] == list(LABELS)  # oldest first
    for point in result.over_time:
        expected = by_label.get(point.label, 0)
        assert point.registered == registered
        assert point.assessed == (expected if expected == 0 or expected >= 3 else None)
        assert point.share == (None if point.assessed is None else pytest.approx(100 * expected / registered))
    not_registered = sql_rows(
        """SELECT COUNT(*) FROM surveys_assessment a JOIN surveys_enterprise e ON e.id = a.enterprise_id
           WHERE a.status = 'submitted' AND a.is_latest AND e.district IN (%s, %s)
           AND e.uscc NOT IN (SELECT uscc FROM surveys_registerentry)""",
        ("370102", "370112"),
    )[0][0]
    assert result.assessed_not_registered == not_registered > 0


def test_the_unassessed_list_respects_the_district_scope(random_city):
    scope = AdminScope(all_districts=False, districts=frozenset({"370102"}), can_view_contacts=False, can_export=True)
    listed = list(unassessed_firms(scope, Filters()))
    assert listed and all(entry.district == "370102" for entry in listed)
    assessed_codes = set(assessment_queryset(CITY, Filters()).values_list("enterprise__uscc", flat=True))
    assert not {entry.uscc for entry in listed} & assessed_codes
    # A filter on another district than the scope's gives nothing (never the other district's firms).
    assert not unassessed_firms(scope, Filters(district="370112")).exists()
    table = unassessed_table(scope, Filters())
    rows = list(table.rows)
    assert len(rows) == table.count() == len(listed)
    assert {row[0] for row in rows} == {entry.uscc for entry in listed}


def test_no_register_in_scope(random_city):
    scope = AdminScope(all_districts=False, districts=frozenset({"370126"}), can_view_contacts=False, can_export=True)
    result = coverage(scope, Filters())
    assert not result.has_register
    assert result.by_district == [] and result.over_time == []
    assert coverage_total(scope, Filters()) is None


def test_small_groups_and_the_protected_neighbour(questionnaire, settings):
    """Licheng: 12 of 15 assessed; Lixia: 3 of 4 (small); Huaiyin: 10 of 20 (the next smallest: protected)."""
    settings.JINAN_MIN_GROUP_SIZE = 10
    n = 0
    for district, registered, assessed in (("370112", 15, 12), ("370102", 4, 3), ("370104", 20, 10)):
        for k in range(registered):
            n += 1
            entry = RegisterEntryFactory(uscc=register_uscc(n, district), district=district)
            if k < assessed:
                submit(EnterpriseFactory(uscc=entry.uscc, district=district), questionnaire, ["2026 T0"])
    result = coverage(CITY, Filters())
    rows = {row.key: row for row in result.by_district}
    assert (rows["370112"].registered, rows["370112"].assessed, rows["370112"].share) == (15, 12, 80.0)
    assert (rows["370102"].registered, rows["370102"].assessed, rows["370102"].hidden_reason) == (4, None, SMALL)
    assert (rows["370104"].registered, rows["370104"].assessed, rows["370104"].hidden_reason) == (20, None, PROTECTED)
    assert rows["370104"].share is None
    assert (result.total.registered, result.total.assessed) == (39, 25)
    # Sector rows overlap: only small counts are hidden there, never a neighbour.
    assert result.by_sector == []
    settings.JINAN_MIN_GROUP_SIZE = 3
    rows = {row.key: row for row in coverage(CITY, Filters()).by_district}
    assert rows["370102"].assessed == 3 and rows["370104"].assessed == 10


def test_the_sector_filter_reaches_the_dashboard_querysets(questionnaire):
    tagged = RegisterEntryFactory(uscc=register_uscc(1), sectors=sectors_encode(["steel", "ic"]))
    other = RegisterEntryFactory(uscc=register_uscc(2), sectors=sectors_encode(["ic"]))
    for entry in (tagged, other):
        submit(EnterpriseFactory(uscc=entry.uscc), questionnaire, ["2026 T0"])
    submit(EnterpriseFactory(uscc=register_uscc(3)), questionnaire, ["2026 T0"])  # not in the register
    steel = Filters(sector="steel")
    assert list(assessment_queryset(CITY, steel).values_list("enterprise__uscc", flat=True)) == [tagged.uscc]
    assert assessment_queryset(CITY, Filters(sector="ic")).count() == 2
    assert assessment_queryset(CITY, Filters()).count() == 3
    assert ("sector", "steel") in steel.query_items()
    assert ("重点产业领域", "精品钢") in [(str(k), str(v)) for k, v in steel.describe()]


def test_the_demo_register_covers_the_demo_firms_and_more(questionnaire):
    from surveys import demo, uscc
    from surveys.models import Enterprise, RegisterEntry

    demo.seed_demo(firms=40, questionnaire=questionnaire, seed=3)
    assert demo.register_seed(seed=3) == 40 + 12
    codes = set(RegisterEntry.objects.values_list("uscc", flat=True))
    assert set(Enterprise.objects.values_list("uscc", flat=True)) <= codes
    assert all(uscc.validate(code).is_valid for code in codes)
    assert demo.register_seed(seed=3) == 0  # every firm is in it already
    result = coverage(CITY, Filters())
    assert result.total.registered == 40 + 12 and result.total.assessed == 40


def test_the_figures_are_cached_until_the_register_changes(questionnaire, settings, monkeypatch):
    from surveys.analytics import aggregates
    from surveys.services.register import register_import

    settings.JINAN_DASHBOARD_CACHE_SECONDS = 60
    monkeypatch.setattr(aggregates, "FINGERPRINT_SECONDS", 0)
    header = ["统一社会信用代码", "企业名称", "区县代码", "行业代码", "企业规模", "主导产业链", "重点产业领域"]
    register_import(rows=[header, [register_uscc(1), "甲", "370112", "C34", "small", "", ""]])
    first = coverage(CITY, Filters())
    assert first.total.registered == 1 and coverage_total(CITY, Filters()).registered == 1
    with CaptureQueriesContext(connection) as queries:
        assert coverage(CITY, Filters()) == first
    assert len(queries) <= 3  # the two fingerprints, no figure recomputed
    # An import that only changes a row is seen at once.
    register_import(rows=[header, [register_uscc(1), "甲", "370102", "C34", "small", "", ""]])
    assert [row.key for row in coverage(CITY, Filters()).by_district] == ["370102"]
    # So is a new submission.
    submit(EnterpriseFactory(uscc=register_uscc(1)), questionnaire, ["2026 T0"])
    assert coverage_total(CITY, Filters()).hidden_reason == SMALL  # 1 assessed: "<10"
    assert coverage(CITY, Filters()).total.hidden_reason == SMALL


# --- the summaries against the row queries (the implementation before the summaries) --------------------


def row_figures(scope: AdminScope, filters: Filters) -> dict:
    """Every figure of coverage() as the row queries over the register and the rounds give it (unsuppressed)."""
    from django.db.models import Count, Q

    from surveys.analytics.coverage import register_queryset
    from surveys.models import Enterprise, RegisterEntry, sector_lookup
    from surveys.selectors.administrators import selected_round_exists

    selection = replace(filters, level="")
    registered = register_queryset(scope, filters)
    usccs = Enterprise.objects.filter(selected_round_exists(selection)).values("uscc")

    def pairs(rows, group):
        counted = rows.values(group).annotate(n=Count("id"), a=Count("id", filter=Q(uscc__in=usccs))).order_by()
        return {row[group]: (row["n"], row["a"]) for row in counted}

    sectors = {}
    for code, _label in SECTORS:
        tagged = registered.filter(sector_lookup(code))
        if tagged.exists():
            sectors[code] = (tagged.count(), tagged.filter(uscc__in=usccs).count())
    labels = {}
    for label in LABELS:
        rounds = Assessment.objects.filter(
            status=Assessment.STATUS_SUBMITTED, label=label, enterprise__uscc__in=registered.values("uscc")
        )
        if filters.version:
            rounds = rounds.filter(questionnaire__version=filters.version)
        labels[label] = rounds.count()
    rounds = assessment_queryset(scope, selection)
    return {
        "total": (registered.count(), registered.filter(uscc__in=usccs).count()),
        "district": pairs(registered, "district"),
        "industry": pairs(registered, "industry"),
        "size": pairs(registered, "size_class"),
        "sector": sectors,
        "over_time": labels,
        "not_registered": rounds.exclude(enterprise__uscc__in=RegisterEntry.objects.values("uscc")).count(),
    }


def summary_figures(scope: AdminScope, filters: Filters) -> dict:
    """The same figures from coverage() (read from the summaries), with nothing suppressed."""
    result = coverage(scope, filters)
    total = coverage_total(scope, filters)
    assert total == (result.total if result.has_register else None)
    labels = {point.label: point.assessed for point in result.over_time}
    return {
        "total": (result.total.registered, result.total.assessed),
        "district": {row.key: (row.registered, row.assessed) for row in result.by_district},
        "industry": {row.key: (row.registered, row.assessed) for row in result.by_industry},
        "size": {row.key: (row.registered, row.assessed) for row in result.by_size},
        "sector": {row.key: (row.registered, row.assessed) for row in result.by_sector},
        "over_time": {label: labels.get(label, 0) for label in LABELS},
        "not_registered": result.assessed_not_registered,
    }


FILTER_CASES = [
    Filters(),
    Filters(district="370112"),
    Filters(industry="C34", size_class="small"),
    Filters(leading_chain="IT", level="L2"),
    Filters(sector="steel"),
    Filters(sector="ic", district="370102", round_label="2026 T0"),
    Filters(round_label="2026 T1"),
    Filters(year=timezone.localdate().year),
    Filters(year=timezone.localdate().year - 1, sector="biomed"),
]


def assert_summaries_equal_rows(settings) -> None:
    """coverage() from the summaries equals the row queries, in every scope and filter case."""
    settings.JINAN_MIN_GROUP_SIZE = 1  # nothing hidden: every figure compared
    for scope in (CITY, TWO_DISTRICTS):
        for filters in FILTER_CASES:
            assert summary_figures(scope, filters) == row_figures(scope, filters), (scope, filters)


def test_the_summaries_equal_the_row_queries_under_every_filter(random_city, settings):
    assert_summaries_equal_rows(settings)


def test_the_summaries_equal_the_row_queries_across_versions(versions_for_coverage, settings):
    from surveys import services
    from tests import summary_data

    summary_data.random_city(versions_for_coverage, seed=5, firms=120)
    services.summaries_rebuild()
    settings.JINAN_MIN_GROUP_SIZE = 1
    for version in [v.version for v in versions_for_coverage]:
        for filters in (Filters(version=version), Filters(version=version, round_label="2026 T0", sector="steel")):
            assert summary_figures(CITY, filters) == row_figures(CITY, filters), filters
    assert services.summaries_differences().ok


@pytest.fixture
def versions_for_coverage(questionnaire):
    from tests.model_factories import questionnaire as factory_questionnaire

    return [questionnaire, factory_questionnaire("coverage-2")]


REGISTER_HEADER = ["统一社会信用代码", "企业名称", "区县代码", "行业代码", "企业规模", "主导产业链", "重点产业领域"]


@pytest.mark.parametrize("one_by_one", [True, False], ids=["moved", "rebuilt"])
def test_coverage_stays_exact_after_register_changes(random_city, settings, monkeypatch, one_by_one):
    """A re-import that changes rows' district, industry and sectors, adds the rows of firms that had none, and a
    deletion of rows whose firms have rounds: every figure still equals the row queries, the check finds nothing."""
    from surveys import services
    from surveys.models import Enterprise, RegisterEntry
    from surveys.services import summaries as maintenance
    from surveys.services.register import register_delete, register_import

    if not one_by_one:
        monkeypatch.setattr(maintenance, "MOVE_LIMIT", 0)
    rnd = random.Random(3)
    assessed = set(Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED).values_list("enterprise__uscc"))
    stored = list(RegisterEntry.objects.filter(uscc__in=[code for (code,) in assessed]).order_by("uscc"))
    rows = [REGISTER_HEADER]
    for entry in stored[:40]:
        rows.append(
            [
                entry.uscc,
                entry.name + "（更名）" if rnd.random() < 0.3 else entry.name,
                rnd.choice(["370102", "370112", "370104"]),
                rnd.choice(["C34", "C31", entry.industry]),
                entry.size_class,
                rnd.choice(["", "IT", entry.leading_chain]),
                ";".join(rnd.sample([code for code, _label in SECTORS], rnd.choice([0, 1, 2]))),
            ]
        )
    unregistered = Enterprise.objects.exclude(uscc__in=RegisterEntry.objects.values("uscc")).order_by("uscc")
    added = list(unregistered[:10])
    assert added
    for firm in added:
        rows.append([firm.uscc, firm.name, "370102", "C31", "medium", "IT", "steel"])
    result = register_import(rows=rows)
    assert result.created == len(added) and result.updated > 0 and not result.errors
    assert_summaries_equal_rows(settings)
    assert services.summaries_differences().ok
    gone = [entry.uscc for entry in stored[40:55]] + [added[0].uscc]
    assert register_delete(usccs=gone) == len(gone)
    assert_summaries_equal_rows(settings)
    assert services.summaries_differences().ok


def test_the_fresh_dashboard_block_reads_no_register_row_and_does_not_grow(random_city, settings):
    """coverage_total reads two summary tables (two or three small queries), never the register or the per-firm
    rows, and as many queries after more firms and register rows."""
    from surveys.services.register import register_import

    per_row = ("surveys_registerentry", "surveys_assessment", "surveys_enterprise", "surveys_dimensionresult")

    def statements() -> list[str]:
        found = []
        for scope, filters in (
            (CITY, Filters()),
            (TWO_DISTRICTS, Filters(industry="C34", level="L2")),
            (CITY, Filters(sector="steel", year=timezone.localdate().year, round_label="2026 T0")),
        ):
            with CaptureQueriesContext(connection) as queries:
                assert coverage_total(scope, filters) is not None
            sql = [q["sql"] for q in queries.captured_queries]
            assert len(sql) <= 3, sql  # a third only when nothing matches: is any register row in scope?
            assert not [s for s in sql if any(table in s for table in per_row)], sql
            found += sql
        return found

    before = len(statements())
    rows = [REGISTER_HEADER]
    for n in range(400, 460):
        firm = EnterpriseFactory(uscc=register_uscc(n, "370112"), district="370112")
        submit(firm, Assessment.objects.first().questionnaire, ["2026 T0"])
        rows.append([firm.uscc, firm.name, "370112", "C34", "small", "", "steel"])
    register_import(rows=rows)
    assert len(statements()) <= before  # (fewer when a case that matched nothing now matches)


def test_the_fresh_dashboard_page_reads_no_register_row(random_city, client, settings):
    from django.urls import reverse

    from surveys import services
    from surveys.scopes import ROLE_CITY
    from tests.model_factories import UserFactory

    user = UserFactory()
    services.administrator_grant(user=user, role=ROLE_CITY)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("manage:dashboard"))
    assert response.status_code == 200 and response.context["coverage"].registered == 300
    assert not [q["sql"] for q in queries.captured_queries if "surveys_registerentry" in q["sql"]]
