"""Writes of administrator roles and scopes (city or districts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from .errors import ServiceError

if TYPE_CHECKING:
    from django.contrib.auth.models import Group, User

    from ..models import AdministratorScope


@transaction.atomic
def administrator_roles_ensure() -> dict[str, Group]:
    """Create (or repair) the two administrator groups with their permissions; idempotent.

    Returns {role: Group}. The permissions are listed in surveys/scopes.py (ROLE_PERMISSIONS).
    """
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from ..audit.models import AuditEvent
    from ..models import AdministratorScope
    from ..scopes import ROLE_GROUPS, ROLE_PERMISSIONS

    # Normally created by migrate's post_migrate signal; made here too so that the command also works on a
    # database migrated before a permission was added.
    declared = {}
    for model in (AdministratorScope, AuditEvent):
        content_type = ContentType.objects.get_for_model(model)
        for codename, name in model._meta.permissions:
            declared[f"{model._meta.app_label}.{codename}"] = (content_type, codename, name)
    by_name = {}
    for full_name in sorted({name for names in ROLE_PERMISSIONS.values() for name in names}):
        content_type, codename, name = declared[full_name]
        by_name[full_name], _created = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    groups = {}
    for role, group_name in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        group.permissions.set([by_name[name] for name in ROLE_PERMISSIONS[role]])
        groups[role] = group
    return groups


@transaction.atomic
def administrator_grant(*, user: User, role: str, districts: list[str] | tuple[str, ...] = ()) -> AdministratorScope:
    """Make ``user`` a city (role "city") or district administrator (role "district", for ``districts``).

    A user holds one administrator role at a time: granting one removes the other.
    """
    from ..models import AdministratorScope
    from ..scopes import ROLE_CITY, ROLE_DISTRICT

    if role not in (ROLE_CITY, ROLE_DISTRICT):
        raise ServiceError(_("未知的管理员角色。"))
    if role == ROLE_DISTRICT and not districts:
        raise ServiceError(_("区县管理员至少需要一个负责区县。"))
    groups = administrator_roles_ensure()
    user.groups.remove(*groups.values())
    user.groups.add(groups[role])
    scope = AdministratorScope.objects.filter(user=user).first() or AdministratorScope(user=user)
    scope.districts = sorted(set(districts)) if role == ROLE_DISTRICT else []
    scope.full_clean()
    scope.save()
    # Django caches permissions on the user object; drop the cache so the new role applies at once.
    for attribute in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attribute, None)
    return scope


@transaction.atomic
def administrator_revoke(*, user: User) -> None:
    from ..models import AdministratorScope

    groups = administrator_roles_ensure()
    user.groups.remove(*groups.values())
    AdministratorScope.objects.filter(user=user).delete()
    for attribute in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attribute, None)
