"""Administrators' views (mounted under /manage/): dashboard, firm list and detail, exports, reports.

Every view is wrapped in :func:`administrator_required`, which builds the user's scope once
(surveys.scopes) and hands it to the selectors; anonymous users are sent to the login page and everyone
else without an administrator role gets 403. A firm outside the scope answers 404, like a missing one.
Views stay thin: the filter form validates the query string, one analytics/selectors call computes.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import analytics, scopes, selectors, services, suppression
from ..analytics.coverage import coverage_total
from ..analytics.exports import DATASETS, audit_table, tables_for
from ..audit.models import AuditEvent
from ..audit.selectors import audit_events, audit_firm_name, audit_rows
from ..audit.services import audit_event_record
from ..models import Assessment, Enterprise
from ..reports import charts, exports, render_assessment_pdf
from ..reports.city import render_city_pdf
from ..reports.http import attachment
from ..responses import report_or_404
from ..views import uscc_correction_page
from .forms import SEARCH_MAX_LENGTH, AuditFilterForm, FilterForm

FIRMS_PER_PAGE = 50
AUDIT_EVENTS_PER_PAGE = 50
WEAK_ITEMS_SHOWN = 15
CHART_GROUPS = 12


# --- access -----------------------------------------------------------------------------------------


def administrator_required(view):
    """Logged in with an administrator role (surveys.scopes); sets ``request.admin_scope``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = scopes.administrator_scope(request.user)
        if scope is None:
            raise PermissionDenied
        request.admin_scope = scope
        return view(request, *args, **kwargs)

    return wrapper


def _require_export(request) -> None:
    if not request.admin_scope.can_export:
        raise PermissionDenied


def _require_audit_reader(request) -> None:
    if not request.admin_scope.can_read_audit_log:
        raise PermissionDenied


def _filters(request) -> tuple[FilterForm, analytics.Filters, list[analytics.LevelInfo]]:
    scope = request.admin_scope
    levels = analytics.level_infos(analytics.reference_questionnaire())
    form = FilterForm(
        request.GET,
        scope=scope,
        levels=levels,
        labels=analytics.assessment_labels_cached(scope),
        versions=analytics.submitted_versions_cached(scope),
    )
    return form, form.filters(), levels


def _context(request, form, filters, tab: str, **extra):
    return {
        "scope": request.admin_scope,
        "form": form,
        "filters": filters,
        "query": filters.query_string(),
        "tab": tab,
        "min_group_size": suppression.min_group_size(),
        "hidden_fields": [],
        **extra,
    }


# --- dashboard --------------------------------------------------------------------------------------


@administrator_required
@require_GET
def dashboard(request):
    form, filters, _levels = _filters(request)
    board = analytics.dashboard(request.admin_scope, filters)
    register = coverage_total(request.admin_scope, filters)
    return render(
        request,
        "surveys/manage/dashboard.html",
        _context(request, form, filters, "overview", board=board, coverage=register),
    )


@administrator_required
@require_GET
def breakdowns(request):
    form, filters, _levels = _filters(request)
    key = request.GET.get("by", "district")
    if key not in analytics.BREAKDOWNS:
        key = "district"
    dimensions, result = analytics.breakdown_page(request.admin_scope, filters, key)
    return render(
        request,
        "surveys/manage/breakdowns.html",
        _context(
            request,
            form,
            filters,
            "breakdowns",
            breakdown=result,
            dimensions=dimensions,
            by=key,
            hidden_fields=[("by", key)],
            keys=[(k, analytics.breakdown_title(k)) for k in analytics.BREAKDOWNS],
        ),
    )


@administrator_required
@require_GET
def weaknesses(request):
    form, filters, _levels = _filters(request)
    total, items = analytics.weaknesses_page(request.admin_scope, filters)
    items = items[:WEAK_ITEMS_SHOWN]
    return render(
        request,
        "surveys/manage/weaknesses.html",
        _context(request, form, filters, "weaknesses", total=total, items=items),
    )


