"""Peer comparison and history in a round's read model (surveys/selectors/results.py), from stored results."""

import pytest

from surveys import selectors, services
from surveys.models import Assessment, DimensionResult, Enterprise

from .model_factories import EnterpriseFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def submitted_round(enterprise, user, value, label=""):
    assessment = services.assessment_start(enterprise=enterprise, user=user, label=label)
    definition = selectors.questionnaire_definition(questionnaire=assessment.questionnaire)
    services.answers_save(
        assessment=assessment,
        user=user,
        changes=[services.AnswerChange(code, value, "", 0) for code in definition.items],
    )
    return services.assessment_submit(assessment=assessment, user=user, pledge=True)


def peer_groups(assessment):
    return {g.key: g for g in selectors.assessment_report(assessment=assessment, language="zh-hans").peers}


def test_groups_under_ten_firms_are_hidden_and_ten_are_shown(questionnaire, settings):
    owner = MembershipFactory(enterprise=EnterpriseFactory(industry="C27", district="370102")).user
    mine = submitted_round(owner.membership.enterprise, owner, 2)
    for n in range(8):  # 9 firms in C27 with mine
        other = MembershipFactory(enterprise=EnterpriseFactory(industry="C27", district="370104")).user
        submitted_round(other.membership.enterprise, other, n % 5)
    groups = peer_groups(mine)
    assert groups["industry"].size == 9 and not groups["industry"].shown
    assert groups["industry"].mean_index is None and groups["industry"].dimension_means == [None] * 5
    assert groups["district"].size == 1 and not groups["district"].shown

    tenth = MembershipFactory(enterprise=EnterpriseFactory(industry="C27", district="370104")).user
    submitted_round(tenth.membership.enterprise, tenth, 4)
    groups = peer_groups(mine)
    industry = groups["industry"]
    assert industry.shown and industry.size == 10

    latest = Assessment.objects.filter(is_latest=True, enterprise__industry="C27")
    indexes = [float(a.index) for a in latest]
    assert industry.mean_index == pytest.approx(sum(indexes) / len(indexes))
    at_or_below = sum(1 for value in indexes if value <= float(mine.index))
    assert industry.percentile == pytest.approx(100 * at_or_below / 10, abs=0.05)
    d1 = [float(r.score) for r in DimensionResult.objects.filter(assessment__in=latest, dimension__code="D1")]
    assert industry.dimension_means[0] == pytest.approx(sum(d1) / len(d1))  # D1, the first dimension
    assert groups["city"].size == 10


def test_only_each_firms_latest_round_counts(questionnaire, settings):
    settings.JINAN_MIN_GROUP_SIZE = 1
    owner = MembershipFactory().user
    enterprise = owner.membership.enterprise
    first = submitted_round(enterprise, owner, 1, "2025 T0")
    second = submitted_round(enterprise, owner, 3, "2026 T0")
    assert list(Assessment.objects.filter(is_latest=True).values_list("id", flat=True)) == [second.id]
    report = selectors.assessment_report(assessment=second, language="zh-hans")
    city = report.peers[2]
    assert city.key == "city" and city.size == 1 and city.mean_index == pytest.approx(float(second.index))

    history = report.history
    assert [row.assessment_id for row in history] == [second.id, first.id]
    assert history[0].index_change == pytest.approx(float(second.index) - float(first.index), abs=0.01)
    assert [d.code for d in report.dimensions][0] == "D1"
    assert history[0].cells[0].change == pytest.approx(75.0 - 25.0, abs=0.01)
    assert history[0].cells[0].score == report.dimensions[0].score
    assert history[1].index_change is None
    assert Enterprise.objects.count() == 1
