"""Which jobs an administrator may see, and a job as the page and its JSON endpoint show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..choices import DISTRICTS
from ..models import Assessment, Questionnaire
from ..scopes import AdminScope
from ..text import format_count, join_list
from .models import Job

JOBS_LISTED = 200

# error code -> message; parameters fill the %(name)s placeholders, in the reader's language.
ERRORS = {
    "broker_down": gettext_lazy("任务队列暂时无法连接，任务没有开始。请稍后再试，或联系系统管理员。"),
    "worker_lost": gettext_lazy("处理任务的进程中断了，任务没有完成，也没有留下不完整的文件。可以重试。"),
    "scope_revoked": gettext_lazy("发起人已无权访问这些企业的数据，任务已停止。"),
    "register_file": gettext_lazy("文件无法读取：%(reason)s"),
    "upload_missing": gettext_lazy("上传的文件已不在服务器上，请重新上传。"),
    "internal": gettext_lazy("任务出错，已记录下来。请稍后重试。"),
}
ITEM_ERRORS = {"pdf": gettext_lazy("报告生成失败"), "rescore": gettext_lazy("重新计算失败")}


def job_covers(scope: AdminScope, job: Job) -> bool:
    """The administrator may see the job and its file: their scope covers every firm the job could read."""
    if scope.all_districts:
        return True
    return not job.scope_all and set(job.scope_districts) <= set(scope.districts)


def jobs_for_administrator(*, scope: AdminScope) -> list[Job]:
    """The latest jobs the scope covers, newest first (the list is short: results expire and are purged)."""
    rows = Job.objects.all()
    if not scope.all_districts:
        rows = rows.filter(scope_all=False)
    return [job for job in rows[: JOBS_LISTED * 4] if job_covers(scope, job)][:JOBS_LISTED]


def job_for_administrator(*, scope: AdminScope, job_id: int) -> Job:
    """The job, if the scope covers it; Job.DoesNotExist otherwise (a job out of scope is like a missing one)."""
    job = Job.objects.get(pk=job_id)
    if not job_covers(scope, job):
        raise Job.DoesNotExist
    return job


def job_interrupted(job: Job) -> bool:
    """Running, but its worker has not reported for JINAN_JOB_STALE_SECONDS: it died (or the machine did)."""
    if job.state != Job.RUNNING:
        return False
    stale = timezone.now() - timedelta(seconds=settings.JINAN_JOB_STALE_SECONDS)
    return job.heartbeat_at is None or job.heartbeat_at <= stale


def job_error_text(job: Job) -> str:
    if job_interrupted(job):
        return str(ERRORS["worker_lost"])
    if not job.error_code:
        return ""
    template = str(ERRORS.get(job.error_code, ERRORS["internal"]))
    try:
        return template % job.error_params if job.error_params else template
    except (KeyError, TypeError, ValueError):
        return template


def job_scope_label(job: Job) -> str:
    if job.scope_all:
        return str(_("济南全市"))
    return join_list(str(label) for code, label in DISTRICTS if code in job.scope_districts)


@dataclass(frozen=True)
class JobStatus:
    state: str
    state_label: str
    done: int
    total: int
    percent: int
    error: str
    ended: bool
    interrupted: bool
    downloadable: bool
    failed_items: int
    progress_at: str  # when the worker last reported (ISO 8601): the bench measures the delay to the browser
    count_label: str  # "1,200 / 10,000": the page shows it, and the page's script puts it in from the JSON

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "state_label": self.state_label,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "error": self.error,
            "ended": self.ended,
            "interrupted": self.interrupted,
            "downloadable": self.downloadable,
            "failed_items": self.failed_items,
            "progress_at": self.progress_at,
            "count_label": self.count_label,
        }


def job_status(job: Job) -> JobStatus:
    interrupted = job_interrupted(job)
    if job.state == Job.DONE:
        percent = 100
    elif job.total:
        percent = min(99, job.done * 100 // job.total)
    else:
        percent = 0
    return JobStatus(
        state="interrupted" if interrupted else job.state,
        state_label=str(_("已中断")) if interrupted else str(job.get_state_display()),
        done=job.done,
        total=job.total,
        percent=percent,
        error=job_error_text(job),
        ended=job.state in Job.ENDED or interrupted,
        interrupted=interrupted,
        downloadable=job.state == Job.DONE and bool(job.result_path),
        failed_items=len(job.failed_items),
        progress_at=job.heartbeat_at.isoformat() if job.heartbeat_at else "",
        count_label=f"{format_count(min(job.done, job.total or job.done))} / {format_count(job.total)}",
    )


def job_failed_items(job: Job) -> list[dict[str, str]]:
    return [
        {
            "name": " ".join(filter(None, (str(item.get("name", "")), str(item.get("round", ""))))),
            "uscc": str(item.get("uscc", "")),
            "reason": str(ITEM_ERRORS.get(str(item.get("code", "")), ITEM_ERRORS["pdf"])),
        }
        for item in job.failed_items
    ]


def rescore_versions() -> list[Questionnaire]:
    """The questionnaire versions with submitted rounds: those a re-scoring job can be started for."""
    submitted = Assessment.objects.filter(questionnaire=OuterRef("pk"), status=Assessment.STATUS_SUBMITTED)
    return list(Questionnaire.objects.filter(Exists(submitted)).order_by("-created_at", "-id"))
