"""Questionnaire versions side by side (issue 12): new rounds use the newest published version; a draft
started on an older version is finished on it (page, autosave, review, submit, results); administrators see
each round's version and compare versions on the dimension scores (codes D1–D5 are the same in every version).

The second version is the test factories' small definition (tests/model_factories.questionnaire), loaded after
the seed 2026.1: it is the newer one."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from surveys import analytics, scopes, selectors, services
from surveys.models import Answer, Assessment, Item, Questionnaire
from surveys.scopes import ROLE_CITY
from tests.manage.conftest import make_admin
from tests.model_factories import questionnaire as load_version
from tests.reports.conftest import new_member, realistic_answers, submit_round
from tests.test_views_firm import answer_everything

pytestmark = pytest.mark.django_db

NEWER = "test-2"


@pytest.fixture(autouse=True)
def _fresh_figures(settings):
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0  # the labels and versions of this database, never cached ones
    settings.JINAN_MIN_GROUP_SIZE = 1


@pytest.fixture
def newer(questionnaire):
    """A second version, loaded after 2026.1."""
    return load_version(NEWER)


def test_new_rounds_use_the_newest_published_version(questionnaire, owner_client, enterprise):
    assert selectors.questionnaire_current() == questionnaire
    older_round = submit_round(
        enterprise=enterprise, user=enterprise.memberships.get().user, answers=realistic_answers(questionnaire)
    )
    assert older_round.questionnaire == questionnaire
    newer = load_version(NEWER)
    unpublished = load_version("test-3")  # loaded last, but not published: never used for a new round
    Questionnaire.objects.filter(pk=unpublished.pk).update(is_published=False)
    assert selectors.questionnaire_current() == newer

    firm_page = owner_client.get(reverse("surveys:firm")).content.decode()
    assert f"问卷版本 {NEWER}。" in firm_page  # what a new round will use …
    assert re.search(r"<td>[^<]*</td>\s*<td>2026\.1</td>", firm_page)  # … beside the version of each round
    owner_client.post(reverse("surveys:round_start"), {"label": "2027 T0"})
    started = Assessment.objects.get(enterprise=enterprise, status=Assessment.STATUS_DRAFT)
    assert started.questionnaire == newer


def test_a_draft_on_the_older_version_is_finished_on_it(questionnaire, owner_client, enterprise):
    owner_client.post(reverse("surveys:round_start"), {"label": "2026 T0"})
    draft = Assessment.objects.get(enterprise=enterprise)
    assert draft.questionnaire == questionnaire
    newer = load_version(NEWER)
    seed_items = Item.objects.filter(questionnaire=questionnaire)
    first = seed_items.get(code="P1.1")

    # Its pages show the older version's questions, not the newer one's of the same code.
    page = owner_client.get(reverse("surveys:page", args=[draft.pk, 1])).content.decode()
    assert first.text_zh in page and "题目 P1.1" not in page
    # Starting a round again leads to the draft, on its version; the firm page names it.
    response = owner_client.post(reverse("surveys:round_start"), {"label": "other"})
    assert response.url == reverse("surveys:page", args=[draft.pk, 1])
    assert Assessment.objects.filter(enterprise=enterprise).count() == 1
    assert "问卷版本 2026.1。" in owner_client.get(reverse("surveys:firm")).content.decode()

    # Autosave stores the answer on the older version's item.
    autosave = owner_client.post(
        reverse("surveys:autosave", args=[draft.pk]),
        json.dumps({"item": "P1.1", "value": "3", "note": "", "revision": 0, "page": 1}),
        content_type="application/json",
    )
    assert autosave.status_code == 200 and autosave.json()["total"] == seed_items.count()
    assert Answer.objects.get(assessment=draft).item == first

    answer_everything(owner_client, draft, "2")
    review = owner_client.get(reverse("surveys:review", args=[draft.pk])).content.decode()
    assert f"已答 {seed_items.count()} / {seed_items.count()} 题" in review
    response = owner_client.post(reverse("surveys:review", args=[draft.pk]), {"pledge": "on"})
    assert response.url == reverse("surveys:results", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == Assessment.STATUS_SUBMITTED and draft.questionnaire == questionnaire
    assert {a.item.questionnaire_id for a in Answer.objects.filter(assessment=draft)} == {questionnaire.pk}
    results = owner_client.get(response.url).content.decode()
    assert "问卷 2026.1" in results

    # The next round is on the newer version; the history lists both rounds with their versions and compares
    # them dimension by dimension.
    owner_client.post(reverse("surveys:round_start"), {"label": "2027 T0"})
    following = Assessment.objects.get(enterprise=enterprise, status=Assessment.STATUS_DRAFT)
    assert following.questionnaire == newer
    answer_everything(owner_client, following, "3")
    owner_client.post(reverse("surveys:review", args=[following.pk]), {"pledge": "on"})
    following.refresh_from_db()
    report = selectors.assessment_report(assessment=following, language="zh-hans")
    assert [row.questionnaire_version for row in report.history] == [NEWER, "2026.1"]
    assert all(cell.change is not None for cell in report.history[0].cells)
    page = owner_client.get(reverse("surveys:results", args=[following.pk])).content.decode()
    assert re.search(r"2027 T0</a></th>\s*<td>test-2</td>", page)
    assert re.search(r"2026 T0</a></th>\s*<td>2026\.1</td>", page)


@pytest.fixture
def two_versions(questionnaire):
    """Two firms of the same district: one's latest round on 2026.1, the other's on the newer version."""
    older_user, older_firm = new_member(name="济南老版本机械有限公司")
    older = submit_round(enterprise=older_firm, user=older_user, answers=realistic_answers(questionnaire, seed=1))
    newer = load_version(NEWER)
    newer_user, newer_firm = new_member(name="济南新版本机械有限公司")
    later = submit_round(enterprise=newer_firm, user=newer_user, answers=realistic_answers(newer, seed=2))
    assert (older.questionnaire, later.questionnaire) == (questionnaire, newer)
    return older, later


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_administrators_see_each_rounds_version(client, two_versions):
    older, later = two_versions
    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))

    listed = client.get(reverse("manage:firms")).content.decode()
    assert "<th" in listed and "问卷版本" in listed
    for assessment in (older, later):
        row = re.search(rf"{re.escape(assessment.enterprise.name)}</a></td>(.*?)</tr>", listed, re.S).group(1)
        assert f">{assessment.questionnaire.version}</td>" in row
    page = client.get(reverse("manage:firm", args=[later.enterprise_id])).content.decode()
    assert re.search(rf"{re.escape(later.label)}</a></td>\s*<td>{NEWER}</td>", page)

    firms = csv_rows(client.get(reverse("manage:export", args=["firms", "csv"])))
    version = firms[0].index("问卷版本")
    assert {row[1]: row[version] for row in firms[1:]} == {
        older.enterprise.name: "2026.1",
        later.enterprise.name: NEWER,
    }
    answers = csv_rows(client.get(reverse("manage:export", args=["answers", "csv"])))
    version = answers[0].index("问卷版本")
    assert {row[1]: row[version] for row in answers[1:]} == {
        older.enterprise.name: "2026.1",
        later.enterprise.name: NEWER,
    }
    # The list can be sorted by version.
    ordered = client.get(reverse("manage:firms"), {"sort": "-version"}).context["page"].object_list
    assert [firm.round_version for firm in ordered] == [NEWER, "2026.1"]


def test_the_dashboard_names_the_versions_it_aggregates_and_filters_by_one(client, two_versions):
    older, later = two_versions
    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    page = client.get(reverse("manage:dashboard")).content.decode()
    note = re.search(r'<div class="alert alert-info small" id="versions-note">(.*?)</div>', page, re.S).group(1)
    assert "2026.1、test-2" in note and "跨版本比较" in note
    assert '<select name="version"' in page
    english = client.get(reverse("manage:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "questionnaire versions 2026.1, test-2" in english and "All versions" in english

    response = client.get(reverse("manage:dashboard"), {"version": NEWER})
    assert 'id="versions-note"' not in response.content.decode()
    board = response.context["board"]
    assert board.versions == [NEWER] and board.overview.submitted == 1
    firms = client.get(reverse("manage:firms"), {"version": "2026.1"}).context["page"].object_list
    assert [firm.pk for firm in firms] == [older.enterprise_id]

    # With one version only there is nothing to choose: no filter, no note.
    services.summaries_round_delete(assessment=later)  # a deletion bypasses the services
    later.delete()
    page = client.get(reverse("manage:dashboard")).content.decode()
    assert 'name="version"' not in page and 'id="versions-note"' not in page


def test_dimension_scores_compare_across_versions(client, two_versions):
    older, later = two_versions
    scope = scopes.AdminScope.city_wide()
    stats = analytics.dashboard(scope, analytics.Filters(), use_cache=False).dimension_stats
    assert [s.info.code for s in stats] == ["D1", "D2", "D3", "D4", "D5"]
    assert all(s.firms + s.insufficient == 2 for s in stats)  # both versions' rounds, by dimension code
    _dimensions, by_version = analytics.breakdown_page(scope, analytics.Filters(), "version")
    rows = {row.key: row for row in by_version.rows}
    assert set(rows) == {"2026.1", NEWER}
    for assessment in (older, later):
        scores = {r.dimension.code: float(r.score) for r in assessment.dimension_results.select_related("dimension")}
        row = rows[assessment.questionnaire.version]
        assert row.firms == 1
        assert row.dimension_means == pytest.approx([scores[s.info.code] for s in stats], abs=0.01)
    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    page = client.get(reverse("manage:breakdowns"), {"by": "version"}).content.decode()
    assert "按问卷版本" in page and ">test-2<" in page
    aggregates = csv_rows(client.get(reverse("manage:export", args=["aggregates", "csv"])))
    assert ["# 按问卷版本"] in aggregates
