"""Result revisions (surveys/services/revisions.py): a submission records revision 1; re-scoring a round after
a correction of its version's rules records revision 2 and keeps revision 1 as superseded, moves the round in
the summary tables, and the results page and the administrators' round page say so, in Chinese and English.
The re-scoring job over a whole version is tests/jobs/test_rescore.py."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django.utils.translation import override
from pypdf import PdfReader

from surveys import scoring, services
from surveys.models import Assessment, DimensionResult, Level, ResultRevision
from surveys.reports.formatting import superseded_note
from surveys.scopes import ROLE_CITY
from surveys.selectors.revisions import superseded_result
from tests.model_factories import MembershipFactory, UserFactory
from tests.reports.conftest import realistic_answers, submit_round

pytestmark = pytest.mark.django_db

NOTE_ZH = "按更新后的评分规则重新计算；此前的结果（指数"
NOTE_EN = "recalculated on"


def correct_rules(assessment: Assessment) -> str:
    """A correction of the round's version: the band of the round's provisional level now starts at 100, so
    the round falls to a lower level. The level corrected."""
    code = assessment.provisional_level
    level = Level.objects.get(questionnaire=assessment.questionnaire, code=code)
    lowest = Level.objects.filter(questionnaire=assessment.questionnaire).order_by("position")[0]
    assert level.position > lowest.position
    Level.objects.filter(pk=level.pk).update(min_index=100)
    services.questionnaire_touch(questionnaire_id=assessment.questionnaire_id)
    return code


@pytest.fixture
def submitted(questionnaire):
    membership = MembershipFactory(enterprise__district="370112")
    assessment = submit_round(
        enterprise=membership.enterprise,
        user=membership.user,
        answers=realistic_answers(questionnaire, seed=3),
        label="2026 T0",
    )
    assessment.refresh_from_db()
    assessment.member = membership.user
    return assessment


def city_admin():
    user = UserFactory()
    services.administrator_roles_ensure()
    services.administrator_grant(user=user, role=ROLE_CITY, districts=[])
    return type(user).objects.get(pk=user.pk)


def test_a_submission_records_revision_1(submitted):
    revision = ResultRevision.objects.get(assessment=submitted)
    assert revision.number == 1 == submitted.result_revision
    assert (revision.result, revision.index, revision.level) == (submitted.result, submitted.index, submitted.level)
    assert revision.provisional_level == submitted.provisional_level and revision.superseded_at is None
    assert revision.questionnaire_version == submitted.questionnaire.version
    assert revision.created_by_id == submitted.submitted_by_id and revision.created_at == submitted.submitted_at


def test_without_a_rule_change_a_rescore_adds_nothing(submitted):
    assert services.assessment_rescore(assessment=submitted) is None
    assert ResultRevision.objects.filter(assessment=submitted).count() == 1
    submitted.refresh_from_db()
    assert submitted.result_revision == 1


def test_a_rule_correction_gives_revision_2_and_keeps_revision_1_superseded(submitted):
    old_level, old_index = submitted.level, submitted.index
    corrected = correct_rules(submitted)
    user = UserFactory()
    revision = services.assessment_rescore(assessment=submitted, user=user)
    assert revision is not None and revision.number == 2 and revision.created_by == user
    submitted.refresh_from_db()
    first, second = ResultRevision.objects.filter(assessment=submitted).order_by("number")
    assert first.superseded_at == second.created_at and second.superseded_at is None
    assert (first.level, first.index) == (old_level, old_index)
    assert submitted.result_revision == 2 and submitted.provisional_level != corrected
    assert (submitted.level, submitted.result) == (second.level, second.result)
    assert submitted.result["provisional_level"] == submitted.provisional_level
    assert DimensionResult.objects.filter(assessment=submitted).count() == len(submitted.result["dimensions"])
    assert services.summaries_differences().ok
    # Again: the result is what the rules give now; nothing new.
    assert services.assessment_rescore(assessment=submitted) is None
    assert ResultRevision.objects.filter(assessment=submitted).count() == 2


def test_a_round_submitted_before_revisions_were_kept_gets_its_revision_1_on_rescoring(submitted):
    ResultRevision.objects.filter(assessment=submitted).delete()  # as rounds stored before migration 0008
    old_level = submitted.level
    correct_rules(submitted)
    services.assessment_rescore(assessment=submitted)
    first, second = ResultRevision.objects.filter(assessment=submitted).order_by("number")
    assert (first.number, first.level, first.created_at) == (1, old_level, submitted.submitted_at)
    assert first.rules_stamp is None and first.superseded_at is not None
    assert second.number == 2 and second.superseded_at is None


def test_a_round_the_rules_cannot_score_is_left_as_it_was(submitted):
    # An item without an answer (deleted behind the services' back): the final scoring refuses the round.
    submitted.answers.first().delete()
    before = (submitted.level, submitted.index, submitted.result)
    correct_rules(submitted)
    with pytest.raises(scoring.IncompleteAnswersError):
        services.assessment_rescore(assessment=submitted)
    assert ResultRevision.objects.filter(assessment=submitted).count() == 1
    submitted.refresh_from_db()
    assert submitted.result_revision == 1 and (submitted.level, submitted.index, submitted.result) == before


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_results_page_and_the_round_page_show_the_superseded_result(client, submitted, language):
    pages = (
        (submitted.member, reverse("surveys:results", args=[submitted.pk])),
        (city_admin(), reverse("manage:round", args=[submitted.enterprise_id, submitted.pk])),
    )
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}
    client.cookies["django_language"] = language
    for user, url in pages:
        client.force_login(user)
        assert "superseded-note" not in client.get(url, **headers).content.decode()
    old_level, old_index = submitted.level, submitted.index
    correct_rules(submitted)
    services.assessment_rescore(assessment=submitted)
    rescored = ResultRevision.objects.get(assessment=submitted, number=2).created_at
    for user, url in pages:
        client.force_login(user)
        html = client.get(url, **headers).content.decode()
        assert "superseded-note" in html, url
        note = html.split("superseded-note", 1)[1].split("</div>", 1)[0]
        assert (NOTE_ZH if language == "zh-hans" else NOTE_EN) in note
        assert rescored.strftime("%Y-%m-%d") in note and old_level in note and f"{old_index:.1f}" in note


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rounds_pdf_notes_the_superseded_result_on_its_first_page(client, submitted, language):
    """A printed report is what a firm hands on: after a re-scoring its first page says, as the pages do, that
    the earlier result no longer stands (the firm's PDF and the administrators' copy)."""
    pdfs = (
        (submitted.member, reverse("surveys:report", args=[submitted.pk])),
        (city_admin(), reverse("manage:round_report", args=[submitted.enterprise_id, submitted.pk])),
    )
    client.cookies["django_language"] = language
    note = NOTE_ZH if language == "zh-hans" else NOTE_EN
    for user, url in pdfs:
        client.force_login(user)
        assert squeeze(note) not in squeeze(pdf_pages(client.get(url).content)[0])
    old_level, old_index = submitted.level, submitted.index
    correct_rules(submitted)
    services.assessment_rescore(assessment=submitted)
    superseded = superseded_result(assessment=Assessment.objects.get(pk=submitted.pk))
    assert superseded is not None and (superseded.level_code, superseded.index) == (old_level, float(old_index))
    with override(language):
        whole_note = superseded_note(superseded)  # the date, the old index and the old level, as the page says
    for user, url in pdfs:
        client.force_login(user)
        first_page = squeeze(pdf_pages(client.get(url).content)[0])
        assert squeeze(note) in first_page and squeeze(whole_note) in first_page, url


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)
