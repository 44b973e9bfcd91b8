"""Every change of a Job row. The web process creates, cancels and retries jobs; the worker claims them and
reports progress, failed items, the result and errors. Updates from a worker name the attempt they belong
to: a message redelivered after its worker died, or work of a cancelled job, changes nothing.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ..audit.models import AuditEvent
from ..audit.services import audit_event_record
from ..scopes import AdminScope
from .models import Job
from .queue import enqueue

logger = logging.getLogger("jinan.jobs")

JOBS_DIR = "jobs"  # under MEDIA_ROOT: one folder per job


class JobBrokerDown(Exception):
    """The task queue cannot be reached: the job is recorded as failed with error "broker_down"."""


def job_dir(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / JOBS_DIR / str(job_id)


def _audit_action(kind: str) -> str:
    if kind == Job.KIND_RESCORE:  # a correction of stored results
        return AuditEvent.CORRECT
    return AuditEvent.IMPORT if kind == Job.KIND_REGISTER else AuditEvent.EXPORT


@transaction.atomic
def job_create(*, request: Any, user: Any, scope: AdminScope, kind: str, parameters: dict[str, Any]) -> Job:
    """A queued job within ``scope`` (the starter's, already narrowed to the district filter), audit-logged."""
    job = Job.objects.create(
        user=user,
        username=user.get_username(),
        kind=kind,
        parameters=parameters,
        scope_all=scope.all_districts,
        scope_districts=sorted(scope.districts),
    )
    audit_event_record(
        request=request,
        user=user,
        action=_audit_action(kind),
        target=f"job:{job.pk}:{kind}",
        detail={"job": job.pk, "parameters": parameters, "scope": scope.label},
    )
    return job


def job_start(*, request: Any, user: Any, scope: AdminScope, kind: str, parameters: dict[str, Any]) -> Job:
    """Create the job and put it in the queue. A broker that cannot be reached leaves the job failed with
    "broker_down" and raises JobBrokerDown (the page says so; nothing else depends on the broker)."""
    job = job_create(request=request, user=user, scope=scope, kind=kind, parameters=parameters)
    job_enqueue(job=job)
    return job


def job_enqueue(*, job: Job) -> None:
    try:
        enqueue("jobs.run", job.pk)
    except Exception as exc:
        logger.warning("job %s: the task queue is unreachable (%s)", job.pk, type(exc).__name__)
        job_fail(job_id=job.pk, attempt=None, code="broker_down")
        raise JobBrokerDown from exc


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.JINAN_JOB_STALE_SECONDS)


@transaction.atomic
def job_claim(*, job_id: int) -> int | None:
    """A worker takes the job: a new attempt, from scratch (progress and failed items reset). None when
    the job has ended, or is running under a worker that still reports (a redelivered duplicate)."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.state in Job.ENDED:
        return None
    if job.state == Job.RUNNING and job.heartbeat_at is not None and job.heartbeat_at > _stale_before():
        return None
    now = timezone.now()
    job.attempt += 1
    job.state = Job.RUNNING
    job.done = job.total = job.chunks_done = job.chunks_total = 0
    job.failed_items, job.chunks_finished, job.summary = [], [], {}
    job.started_at = job.heartbeat_at = now
    job.save()
    return job.attempt


def _current(job_id: int, attempt: int) -> QuerySet[Job]:  # the row, if this attempt still runs it
    return Job.objects.filter(pk=job_id, attempt=attempt, state=Job.RUNNING)


def job_plan(*, job_id: int, attempt: int, total: int, chunks: int = 0) -> bool:
    """The number of items (and chunks) of the attempt; False when the attempt no longer runs."""
    return bool(
        _current(job_id, attempt).update(total=total, chunks_total=chunks, chunks_done=0, heartbeat_at=timezone.now())
    )


def job_progress(*, job_id: int, attempt: int, done: int = 1) -> bool:
    """``done`` more items; False when the attempt no longer runs (cancelled, superseded): stop working."""
    return bool(_current(job_id, attempt).update(done=F("done") + done, heartbeat_at=timezone.now()))


def job_alive(*, job_id: int, attempt: int) -> bool:
    return bool(_current(job_id, attempt).update(heartbeat_at=timezone.now()))


@transaction.atomic
def job_item_fail(*, job_id: int, attempt: int, item: dict[str, Any]) -> None:
    """One item (firm) failed; the job goes on and lists it."""
    job = _current(job_id, attempt).select_for_update().first()
    if job is not None:
        job.failed_items = [*job.failed_items, item]
        job.save(update_fields=["failed_items"])


@transaction.atomic
def job_chunk_done(*, job_id: int, attempt: int, index: int) -> bool:
    """Chunk ``index`` of the attempt is complete; True for exactly one caller: the one that completed the
    last. A chunk counts once, however often its message was delivered."""
    job = _current(job_id, attempt).select_for_update().first()
    if job is None or index in job.chunks_finished:
        return False
    job.chunks_finished = [*job.chunks_finished, index]
    job.chunks_done = len(job.chunks_finished)
    job.save(update_fields=["chunks_done", "chunks_finished"])
    return bool(job.chunks_done == job.chunks_total)


@transaction.atomic
def job_finish(
    *,
    job_id: int,
    attempt: int,
    result_path: str,
    result_name: str,
    result_size: int,
    summary: dict[str, Any] | None = None,
) -> bool:
    """The result file is complete (already at its final name): the job is done."""
    job = _current(job_id, attempt).select_for_update().first()
    if job is None:
        return False
    now = timezone.now()
    job.state = Job.DONE
    job.result_path, job.result_name, job.result_size = result_path, result_name, result_size
    job.summary = summary or {}
    if job.total and job.done != job.total:  # items redone after a redelivery were counted twice
        job.done = job.total
    job.finished_at = job.heartbeat_at = now
    job.expires_at = now + timedelta(hours=settings.JINAN_JOB_RESULT_HOURS)
    job.save()
    return True


@transaction.atomic
def job_fail(*, job_id: int, attempt: int | None, code: str, params: dict[str, Any] | None = None) -> bool:
    """The job failed with an error code (shown in the reader's language); ``attempt`` None: whatever runs."""
    rows = Job.objects.select_for_update().filter(pk=job_id).exclude(state__in=Job.ENDED)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    job = rows.first()
    if job is None:
        return False
    job.state = Job.FAILED
    job.error_code, job.error_params = code, params or {}
    job.finished_at = timezone.now()
    job.save()
    return True


def job_discard_files(*, job_id: int, keep: str = "") -> None:
    """Remove the job's folder (temporary and result files), or all of it but ``keep`` (a file name)."""
    folder = job_dir(job_id)
    if not folder.exists():
        return
    for entry in folder.iterdir():
        if entry.name == keep:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)