@administrator_required
@require_GET
def trend(request):
    form, filters, _levels = _filters(request)
    dimensions, result = analytics.trend_page(request.admin_scope, filters)
    return render(
        request,
        "surveys/manage/trend.html",
        _context(request, form, filters, "trend", trend=result, dimensions=dimensions),
    )


# --- charts (SVG for <img>) -------------------------------------------------------------------------

CHARTS = ("levels", "dimensions", "breakdown", "weaknesses", "trend")


def _chart_drawing(name: str, scope, filters, request):
    if name in ("levels", "dimensions"):
        board = analytics.dashboard(scope, filters)
        if name == "levels":
            cells = board.overview.levels
            return charts.count_bars(
                [f"{c.code} {c.name}" for c in cells], [c.firms for c in cells], series_name=_("企业数")
            )
        stats = board.dimension_stats
        return charts.dimension_bars(
            [s.info.name for s in stats],
            [
                (_("平均分"), [s.mean for s in stats]),
                (_("中位数"), [s.quartiles[1] if s.quartiles else None for s in stats]),
            ],
            missing=suppression.hidden_value(),
            left_out=[f"{s.info.name}{suppression.hidden_value()[-1]}" for s in stats if s.firms is None],
        )
    if name == "breakdown":
        key = request.GET.get("by", "district")
        if key not in analytics.BREAKDOWNS:
            raise Http404
        _dimensions, result = analytics.breakdown_page(scope, filters, key)
        shown = [r for r in result.rows if not r.hidden][:CHART_GROUPS]
        hidden = [f"{r.label}{suppression.hidden_value(r.hidden_reason)[-1]}" for r in result.rows if r.hidden]
        return charts.dimension_bars(
            [r.label for r in shown], [(_("平均综合指数"), [r.mean_index for r in shown])], left_out=hidden
        )
    if name == "weaknesses":
        _total, items = analytics.weaknesses_page(scope, filters)
        items = items[:CHART_GROUPS]
        return charts.share_bars(
            [i.code for i in items], [i.share for i in items], series_name=_("选择0–1分或“不清楚”的企业占比（%）")
        )
    if name == "trend":
        dimensions, result = analytics.trend_page(scope, filters)
        rows = result.by_label[-4:]
        hidden = [
            f"{row.label}{suppression.hidden_value()[-1]}"
            for row in rows
            if all(m is None for m in row.dimension_means)
        ]
        return charts.dimension_bars(
            [d.name for d in dimensions],
            [(row.label, row.dimension_means) for row in rows],
            missing=suppression.hidden_value(),
            left_out=hidden,
        )
    raise Http404


