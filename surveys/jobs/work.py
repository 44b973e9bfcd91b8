"""The work of the jobs, run in a Celery worker (tasks.py): firm PDFs into a ZIP, the answers export, the
register import.

Files grow on disk under MEDIA_ROOT/jobs/<id>/ and get their final name (os.replace, atomic) only when
complete; a job is "done" only after that. A worker killed half-way leaves temporary files (names starting
with "." or the folder work-<attempt>/), never a file with the final name, and the next attempt discards them.

The ZIP is made in chunks of JINAN_JOB_ZIP_CHUNK firms, one task each, so that several workers share one job: each
chunk is a small ZIP of its PDFs; the worker that completes the last chunk joins them into the result.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from .. import scopes, selectors
from ..analytics.exports import Table, answers_table
from ..models import Assessment
from ..reports import exports, render_assessment_pdf
from ..selectors.administrators import Filters, assessment_queryset
from ..services.register import RegisterFileError, register_error_headers, register_error_rows, register_import
from . import services
from .models import Job
from .queue import enqueue_many
from .selectors import job_covers

logger = logging.getLogger("jinan.jobs")

PROGRESS_EVERY = 1000  # export rows between two progress reports


class Stop(Exception):
    """The attempt no longer runs (cancelled, or superseded by a retry): stop and leave no file."""


class ScopeRevoked(Exception):
    pass


def job_filters(job: Job) -> Filters:
    return Filters(**job.parameters.get("filters", {}))


def job_scope(job: Job) -> scopes.AdminScope:
    """The job's scope, after checking that its starter still holds it (rights can change while it waits)."""
    current = scopes.administrator_scope(job.user)
    if current is None or not job_covers(current, job):
        raise ScopeRevoked
    if job.kind in (Job.KIND_REGISTER, Job.KIND_RESCORE):  # city-wide work: city administrators only
        if not current.all_districts:
            raise ScopeRevoked
    elif not current.can_export:
        raise ScopeRevoked
    return scopes.AdminScope(
        all_districts=job.scope_all,
        districts=frozenset(job.scope_districts),
        can_view_contacts=current.can_view_contacts,
        can_export=True,
    )


def _work_dir(job_id: int, attempt: int) -> Path:
    return services.job_dir(job_id) / f"work-{attempt}"


def _discard_partials(job: Job) -> None:
    """Files of earlier attempts (never complete ones: they would have made the job done)."""
    services.job_discard_files(job_id=job.pk, keep=job.parameters.get("upload", ""))


def run(job_id: int) -> None:
    """The job's entry task: claim it, check the scope, then do (or, for a ZIP, plan) its work."""
    attempt = services.job_claim(job_id=job_id)
    if attempt is None:
        return
    job = Job.objects.select_related("user").get(pk=job_id)
    _discard_partials(job)
    language = job.parameters.get("language", "zh-hans")
    try:
        with override(language):
            scope = job_scope(job)
            if job.kind == Job.KIND_REPORTS_ZIP:
                _zip_plan(job, attempt, scope)
            elif job.kind == Job.KIND_ANSWERS:
                _answers(job, attempt, scope)
            elif job.kind == Job.KIND_REGISTER:
                _register(job, attempt)
            elif job.kind == Job.KIND_RESCORE:
                _rescore(job, attempt)
    except Stop:
        _discard_partials(job)
    except ScopeRevoked:
        services.job_fail(job_id=job_id, attempt=attempt, code="scope_revoked")
        _discard_partials(job)
    except Exception:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        services.job_fail(job_id=job_id, attempt=attempt, code="internal")
        _discard_partials(job)


# --- the ZIP of firm reports ----------------------------------------------------------------------------


def _zip_plan(job: Job, attempt: int, scope: scopes.AdminScope) -> None:
    rounds = assessment_queryset(scope, job_filters(job)).order_by("enterprise__uscc", "pk")
    ids = list(rounds.values_list("pk", flat=True))
    if job.parameters.get("limit"):  # make bench only (surveys/management/commands/_bench_jobs.py)
        ids = ids[: int(job.parameters["limit"])]
    size = max(1, settings.JINAN_JOB_ZIP_CHUNK)
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    work = _work_dir(job.pk, attempt)
    work.mkdir(parents=True, exist_ok=True)
    # The list is fixed now: a round submitted meanwhile must not move firms from one chunk to another.
    (work / "plan.json").write_text(json.dumps(chunks), encoding="utf-8")
    if not services.job_plan(job_id=job.pk, attempt=attempt, total=len(ids), chunks=len(chunks)):
        raise Stop
    if not chunks:
        _zip_assemble(job, attempt)
        return
    enqueue_many("jobs.zip_chunk", [(job.pk, attempt, index) for index in range(len(chunks))])


