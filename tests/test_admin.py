"""Django admin: definitions are editable until a version is in use, then read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from surveys.models import Assessment, Item

from .model_factories import AssessmentFactory, questionnaire

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    client.force_login(user)
    return client


def test_an_unused_version_can_be_edited(admin_client):
    version = questionnaire("edit-me")
    item = Item.objects.filter(questionnaire=version).first()
    page = admin_client.get(reverse("admin:surveys_item_change", args=[item.pk]))
    assert page.status_code == 200
    assert 'name="_save"' in page.content.decode()


def test_a_version_in_use_is_read_only(admin_client):
    version = questionnaire("in-use")
    AssessmentFactory(questionnaire=version, status=Assessment.STATUS_SUBMITTED)
    item = Item.objects.filter(questionnaire=version).first()
    page = admin_client.get(reverse("admin:surveys_item_change", args=[item.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(reverse("admin:surveys_item_change", args=[item.pk]), {"text_zh": "改"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.text_zh != "改"
    listing = admin_client.get(reverse("admin:surveys_questionnaire_changelist")).content.decode()
    assert "in-use" in listing


def test_submitted_answers_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:surveys_assessment_add")).status_code == 403
