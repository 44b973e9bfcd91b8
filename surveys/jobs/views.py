"""The job pages under /manage/jobs/ and the POSTs that start jobs (from the export area of the dashboard
and firm list, and from the register page). Thin: the scope (surveys.scopes, as every administrator page),
one service or selector call, the response. A job outside the user's scope answers 404 like a missing one.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from .. import analytics
from ..audit.models import AuditEvent
from ..audit.services import audit_event_record
from ..manage.forms import FilterForm, RegisterUploadForm
from ..manage.views import administrator_required
from ..reports import exports
from ..reports.http import attachment
from ..responses import json_endpoint
from ..scopes import AdminScope
from . import selectors, services
from .models import Job

JOBS_PER_PAGE = 25
REGISTER_JOB_MAX_MB = 200
START_KINDS = {"reports_zip": (Job.KIND_REPORTS_ZIP, ""), "answers_csv": (Job.KIND_ANSWERS, "csv")}
START_KINDS["answers_xlsx"] = (Job.KIND_ANSWERS, "xlsx")


def _job_or_404(request, pk: int) -> Job:
    try:
        return selectors.job_for_administrator(scope=request.admin_scope, job_id=pk)
    except Job.DoesNotExist as exc:
        raise Http404 from exc


def _posted_filters(request) -> analytics.Filters:
    """The dashboard's filters as the export area posted them (its query string), validated by its form."""
    scope = request.admin_scope
    form = FilterForm(
        QueryDict(request.POST.get("query", "")),
        scope=scope,
        levels=analytics.level_infos(analytics.reference_questionnaire()),
        labels=analytics.assessment_labels_cached(scope),
        versions=analytics.submitted_versions_cached(scope),
    )
    return form.filters()


def _job_scope(scope: AdminScope, filters: analytics.Filters) -> AdminScope:
    """The starter's scope narrowed to the district filter: the firms the job may read, and who may see it."""
    if not filters.district:
        return scope
    return AdminScope(
        all_districts=False,
        districts=frozenset({filters.district}),
        can_view_contacts=scope.can_view_contacts,
        can_export=scope.can_export,
    )


@administrator_required
@require_POST
def job_start(request, kind: str):
    if kind not in START_KINDS:
        raise Http404
    scope = request.admin_scope
    if not scope.can_export or not (scope.all_districts or scope.districts):
        raise PermissionDenied
    filters = _posted_filters(request)
    job_kind, fmt = START_KINDS[kind]
    parameters = {"filters": asdict(filters), "query": filters.query_string(), "language": get_language() or "zh-hans"}
    if fmt:
        parameters["format"] = fmt
    try:
        job = services.job_start(
            request=request, user=request.user, scope=_job_scope(scope, filters), kind=job_kind, parameters=parameters
        )
    except services.JobBrokerDown:
        messages.error(request, _("任务队列暂时无法连接，任务没有开始。请稍后再试；其他页面和直接下载不受影响。"))
        return redirect(reverse("manage:dashboard") + "?" + filters.query_string())
    return redirect("jobs:detail", pk=job.pk)


