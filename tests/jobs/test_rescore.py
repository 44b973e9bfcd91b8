"""The re-scoring job (kind "rescore", surveys/jobs/work.py ``_rescore``) in eager mode: after a correction of a
version's rules, every submitted round of the version is scored again; rounds whose result changes get a new
revision (the old one kept, superseded), the others none; the summaries stay exact and the dashboard's level
counts follow; a second run, or a redelivered message, adds nothing; a failing round is listed and the job
goes on; city administrators only."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys import services
from surveys.analytics import summaries as readers
from surveys.audit.models import AuditEvent
from surveys.jobs import work
from surveys.jobs.models import Job
from surveys.models import Assessment, Level, ResultRevision
from surveys.scopes import AdminScope
from surveys.selectors.administrators import Filters

pytestmark = pytest.mark.django_db


def correct_rules(questionnaire) -> str:
    """The band of the highest level any round of the version has now starts at 100 (a corrected threshold):
    the rounds whose index put them there fall a level (rounds capped there by a gate from a higher band keep
    it). The level corrected."""
    reached = set(
        Assessment.objects.filter(questionnaire=questionnaire, status="submitted").values_list("level", flat=True)
    )
    levels = list(Level.objects.filter(questionnaire=questionnaire).order_by("position"))
    top = [lv for lv in levels if lv.code in reached][-1]
    assert top != levels[0]
    Level.objects.filter(pk=top.pk).update(min_index=100)
    services.questionnaire_touch(questionnaire_id=questionnaire.pk)
    return top.code


def start(client, questionnaire):
    return client.post(reverse("jobs:rescore"), {"questionnaire": questionnaire.pk})


def latest_levels() -> dict[str, int]:
    """The dashboard's level counts (every district, no filter), from the summary tables."""
    return {code: n for code, n in readers.selected(AdminScope.city_wide(), Filters()).levels.items() if n}


def test_a_rule_correction_rescored_by_a_city_job(client, eager, city_admin, demo_firms, questionnaire):
    submitted = Assessment.objects.filter(questionnaire=questionnaire, status="submitted")
    before = {a.pk: a for a in submitted}
    levels_before = latest_levels()
    assert levels_before == dict(Counter(a.level for a in before.values() if a.is_latest))
    corrected = correct_rules(questionnaire)
    moved = {pk for pk, a in before.items() if a.provisional_level == corrected}
    assert moved and len(moved) < len(before)

    client.force_login(city_admin)
    response = start(client, questionnaire)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.kind == Job.KIND_RESCORE and job.state == Job.DONE, (job.error_code, job.failed_items)
    assert job.total == job.done == len(before) and job.scope_all
    assert job.summary["changed"] == len(moved) and job.summary["unchanged"] == len(before) - len(moved)

    revisions = ResultRevision.objects.all()
    # Rounds seeded before revisions were kept: the changed ones get revision 1 (superseded) and 2, the others none.
    assert {r.assessment_id for r in revisions} == moved
    for pk in moved:
        first, second = revisions.filter(assessment_id=pk).order_by("number")
        old, now = before[pk], Assessment.objects.get(pk=pk)
        assert (first.number, first.level, first.index, first.result) == (1, old.level, old.index, old.result)
        assert first.superseded_at is not None and second.superseded_at is None
        assert (second.number, second.job_id, second.level) == (2, job.pk, now.level)
        assert now.result_revision == 2 and now.provisional_level != corrected
    assert all(Assessment.objects.get(pk=pk).result_revision == 1 for pk in set(before) - moved)

    assert services.summaries_differences().ok
    after = Assessment.objects.filter(is_latest=True)
    assert latest_levels() == dict(Counter(a.level for a in after)) != levels_before
    fallen = [pk for pk in moved if before[pk].is_latest and before[pk].level == corrected]
    assert fallen and latest_levels().get(corrected, 0) == levels_before[corrected] - len(fallen)
    events = AuditEvent.objects.filter(action=AuditEvent.CORRECT, target=f"job:{job.pk}:rescore")
    assert events.count() == 2  # started, and what it changed
    assert events.filter(detail__changed=len(moved)).exists()
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "重新计算结果" in page and f"{len(moved)} 轮结果改变" in page

    # A second run finds every result as the rules give it: nothing new.
    start(client, questionnaire)
    second = Job.objects.latest("pk")
    assert second.state == Job.DONE and second.summary["changed"] == 0
    assert ResultRevision.objects.count() == 2 * len(moved)