def zip_chunk(job_id: int, attempt: int, index: int) -> None:
    """The PDFs of one chunk into work-<attempt>/chunk-<index>.zip; the last chunk's worker assembles."""
    job = Job.objects.select_related("user").filter(pk=job_id, attempt=attempt, state=Job.RUNNING).first()
    if job is None:
        return  # cancelled, failed, or superseded by a newer attempt
    work = _work_dir(job_id, attempt)
    final = work / f"chunk-{index:05d}.zip"
    try:
        with override(job.parameters.get("language", "zh-hans")):
            scope = job_scope(job)
            if not final.exists():  # a redelivered message of a chunk already written
                ids = json.loads((work / "plan.json").read_text(encoding="utf-8"))[index]
                _zip_chunk_write(job, attempt, scope, ids, final)
            if services.job_chunk_done(job_id=job_id, attempt=attempt, index=index):
                _zip_assemble(job, attempt)
    except Stop:
        return
    except ScopeRevoked:
        services.job_fail(job_id=job_id, attempt=attempt, code="scope_revoked")
        _discard_partials(job)
    except Exception:
        logger.exception("job %s chunk %s failed", job_id, index)
        services.job_fail(job_id=job_id, attempt=attempt, code="internal")
        _discard_partials(job)


def _zip_chunk_write(job: Job, attempt: int, scope: scopes.AdminScope, ids: list[int], final: Path) -> None:
    # A name of its own per delivery: a duplicate delivery running at the same time writes its own file.
    partial = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
    language = job.parameters.get("language", "zh-hans")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for assessment in (
                Assessment.objects.filter(pk__in=ids).select_related("enterprise").order_by("enterprise__uscc", "pk")
            ):
                try:
                    report = selectors.assessment_report(assessment=assessment, language=language, scope=scope)
                    filename, _mimetype, data = render_assessment_pdf(report)
                    archive.writestr(filename, data)
                except Exception:  # one firm's failure is reported, and the job goes on
                    logger.exception("job %s: the report of round %s failed", job.pk, assessment.pk)
                    _round_failed(job, attempt, assessment, code="pdf")
                if not services.job_progress(job_id=job.pk, attempt=attempt):
                    raise Stop
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def _round_failed(job: Job, attempt: int, assessment: Assessment, *, code: str, **extra: str) -> None:
    """List the round's firm among the job's failed items (``code``: selectors.ITEM_ERRORS)."""
    enterprise = assessment.enterprise
    item = {"id": assessment.enterprise_id, "name": enterprise.name, "uscc": enterprise.uscc, "code": code, **extra}
    services.job_item_fail(job_id=job.pk, attempt=attempt, item=item)


def _zip_assemble(job: Job, attempt: int) -> None:
    """Join the chunks into the result ZIP (entries copied as they are, piece by piece: memory stays flat)."""
    job.refresh_from_db()
    work = _work_dir(job.pk, attempt)
    folder = services.job_dir(job.pk)
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"jinan-reports-{job.pk}-{stamp}.zip"
    partial = folder / f".{name}.{attempt}.part"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for index in range(job.chunks_total):
                with zipfile.ZipFile(work / f"chunk-{index:05d}.zip") as chunk:
                    for info in chunk.infolist():
                        with chunk.open(info) as source, archive.open(info.filename, "w", force_zip64=True) as target:
                            shutil.copyfileobj(source, target, 1 << 20)
                if not services.job_alive(job_id=job.pk, attempt=attempt):
                    raise Stop
            if job.failed_items:
                archive.writestr(_("生成失败的报告") + ".csv", "".join(exports.csv_chunks([_failed_table(job)])))
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    _finish(job, attempt, name, f"{_('济南企业自评估')}-{_('企业报告')}-{stamp}.zip")


def _failed_table(job: Job) -> Table:
    rows = [[item.get("uscc", ""), item.get("name", ""), _("报告生成失败")] for item in job.failed_items]
    return Table(title=_("生成失败的报告"), headers=[_("统一社会信用代码"), _("企业名称"), _("原因")], rows=rows)


def _finish(job: Job, attempt: int, name: str, display_name: str, summary: dict[str, Any] | None = None) -> None:
    path = services.job_dir(job.pk) / name
    relative = f"{services.JOBS_DIR}/{job.pk}/{name}"
    size = path.stat().st_size if path.exists() else 0
    if not services.job_finish(
        job_id=job.pk,
        attempt=attempt,
        result_path=relative if path.exists() else "",
        result_name=display_name,
        result_size=size,
        summary=summary,
    ):
        path.unlink(missing_ok=True)  # cancelled meanwhile: no file outlives its job
        raise Stop
    services.job_discard_files(job_id=job.pk, keep=name)


# --- the full answers export ----------------------------------------------------------------------------


def _counted(rows: Iterator[list[Any]], job: Job, attempt: int) -> Iterator[list[Any]]:
    pending = 0
    for row in rows:
        yield row
        pending += 1
        if pending == PROGRESS_EVERY:
            if not services.job_progress(job_id=job.pk, attempt=attempt, done=pending):
                raise Stop
            pending = 0
    if pending and not services.job_progress(job_id=job.pk, attempt=attempt, done=pending):
        raise Stop


