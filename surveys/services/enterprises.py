"""Writes of enterprises (firms), accounts, memberships and invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import selectors, uscc
from ..audit.models import AuditEvent
from ..audit.services import audit_event_record
from ..models import (
    Enterprise,
    Invitation,
    Membership,
)
from ..text import clean_user_text, join_list
from .errors import ServiceError
from .summaries import summaries_enterprise_add, summaries_enterprise_lock, summaries_enterprise_remove

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

INVITATION_DAYS = 7

# --- the USCC: messages in the user's language for surveys.uscc's rules ------------------------------

USCC_ERRORS = {
    uscc.ERR_CHARACTERS: gettext_lazy(
        "统一社会信用代码含有不允许的字符：%(chars)s。代码只使用数字和除 I、O、S、V、Z 以外的大写字母，"
        "请核对（例如字母 O 与数字 0）。"
    ),
    uscc.ERR_AREA_DIGITS: gettext_lazy("统一社会信用代码第3–8位（登记机关行政区划码）必须全部是数字。"),
    uscc.ERR_CHECK: gettext_lazy("统一社会信用代码第18位校验码不正确，请逐位核对营业执照上的代码。"),
}
USCC_TOO_SHORT = gettext_lazy("统一社会信用代码应为18位，去掉空格和分隔符后只有 %(length)d 位。请核对是否漏输了字符。")
USCC_TOO_LONG = gettext_lazy(
    "统一社会信用代码应为18位，去掉空格和分隔符后有 %(length)d 位，多了 %(extra)d 位。请核对是否多输入或多粘贴了字符。"
)
USCC_WARNINGS = {
    uscc.WARN_PREFIX: gettext_lazy(
        "代码前两位“%(prefix)s”不是企业的登记类型（企业的代码以“91”开头）。本评估面向企业，请核对代码和主体类型。"
    ),
    uscc.WARN_INDIVIDUAL: gettext_lazy(
        "代码前两位“92”表示个体工商户。本评估面向企业（企业的代码以“91”开头），请核对代码和主体类型。"
    ),
    uscc.WARN_COOPERATIVE: gettext_lazy(
        "代码前两位“93”表示农民专业合作社。本评估面向企业（企业的代码以“91”开头），请核对代码和主体类型。"
    ),
    uscc.WARN_AREA: gettext_lazy("代码中的登记机关不在济南市（3701/3712），已按在济经营企业接受。"),
    uscc.WARN_ORG_CHECK: gettext_lazy("代码第17位（组织机构代码校验位）与规则不符，请再核对一次。"),
}
USCC_TAKEN = gettext_lazy(
    "该统一社会信用代码的企业已注册。如您是该企业员工，请选择“申请加入已注册企业”，由企业负责人审批。"
)


@dataclass(frozen=True)
class UsccReport:
    """A code as the user entered it, checked: the normalised code and the messages in the user's language."""

    code: str
    errors: list[str]
    warnings: list[str]
    needs_confirmation: bool  # valid, with a warning the user confirms before the code is registered


def uscc_report(raw: str) -> UsccReport:
    """surveys.uscc's check of ``raw`` (normalised first, never cut) with its messages."""
    result = uscc.validate(raw)
    errors = []
    for error in result.errors:
        if error == uscc.ERR_LENGTH:
            length = len(result.code)
            message = USCC_TOO_LONG if length > uscc.LENGTH else USCC_TOO_SHORT
            errors.append(str(message) % {"length": length, "extra": length - uscc.LENGTH})
        else:
            errors.append(str(USCC_ERRORS[error]) % {"chars": join_list(result.bad_characters) or "-"})
    warnings = [str(USCC_WARNINGS[w]) % {"prefix": result.code[:2]} for w in result.warnings]
    return UsccReport(result.code, errors, warnings, result.needs_confirmation)


def _valid_uscc(raw: str) -> str:
    """The normalised code, or a ServiceError naming the first rule it breaks."""
    report = uscc_report(raw)
    if report.errors:
        raise ServiceError(report.errors[0])
    return report.code


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# The firm's fields that people type: stored as text.clean_user_text() leaves them, whoever calls.
_TYPED_FIELDS = ("name", "contact_name")
# The firm's fields the summary tables keep its rounds apart by.
SUMMARY_FIELDS = ("district", "industry", "size_class", "leading_chain")


def _cleaned_names(data: dict[str, Any]) -> dict[str, Any]:
    return {key: clean_user_text(value) if key in _TYPED_FIELDS else value for key, value in data.items()}


@transaction.atomic
def enterprise_register(*, user: User, enterprise_data: dict[str, Any]) -> Enterprise:
    """A new firm, with the signing-up user as its owner."""
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    # The code is checked here as well as in the form: every caller registers a valid, normalised code.
    code = _valid_uscc(str(enterprise_data.get("uscc") or ""))
    if Enterprise.objects.filter(uscc=code).exists():
        raise ServiceError(str(USCC_TAKEN))
    enterprise = Enterprise(**{**_cleaned_names(enterprise_data), "uscc": code})
    enterprise.full_clean()
    try:
        with transaction.atomic():  # a firm registered with the same code meanwhile: the message, not a 500
            enterprise.save()
    except IntegrityError as exc:
        raise ServiceError(str(USCC_TAKEN)) from exc
    Membership.objects.create(user=user, enterprise=enterprise, role=Membership.ROLE_OWNER)
    summaries_enterprise_add(enterprise_ids=[enterprise.pk], rounds=False)  # a registered firm, no round yet
    return enterprise


