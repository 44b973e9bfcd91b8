"""The dashboard's figures against figures computed independently, in plain Python over the ORM rows."""

import statistics
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys import analytics, scopes, selectors
from surveys.models import Answer, Assessment, DimensionResult, Enterprise
from surveys.reports.formatting import format_score

from .conftest import DISTRICT_SCOPE

pytestmark = pytest.mark.django_db

MIN = 10  # settings.JINAN_MIN_GROUP_SIZE in these tests


def shown(n):
    return n if n == 0 or n >= MIN else None


def quartiles(values):
    return statistics.quantiles(sorted(values), n=4, method="inclusive")


def expected_figures(districts=None, **enterprise_filters):
    """Every dashboard figure recomputed from the rows, without the analytics module."""
    firms = Enterprise.objects.all()
    if districts is not None:
        firms = firms.filter(district__in=districts)
    firms = firms.filter(**enterprise_filters)
    firm_ids = set(firms.values_list("id", flat=True))
    latest = [
        a
        for a in Assessment.objects.filter(is_latest=True, status="submitted").select_related("enterprise")
        if a.enterprise_id in firm_ids
    ]
    latest_ids = {a.id for a in latest}
    by_dimension = defaultdict(list)
    insufficient = Counter()
    for r in DimensionResult.objects.select_related("dimension"):
        if r.assessment_id not in latest_ids:
            continue
        if r.insufficient_data:
            insufficient[r.dimension.code] += 1
        elif r.score is not None:
            by_dimension[r.dimension.code].append(float(r.score))
    by_district = defaultdict(list)
    for a in latest:
        by_district[a.enterprise.district].append(float(a.index))
    weak_items = Counter()
    for answer in Answer.objects.select_related("item"):
        if answer.assessment_id in latest_ids and (
            (answer.score is not None and answer.score <= 1) or answer.special == "unknown"
        ):
            weak_items[answer.item.code] += 1
    return {
        "registered": len(firm_ids),
        "submitted": len(latest),
        "indexes": [float(a.index) for a in latest],
        "levels": Counter(a.level for a in latest),
        "dimensions": by_dimension,
        "insufficient": insufficient,
        "by_district": by_district,
        "weak_items": weak_items,
    }


def expected_hidden(counts: dict) -> set:
    """The partition rule, written out again: below the minimum, plus the next smallest if only one is."""
    small = {k for k, n in counts.items() if 0 < n < MIN}
    if len(small) == 1:
        others = sorted((n, k) for k, n in counts.items() if k not in small and n > 0)
        small.add(others[0][1])
    return small


def check_board(board, expected):
    o = board.overview
    assert o.registered == expected["registered"]
    assert o.submitted == expected["submitted"]
    assert o.index.mean == pytest.approx(statistics.mean(expected["indexes"]))
    assert o.index.quartiles == pytest.approx(quartiles(expected["indexes"]))
    hidden = expected_hidden({lv.code: expected["levels"].get(lv.code, 0) for lv in board.levels})
    for cell in o.levels:
        if cell.code in hidden:
            assert cell.firms is None and cell.share is None
        else:
            assert cell.firms == expected["levels"].get(cell.code, 0)
            assert cell.share == pytest.approx(100 * cell.firms / expected["submitted"])
    for stat in board.dimension_stats:
        scores = expected["dimensions"][stat.info.code]
        assert stat.firms == len(scores)
        assert stat.mean == pytest.approx(statistics.mean(scores))
        assert stat.quartiles == pytest.approx(quartiles(scores))
        weak = sum(1 for s in scores if s < 40)
        assert stat.weak == shown(weak)
        if shown(weak) is not None:
            assert stat.weak_share == pytest.approx(100 * weak / len(scores))
        assert stat.insufficient == shown(expected["insufficient"][stat.info.code])


