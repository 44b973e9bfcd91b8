import os
from dataclasses import dataclass

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


def pytest_configure(config):
    # WhiteNoise warns (an error here) when STATIC_ROOT does not exist; tests never collect static files.
    os.makedirs(django_settings.STATIC_ROOT, exist_ok=True)
    if not hasattr(config, "workerinput"):  # once, before any xdist worker starts
        _compile_stale_catalogues()


def _compile_stale_catalogues():
    """`make messages` for a bare `pytest`: the English tests need the compiled catalogues (.mo files are
    git-ignored), so any .po newer than its .mo, or without one, is compiled first."""
    import sys
    from pathlib import Path

    from django.core.management import CommandError, call_command

    stale = [
        po
        for base in django_settings.LOCALE_PATHS
        for po in Path(base).rglob("*.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    cwd = os.getcwd()
    os.chdir(django_settings.BASE_DIR)
    try:
        call_command(
            "compilemessages",
            ignore_patterns=[".venv", "var", "node_modules", ".git", "artifacts"],
            verbosity=0,
        )
    except CommandError as error:  # no msgfmt: the English tests will say what is missing
        sys.stderr.write(f"could not compile the translations ({error}); install gettext or run `make messages`\n")
    finally:
        os.chdir(cwd)


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


@pytest.fixture(autouse=True)
def _fresh_structures():
    """Each test reads questionnaire structures from its own rows: a version's id and stamp can recur from
    one test to the next (the seed is restored with the same ids and timestamps), its content need not."""
    from surveys.selectors import forget_structures

    forget_structures()


# --- the seed questionnaire, loaded once per process ---------------------------------------------------
#
# questionnaire_upsert writes the seed row by row (over a thousand queries, about half a second), and a
# hundred tests and most fixtures start from it. The first load in a process goes through the real
# service inside a savepoint; the rows it wrote are kept and the savepoint rolled back. Every load after
# that inserts the same rows (same ids) with one bulk insert per table and resets the tables' sequences, so
# each test still gets the seed exactly as the service writes it, in its own transaction.

SEED_VERSION = "2026.1"


@dataclass(frozen=True)
class _SeedRows:
    tables: list[tuple[type, list[dict]]]  # in insertion order (referenced tables first)


_seed_rows: _SeedRows | None = None


def _concrete_models() -> list:
    from django.apps import apps

    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]


def _insertion_order(models: list) -> list:
    """The models, each after the models its foreign keys point to (self-references aside)."""
    ordered: list = []
    pending = list(models)
    while pending:
        for model in pending:
            targets = {
                field.related_model
                for field in model._meta.concrete_fields
                if field.is_relation and field.related_model is not model
            }
            if not targets & set(pending):
                ordered.append(model)
                pending.remove(model)
                break
        else:  # a cycle: the foreign keys are deferred in the transaction anyway
            ordered.extend(pending)
            break
    return ordered


def _capture_seed_rows() -> _SeedRows:
    """Load the seed through questionnaire_upsert in a savepoint, note every row it added, roll back."""
    from django.db import transaction

    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    models = _concrete_models()
    with transaction.atomic():
        before = {model: set(model._default_manager.values_list("pk", flat=True)) for model in models}
        questionnaire_upsert(definition=read_definition(SEED_PATH))
        added = {}
        for model in models:
            pk = model._meta.pk.attname
            fields = [field.attname for field in model._meta.concrete_fields]
            rows = [row for row in model._default_manager.values(*fields) if row[pk] not in before[model]]
            if rows:
                added[model] = rows
        transaction.set_rollback(True)
    return _SeedRows([(model, added[model]) for model in _insertion_order(list(added))])


def _restore_seed_rows(seed: _SeedRows) -> bool:
    """Insert the captured rows; False (nothing written) when one of their ids is taken in this database."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    for model, rows in seed.tables:
        if model._default_manager.filter(pk__in=[row[model._meta.pk.attname] for row in rows]).exists():
            return False
    with transaction.atomic():
        for model, rows in seed.tables:
            model._default_manager.bulk_create([model(**row) for row in rows])
        # Explicit ids leave PostgreSQL's sequences behind; the next row of each table must follow them.
        statements = connection.ops.sequence_reset_sql(no_style(), [model for model, _ in seed.tables])
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
    return True


def load_seed():
    """The seed questionnaire (seeds/questionnaire-2026.1.yaml) in the database, as questionnaire_upsert
    writes it. Usable from any test or fixture with database access (transactional ones too)."""
    from surveys.models import Questionnaire
    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    global _seed_rows
    existing = Questionnaire.objects.filter(version=SEED_VERSION).first()
    if existing is not None:  # already loaded: the service itself says whether anything changes
        questionnaire_upsert(definition=read_definition(SEED_PATH))
        return Questionnaire.objects.get(version=SEED_VERSION)
    if _seed_rows is None:
        _seed_rows = _capture_seed_rows()
    if not _restore_seed_rows(_seed_rows):
        questionnaire_upsert(definition=read_definition(SEED_PATH))
    return Questionnaire.objects.get(version=SEED_VERSION)


@pytest.fixture
def questionnaire(db):
    """The real seed, loaded as a version."""
    return load_seed()


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


SEED_2026_2_PATH = "seeds/questionnaire-2026.2.yaml"


@pytest.fixture
def questionnaire_2026_2(questionnaire):
    """Questionnaire 2026.2 (rules version 2) loaded after 2026.1, so that it is the version new rounds use."""
    from surveys.models import Questionnaire
    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    definition = read_definition(SEED_2026_2_PATH)
    questionnaire_upsert(definition=definition)
    return Questionnaire.objects.get(version=definition["version"])
