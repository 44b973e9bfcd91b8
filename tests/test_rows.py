"""The firm path's two reads written as SQL once (surveys/selectors/rows.py): the same instances as the ORM's."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.models import Assessment, Membership
from surveys.selectors.rows import assessment_of_enterprise, user_with_membership

from .model_factories import AssessmentFactory, EnterpriseFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def field_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_a_member_is_read_with_membership_and_firm_in_one_query_as_the_orm_reads_them():
    membership = MembershipFactory(status=Membership.STATUS_PENDING, enterprise__name="济南 <b>测试</b>")
    expected = type(membership.user).objects.select_related("membership__enterprise").get(pk=membership.user_id)
    with CaptureQueriesContext(connection) as queries:
        user = user_with_membership(membership.user_id)
        assert user is not None
        assert user.membership.status == Membership.STATUS_PENDING
        assert user.membership.enterprise.name == "济南 <b>测试</b>"
        assert user.membership.user is user
    assert len(queries.captured_queries) == 1
    assert field_values(user) == field_values(expected)
    assert field_values(user.membership) == field_values(expected.membership)
    assert field_values(user.membership.enterprise) == field_values(expected.membership.enterprise)
    assert not user._state.adding and user._state.db == "default"


def test_a_user_without_membership_has_none_cached_and_an_unknown_id_gives_none():
    user_id = UserFactory().pk
    with CaptureQueriesContext(connection) as queries:
        user = user_with_membership(user_id)
        assert user is not None and user.pk == user_id
        with pytest.raises(Membership.DoesNotExist):
            user.membership  # noqa: B018 (the cached absence, not a query)
    assert len(queries.captured_queries) == 1
    assert user_with_membership(user_id + 1000) is None
    assert user_with_membership("not a number") is None


def test_a_round_is_read_with_its_questionnaire_only_for_its_own_firm():
    mine, other = EnterpriseFactory(), EnterpriseFactory()
    assessment = AssessmentFactory(enterprise=mine, label="2026 上半年")
    expected = Assessment.objects.select_related("questionnaire").get(pk=assessment.pk)
    with CaptureQueriesContext(connection) as queries:
        found = assessment_of_enterprise(assessment_id=assessment.pk, enterprise=mine)
        assert found.enterprise is mine
        assert found.questionnaire.version == expected.questionnaire.version
    assert len(queries.captured_queries) == 1
    assert field_values(found) == field_values(expected)
    assert field_values(found.questionnaire) == field_values(expected.questionnaire)
    assert found.created_at.tzinfo is not None  # converted as the ORM converts (SQLite stores text)
    with pytest.raises(Assessment.DoesNotExist):
        assessment_of_enterprise(assessment_id=assessment.pk, enterprise=other)
    with pytest.raises(Assessment.DoesNotExist):  # an id from the URL beyond any round's: none, not an error
        assessment_of_enterprise(assessment_id=10**20, enterprise=mine)
