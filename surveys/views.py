"""Firm-facing views. Thin by design: validate with a form, call one service or selector, respond.

Every view that shows a firm's data goes through ``enterprise_member_required``/``_member_assessment``: another
firm's round answers 404 exactly like a missing one.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .audit.models import AuditEvent
from .audit.services import audit_event_record
from .forms import (
    AccountForm,
    EnterpriseForm,
    InviteForm,
    RoundStartForm,
    SignupModeForm,
    SubmitForm,
    UsccCorrectionForm,
    page_changes,
    parse_answer_value,
    parse_revision,
)
from .models import Assessment, Dimension, Membership
from .reports import attachment, render_assessment_pdf
from .reports.charts import drawing_to_svg, web_chart_drawings
from .responses import error_page, json_endpoint, json_error, report_or_404, wants_json
from .scopes import administrator_scope
from .services import (
    AnswerChange,
    InvalidAnswersError,
    InvalidContextAnswersError,
    ServiceError,
    TooManyUnknownAnswersError,
)
from .text import without_final_stop


def enterprise_member_required(view):
    """Logged in and an active member of a firm; others are sent where they can go on (administrators without
    a firm to /manage/), or, from a JSON endpoint, get a JSON error: 401 when not logged in, 403 otherwise."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error(401) if wants_json(request) else redirect_to_login(request.get_full_path())
        membership = selectors.membership_for_user(user=request.user)
        if membership is None or not membership.is_active_member:
            if wants_json(request):
                return json_error(403, _("您的账号不是本企业的成员，或加入申请尚待审批。"))
            if membership is not None:
                return render(request, "surveys/pending.html", {"membership": membership})
            # The home page says what an account without a firm can do (and sends administrators on).
            return redirect(landing_url(request.user))
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper


def landing_url(user) -> str:
    """Where a user starts (after login, and from the home page): administrators at /manage/, members at
    their firm, users who are both on the home page, which offers both; everyone else on the home page."""
    if not user.is_authenticated:
        return reverse("surveys:home")
    membership = selectors.membership_for_user(user=user)
    member = membership is not None and membership.is_active_member
    administrator = administrator_scope(user) is not None
    if administrator and membership is None:
        return reverse("manage:dashboard")
    if member and not administrator:
        return reverse("surveys:firm")
    return reverse("surveys:home")


def _object_id(raw) -> int | None:
    """A posted row id: ASCII digits that fit a bigint, else None (which finds nothing, like a missing id)."""
    return int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _member_assessment(request, pk: int) -> Assessment:
    try:
        # enterprise_member_required has loaded the membership: its firm is not looked up a second time.
        membership = getattr(request, "membership", None)
        return selectors.assessment_for_user(
            user=request.user, assessment_id=pk, enterprise=membership.enterprise if membership else None
        )
    except Assessment.DoesNotExist as exc:
        raise Http404 from exc


def home(request):
    """The introduction for visitors; users who have one place to go are sent there (landing_url), users who
    are both a firm's member and an administrator choose here."""
    landing = landing_url(request.user)
    if landing != request.path:
        return redirect(landing)
    questionnaire = selectors.questionnaire_current()
    return render(
        request,
        "surveys/home.html",
        {
            "questionnaire": questionnaire,
            "item_count": questionnaire.items.count() if questionnaire else 0,
            "membership": selectors.membership_for_user(user=request.user),
            "is_administrator": administrator_scope(request.user) is not None,
        },
    )


