"""Reads of enterprises (firms) and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from ..models import (
    Enterprise,
    Membership,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def membership_for_user(*, user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
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
