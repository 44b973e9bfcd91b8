"""Writes of enterprises (firms), accounts, memberships and invitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    Enterprise,
    Invitation,
    Membership,
)
from .errors import ServiceError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

INVITATION_DAYS = 7


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def enterprise_register(*, user: User, enterprise_data: dict[str, Any]) -> Enterprise:
    """A new firm, with the signing-up user as its owner."""
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    enterprise = Enterprise(**enterprise_data)
    enterprise.full_clean()
    enterprise.save()
    Membership.objects.create(user=user, enterprise=enterprise, role=Membership.ROLE_OWNER)
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
    for key, value in data.items():
        setattr(enterprise, key, value)
    enterprise.full_clean()
    enterprise.save()
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
