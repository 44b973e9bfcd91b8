"""Who is an administrator, and which firms they may see: the one place where that is decided.

Roles are Django groups holding permissions of the AdministratorScope model (created by
``python manage.py setup_roles``):

=================  ============================================================================
role (group)       permissions
=================  ============================================================================
市级管理员          view_all_firms, view_contact_details, export_results, audit.view_audit_log
区县管理员          view_district_firms, view_contact_details, export_results
superuser          all of them (Django grants a superuser every permission)
=================  ============================================================================

``view_all_firms`` sees every firm of the city; ``view_district_firms`` sees the firms of the districts
listed in the user's AdministratorScope row (none listed: nothing). ``view_contact_details`` shows contact
persons and phone numbers (personal information); ``export_results`` allows CSV/XLSX exports and PDFs;
``audit.view_audit_log`` (the audit app's permission) opens the audit log (/manage/audit/), which names
users and firms of every district and is therefore given to the city role only.

Every administrator query starts from :func:`scoped_enterprises` or :func:`scoped_assessments`; nothing
else filters by district for the purpose of access.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .choices import DISTRICTS
from .models import AdministratorScope, Assessment, Enterprise
from .text import join_list

PERM_ALL = "surveys.view_all_firms"
PERM_DISTRICT = "surveys.view_district_firms"
PERM_CONTACTS = "surveys.view_contact_details"
PERM_EXPORT = "surveys.export_results"
PERM_AUDIT = "audit.view_audit_log"

ROLE_CITY = "city"
ROLE_DISTRICT = "district"
# Group names as shown in Django's admin; codenames of AdministratorScope.Meta.permissions.
ROLE_GROUPS = {ROLE_CITY: "市级管理员", ROLE_DISTRICT: "区县管理员"}
# "app_label.codename", as user.has_perm takes them.
ROLE_PERMISSIONS = {
    ROLE_CITY: [PERM_ALL, PERM_CONTACTS, PERM_EXPORT, PERM_AUDIT],
    ROLE_DISTRICT: [PERM_DISTRICT, PERM_CONTACTS, PERM_EXPORT],
}

_KNOWN_DISTRICTS = {code for code, _label in DISTRICTS}


@dataclass(frozen=True)
class AdminScope:
    """What one administrator may see and do; built once per request by :func:`administrator_scope`."""

    all_districts: bool
    districts: frozenset[str]  # empty when all_districts
    can_view_contacts: bool
    can_export: bool
    can_read_audit_log: bool = False

    @classmethod
    def city_wide(cls, *, contacts: bool = False) -> AdminScope:
        """The operator's scope for management commands run on the server (export_results)."""
        return cls(all_districts=True, districts=frozenset(), can_view_contacts=contacts, can_export=True)

    def allows_district(self, code: str) -> bool:
        return self.all_districts or code in self.districts

    @property
    def district_choices(self) -> list[tuple[str, object]]:
        return [(code, label) for code, label in DISTRICTS if self.allows_district(code)]

    @property
    def label(self) -> str:
        if self.all_districts:
            return str(_("济南全市"))
        if not self.districts:
            return str(_("未分配区县"))
        return join_list(label for code, label in DISTRICTS if code in self.districts)


def administrator_scope(user) -> AdminScope | None:
    """The user's scope, or None when the user is no administrator (anonymous, firm users, inactive)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    contacts = user.has_perm(PERM_CONTACTS)
    export = user.has_perm(PERM_EXPORT)
    if user.has_perm(PERM_ALL):
        return AdminScope(
            all_districts=True,
            districts=frozenset(),
            can_view_contacts=contacts,
            can_export=export,
            # Only a city-wide administrator: the log is not filtered by district.
            can_read_audit_log=user.has_perm(PERM_AUDIT),
        )
    if user.has_perm(PERM_DISTRICT):
        row = AdministratorScope.objects.filter(user=user).first()
        listed = row.districts if row is not None and isinstance(row.districts, list) else []
        districts = frozenset(code for code in listed if code in _KNOWN_DISTRICTS)
        return AdminScope(all_districts=False, districts=districts, can_view_contacts=contacts, can_export=export)
    return None


def district_condition(scope: AdminScope, *, prefix: str = "") -> Q:
    """The scope as a condition on the district field reached through ``prefix`` (e.g. "enterprise__")."""
    if scope.all_districts:
        return Q()
    return Q(**{f"{prefix}district__in": sorted(scope.districts)})


def scoped_enterprises(scope: AdminScope) -> QuerySet[Enterprise]:
    """The firms the scope may see."""
    return Enterprise.objects.filter(district_condition(scope))


def scoped_assessments(scope: AdminScope) -> QuerySet[Assessment]:
    """Every round (drafts included) of the firms the scope may see."""
    return Assessment.objects.filter(district_condition(scope, prefix="enterprise__"))


# Whether the user administers anything, noted in the session at login: the navigation bar asks on every page,
# and for a firm's user the answer would otherwise cost two permission queries per page. Rights changed later
# show in the bar at the next login; the administrators' pages check the rights themselves on every request.
SESSION_ADMINISTRATOR = "jinan_administrator"


def remember_administrator(request, user) -> None:
    request.session[SESSION_ADMINISTRATOR] = administrator_scope(user) is not None


def shows_administration(request) -> bool:
    """The navigation offers the administrators' pages: as noted at login, else asked now."""
    session = getattr(request, "session", None)
    remembered = session.get(SESSION_ADMINISTRATOR) if session is not None else None
    if remembered is not None:
        return bool(remembered)
    return administrator_scope(getattr(request, "user", None)) is not None
