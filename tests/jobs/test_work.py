"""The task bodies in eager mode (CELERY_TASK_ALWAYS_EAGER): the ZIP of firm reports, the answers export
(CSV and XLSX split across sheets), the register import, a failing firm, cancel, retry, purge, a broker that is
down. tests/jobs/test_worker.py runs the same work in a real worker process."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from surveys.audit.models import AuditEvent
from surveys.jobs import services, work
from surveys.jobs.models import Job
from surveys.models import Assessment, Enterprise
from surveys.reports import exports

from .conftest import DISTRICT

pytestmark = pytest.mark.django_db


def start(client, kind: str, query: str = "") -> Job:
    response = client.post(reverse("jobs:start", args=[kind]), {"query": query})
    assert response.status_code == 302, response
    return Job.objects.latest("pk")


def result_file(job: Job) -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / job.result_path


def test_a_district_zip_has_one_report_per_firm_of_the_district(client, eager, district_admin, demo_firms):
    client.force_login(district_admin)
    job = start(client, "reports_zip")
    job.refresh_from_db()
    assert job.state == Job.DONE, (job.error_code, job.failed_items)
    expected = set(
        Assessment.objects.filter(enterprise__district=DISTRICT, status="submitted")
        .values_list("enterprise__uscc", flat=True)
        .distinct()
    )
    with zipfile.ZipFile(result_file(job)) as archive:
        names = archive.namelist()
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
    assert {name.split("-")[0] for name in names} == expected
    assert len(names) == len(expected) == job.total == job.done
    # Nothing but the result is left in the job's folder (no chunk, no partial file).
    assert [p.name for p in result_file(job).parent.iterdir()] == [result_file(job).name]
    assert AuditEvent.objects.filter(action=AuditEvent.EXPORT, target__startswith=f"job:{job.pk}").exists()
    assert job.scope_districts == [DISTRICT] and not job.scope_all


def test_the_district_filter_narrows_a_city_job(client, eager, city_admin, demo_firms):
    client.force_login(city_admin)
    job = start(client, "reports_zip", f"district={DISTRICT}")
    job.refresh_from_db()
    assert job.scope_districts == [DISTRICT] and not job.scope_all
    districts = set(
        Enterprise.objects.filter(
            uscc__in=[n.split("-")[0] for n in zipfile.ZipFile(result_file(job)).namelist()]
        ).values_list("district", flat=True)
    )
    assert districts == {DISTRICT}


def test_a_failing_firm_is_reported_and_the_job_goes_on(client, eager, district_admin, demo_firms, monkeypatch):
    broken = Assessment.objects.filter(enterprise__district=DISTRICT, status="submitted").order_by("pk").first()
    real = work.render_assessment_pdf

    def render(report):
        if report.uscc == broken.enterprise.uscc:
            raise RuntimeError("font missing")
        return real(report)

    monkeypatch.setattr(work, "render_assessment_pdf", render)
    client.force_login(district_admin)
    job = start(client, "reports_zip")
    job.refresh_from_db()
    assert job.state == Job.DONE
    assert [item["uscc"] for item in job.failed_items] == [broken.enterprise.uscc]
    with zipfile.ZipFile(result_file(job)) as archive:
        names = archive.namelist()
        assert "生成失败的报告.csv" in names
        assert not any(name.startswith(broken.enterprise.uscc) for name in names)
        assert len([n for n in names if n.endswith(".pdf")]) == job.total - 1
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert broken.enterprise.uscc in page.content.decode()


def test_the_answers_export_is_csv_on_disk_with_formulas_neutralised(client, eager, city_admin, demo_firms):
    from surveys.models import Answer

    answer = Answer.objects.filter(assessment__status="submitted").first()
    Answer.objects.filter(assessment__enterprise=answer.assessment.enterprise).update(note="=HYPERLINK(1)")
    client.force_login(city_admin)
    job = start(client, "answers_csv")
    job.refresh_from_db()
    assert job.state == Job.DONE
    text = result_file(job).read_text(encoding="utf-8")
    assert text.startswith(exports.BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(exports.BOM))))
    assert len(rows) - 1 == job.total == job.done > 0
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


def test_the_xlsx_export_goes_on_over_further_sheets(client, eager, city_admin, demo_firms, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1000)
    real = exports.write_xlsx_split
    monkeypatch.setattr(exports, "write_xlsx_split", lambda tables, stream: real(tables, stream, max_rows=1000))
    client.force_login(city_admin)
    job = start(client, "answers_xlsx")
    job.refresh_from_db()
    assert job.state == Job.DONE
    workbook = load_workbook(result_file(job), read_only=True)
    sheets = workbook.worksheets
    assert len(sheets) == -(-job.total // 1000) > 1
    assert sum(sum(1 for _row in sheet.iter_rows(values_only=True)) - 1 for sheet in sheets) == job.total
    assert all(next(sheet.iter_rows(max_row=1, values_only=True))[0] == "统一社会信用代码" for sheet in sheets)


def test_a_register_import_job(client, eager, city_admin):
    client.force_login(city_admin)
    with open("tests/data/register-bad.csv", "rb") as upload:
        response = client.post(reverse("jobs:register"), {"file": upload})
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.state == Job.DONE, job.error_code
    assert job.summary["invalid"] > 0 and job.result_path
    assert AuditEvent.objects.filter(action=AuditEvent.IMPORT, target="register", detail__job=job.pk).exists()
    # the upload is removed with the job's other working files
    assert [p.name for p in result_file(job).parent.iterdir()] == [result_file(job).name]


def test_district_administrators_cannot_start_a_register_import(client, eager, district_admin):
    client.force_login(district_admin)
    with open("tests/data/register-sample.csv", "rb") as upload:
        assert client.post(reverse("jobs:register"), {"file": upload}).status_code == 403
    assert not Job.objects.exists()


def test_a_broker_that_is_down_fails_the_job_with_a_message_and_other_pages_work(
    client, settings, district_admin, demo_firms
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client.force_login(district_admin)
    response = client.post(reverse("jobs:start", args=["reports_zip"]), {"query": ""}, follow=True)
    job = Job.objects.get()
    assert job.state == Job.FAILED and job.error_code == "broker_down"
    assert "任务队列暂时无法连接" in response.content.decode()  # the message next to the job buttons
    assert client.get(reverse("manage:dashboard")).status_code == 200
    assert client.get(reverse("manage:export", args=["firms", "csv"])).status_code == 200
    detail = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "任务队列暂时无法连接" in detail


def test_the_worker_checks_the_starters_scope_again(client, settings, district_admin, demo_firms):
    settings.CELERY_BROKER_URL = "memory://"  # queued only: the rights change before a worker runs it
    client.force_login(district_admin)
    job = start(client, "reports_zip")
    assert job.state == Job.QUEUED
    # The administrator loses the district meanwhile: the worker refuses the job.
    from surveys import services as core_services
    from surveys.scopes import ROLE_DISTRICT

    core_services.administrator_grant(user=district_admin, role=ROLE_DISTRICT, districts=["370102"])
    work.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.FAILED and job.error_code == "scope_revoked"
    assert not job.result_path


def test_a_redelivered_task_of_a_running_job_does_nothing(db, district_admin):
    job = Job.objects.create(user=district_admin, username="x", kind=Job.KIND_REPORTS_ZIP, scope_districts=[DISTRICT])
    attempt = services.job_claim(job_id=job.pk)
    assert attempt == 1
    assert services.job_claim(job_id=job.pk) is None  # its worker still reports
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.job_claim(job_id=job.pk) == 2  # the worker died: a new attempt, from scratch
    assert not services.job_progress(job_id=job.pk, attempt=1)  # the old attempt's work is ignored
    assert services.job_progress(job_id=job.pk, attempt=2)


def test_cancel_stops_the_job_and_removes_its_files(client, settings, district_admin, demo_firms):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    client.force_login(district_admin)
    job = start(client, "reports_zip")
    assert job.state == Job.QUEUED
    assert client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.state == Job.CANCELLED
    work.run(job.pk)  # the message reaches a worker after all: nothing happens
    job.refresh_from_db()
    assert job.state == Job.CANCELLED and not job.result_path


def test_purge_deletes_expired_results(client, eager, district_admin, demo_firms):
    client.force_login(district_admin)
    job = start(client, "reports_zip")
    job.refresh_from_db()
    path = result_file(job)
    assert path.exists()
    call_command("purge_jobs", stdout=io.StringIO())
    assert path.exists()  # not yet expired
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    out = io.StringIO()
    call_command("purge_jobs", stdout=out)
    assert "1 expired" in out.getvalue()
    assert not path.exists()
    job.refresh_from_db()
    assert job.result_path == ""
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