def test_city_dashboard_equals_an_independent_computation(demo_firms):
    assert settings.JINAN_MIN_GROUP_SIZE == MIN
    scope = scopes.AdminScope.city_wide()
    board = analytics.dashboard(scope, analytics.Filters())
    expected = expected_figures()
    assert expected["registered"] == 300
    check_board(board, expected)

    breakdown = analytics.breakdown(scope, analytics.Filters(), "district", dimensions=board.dimensions)
    counts = {k: len(v) for k, v in expected["by_district"].items()}
    hidden = expected_hidden(counts)
    assert {row.key for row in breakdown.rows} == set(counts)
    for row in breakdown.rows:
        if row.key in hidden:
            assert row.hidden and row.mean_index is None and all(v is None for v in row.dimension_means)
        else:
            assert row.firms == counts[row.key]
            assert row.mean_index == pytest.approx(statistics.mean(expected["by_district"][row.key]))
    assert breakdown.hidden_groups == len(hidden)

    total, items = analytics.weak_items(scope, analytics.Filters(), limit=None)
    assert total == 300
    assert {i.code: i.firms for i in items} == {code: shown(n) for code, n in expected["weak_items"].items()}
    top = items[0]
    assert top.firms == max(expected["weak_items"].values())
    assert top.countermeasures, "every weak item of the seed questionnaire triggers a rule"


def test_district_dashboard_counts_only_its_districts(demo_firms, client, district_admin):
    scope = scopes.administrator_scope(district_admin)
    assert scope.districts == frozenset(DISTRICT_SCOPE)
    board = analytics.dashboard(scope, analytics.Filters())
    check_board(board, expected_figures(districts=DISTRICT_SCOPE))

    breakdown = analytics.breakdown(scope, analytics.Filters(), "district", dimensions=board.dimensions)
    assert {row.key for row in breakdown.rows} <= set(DISTRICT_SCOPE)
    # A district filter outside the scope is refused by the form and changes nothing.
    client.force_login(district_admin)
    response = client.get(reverse("manage:dashboard"), {"district": "370102"})
    assert response.context["filters"].district == ""
    assert response.context["form"].errors["district"]
    assert response.context["board"].overview.registered == board.overview.registered


def test_filters_narrow_every_figure(demo_firms):
    scope = scopes.AdminScope.city_wide()
    filters = analytics.Filters(district="370112", size_class="small")
    board = analytics.dashboard(scope, filters)
    check_board(board, expected_figures(districts=["370112"], size_class="small"))


def test_round_label_year_and_level_filters(demo_firms):
    scope = scopes.AdminScope.city_wide()
    rounds = Assessment.objects.filter(status="submitted")
    label = selectors.assessment_labels(scope)[-1]
    board = analytics.dashboard(scope, analytics.Filters(round_label=label))
    assert board.overview.submitted == rounds.filter(label=label).count()
    level = analytics.dashboard(scope, analytics.Filters(level="L2")).overview
    assert level.submitted == rounds.filter(is_latest=True, level="L2").count()
    assert [c.firms for c in level.levels if c.code != "L2"] == [0, 0, 0, 0]
    year = analytics.dashboard(scope, analytics.Filters(year=2025)).overview
    from django.utils import timezone

    expected = sum(1 for a in rounds.filter(is_latest=True) if timezone.localtime(a.submitted_at).year == 2025)
    assert year.submitted == expected


def test_trend_per_round_label(demo_firms):
    scope = scopes.AdminScope.city_wide()
    dimensions = analytics.dimension_infos(analytics.reference_questionnaire())
    result = analytics.trend(scope, analytics.Filters(), dimensions=dimensions)
    by_label = defaultdict(list)
    for a in Assessment.objects.filter(status="submitted"):
        by_label[a.label].append(float(a.index))
    assert [r.label for r in result.by_label] == sorted(k for k, v in by_label.items() if len(v) >= MIN)
    for row in result.by_label:
        assert row.firms == len(by_label[row.label])
        assert row.mean_index == pytest.approx(statistics.mean(by_label[row.label]))
        assert len(row.dimension_means) == 5


