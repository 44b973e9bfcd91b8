"""The Celery tasks of the jobs (thin: the work is in work.py; queue.py sends them).

Every task is acknowledged late (CELERY_TASK_ACKS_LATE, and here again explicitly): a worker killed in the
middle leaves its message unacknowledged, and the broker hands it out again. Tasks are idempotent: they
act only for the job's current attempt (services.job_claim), and never present a half-written file.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_init

from . import work
from .queue import filesystem_folders


@shared_task(name="jobs.run", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def job_run(job_id: int) -> None:
    work.run(job_id)


@shared_task(name="jobs.zip_chunk", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def job_zip_chunk(job_id: int, attempt: int, index: int) -> None:
    work.zip_chunk(job_id, attempt, index)


@worker_init.connect
def _worker_init(**_kwargs: Any) -> None:
    filesystem_folders()
