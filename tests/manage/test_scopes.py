"""Roles and scopes (surveys/scopes.py), the role services and the setup_roles command."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from surveys import scopes, services
from surveys.models import AdministratorScope
from surveys.services import ServiceError
from tests.model_factories import EnterpriseFactory, UserFactory

from .conftest import DISTRICT_SCOPE, permission

pytestmark = pytest.mark.django_db


def test_who_is_an_administrator(roles, city_admin, district_admin, superuser, firm_user):
    assert scopes.administrator_scope(AnonymousUser()) is None
    assert scopes.administrator_scope(None) is None
    assert scopes.administrator_scope(firm_user) is None
    assert scopes.administrator_scope(UserFactory(is_staff=True)) is None
    city = scopes.administrator_scope(city_admin)
    assert city.all_districts and city.can_export and city.can_view_contacts
    district = scopes.administrator_scope(district_admin)
    assert not district.all_districts and district.districts == frozenset(DISTRICT_SCOPE)
    assert scopes.administrator_scope(superuser).all_districts
    district_admin.is_active = False
    assert scopes.administrator_scope(district_admin) is None


def test_scoped_querysets(roles, district_admin):
    inside = EnterpriseFactory(district=DISTRICT_SCOPE[1])
    outside = EnterpriseFactory(district="370124")
    scope = scopes.administrator_scope(district_admin)
    assert list(scopes.scoped_enterprises(scope)) == [inside]
    assert set(scopes.scoped_enterprises(scopes.AdminScope.city_wide())) == {inside, outside}
    assert scope.label == "历城区、章丘区"
    assert [code for code, _ in scope.district_choices] == list(DISTRICT_SCOPE)
    empty = scopes.AdminScope(all_districts=False, districts=frozenset(), can_view_contacts=False, can_export=False)
    assert not scopes.scoped_enterprises(empty).exists()
    assert not scopes.scoped_assessments(empty).exists()


def test_unknown_district_codes_are_refused_and_ignored(roles):
    user = UserFactory()
    with pytest.raises(ValidationError):
        services.administrator_grant(user=user, role=scopes.ROLE_DISTRICT, districts=["999999"])
    services.administrator_grant(user=user, role=scopes.ROLE_DISTRICT, districts=[DISTRICT_SCOPE[0]])
    AdministratorScope.objects.filter(user=user).update(districts=[DISTRICT_SCOPE[0], "999999", 7])
    user = type(user).objects.get(pk=user.pk)
    assert scopes.administrator_scope(user).districts == frozenset({DISTRICT_SCOPE[0]})


def test_grant_switches_roles_and_revoke_removes_them(roles):
    user = UserFactory()
    services.administrator_grant(user=user, role=scopes.ROLE_DISTRICT, districts=list(DISTRICT_SCOPE))
    assert not scopes.administrator_scope(user).all_districts
    services.administrator_grant(user=user, role=scopes.ROLE_CITY)
    assert scopes.administrator_scope(user).all_districts
    assert list(user.groups.values_list("name", flat=True)) == [scopes.ROLE_GROUPS[scopes.ROLE_CITY]]
    services.administrator_revoke(user=user)
    assert scopes.administrator_scope(user) is None
    with pytest.raises(ServiceError):
        services.administrator_grant(user=user, role=scopes.ROLE_DISTRICT, districts=[])
    with pytest.raises(ServiceError):
        services.administrator_grant(user=user, role="emperor")


def test_roles_ensure_is_idempotent_and_repairs_groups(roles):
    city = Group.objects.get(name=scopes.ROLE_GROUPS[scopes.ROLE_CITY])
    city.permissions.add(permission("view_district_firms"))
    city.permissions.remove(permission("export_results"))
    services.administrator_roles_ensure()
    services.administrator_roles_ensure()
    granted = [
        f"{app}.{codename}" for app, codename in city.permissions.values_list("content_type__app_label", "codename")
    ]
    assert sorted(granted) == sorted(scopes.ROLE_PERMISSIONS[scopes.ROLE_CITY])
    assert scopes.PERM_AUDIT in granted
    assert Group.objects.filter(name__in=scopes.ROLE_GROUPS.values()).count() == 2


def test_setup_roles_command(capsys, questionnaire):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    call_command("setup_roles", "--city", "alice", "--district", "bob", "--districts", "370112,370102")
    assert scopes.administrator_scope(type(alice).objects.get(pk=alice.pk)).all_districts
    assert scopes.administrator_scope(type(bob).objects.get(pk=bob.pk)).districts == {"370112", "370102"}
    call_command("setup_roles", "--revoke", "bob")
    assert scopes.administrator_scope(type(bob).objects.get(pk=bob.pk)) is None
    with pytest.raises(CommandError):
        call_command("setup_roles", "--district", "bob")
    with pytest.raises(CommandError):
        call_command("setup_roles", "--district", "bob", "--districts", "123")
    with pytest.raises(CommandError):
        call_command("setup_roles", "--city", "nobody")
    assert "市级管理员" in capsys.readouterr().out