@transaction.atomic
def job_cancel(*, request: Any, job: Job) -> bool:
    """Stop a queued or running job (its worker notices at the next item); its files are removed."""
    updated = (
        Job.objects.filter(pk=job.pk)
        .exclude(state__in=Job.ENDED)
        .update(state=Job.CANCELLED, finished_at=timezone.now())
    )
    if updated:
        audit_event_record(
            request=request,
            action=_audit_action(job.kind),
            target=f"job:{job.pk}:{job.kind}",
            detail={"job": job.pk, "cancelled": True},
        )
        transaction.on_commit(lambda: job_discard_files(job_id=job.pk))
    return bool(updated)


def job_retry(*, request: Any, job: Job) -> bool:
    """Queue a failed job, or one whose worker stopped reporting, again; it restarts from scratch."""
    with transaction.atomic():
        row = Job.objects.select_for_update().get(pk=job.pk)
        interrupted = row.state == Job.RUNNING and (row.heartbeat_at is None or row.heartbeat_at <= _stale_before())
        if not (row.state == Job.FAILED or interrupted):
            return False
        row.state = Job.QUEUED
        row.error_code, row.error_params = "", {}
        row.heartbeat_at = None
        row.finished_at = None
        row.save()
        audit_event_record(
            request=request,
            action=_audit_action(job.kind),
            target=f"job:{job.pk}:{job.kind}",
            detail={"job": job.pk, "retry": True},
        )
    job_enqueue(job=row)
    return True


def job_purge(*, now: datetime | None = None) -> int:
    """Delete the result files of jobs past their expiry (and the folders of ended jobs without one)."""
    now = now or timezone.now()
    count = 0
    for job in Job.objects.filter(expires_at__lte=now).exclude(result_path=""):
        job_discard_files(job_id=job.pk)
        Job.objects.filter(pk=job.pk).update(result_path="", result_size=0)
        count += 1
    # A failed job keeps its files as long as a result would be kept: a retry of an import needs its upload.
    ended_before = now - timedelta(hours=settings.JINAN_JOB_RESULT_HOURS)
    for job in Job.objects.filter(state__in=(Job.FAILED, Job.CANCELLED), finished_at__lte=ended_before):
        job_discard_files(job_id=job.pk)
    return count


def job_start_register(*, request: Any, user: Any, scope: AdminScope, upload: Any, language: str) -> Job:
    """A register import job: the upload is written under the job's folder (chunk by chunk), then queued."""
    from ..text import clean_user_text

    extension = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    parameters = {"upload": f"upload{extension}", "file": clean_user_text(upload.name)[:100], "language": language}
    job = job_create(request=request, user=user, scope=scope, kind=Job.KIND_REGISTER, parameters=parameters)
    folder = job_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / parameters["upload"], "wb") as stream:
        for piece in upload.chunks():
            stream.write(piece)
    job_enqueue(job=job)
    return job