@transaction.atomic
def account_signup(
    *,
    username: str,
    email: str,
    password: str,
    enterprise_data: dict[str, Any] | None = None,
    join_enterprise: Enterprise | None = None,
) -> User:
    """Create the user and either a new firm (owner) or a pending request to join one, all or nothing."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    if enterprise_data is not None:
        enterprise_register(user=user, enterprise_data=enterprise_data)
    elif join_enterprise is not None:
        membership_request(user=user, enterprise=join_enterprise)
    return user


@transaction.atomic
def enterprise_update(*, user: User, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    """Change the firm's registered details: only its owner may (members read them)."""
    _require_owner(user, enterprise, message=_("只有企业负责人可以修改企业信息。"))
    if "uscc" in data and uscc.normalize(str(data["uscc"] or "")) != enterprise.uscc:
        # The code changes only through enterprise_uscc_correct: checked, and recorded in the audit log.
        raise ServiceError(_("统一社会信用代码不能在此修改，请使用“更正统一社会信用代码”。"))
    data = {key: value for key, value in _cleaned_names(data).items() if key != "uscc"}
    # The summaries count the firm's rounds under its district, industry, size and chain: a change of any takes
    # them out of the old cells and into the new ones, the firm's rounds locked so no submission slips between.
    stored = summaries_enterprise_lock(enterprise_id=enterprise.pk)
    moves = any(key in SUMMARY_FIELDS and value != getattr(stored, key) for key, value in data.items())
    if moves:
        summaries_enterprise_remove(enterprise_ids=[enterprise.pk])
    for key, value in data.items():
        setattr(enterprise, key, value)
    enterprise.full_clean()
    enterprise.save()
    if moves:
        summaries_enterprise_add(enterprise_ids=[enterprise.pk])
    return enterprise


@transaction.atomic
def enterprise_uscc_correct(
    *, user: User, enterprise: Enterprise, uscc_raw: str, request: HttpRequest | None = None
) -> Enterprise:
    """Correct a mistyped USCC: the firm's owner or a city-wide administrator, a valid code that no other
    firm uses; recorded in the audit log (old and new code) in the same transaction.

    ``request`` only gives the audit record its address."""
    role = selectors.uscc_corrector(user=user, enterprise=enterprise)
    if role is None:
        raise ServiceError(_("只有企业负责人或市级管理员可以更正统一社会信用代码。"))
    enterprise = summaries_enterprise_lock(enterprise_id=enterprise.pk)
    code = _valid_uscc(uscc_raw)
    old = enterprise.uscc
    if code == old:
        raise ServiceError(_("新代码与当前代码相同，无需更正。"))
    taken = _("该统一社会信用代码已被另一家已注册企业使用，不能更正为此代码。")
    if Enterprise.objects.filter(uscc=code).exclude(pk=enterprise.pk).exists():
        raise ServiceError(taken)
    # The sectors the summaries count the firm under come from the register row with its USCC.
    summaries_enterprise_remove(enterprise_ids=[enterprise.pk], sectors_only=True)
    enterprise.uscc = code
    try:
        with transaction.atomic():
            enterprise.save(update_fields=["uscc"])
    except IntegrityError as exc:
        raise ServiceError(taken) from exc
    summaries_enterprise_add(enterprise_ids=[enterprise.pk], sectors_only=True)
    detail: dict[str, Any] = {"uscc_old": old, "uscc_new": code}
    if role == "administrator":
        detail["side"] = "manage"
    audit_event_record(
        request=request,
        user=user,
        action=AuditEvent.CORRECT,
        target=f"enterprise:{enterprise.pk}",
        enterprise_id=enterprise.pk,
        detail=detail,
    )
    return enterprise


@transaction.atomic
def membership_request(*, user: User, enterprise: Enterprise) -> Membership:
    """Ask to join an existing firm; the owner approves."""
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    return Membership.objects.create(
        user=user, enterprise=enterprise, role=Membership.ROLE_MEMBER, status=Membership.STATUS_PENDING
    )


def _require_owner(owner: User, enterprise: Enterprise, *, message: str | None = None) -> None:
    membership = getattr(owner, "membership", None)
    if membership is None or membership.enterprise_id != enterprise.id or not membership.is_owner:
        raise ServiceError(message or _("只有企业负责人可以管理成员。"))


@transaction.atomic
def membership_approve(*, owner: User, membership: Membership) -> Membership:
    _require_owner(owner, membership.enterprise)
    membership.status = Membership.STATUS_ACTIVE
    membership.save(update_fields=["status"])
    return membership


@transaction.atomic
def membership_remove(*, owner: User, membership: Membership) -> None:
    _require_owner(owner, membership.enterprise)
    if membership.user_id == owner.id:
        raise ServiceError(_("负责人不能移除自己。"))
    membership.delete()


@transaction.atomic
def invitation_create(*, owner: User, enterprise: Enterprise, email: str = "") -> str:
    """A one-time link token; only its hash is stored. Returns the raw token for the link."""
    _require_owner(owner, enterprise)
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        enterprise=enterprise,
        token_hash=_token_hash(token),
        email=email,
        created_by=owner,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    return token


def invitation_find(*, token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("enterprise").filter(token_hash=_token_hash(token)).first()
    if invitation is None or invitation.used_at is not None or invitation.expires_at < timezone.now():
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("enterprise")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at < timezone.now():
        raise ServiceError(_("邀请链接无效、已使用或已过期。请向企业负责人索取新的链接。"))
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    invitation.used_at = timezone.now()
    invitation.used_by = user
    invitation.save(update_fields=["used_at", "used_by"])
    return Membership.objects.create(user=user, enterprise=invitation.enterprise, role=Membership.ROLE_MEMBER)
