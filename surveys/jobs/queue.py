"""The one way jobs reach the queue (services and work call it; tasks.py defines what runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from jinan_assess.celery import app


def filesystem_folders() -> None:
    """kombu's filesystem transport (the broker of `make run`) needs its folders to exist."""
    if settings.CELERY_BROKER_URL.startswith("filesystem:"):
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])).mkdir(parents=True, exist_ok=True)


def enqueue(name: str, *args: Any) -> None:
    """Send task ``name`` to the queue named by JINAN_JOB_QUEUE on the broker named by CELERY_BROKER_URL (both
    read now, so that tests can point them elsewhere). No retries: a broker that is down raises at once
    (kombu's OperationalError), and the caller says so. CELERY_TASK_ALWAYS_EAGER runs the task here."""
    enqueue_many(name, [args])


def enqueue_many(name: str, calls: list[tuple[Any, ...]]) -> None:
    """Several calls of one task over one broker connection (the chunks of a ZIP job)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for args in calls:
            app.tasks[name].run(*args)
        return
    filesystem_folders()
    with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=3) as connection:
        connection.ensure_connection(max_retries=1, timeout=3)
        for args in calls:
            app.send_task(name, args=args, queue=settings.JINAN_JOB_QUEUE, connection=connection, retry=False)