def _answers(job: Job, attempt: int, scope: scopes.AdminScope) -> None:
    fmt = job.parameters.get("format", "csv")
    table = answers_table(scope, job_filters(job))
    total = table.count() if table.count is not None else 0
    if not services.job_plan(job_id=job.pk, attempt=attempt, total=total):
        raise Stop
    table = replace(table, rows=_counted(iter(table.rows), job, attempt))
    folder = services.job_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"jinan-answers-{job.pk}-{stamp}.{fmt}"
    partial = folder / f".{name}.{attempt}.part"
    try:
        if fmt == "xlsx":
            with open(partial, "wb") as stream:
                exports.write_xlsx_split([table], stream)
        else:
            with open(partial, "w", encoding="utf-8", newline="") as text:
                exports.write_csv([table], text)
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    _finish(job, attempt, name, exports.export_filename("answers", fmt)[0])


# --- the register import --------------------------------------------------------------------------------


def _register(job: Job, attempt: int) -> None:
    from ..audit.models import AuditEvent
    from ..audit.services import audit_event_record

    upload = services.job_dir(job.pk) / job.parameters.get("upload", "-")
    if not upload.is_file():
        services.job_fail(job_id=job.pk, attempt=attempt, code="upload_missing")
        return
    services.job_plan(job_id=job.pk, attempt=attempt, total=1)
    detail = {"side": "job", "job": job.pk, "file": job.parameters.get("file", "")}
    try:
        with open(upload, "rb") as stream:
            result = register_import(file=stream)
    except RegisterFileError as exc:
        audit_event_record(
            request=None, user=job.user, action=AuditEvent.IMPORT, target="register", success=False, detail=detail
        )
        services.job_fail(job_id=job.pk, attempt=attempt, code="register_file", params={"reason": str(exc.message)})
        return
    audit_event_record(
        request=None,
        user=job.user,
        action=AuditEvent.IMPORT,
        target="register",
        detail={**detail, "result": result.summary()},
    )
    services.job_progress(job_id=job.pk, attempt=attempt)
    summary = {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "invalid": result.invalid_rows,
        "text": result.summary(),
    }
    name = ""
    if result.errors:
        name = f"jinan-register-errors-{job.pk}.csv"
        table = Table(title=_("导入错误"), headers=register_error_headers(), rows=register_error_rows(result))
        partial = services.job_dir(job.pk) / f".{name}.part"
        with open(partial, "w", encoding="utf-8", newline="") as text:
            exports.write_csv([table], text)
        os.replace(partial, services.job_dir(job.pk) / name)
    stamp = timezone.localdate().strftime("%Y%m%d")
    _finish(job, attempt, name or "-", f"{_('工商登记名单导入错误')}-{stamp}.csv", summary)


# --- re-scoring a questionnaire version's rounds --------------------------------------------------------


def _rescore(job: Job, attempt: int) -> None:
    """Every submitted round of the version, re-scored with its current rules, one transaction per round
    (services.assessment_rescore): a round whose result is unchanged, or already re-scored by an earlier
    delivery of this job, gets no new revision; a round that fails is listed and the job goes on."""
    from ..audit.models import AuditEvent
    from ..audit.services import audit_event_record
    from ..services import assessment_rescore

    questionnaire_id = int(job.parameters["questionnaire"])
    rounds = Assessment.objects.filter(questionnaire_id=questionnaire_id, status=Assessment.STATUS_SUBMITTED)
    ids = list(rounds.order_by("pk").values_list("pk", flat=True))
    if not services.job_plan(job_id=job.pk, attempt=attempt, total=len(ids)):
        raise Stop
    changed = unchanged = failed = 0
    for start in range(0, len(ids), PROGRESS_EVERY):
        for assessment in Assessment.objects.filter(pk__in=ids[start : start + PROGRESS_EVERY]).select_related(
            "enterprise"
        ):
            try:
                revision = assessment_rescore(assessment=assessment, user=job.user, job_id=job.pk)
            except Exception:  # one round's failure is reported, and the job goes on
                logger.exception("job %s: re-scoring round %s failed", job.pk, assessment.pk)
                failed += 1
                _round_failed(job, attempt, assessment, code="rescore", round=assessment.label)
            else:
                changed += revision is not None
                unchanged += revision is None
            if not services.job_progress(job_id=job.pk, attempt=attempt):
                raise Stop
    counts = {"rounds": len(ids), "changed": changed, "unchanged": unchanged, "failed": failed}
    audit_event_record(
        request=None,
        user=job.user,
        action=AuditEvent.CORRECT,
        target=f"job:{job.pk}:{job.kind}",
        detail={"side": "job", "job": job.pk, "questionnaire": job.parameters.get("version", ""), **counts},
    )
    text = (
        _("共 %(rounds)d 轮：%(changed)d 轮结果改变，已记为新的修订；%(unchanged)d 轮不变；%(failed)d 轮失败。")
        % counts
    )
    _finish(job, attempt, "-", "", {**counts, "text": text})
