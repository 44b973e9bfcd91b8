"""Login throttling with django-axes: 5 failures in 15 minutes lock, and the lock reveals nothing."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from surveys.auth_views import LOGIN_FAILED

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def attempt(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_failures_lock_the_account_with_the_ordinary_failure_message(client, owner):
    failures = [attempt(client, owner.username, "wrong-password") for _ in range(5)]
    assert all(r.status_code == 200 for r in failures)
    locked = attempt(client, owner.username, PASSWORD)
    assert locked.status_code == 200
    assert str(LOGIN_FAILED) in locked.content.decode()
    # Identical to a wrong password for a user that does not exist: the lock reveals nothing.
    unknown = attempt(client.__class__(), "nobody-at-all", "wrong-password")
    assert unknown.status_code == locked.status_code
    assert str(LOGIN_FAILED) in unknown.content.decode()
    assert "_auth_user_id" not in client.session
    print(f"figure: locked after {len(failures)} failures; locked response = failed-login response")


def test_four_failures_do_not_lock(client, owner):
    for _ in range(4):
        attempt(client, owner.username, "wrong-password")
    assert attempt(client, owner.username, PASSWORD).status_code == 302


def test_the_lock_lifts_after_15_minutes(client, owner):
    for _ in range(5):
        attempt(client, owner.username, "wrong-password")
    assert attempt(client, owner.username, PASSWORD).status_code == 200
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, owner.username, PASSWORD).status_code == 302


def test_an_over_long_username_is_an_ordinary_failed_login(client):
    response = attempt(client, "x" * 100_000, "wrong-password")
    assert response.status_code == 200
    assert str(LOGIN_FAILED) in response.content.decode()
