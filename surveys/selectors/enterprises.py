"""Reads of enterprises (firms) and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .. import scopes
from ..models import (
    Enterprise,
    Membership,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def membership_for_user(*, user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    if user.__class__.membership.is_cached(user):  # read with the user (surveys/auth_backends.py)
        return getattr(user, "membership", None)
    return Membership.objects.select_related("enterprise").filter(user=user).first()


def active_enterprise_for_user(*, user: User | AnonymousUser) -> Enterprise | None:
    membership = membership_for_user(user=user)
    if membership is None or not membership.is_active_member:
        return None
    return membership.enterprise


def enterprise_by_uscc(*, uscc: str) -> Enterprise | None:
    return Enterprise.objects.filter(uscc=uscc).first()


def enterprise_members(*, enterprise: Enterprise) -> QuerySet[Membership]:
    return Membership.objects.filter(enterprise=enterprise).select_related("user").order_by("status", "created_at")


def uscc_corrector(*, user: User, enterprise: Enterprise) -> str | None:
    """Who ``user`` is when correcting the firm's code: "owner" (its active owner), "administrator" (a
    city-wide administrator), or None (not allowed: members, district administrators, everyone else)."""
    membership = Membership.objects.filter(user=user, enterprise=enterprise).first()
    if membership is not None and membership.is_owner:  # an active owner
        return "owner"
    scope = scopes.administrator_scope(user)
    if scope is not None and scope.all_districts:
        return "administrator"
    return None
