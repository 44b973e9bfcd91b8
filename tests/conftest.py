import pytest

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


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
