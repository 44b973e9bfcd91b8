"""The business register on the administrators' side: coverage (every administrator, in scope), the list of
register firms not yet assessed and its export, and the register upload (city administrators only).

Thin like surveys/manage/views.py: the filter or upload form, one call (surveys/analytics/coverage.py or
surveys/services/register.py), the response. The upload's error report is written once, as the CSV the page
offers, to a file named by a random token (under MEDIA_ROOT/register-reports/, kept a day): the page links to
it, and only city administrators can fetch it.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ..analytics.coverage import coverage as coverage_figures
from ..analytics.coverage import scoped_register, unassessed_firms, unassessed_table
from ..analytics.exports import Table
from ..audit.models import AuditEvent
from ..audit.services import audit_event_record
from ..choices import SECTORS
from ..reports import exports
from ..reports.http import attachment
from ..services.register import (
    COLUMNS,
    RegisterFileError,
    RegisterImportResult,
    register_error_headers,
    register_error_rows,
    register_import,
)
from ..text import clean_user_text
from .forms import RegisterUploadForm
from .views import _context, _filters, _require_export, administrator_required

FIRMS_PER_PAGE = 50
ERRORS_SHOWN = 200  # bad rows listed on the page; the downloadable report has them all
REPORT_DIR = "register-reports"
REPORT_KEEP = timedelta(days=1)
_TOKEN_RE = re.compile(r"[0-9a-f]{32}")


def _require_city(request) -> None:
    """The register is the city's: district administrators (and everyone without the whole city) get 403."""
    if not request.admin_scope.all_districts:
        raise PermissionDenied


def _coverage_context(request, tab: str, **extra):
    form, filters, _levels = _filters(request)
    form.fields.pop("level", None)  # a level describes an assessed firm: coverage does not filter by it
    return filters, _context(request, form, filters, tab, **extra)


# --- coverage and the firms not yet assessed ------------------------------------------------------------


@administrator_required
@require_GET
def coverage(request):
    filters, context = _coverage_context(request, "coverage")
    context["coverage"] = coverage_figures(request.admin_scope, filters)
    return render(request, "surveys/manage/coverage.html", context)


@administrator_required
@require_GET
def unassessed(request):
    filters, context = _coverage_context(request, "coverage")
    firms = unassessed_firms(request.admin_scope, filters)
    context["page"] = Paginator(firms, FIRMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "surveys/manage/unassessed.html", context)


@administrator_required
@require_GET
def unassessed_export(request, fmt: str):
    if fmt not in exports.FORMATS:
        raise Http404
    _require_export(request)
    _form, filters, _levels = _filters(request)
    table = unassessed_table(request.admin_scope, filters)
    audit_event_record(
        request=request,
        action=AuditEvent.EXPORT,
        target=f"export:unassessed.{fmt}",
        detail={"filters": filters.query_string(), "scope": request.admin_scope.label},
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    filename = f"{_('济南企业自评估')}-{_('尚未评估的企业')}-{stamp}.{fmt}"
    fallback = f"jinan-unassessed-{stamp}.{fmt}"
    if fmt == "csv":
        content = exports.csv_chunks([table])
    else:
        try:
            content = exports.xlsx_file([table])
        except exports.TooManyRowsError:
            messages.error(request, _("数据行数超过 Excel 的上限（1,048,575 行）。请导出 CSV，或缩小筛选范围。"))
            return redirect(reverse("manage:unassessed") + "?" + filters.query_string())
    return attachment(content, filename=filename, content_type=exports.MIMETYPES[fmt], ascii_fallback=fallback)


# --- the upload -----------------------------------------------------------------------------------------


def _report_name(token: str) -> str:
    return f"{REPORT_DIR}/{token}.csv"


def _report_save(result: RegisterImportResult) -> str | None:
    """The error report written as CSV (neutralised by the exports' writer); its token, None without errors.
    Reports older than a day are removed first."""
    if default_storage.exists(REPORT_DIR):
        cutoff = timezone.now() - REPORT_KEEP
        for name in default_storage.listdir(REPORT_DIR)[1]:
            if default_storage.get_modified_time(f"{REPORT_DIR}/{name}") < cutoff:
                default_storage.delete(f"{REPORT_DIR}/{name}")
    if not result.errors:
        return None
    table = Table(title=_("导入错误"), headers=register_error_headers(), rows=register_error_rows(result))
    token = secrets.token_hex(16)
    default_storage.save(_report_name(token), ContentFile("".join(exports.csv_chunks([table])).encode("utf-8")))
    return token


@administrator_required
@require_http_methods(["GET", "POST"])
def register(request):
    _require_city(request)
    form = RegisterUploadForm(request.POST, request.FILES) if request.method == "POST" else RegisterUploadForm()
    result, token = None, None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        detail = {"side": "manage", "file": clean_user_text(upload.name)[:100]}
        try:
            result = register_import(file=upload)
        except RegisterFileError as exc:
            form.add_error("file", exc.message)
            audit_event_record(
                request=request, action=AuditEvent.IMPORT, target="register", success=False, detail=detail
            )
        else:
            token = _report_save(result)
            audit_event_record(
                request=request,
                action=AuditEvent.IMPORT,
                target="register",
                detail={**detail, "result": result.summary()},
            )
    return render(
        request,
        "surveys/manage/register.html",
        {
            "scope": request.admin_scope,
            "tab": "register",
            "query": "",
            "form": form,
            "result": result,
            "errors_shown": result.errors[:ERRORS_SHOWN] if result else [],
            "report_token": token,
            "columns": COLUMNS,
            "register_size": scoped_register(request.admin_scope).count(),
            "sectors": [f"{code} {label}" for code, label in SECTORS],
        },
    )


@administrator_required
@require_GET
def register_errors(request, token: str):
    _require_city(request)
    if not _TOKEN_RE.fullmatch(token) or not default_storage.exists(_report_name(token)):
        raise Http404
    stamp = timezone.localdate().strftime("%Y%m%d")
    return attachment(
        default_storage.open(_report_name(token), "rb"),
        filename=f"{_('工商登记名单导入错误')}-{stamp}.csv",
        content_type=exports.CSV_MIMETYPE,
        ascii_fallback=f"jinan-register-errors-{stamp}.csv",
    )
