"""factory_boy factories for the models (test data is built, never loaded from dumps)."""

from io import StringIO

import factory
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command

from surveys.models import Assessment, Enterprise, Membership, Questionnaire, RegisterEntry
from surveys.seeding import normalize_definition
from surveys.services import questionnaire_upsert, summaries_enterprise_add, summaries_round_insert

from . import factories

VALID_USCC = ["91370100MA3C0A1B7D", "91370112MA3D2E4F1B", "91370171MA94KX7N9Q", "9137120016311845XF"]


def questionnaire(version: str = "test-1") -> Questionnaire:
    questionnaire_upsert(definition=normalize_definition(factories.definition_dict(version=version)))
    return Questionnaire.objects.get(version=version)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def _uscc(n: int) -> str:
    from surveys.uscc import with_check_character

    return with_check_character(f"9137010{n:010d}"[:17])


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"济南测试制造有限公司{n}")
    uscc = factory.Sequence(_uscc)
    district = "370112"
    industry = "C34"
    size_class = "medium"
    leading_chain = "EQUIP"
    contact_name = "张三"
    contact_phone = "0531-88888888"

    @factory.post_generation
    def _summaries(obj, create, extracted, **kwargs):
        # Made here, not by services.enterprise_register: counted among the registered firms as the service does.
        if create:
            summaries_enterprise_add(enterprise_ids=[obj.pk], rounds=False)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)
    role = Membership.ROLE_OWNER
    status = Membership.STATUS_ACTIVE


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    enterprise = factory.SubFactory(EnterpriseFactory)
    questionnaire = factory.LazyFunction(questionnaire)
    label = factory.Sequence(lambda n: f"2026 T{n}")

    @factory.post_generation
    def _summaries(obj, create, extracted, **kwargs):
        # A submitted round made here, not by assessment_submit: counted in the summaries as it is stored.
        if create and obj.status == Assessment.STATUS_SUBMITTED:
            summaries_round_insert(assessment=obj)


def run_command(*args) -> str:
    """A management command's standard output."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def seed_in_use(seed_path: str, tmp_path, change) -> tuple[Questionnaire, object]:
    """Load the seed file, submit a round on it (so the version is in use), and write a copy changed by
    ``change(data)`` next to ``tmp_path``: (the stored version, the changed file's path)."""
    run_command("load_questionnaire", seed_path)
    questionnaire = Questionnaire.objects.get(version="2026.1")
    AssessmentFactory(questionnaire=questionnaire, status=Assessment.STATUS_SUBMITTED)
    with open(seed_path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    change(data)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return questionnaire, path


def register_uscc(n: int, district: str = "370112") -> str:
    """A valid USCC (both check characters) of the business register, distinct for each ``n``."""
    from surveys.uscc import with_check_characters

    return with_check_characters(f"91{district}{n:08d}")


class RegisterEntryFactory(factory.django.DjangoModelFactory):
    """A row of the business register (pass ``uscc=enterprise.uscc`` to link it to a signed-up firm)."""

    class Meta:
        model = RegisterEntry

    uscc = factory.Sequence(lambda n: register_uscc(n + 1))
    name = factory.Sequence(lambda n: f"济南登记制造有限公司{n}")
    district = "370112"
    industry = "C34"
    size_class = "small"
    leading_chain = "EQUIP"
    sectors = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Made here, not by services.register_import: the summaries follow the new row as the import makes them.
        from surveys.services.register import register_change

        with register_change(usccs=[kwargs["uscc"]]):
            return super()._create(model_class, *args, **kwargs)