# --- accounts ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("surveys:home")
    account = AccountForm(request.POST or None, prefix="account")
    mode = SignupModeForm(request.POST or None, prefix="mode")
    enterprise = EnterpriseForm(request.POST or None, prefix="firm")
    if request.method == "POST":
        wants_new = request.POST.get("mode-mode") != SignupModeForm.MODE_JOIN
        valid = account.is_valid() & mode.is_valid() & (enterprise.is_valid() if wants_new else True)
        if valid:
            try:
                user = services.account_signup(
                    username=account.cleaned_data["username"],
                    email=account.cleaned_data["email"],
                    password=account.cleaned_data["password1"],
                    enterprise_data=enterprise.cleaned_data if wants_new else None,
                    join_enterprise=None if wants_new else mode.cleaned_data["join_enterprise"],
                )
            except ServiceError as exc:  # e.g. the same code registered meanwhile: nothing was created
                messages.error(request, exc.message)
                return render(
                    request, "surveys/signup.html", {"account": account, "mode": mode, "enterprise": enterprise}
                )
            login(request, user, backend="surveys.auth_backends.MemberModelBackend")
            # Warnings to confirm were shown and confirmed before the account existed; notes (an area outside
            # Jinan) are said once, now.
            report = enterprise.uscc_report if wants_new else None
            if report is not None and not report.needs_confirmation:
                for warning in report.warnings:
                    messages.warning(request, warning)
            if wants_new:
                messages.success(request, _("注册成功。现在可以开始第一轮自评估。"))
            # A request to join: the home page shows that it awaits the owner's approval (said once, there).
            return redirect("surveys:home")
    return render(request, "surveys/signup.html", {"account": account, "mode": mode, "enterprise": enterprise})


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    found = services.invitation_find(token=token)
    if found is None:
        return render(request, "surveys/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        account = AccountForm(request.POST or None, prefix="account")
        if request.method == "POST" and account.is_valid():
            try:
                # One transaction: when the link was used meanwhile (two people at once), no account remains.
                with transaction.atomic():
                    user = services.account_signup(
                        username=account.cleaned_data["username"],
                        email=account.cleaned_data["email"],
                        password=account.cleaned_data["password1"],
                    )
                    services.invitation_accept(token=token, user=user)
            except ServiceError as exc:
                messages.error(request, exc.message)
                return redirect("surveys:home")
            login(request, user, backend="surveys.auth_backends.MemberModelBackend")
            messages.success(request, _("欢迎加入 %(name)s。") % {"name": found.enterprise.name})
            return redirect("surveys:firm")
        return render(request, "surveys/invitation.html", {"invitation": found, "account": account})
    if request.method == "POST":
        try:
            services.invitation_accept(token=token, user=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("surveys:home")
        messages.success(request, _("欢迎加入 %(name)s。") % {"name": found.enterprise.name})
        return redirect("surveys:firm")
    return render(request, "surveys/invitation.html", {"invitation": found})


# --- the firm ---------------------------------------------------------------------------------------


def _render_for_member(request, template: str, **context):
    """A page of the member's firm: the firm and the member's membership, plus the page's own context."""
    return render(
        request, template, {"enterprise": request.membership.enterprise, "membership": request.membership, **context}
    )


@enterprise_member_required
def firm(request):
    enterprise = request.membership.enterprise
    return _render_for_member(
        request,
        "surveys/firm.html",
        rounds=selectors.assessment_list_for_enterprise(enterprise=enterprise),
        draft=selectors.assessment_draft(enterprise=enterprise),
        start_form=RoundStartForm(),
        questionnaire=selectors.questionnaire_current(),
    )


@enterprise_member_required
@require_http_methods(["GET", "POST"])
def firm_profile(request):
    enterprise = request.membership.enterprise
    can_edit = request.membership.is_owner
    if request.method == "POST" and not can_edit:
        messages.error(request, _("只有企业负责人可以修改企业信息。"))
        return redirect("surveys:profile")
    form = EnterpriseForm(request.POST or None, instance=enterprise, prefix="firm")
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_update(user=request.user, enterprise=enterprise, data=form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("surveys:profile")
        messages.success(request, _("企业信息已保存。"))
        return redirect("surveys:firm")
    report = services.uscc_report(enterprise.uscc)
    return render(
        request,
        "surveys/profile.html",
        {
            "form": form,
            "enterprise": enterprise,
            "can_edit": can_edit,
            "uscc_warnings": report.warnings if report.needs_confirmation else [],
        },
    )


@enterprise_member_required
@require_http_methods(["GET", "POST"])
def firm_profile_uscc(request):
    """The owner corrects a mistyped code (members are told who can)."""
    enterprise = request.membership.enterprise
    if not request.membership.is_owner:
        messages.error(request, _("只有本企业负责人或市级管理员可以更正此代码。如代码有误，请联系本企业的负责人。"))
        return redirect("surveys:profile")
    return uscc_correction_page(request, enterprise, back_url=reverse("surveys:profile"))


def uscc_correction_page(request, enterprise, *, back_url: str, **context):
    """The code-correction form for the firm's owner and for an administrator (surveys.manage.views): on a
    valid correction back to ``back_url`` with a message, else the form with its errors."""
    form = UsccCorrectionForm(
        request.POST if request.method == "POST" else None, enterprise=enterprise, prefix="correct"
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_uscc_correct(
                user=request.user, enterprise=enterprise, uscc_raw=form.cleaned_data["uscc"], request=request
            )
        except ServiceError as exc:
            form.add_error("uscc", exc.message)
        else:
            messages.success(request, _("统一社会信用代码已更正为 %(code)s。") % {"code": form.cleaned_data["uscc"]})
            return redirect(back_url)
    context = {"form": form, "enterprise": enterprise, "back_url": back_url, "manage": False, **context}
    return render(request, "surveys/uscc_correct.html", context)


@enterprise_member_required
@require_http_methods(["GET", "POST"])
def firm_members(request):
    enterprise = request.membership.enterprise
    invite_form = InviteForm(request.POST or None)
    invite_link = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "invite" and invite_form.is_valid():
                token = services.invitation_create(
                    owner=request.user, enterprise=enterprise, email=invite_form.cleaned_data["email"]
                )
                invite_link = request.build_absolute_uri(reverse("surveys:invitation", args=[token]))
                messages.success(request, _("邀请链接已生成，7天内有效，只能使用一次。"))
            elif action in {"approve", "remove"}:
                member = get_object_or_404(
                    Membership, id=_object_id(request.POST.get("membership")), enterprise=enterprise
                )
                if action == "approve":
                    services.membership_approve(owner=request.user, membership=member)
                    messages.success(request, _("已批准 %(user)s 加入。") % {"user": member.user.username})
                else:
                    services.membership_remove(owner=request.user, membership=member)
                    messages.success(request, _("已移除 %(user)s。") % {"user": member.user.username})
                return redirect("surveys:members")
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("surveys:members")
    return _render_for_member(
        request,
        "surveys/members.html",
        members=selectors.enterprise_members(enterprise=enterprise),
        invite_form=invite_form,
        invite_link=invite_link,
    )


@enterprise_member_required
@require_POST
def round_start(request):
    form = RoundStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("轮次名称无效。"))
        return redirect("surveys:firm")
    try:
        assessment = services.assessment_start(
            enterprise=request.membership.enterprise, user=request.user, label=form.cleaned_data["label"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("surveys:firm")
    return redirect("surveys:page", pk=assessment.pk, number=assessment.last_page)


# --- the questionnaire ------------------------------------------------------------------------------


@enterprise_member_required
def assessment_resume(request, pk: int):
    assessment = _member_assessment(request, pk)
    if assessment.is_draft:
        return redirect("surveys:page", pk=pk, number=assessment.last_page)
    return redirect("surveys:results", pk=pk)


def _page_context(assessment, page, *, posted=None, conflicts=None, field_errors=None):
    """Rows for the template: what to show as chosen (the user's posted input wins over the stored answer,
    so nothing typed is lost on a conflict), and the revision the next save is based on."""
    conflicts = conflicts or {}
    field_errors = field_errors or {}
    rows = []
    for view in page.items:
        code = view.item.code
        if posted is not None:
            selected = posted.get(f"answer-{code}", "")
            note = posted.get(f"note-{code}", "")
        else:
            selected = "" if view.value is None else str(view.value)
            note = view.note
        conflict = conflicts.get(code)
        rows.append(
            {
                "view": view,
                "options": [(option, selected == str(option.score)) for option in view.options],
                "selected": selected,
                "note": note,
                # After a conflict the form is based on the colleague's revision: saving again is a
                # deliberate overwrite, not a silent one.
                "revision": conflict.revision if conflict else view.revision,
                "conflict": conflict,
                # Quoted inside a sentence: without its own full stop.
                "theirs_label": without_final_stop(
                    selectors.answer_label(view.item, {o.score: o for o in view.options}, conflict.theirs_value)
                )
                if conflict
                else "",
                "error": field_errors.get(code, ""),
            }
        )
    return {"assessment": assessment, "page": page, "rows": rows, "progress": page.progress}


@enterprise_member_required
@require_http_methods(["GET", "POST"])
def assessment_page(request, pk: int, number: int):
    assessment = _member_assessment(request, pk)
    if not assessment.is_draft:
        if request.method == "POST":
            messages.error(request, _("本轮评估已提交，答案不能再修改。"))
        return redirect("surveys:results", pk=pk)
    try:
        if request.method == "GET":
            page = selectors.assessment_page(assessment=assessment, number=number)
            return render(request, "surveys/page.html", _page_context(assessment, page))
        # A posted page is read against the questionnaire alone; the answers are read by the save.
        page = selectors.assessment_page_structure(assessment=assessment, number=number)
    except Dimension.DoesNotExist as exc:
        raise Http404 from exc

    try:
        changes, field_errors = page_changes(page, request.POST)
        if field_errors:
            page = selectors.assessment_page(assessment=assessment, number=number)
            return render(
                request,
                "surveys/page.html",
                _page_context(assessment, page, posted=request.POST, field_errors=field_errors),
                status=400,
            )
        outcome = services.answers_save(assessment=assessment, user=request.user, changes=changes, page=number)
    except InvalidAnswersError as exc:
        return error_page(request, 400, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("surveys:results", pk=pk)
    if not outcome.ok:
        if all(conflict.same_account for conflict in outcome.conflicts):
            messages.error(
                request,
                _("您在另一个标签页或窗口中修改了部分答案。本页的输入已保留，请对照下方提示决定后再保存。"),
            )
        else:
            messages.error(request, _("同事在您编辑期间修改了部分答案。您的输入已保留，请对照下方提示决定后再保存。"))
        page = selectors.assessment_page(assessment=assessment, number=number)
        return render(
            request,
            "surveys/page.html",
            _page_context(
                assessment,
                page,
                posted=request.POST,
                conflicts={c.item_code: c for c in outcome.conflicts},
            ),
            status=409,
        )
    return _after_page_save(request, pk, number, page.count)


def _after_page_save(request, pk: int, number: int, count: int):
    """Where the page's button leads once its answers are saved: the next or previous page, the review, or
    the same page again ("save")."""
    action = request.POST.get("action", "save")
    if action == "next" and number < count:
        return redirect("surveys:page", pk=pk, number=number + 1)
    if action == "previous" and number > 1:
        return redirect("surveys:page", pk=pk, number=number - 1)
    if action == "review" or (action == "next" and number == count):
        return redirect("surveys:review", pk=pk)
    messages.success(request, _("已保存。"))
    return redirect("surveys:page", pk=pk, number=number)


@json_endpoint("POST")
@enterprise_member_required
def assessment_autosave(request, pk: int):
    """One answer saved as the user clicks (JSON); the same version check as the page form."""
    assessment = _member_assessment(request, pk)
    try:
        payload = json.loads(request.body or b"{}")
        # The item and the note are text (or absent); anything else is a malformed request, not text to store.
        if not isinstance(payload, dict) or not isinstance(payload.get("item", ""), str):
            raise ValueError
        if not isinstance(payload.get("note") or "", str):
            raise ValueError
        value = payload.get("value")
        change = AnswerChange(
            item_code=payload.get("item", ""),
            value=parse_answer_value(None if value is None else str(value)),
            note=(payload.get("note") or "").strip(),
            base_revision=parse_revision(str(payload.get("revision", "0"))),
        )
        page = payload.get("page")
        page = int(page) if isinstance(page, int | str) and str(page).isascii() and str(page).isdigit() else None
        outcome = services.answers_save(assessment=assessment, user=request.user, changes=[change], page=page)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deeply
        return JsonResponse({"ok": False, "message": _("请求格式无效。")}, status=400)
    except InvalidAnswersError as exc:
        return JsonResponse({"ok": False, "message": str(exc.message)}, status=400)
    except ServiceError as exc:
        return JsonResponse({"ok": False, "message": str(exc.message)}, status=409)
    if not outcome.ok:
        conflict = outcome.conflicts[0]
        return JsonResponse(
            {
                "ok": False,
                "conflict": {
                    "item": conflict.item_code,
                    "value": conflict.theirs_value,
                    "note": conflict.theirs_note,
                    "revision": conflict.revision,
                    "by": conflict.updated_by,
                    "same_account": conflict.same_account,
                },
                "message": _conflict_message(conflict),
            },
            status=409,
        )
    return JsonResponse(
        {
            "ok": True,
            "item": change.item_code,
            "revision": outcome.revisions.get(change.item_code, 0),
            "answered": outcome.answered,
            "total": outcome.total,
        }
    )


def _conflict_message(conflict) -> str:
    """Autosave's conflict message: the same account in another tab is not "a colleague"."""
    if conflict.same_account:
        return _(
            "您刚刚在另一个标签页或窗口中修改了这道题。本页的选择尚未保存：请确认后再次选择，或刷新页面查看已保存的答案。"
        )
    return _("同事刚刚修改了这道题（%(by)s）。您的选择尚未保存：请确认后再次选择，或刷新页面查看对方的答案。") % {
        "by": conflict.updated_by or "-"
    }


@enterprise_member_required
@require_http_methods(["GET", "POST"])
def assessment_review(request, pk: int):
    assessment = _member_assessment(request, pk)
    if not assessment.is_draft:
        if request.method == "POST":
            messages.info(request, _("本轮评估已提交，以下是结果。"))
        return redirect("surveys:results", pk=pk)
    # Bound on every POST (a POST without the pledge's field must show the pledge's error).
    form = SubmitForm(
        request.POST if request.method == "POST" else None,
        questions=selectors.context_questions(questionnaire=assessment.questionnaire),
    )
    check = None
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_submit(
                assessment=assessment,
                user=request.user,
                pledge=form.cleaned_data["pledge"],
                context=form.cleaned_data["context"],
            )
        except TooManyUnknownAnswersError as exc:
            # The page itself says why, and lists the answers to find out: shown again with what was posted.
            check = exc.check
        except InvalidContextAnswersError as exc:  # the questions changed since the page was shown
            messages.error(request, exc.message)
        except ServiceError as exc:
            # Missing answers are listed by the review page itself: said once, there.
            if not selectors.assessment_progress(assessment=assessment).unanswered:
                messages.error(request, exc.message)
            return redirect("surveys:review", pk=pk)
        else:
            audit_event_record(
                request=request,
                action=AuditEvent.SUBMIT,
                target=f"assessment:{pk}",
                enterprise_id=assessment.enterprise_id,
            )
            messages.success(request, _("提交成功，评估结果已生成。"))
            return redirect("surveys:results", pk=pk)
    review = selectors.assessment_review(assessment=assessment, check=check)
    return render(
        request,
        "surveys/review.html",
        {
            "assessment": assessment,
            "progress": review.progress,
            "unknowns": review.unknowns,
            "refused": check is not None,
            "form": form,
        },
    )


# --- results ----------------------------------------------------------------------------------------


@enterprise_member_required
def assessment_results(request, pk: int):
    assessment = _member_assessment(request, pk)
    if assessment.is_draft:
        return redirect("surveys:page", pk=pk, number=assessment.last_page)
    report = report_or_404(assessment, language=get_language() or "zh-hans")
    audit_event_record(
        request=request, action=AuditEvent.VIEW, target=f"assessment:{pk}", enterprise_id=assessment.enterprise_id
    )
    return render(request, "surveys/results.html", {"report": report, "charts": _chart_images(report)})


def _chart_images(report: selectors.AssessmentReport) -> dict[str, object]:
    """The report's radar and bars as data: URIs (``radar``, ``bars``) with their sizes (``radar_size``,
    ``bars_size``: width, height), drawn by the same code as the PDF's in the web's variant (legible on a
    phone: surveys/reports/charts.py ``web_chart_drawings``)."""
    import base64

    drawings = web_chart_drawings(report)
    images: dict[str, object] = {}
    for kind in ("radar", "bars"):
        svg = drawing_to_svg(drawings[kind], id_prefix=f"{kind}{report.assessment_id}")
        images[kind] = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        images[f"{kind}_size"] = (round(drawings[kind].width), round(drawings[kind].height))
    return images


@enterprise_member_required
@require_GET
def assessment_report(request, pk: int):
    assessment = _member_assessment(request, pk)
    filename, mimetype, data = render_assessment_pdf(report_or_404(assessment, language=get_language() or "zh-hans"))
    audit_event_record(
        request=request, action=AuditEvent.DOWNLOAD, target=f"report:{pk}", enterprise_id=assessment.enterprise_id
    )
    return attachment(data, filename=filename, content_type=mimetype)
