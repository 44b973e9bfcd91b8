import os

import pytest
from django.conf import settings as django_settings

from surveys import scoring
from surveys.seeding import normalize_definition

from . import factories

SEED_PATH = "seeds/questionnaire-2026.1.yaml"


@pytest.fixture
def definition_data():
    return normalize_definition(factories.definition_dict())


@pytest.fixture
def definition(definition_data):
    return scoring.Definition.from_dict(definition_data)


def pytest_configure():
    # WhiteNoise warns (an error here) when STATIC_ROOT does not exist; tests never collect static files.
    os.makedirs(django_settings.STATIC_ROOT, exist_ok=True)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test client speaks plain HTTP; production's HTTPS redirect and secure cookies are tested apart.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    # Templates resolve static URLs through the finders; nothing is collected in tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def questionnaire(db):
    """The real seed, loaded as a version."""
    from surveys.models import Questionnaire
    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    questionnaire_upsert(definition=read_definition(SEED_PATH))
    return Questionnaire.objects.get(version="2026.1")


@pytest.fixture
def owner(questionnaire):
    from .model_factories import MembershipFactory

    return MembershipFactory().user


@pytest.fixture
def enterprise(owner):
    return owner.membership.enterprise


@pytest.fixture
def colleague(enterprise):
    from surveys.models import Membership

    from .model_factories import MembershipFactory

    return MembershipFactory(enterprise=enterprise, role=Membership.ROLE_MEMBER).user


@pytest.fixture
def stranger(questionnaire):
    """An active owner of another firm."""
    from .model_factories import MembershipFactory

    return MembershipFactory().user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request in English (LocaleMiddleware) leaves its
    language active in the thread, which would otherwise leak into the next test."""
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)
