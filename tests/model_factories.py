"""factory_boy factories for the models (test data is built, never loaded from dumps)."""

import factory
from django.contrib.auth import get_user_model

from surveys.models import Assessment, Enterprise, Membership, Questionnaire
from surveys.seeding import normalize_definition
from surveys.services import questionnaire_upsert

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

    name = factory.Sequence(lambda n: f"济南测试制造有限公司{n}")
    uscc = factory.Sequence(_uscc)
    district = "370112"
    industry = "C34"
    size_class = "medium"
    leading_chain = "EQUIP"
    contact_name = "张三"
    contact_phone = "0531-88888888"


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

    enterprise = factory.SubFactory(EnterpriseFactory)
    questionnaire = factory.LazyFunction(questionnaire)
    label = factory.Sequence(lambda n: f"2026 T{n}")