@administrator_required
@require_GET
def chart(request, name: str):
    if name not in CHARTS:
        raise Http404
    _form, filters, _levels = _filters(request)
    drawing = _chart_drawing(name, request.admin_scope, filters, request)
    response = HttpResponse(charts.drawing_to_svg(drawing, id_prefix=f"m-{name}"), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=60"
    return response


# --- firms ------------------------------------------------------------------------------------------


@administrator_required
@require_GET
def firm_list(request):
    form, filters, _levels = _filters(request)
    # NUL can be in no firm name (PostgreSQL text refuses it), so it is dropped rather than searched for.
    search = (request.GET.get("q") or "").replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
    sort = selectors.enterprise_list_sort(request.GET.get("sort", ""))
    firms = selectors.enterprise_list_for_administrator(
        scope=request.admin_scope, filters=filters, search=search, sort=sort
    )
    page = Paginator(firms, FIRMS_PER_PAGE).get_page(request.GET.get("page"))
    # (sort key, heading, the classes that hide the column on narrow screens)
    columns = [
        ("name", _("企业名称"), ""),
        ("uscc", _("统一社会信用代码"), "d-none d-sm-table-cell"),
        ("district", _("区县"), ""),
        ("industry", _("行业"), "d-none d-lg-table-cell"),
        ("size", _("规模"), "d-none d-md-table-cell"),
        ("round", _("轮次"), "d-none d-sm-table-cell"),
        ("version", _("问卷版本"), "d-none d-md-table-cell"),
        ("index", _("综合指数"), ""),
        ("level", _("等级"), ""),
        ("submitted", _("提交时间"), "d-none d-md-table-cell"),
    ]
    headers = []
    for key, label, css in columns:
        current = sort.removeprefix("-") == key
        descending = sort.startswith("-")
        headers.append(
            {
                "key": key,
                "label": label,
                "css": css,
                "sort": f"-{key}" if current and not descending else key,
                "current": current,
                "descending": descending,
            }
        )
    return render(
        request,
        "surveys/manage/firms.html",
        _context(
            request,
            form,
            filters,
            "firms",
            page=page,
            search=search,
            sort=sort,
            headers=headers,
            show_search=True,
            hidden_fields=[("sort", sort)] if sort != selectors.ENTERPRISE_LIST_DEFAULT_SORT else [],
        ),
    )


def _scoped_enterprise(request, pk: int) -> Enterprise:
    try:
        return selectors.enterprise_for_administrator(scope=request.admin_scope, enterprise_id=pk)
    except Enterprise.DoesNotExist as exc:
        raise Http404 from exc


def _enterprise_page(request, enterprise: Enterprise, selected: Assessment | None):
    # Administrators reading one firm's data (and, with the permission, its contact person) leave a trace.
    audit_event_record(
        request=request,
        action=AuditEvent.VIEW,
        target=f"assessment:{selected.pk}" if selected else f"enterprise:{enterprise.pk}",
        enterprise_id=enterprise.pk,
        detail={"side": "manage", "contacts": request.admin_scope.can_view_contacts},
    )
    rounds = list(selectors.assessment_list_for_administrator(scope=request.admin_scope, enterprise=enterprise))
    uscc_check = services.uscc_report(enterprise.uscc)
    report = None
    if selected is not None:
        # The same read model as the firm's results page and PDF, trimmed to the administrator's scope.
        report = report_or_404(selected, language=get_language() or "zh-hans", scope=request.admin_scope)
    return render(
        request,
        "surveys/manage/firm.html",
        {
            "scope": request.admin_scope,
            "tab": "firms",
            "enterprise": enterprise,
            "rounds": rounds,
            "selected": selected,
            "report": report,
            "back": request.GET.get("back", ""),
            "can_correct_uscc": selectors.uscc_corrector(user=request.user, enterprise=enterprise) is not None,
            "uscc_warnings": uscc_check.warnings if uscc_check.needs_confirmation else [],
        },
    )


@administrator_required
@require_GET
def firm_detail(request, pk: int):
    enterprise = _scoped_enterprise(request, pk)
    latest = (
        selectors.assessment_list_for_administrator(scope=request.admin_scope, enterprise=enterprise)
        .filter(status=Assessment.STATUS_SUBMITTED)
        .first()
    )
    return _enterprise_page(request, enterprise, latest)


@administrator_required
@require_http_methods(["GET", "POST"])
def firm_uscc(request, pk: int):
    """A city-wide administrator corrects a firm's mistyped code (district administrators: 403)."""
    enterprise = _scoped_enterprise(request, pk)
    if selectors.uscc_corrector(user=request.user, enterprise=enterprise) is None:
        raise PermissionDenied
    back_url = reverse("manage:firm", args=[enterprise.pk])
    return uscc_correction_page(request, enterprise, back_url=back_url, manage=True, scope=request.admin_scope)


def _scoped_assessment(request, pk: int, round_pk: int) -> Assessment:
    try:
        return selectors.assessment_for_administrator(
            scope=request.admin_scope, enterprise_id=pk, assessment_id=round_pk
        )
    except Assessment.DoesNotExist as exc:
        raise Http404 from exc


@administrator_required
@require_GET
def round_detail(request, pk: int, round_pk: int):
    enterprise = _scoped_enterprise(request, pk)
    return _enterprise_page(request, enterprise, _scoped_assessment(request, pk, round_pk))


@administrator_required
@require_GET
def round_report(request, pk: int, round_pk: int):
    assessment = _scoped_assessment(request, pk, round_pk)
    report = report_or_404(assessment, language=get_language() or "zh-hans", scope=request.admin_scope)
    filename, mimetype, data = render_assessment_pdf(report)
    audit_event_record(
        request=request,
        action=AuditEvent.DOWNLOAD,
        target=f"assessment:{assessment.pk}",
        enterprise_id=assessment.enterprise_id,
        detail={"side": "manage", "contacts": request.admin_scope.can_view_contacts},
    )
    return attachment(data, filename=filename, content_type=mimetype)


# --- the audit log ----------------------------------------------------------------------------------


@administrator_required
@require_GET
def audit_log(request):
    _require_audit_reader(request)
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(audit_events(filters=filters), AUDIT_EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    focus = None if filters.enterprise_id is None else audit_firm_name(enterprise_id=filters.enterprise_id)
    return render(
        request,
        "surveys/manage/audit.html",
        {
            "scope": request.admin_scope,
            "tab": "audit",
            "query": "",
            "form": form,
            "filters": filters,
            "page": page,
            "rows": audit_rows(page.object_list),
            "focus": focus,
            "retention_days": settings.JINAN_AUDIT_RETENTION_DAYS,
        },
    )


@administrator_required
@require_GET
def audit_export(request):
    _require_audit_reader(request)
    filters = AuditFilterForm(request.GET).filters()
    # Reading the log out of the application is itself an event of the log.
    audit_event_record(
        request=request,
        action=AuditEvent.EXPORT,
        target="export:audit.csv",
        detail={"filters": urlencode(filters.query_items()), "scope": request.admin_scope.label},
    )
    filename, fallback = exports.export_filename("audit", "csv")
    chunks = exports.csv_chunks([audit_table(filters)])
    return attachment(chunks, filename=filename, content_type=exports.CSV_MIMETYPE, ascii_fallback=fallback)


# --- exports and the city report --------------------------------------------------------------------


@administrator_required
@require_GET
def export(request, dataset: str, fmt: str):
    if dataset not in DATASETS or fmt not in exports.FORMATS:
        raise Http404
    _require_export(request)
    _form, filters, _levels = _filters(request)
    tables = tables_for(dataset, request.admin_scope, filters)
    audit_event_record(
        request=request,
        action=AuditEvent.EXPORT,
        target=f"export:{dataset}.{fmt}",
        detail={"filters": filters.query_string(), "scope": request.admin_scope.label},
    )
    filename, fallback = exports.export_filename(dataset, fmt)
    if fmt == "csv":
        content = exports.csv_chunks(tables)
    else:
        try:
            content = exports.xlsx_file(tables)
        except exports.TooManyRowsError:
            messages.error(request, _("数据行数超过 Excel 的上限（1,048,575 行）。请导出 CSV，或缩小筛选范围。"))
            return redirect(reverse("manage:dashboard") + "?" + filters.query_string())
    return attachment(content, filename=filename, content_type=exports.MIMETYPES[fmt], ascii_fallback=fallback)


@administrator_required
@require_GET
def city_report(request):
    _require_export(request)
    form, filters, _levels = _filters(request)
    report = analytics.city_report(
        scope=request.admin_scope,
        filters=filters,
        language=get_language() or "zh-hans",
        ignored=form.ignored_labels(),
    )
    filename, mimetype, data = render_city_pdf(report)
    audit_event_record(
        request=request,
        action=AuditEvent.EXPORT,
        target="export:city_report.pdf",
        detail={"filters": filters.query_string(), "scope": request.admin_scope.label},
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return attachment(data, filename=filename, content_type=mimetype, ascii_fallback=f"jinan-city-report-{stamp}.pdf")
