"""Who sees which job: the job page, its JSON progress and its download are 404 for an administrator whose
scope does not cover the job (like a missing job), 403 for firm users, the login page for anonymous users;
starting jobs is POST only, with CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from surveys.jobs.models import Job

from .conftest import DISTRICT

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_job(client, eager, district_admin, demo_firms):
    client.force_login(district_admin)
    client.post(reverse("jobs:start", args=["reports_zip"]), {"query": ""})
    job = Job.objects.get()
    assert job.state == Job.DONE
    client.logout()
    return job


def job_urls(job):
    return [reverse(name, args=[job.pk]) for name in ("jobs:detail", "jobs:progress", "jobs:download")]


def test_the_starter_and_the_city_see_the_job_page_progress_and_file(client, done_job, district_admin, city_admin):
    for user in (district_admin, city_admin):
        client.force_login(user)
        detail, progress, download = (client.get(url) for url in job_urls(done_job))
        assert detail.status_code == 200 and "job-bar" in detail.content.decode()
        assert progress.json()["state"] == "done" and progress.json()["percent"] == 100
        assert download.status_code == 200 and download["Content-Type"] == "application/zip"
        assert b"".join(download.streaming_content)[:2] == b"PK"
        assert client.get(reverse("jobs:list")).content.decode().count(f"#{done_job.pk} ") == 1


def test_another_districts_administrator_gets_404(client, done_job, other_district_admin):
    client.force_login(other_district_admin)
    for url in job_urls(done_job):
        assert client.get(url).status_code == 404, url
    for name in ("jobs:cancel", "jobs:retry"):
        assert client.post(reverse(name, args=[done_job.pk])).status_code == 404
    assert f"#{done_job.pk} " not in client.get(reverse("jobs:list")).content.decode()


def test_firm_users_get_403_and_anonymous_users_the_login_page(client, done_job, firm_user):
    for url in job_urls(done_job):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(firm_user)
    for url in [*job_urls(done_job), reverse("jobs:list")]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("jobs:start", args=["reports_zip"])).status_code == 403


def test_jobs_start_by_post_only_and_with_csrf(district_admin, eager, demo_firms):
    client = Client(enforce_csrf_checks=True)
    client.force_login(district_admin)
    url = reverse("jobs:start", args=["reports_zip"])
    assert client.get(url).status_code == 405
    assert client.post(url, {"query": ""}).status_code == 403
    assert not Job.objects.exists()
    page = client.get(reverse("manage:dashboard"))
    assert url in page.content.decode()  # the button is on the dashboard's export area


def test_the_progress_json_follows_the_job(client, district_admin, questionnaire):
    job = Job.objects.create(
        user=district_admin, username="d", kind=Job.KIND_REPORTS_ZIP, scope_districts=[DISTRICT], total=10, done=4
    )
    client.force_login(district_admin)
    data = client.get(reverse("jobs:progress", args=[job.pk])).json()
    assert data["percent"] == 0 or data["state"] == "queued"
    Job.objects.filter(pk=job.pk).update(state=Job.FAILED, error_code="broker_down")
    client.cookies["django_language"] = "en"
    data = client.get(reverse("jobs:progress", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["ended"] and data["error"] and "任务" not in data["error"]


def test_the_progress_of_a_big_job_reads_grouped_by_threes_on_the_page_and_in_the_json(
    client, district_admin, questionnaire
):
    job = Job.objects.create(
        user=district_admin, username="d", kind=Job.KIND_REPORTS_ZIP, scope_districts=[DISTRICT], total=12000, done=3500
    )
    client.force_login(district_admin)
    assert client.get(reverse("jobs:progress", args=[job.pk])).json()["count_label"] == "3,500 / 12,000"
    for page in (reverse("jobs:detail", args=[job.pk]), reverse("jobs:list")):
        assert "3,500 / 12,000" in client.get(page).content.decode(), page


def test_behind_nginx_the_file_is_sent_by_x_accel_redirect(client, settings, done_job, district_admin):
    settings.JINAN_X_ACCEL_MEDIA = "/_protected/media/"
    client.force_login(district_admin)
    response = client.get(reverse("jobs:download", args=[done_job.pk]))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/_protected/media/{done_job.result_path}"
    assert response["Content-Type"] == "application/zip" and "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