def test_small_groups_are_hidden_everywhere(small_city, client, city_admin):
    scope = scopes.AdminScope.city_wide()
    dimensions = analytics.dimension_infos(analytics.reference_questionnaire())
    rows = {r.key: r for r in analytics.breakdown(scope, analytics.Filters(), "district", dimensions=dimensions).rows}
    # Lixia has 3 firms: hidden. It is the only small one, so the next smallest (Huaiyin, 11) goes too.
    assert rows["370102"].hidden and rows["370102"].mean_index is None
    assert rows["370104"].hidden
    assert rows["370112"].firms == 12 and rows["370112"].mean_index is not None

    only_lixia = analytics.dashboard(scope, analytics.Filters(district="370102"))
    assert only_lixia.overview.registered is None
    assert only_lixia.overview.submitted is None
    assert only_lixia.overview.index.mean is None and only_lixia.overview.index.quartiles is None
    assert all(s.mean is None and s.quartiles is None for s in only_lixia.dimension_stats)
    assert all(c.firms is None for c in only_lixia.overview.levels if c.firms != 0)
    assert analytics.weak_items(scope, analytics.Filters(district="370102")) == (None, [])

    client.force_login(city_admin)
    page = client.get(reverse("manage:dashboard"), {"district": "370102"}).content.decode()
    assert "&lt;10" in page and "—*" in page
    page = client.get(reverse("manage:breakdowns"), {"by": "district"}).content.decode()
    # Lixia (3 firms) is small; Huaiyin (11), the next smallest, is hidden to protect it.
    assert '<td class="text-end">&lt;10</td>' in page and '<td class="text-end">—†</td>' in page


def test_the_dashboard_renders_its_figures(demo_firms, client, city_admin):
    client.force_login(city_admin)
    response = client.get(reverse("manage:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    board = response.context["board"]
    assert format_score(board.overview.index.mean) in html  # the display rule, not the float's own rounding
    for stat in board.dimension_stats:
        assert stat.info.name in html
    assert reverse("manage:chart", args=["levels"]) in html
    for name in ("breakdowns", "weaknesses", "trend", "firms"):
        assert client.get(reverse(f"manage:{name}")).status_code == 200


def test_charts_are_svg_with_the_numbers_as_text(demo_firms, client, city_admin):
    client.force_login(city_admin)
    for name in ("levels", "dimensions", "breakdown", "weaknesses", "trend"):
        response = client.get(reverse("manage:chart", args=[name]), {"district": "370112"})
        assert response["Content-Type"] == "image/svg+xml"
        body = response.content.decode()
        assert body.lstrip().startswith("<?xml") and "<svg" in body
        assert "<desc" in body


def test_dashboard_queries_are_few_and_do_not_grow_with_firms(demo_firms):
    """The reference version, its dimensions and levels, then five reads of the summary tables (selected rounds
    by level and version, registered firms, histograms, dimension counts, rounds by label); none of the per-firm
    rows (Assessment, DimensionResult, Answer, Enterprise), so the cost does not grow with the firms."""
    scope = scopes.AdminScope.city_wide()
    district = scopes.AdminScope(
        all_districts=False, districts=frozenset(DISTRICT_SCOPE), can_view_contacts=False, can_export=False
    )
    for who, filters in ((scope, analytics.Filters()), (district, analytics.Filters(industry="C34", level="L2"))):
        with CaptureQueriesContext(connection) as queries:
            analytics.dashboard(who, filters, use_cache=False)
        statements = [q["sql"] for q in queries.captured_queries]
        assert len(statements) <= 8, statements
        per_firm = ("surveys_assessment", "surveys_dimensionresult", "surveys_answer", "surveys_enterprise")
        assert not [sql for sql in statements if any(f'"{table}"' in sql for table in per_firm)], statements


def test_a_district_administrators_pages_name_no_other_district(demo_firms, client, district_admin):
    from surveys.choices import DISTRICTS

    others = [str(label) for code, label in DISTRICTS if code not in DISTRICT_SCOPE]
    client.force_login(district_admin)
    pages = [
        reverse("manage:dashboard"),
        reverse("manage:breakdowns") + "?by=district",
        reverse("manage:breakdowns") + "?by=industry",
        reverse("manage:weaknesses"),
        reverse("manage:trend"),
        reverse("manage:firms"),
    ] + [reverse("manage:chart", args=[name]) + "?by=district" for name in ("levels", "breakdown", "dimensions")]
    for url in pages:
        body = client.get(url).content.decode()
        for name in others:
            assert name not in body, (url, name)
    breakdown = client.get(reverse("manage:breakdowns"), {"by": "district"}).context["breakdown"]
    assert (
        sum(row.firms or 0 for row in breakdown.rows) <= Enterprise.objects.filter(district__in=DISTRICT_SCOPE).count()
    )
    assert {row.key for row in breakdown.rows} == set(DISTRICT_SCOPE)
