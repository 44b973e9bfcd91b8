"""A real ``celery worker`` process against Redis (tests/jobs/conftest.py ``celery_worker``): a ZIP job runs
to completion in it, and a worker killed with SIGKILL in the middle of a ZIP job leaves no completed file with
missing reports; the job shows as interrupted, and a retry with a fresh worker completes it.
Needs PostgreSQL (the worker shares the test database) and Redis, as in CI."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from surveys.jobs import services
from surveys.jobs.models import Job
from surveys.models import Assessment

from .conftest import DISTRICT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def district_usccs() -> set[str]:
    return set(
        Assessment.objects.filter(enterprise__district=DISTRICT, status="submitted")
        .values_list("enterprise__uscc", flat=True)
        .distinct()
    )


def zip_usccs(job: Job) -> list[str]:
    with zipfile.ZipFile(Path(settings.MEDIA_ROOT) / job.result_path) as archive:
        assert archive.testzip() is None
        return [name.split("-")[0] for name in archive.namelist() if name.endswith(".pdf")]


def job_state(pk: int) -> Job:
    return Job.objects.get(pk=pk)


def test_a_real_worker_makes_the_zip(client, district_admin, demo_firms, celery_worker):
    client.force_login(district_admin)
    response = client.post(reverse("jobs:start", args=["reports_zip"]), {"query": ""})
    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    wait_for(lambda: job_state(job.pk).state in Job.ENDED, timeout=180, message=celery_worker.log.read_text())
    job.refresh_from_db()
    assert job.state == Job.DONE, (job.error_code, celery_worker.log.read_text()[-3000:])
    usccs = zip_usccs(job)
    assert sorted(usccs) == sorted(district_usccs())
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download.status_code == 200
    download.close()


@pytest.fixture
def quickly_stale(settings):
    """A worker silent for 3 s counts as dead (the page offers the retry), in this process and the worker;
    chunks of 2 firms, so that the job is killed between chunks and within one."""
    settings.JINAN_JOB_STALE_SECONDS = 3
    settings.JINAN_JOB_ZIP_CHUNK = 2


def test_a_worker_killed_mid_zip_leaves_no_complete_file_and_a_retry_completes(
    client, district_admin, many_firms, quickly_stale, celery_worker
):
    client.force_login(district_admin)
    client.post(reverse("jobs:start", args=["reports_zip"]), {"query": ""})
    job = Job.objects.get()
    # Kill the worker once some reports are written, but before the last chunk.
    wait_for(lambda: job_state(job.pk).done >= 3, timeout=120, interval=0.02, message=celery_worker.log.read_text())
    celery_worker.kill()
    killed = job_state(job.pk)
    assert killed.state == Job.RUNNING and 0 < killed.done < killed.total
    folder = services.job_dir(job.pk)
    # Only temporary files: nothing with a final name, no result path, nothing to download.
    assert not any(p.suffix == ".zip" and p.parent == folder for p in folder.iterdir())
    assert killed.result_path == ""
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
    # Once the worker has been silent for JINAN_JOB_STALE_SECONDS the job is shown as interrupted.
    progress = wait_for(
        lambda: (data := client.get(reverse("jobs:progress", args=[job.pk])).json())["interrupted"] and data,
        timeout=30,
    )
    assert progress["ended"] and progress["error"] and not progress["downloadable"]
    assert "重试" in client.get(reverse("jobs:detail", args=[job.pk])).content.decode()

    # A retry with a fresh worker starts from scratch and completes; the old attempt's files are gone.
    celery_worker.start()
    assert client.post(reverse("jobs:retry", args=[job.pk])).status_code == 302
    wait_for(lambda: job_state(job.pk).state in Job.ENDED, timeout=180, message=celery_worker.log.read_text())
    job.refresh_from_db()
    assert job.state == Job.DONE and job.attempt == 2, (job.error_code, celery_worker.log.read_text()[-3000:])
    usccs = zip_usccs(job)
    assert len(usccs) == len(set(usccs)) == job.total
    assert set(usccs) == district_usccs()
    assert [p.name for p in folder.iterdir()] == [Path(job.result_path).name]
