"""Fixtures for the administrators' side: roles, administrators, and datasets built with the services.

``demo_firms`` seeds 300 realistic firms with surveys.demo.seed_demo (the same generator as make run);
``small_city`` builds a handful of firms through the real services, so that suppression can be tested with
exact group sizes.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from surveys import demo, services
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT
from tests.model_factories import EnterpriseFactory, MembershipFactory, UserFactory
from tests.reports.conftest import realistic_answers, submit_round

DEMO_FIRMS = 300
# Licheng and Zhangqiu: the two largest districts of the demo data.
DISTRICT_SCOPE = ("370112", "370114")


@pytest.fixture(autouse=True)
def _no_dashboard_cache(settings):
    """Figures are computed afresh in every test (test_cache.py turns the cache on where it tests it)."""
    from django.core.cache import cache

    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db):
    return services.administrator_roles_ensure()


def make_admin(role: str, districts=(), *, contacts: bool = True, export: bool = True):
    user = UserFactory()
    services.administrator_grant(user=user, role=role, districts=list(districts))
    if not contacts or not export:
        # A narrower administrator: the role's group, minus the named permissions given one by one.
        group_permissions = list(user.groups.get().permissions.all())
        user.groups.clear()
        for permission in group_permissions:
            if (permission.codename == "view_contact_details" and not contacts) or (
                permission.codename == "export_results" and not export
            ):
                continue
            user.user_permissions.add(permission)
    return type(user).objects.get(pk=user.pk)  # fresh object: no cached permissions


@pytest.fixture
def city_admin(questionnaire, roles):
    return make_admin(ROLE_CITY)


@pytest.fixture
def district_admin(questionnaire, roles):
    return make_admin(ROLE_DISTRICT, DISTRICT_SCOPE)


@pytest.fixture
def superuser(questionnaire):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def firm_user(questionnaire):
    """An active owner of a firm (and nothing else)."""
    return MembershipFactory(enterprise__district=DISTRICT_SCOPE[0]).user


@pytest.fixture
def demo_firms(questionnaire):
    return demo.seed_demo(firms=DEMO_FIRMS, questionnaire=questionnaire, seed=11)


def submitted_firm(questionnaire, *, district: str, seed: int = 0, label: str = "", notes=None, **enterprise_fields):
    enterprise = EnterpriseFactory(district=district, **enterprise_fields)
    user = MembershipFactory(enterprise=enterprise).user
    assessment = submit_round(
        enterprise=enterprise,
        user=user,
        answers=realistic_answers(questionnaire, seed=seed),
        notes=notes,
        label=label,
    )
    return enterprise, assessment


@pytest.fixture
def small_city(questionnaire):
    """12 submitted firms in Licheng (370112), 3 in Lixia (370102), 11 in Huaiyin (370104)."""
    firms = {}
    for n, (district, count) in enumerate((("370112", 12), ("370102", 3), ("370104", 11))):
        firms[district] = [submitted_firm(questionnaire, district=district, seed=n * 20 + k)[0] for k in range(count)]
    return firms


def permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename, content_type__app_label="surveys")