def test_a_redelivered_message_adds_no_second_revision(client, eager, city_admin, demo_firms, questionnaire):
    correct_rules(questionnaire)
    client.force_login(city_admin)
    start(client, questionnaire)
    job = Job.objects.get()
    count = ResultRevision.objects.count()
    assert count and job.state == Job.DONE
    # The worker died after its work but before the acknowledgement: the broker delivers the message again.
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    work.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.DONE and job.attempt == 2 and job.summary["changed"] == 0
    assert ResultRevision.objects.count() == count
    assert services.summaries_differences().ok


def test_a_failing_round_is_reported_and_the_job_goes_on(
    client, eager, city_admin, demo_firms, questionnaire, monkeypatch
):
    corrected = correct_rules(questionnaire)
    broken = Assessment.objects.filter(questionnaire=questionnaire, provisional_level=corrected).order_by("pk")[0]
    real = services.assessment_rescore

    def rescore(*, assessment, **kwargs):
        if assessment.pk == broken.pk:
            raise RuntimeError("bad rule")
        return real(assessment=assessment, **kwargs)

    monkeypatch.setattr(services, "assessment_rescore", rescore)
    client.force_login(city_admin)
    start(client, questionnaire)
    job = Job.objects.get()
    assert job.state == Job.DONE and job.summary["failed"] == 1
    assert [item["uscc"] for item in job.failed_items] == [broken.enterprise.uscc]
    assert not ResultRevision.objects.filter(assessment=broken).exists()
    assert ResultRevision.objects.exclude(assessment=broken).exists()
    assert services.summaries_differences().ok
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert broken.enterprise.uscc in page and "未能重新计算" in page


def test_only_city_administrators_start_it(client, eager, city_admin, district_admin, demo_firms, questionnaire):
    client.force_login(district_admin)
    assert start(client, questionnaire).status_code == 403
    assert reverse("jobs:rescore") not in client.get(reverse("jobs:list")).content.decode()
    assert not Job.objects.exists()
    client.force_login(city_admin)
    page = client.get(reverse("jobs:list")).content.decode()
    assert reverse("jobs:rescore") in page and f'value="{questionnaire.pk}"' in page
    assert client.get(reverse("jobs:rescore")).status_code == 405
    # A version without submitted rounds is not offered, and not accepted.
    other = type(questionnaire).objects.create(version="2099.9", title_zh="x", title_en="x")
    assert f'value="{other.pk}"' not in page
    assert start(client, other).status_code == 302 and not Job.objects.exists()


def test_a_job_whose_starter_lost_the_city_scope_stops(client, settings, city_admin, demo_firms, questionnaire):
    settings.CELERY_BROKER_URL = "memory://"  # queued only: the rights change before a worker runs it
    client.force_login(city_admin)
    start(client, questionnaire)
    job = Job.objects.get()
    assert job.state == Job.QUEUED
    from surveys.scopes import ROLE_DISTRICT

    services.administrator_grant(user=city_admin, role=ROLE_DISTRICT, districts=["370102"])
    work.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.FAILED and job.error_code == "scope_revoked"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rescores_the_version(client, city_admin, demo_firms, questionnaire, celery_worker):
    from .conftest import wait_for

    correct_rules(questionnaire)
    client.force_login(city_admin)
    start(client, questionnaire)
    job = Job.objects.get()
    wait_for(lambda: Job.objects.get(pk=job.pk).state in Job.ENDED, timeout=180, message=celery_worker.log.read_text())
    job.refresh_from_db()
    assert job.state == Job.DONE, (job.error_code, celery_worker.log.read_text()[-3000:])
    assert job.summary["changed"] > 0 and ResultRevision.objects.filter(number=2).count() == job.summary["changed"]
    assert services.summaries_differences().ok