class RegisterJobForm(RegisterUploadForm):
    """The register upload for a background import: the same file types, a larger limit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("大文件可在后台导入：CSV 或 Excel（.xlsx），不超过 %(mb)d MB。") % {
            "mb": REGISTER_JOB_MAX_MB
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > REGISTER_JOB_MAX_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("文件超过 %(mb)d MB 的上限，请拆分后分批导入。") % {"mb": REGISTER_JOB_MAX_MB}
            )
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("只能导入 .csv 或 .xlsx 文件。"))
        return upload


@administrator_required
@require_POST
def register_start(request):
    if not request.admin_scope.all_districts:
        raise PermissionDenied
    form = RegisterJobForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("file", []):
            messages.error(request, error)
        return redirect("manage:register")
    try:
        job = services.job_start_register(
            request=request,
            user=request.user,
            scope=request.admin_scope,
            upload=form.cleaned_data["file"],
            language=get_language() or "zh-hans",
        )
    except services.JobBrokerDown:
        messages.error(request, _("任务队列暂时无法连接，任务没有开始。请稍后再试；其他页面和直接下载不受影响。"))
        return redirect("manage:register")
    return redirect("jobs:detail", pk=job.pk)


class RescoreForm(forms.Form):
    """The questionnaire version whose rounds are re-scored: one with submitted rounds."""

    questionnaire = forms.TypedChoiceField(
        label=_lazy("问卷版本"), coerce=int, widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = {q.pk: q for q in selectors.rescore_versions()}
        self.fields["questionnaire"].choices = [(pk, str(q.version)) for pk, q in self.versions.items()]


@administrator_required
@require_POST
def rescore_start(request):
    """Re-score every submitted round of a version after a correction of its rules: it changes every firm's
    result, so city administrators only."""
    if not request.admin_scope.all_districts:
        raise PermissionDenied
    form = RescoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择要重新计算的问卷版本。"))
        return redirect("jobs:list")
    questionnaire = form.versions[form.cleaned_data["questionnaire"]]
    parameters = {
        "questionnaire": questionnaire.pk,
        "version": questionnaire.version,
        "language": get_language() or "zh-hans",
    }
    try:
        job = services.job_start(
            request=request,
            user=request.user,
            scope=request.admin_scope,
            kind=Job.KIND_RESCORE,
            parameters=parameters,
        )
    except services.JobBrokerDown:
        messages.error(request, _("任务队列暂时无法连接，任务没有开始。请稍后再试；其他页面和直接下载不受影响。"))
        return redirect("jobs:list")
    return redirect("jobs:detail", pk=job.pk)


def _page_context(request, **extra):
    return {"scope": request.admin_scope, "tab": "jobs", "query": "", **extra}


@administrator_required
@require_GET
def job_list(request):
    jobs = selectors.jobs_for_administrator(scope=request.admin_scope)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(job, selectors.job_status(job), selectors.job_scope_label(job)) for job in page.object_list]
    rescore_form = RescoreForm() if request.admin_scope.all_districts else None
    return render(
        request, "surveys/jobs/list.html", _page_context(request, page=page, rows=rows, rescore_form=rescore_form)
    )


@administrator_required
@require_GET
def job_detail(request, pk: int):
    job = _job_or_404(request, pk)
    filters = analytics.Filters(**job.parameters["filters"]) if "filters" in job.parameters else None
    return render(
        request,
        "surveys/jobs/detail.html",
        _page_context(
            request,
            job=job,
            status=selectors.job_status(job),
            scope_label=selectors.job_scope_label(job),
            described=filters.describe() if filters is not None else [],
            failed_items=selectors.job_failed_items(job),
            expire_hours=settings.JINAN_JOB_RESULT_HOURS,
        ),
    )


@json_endpoint("GET")
@administrator_required
def job_progress(request, pk: int):
    job = _job_or_404(request, pk)
    response = JsonResponse({"ok": True, **selectors.job_status(job).as_json()})
    response["Cache-Control"] = "no-store"
    return response


@administrator_required
@require_GET
def job_download(request, pk: int):
    job = _job_or_404(request, pk)
    if job.state != Job.DONE or not job.result_path:
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.result_path).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404
    audit_event_record(
        request=request,
        action=AuditEvent.DOWNLOAD,
        target=f"job:{job.pk}:{job.kind}",
        detail={"job": job.pk, "scope": selectors.job_scope_label(job)},
    )
    suffix = path.suffix.lstrip(".")
    content_type = exports.MIMETYPES.get(suffix, "application/zip")
    if settings.JINAN_X_ACCEL_MEDIA:
        # nginx sends the file from its internal location (ranges, resumed downloads); the worker is free at once.
        response = attachment(b"", filename=job.result_name, content_type=content_type, ascii_fallback=path.name)
        response["X-Accel-Redirect"] = settings.JINAN_X_ACCEL_MEDIA + quote(job.result_path)
        return response
    return attachment(path.open("rb"), filename=job.result_name, content_type=content_type, ascii_fallback=path.name)


@administrator_required
@require_POST
def job_cancel(request, pk: int):
    job = _job_or_404(request, pk)
    if services.job_cancel(request=request, job=job):
        messages.success(request, _("任务已取消。"))
    return redirect("jobs:detail", pk=job.pk)


@administrator_required
@require_POST
def job_retry(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        if services.job_retry(request=request, job=job):
            messages.success(request, _("任务已重新排队，将从头开始。"))
    except services.JobBrokerDown:
        messages.error(request, _("任务队列暂时无法连接，任务没有开始。请稍后再试；其他页面和直接下载不受影响。"))
    return redirect("jobs:detail", pk=job.pk)
