"""Login throttling with django-axes: 5 failures in 15 minutes lock one account from one address, an address
failing against many accounts is refused for all of them, and neither lock reveals anything."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from surveys import services
from surveys.auth_views import LOGIN_FAILED

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.7"
ELSEWHERE = "192.0.2.10"


def attempt(client, username, password, address="127.0.0.1", **headers):
    data = {"username": username, "password": password}
    return client.post(reverse("login"), data, REMOTE_ADDR=address, **headers)


def logged_in(response) -> bool:
    return response.status_code == 302


def refused_neutrally(response) -> bool:
    """The page of an ordinary failed login: 200, the one failure message, nobody logged in."""
    return response.status_code == 200 and str(LOGIN_FAILED) in response.content.decode()


@pytest.fixture
def city_admin(db):
    user = get_user_model().objects.create_user(username="city-chief", password=PASSWORD)
    services.administrator_grant(user=user, role="city")
    return user


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


def test_an_attacker_cannot_lock_the_city_administrator_out_from_another_address(client, city_admin):
    for _ in range(12):
        assert refused_neutrally(attempt(client.__class__(), city_admin.username, "guess", ATTACKER))
    # The attacker's own address is locked for that account, even with the right password…
    assert refused_neutrally(attempt(client.__class__(), city_admin.username, PASSWORD, ATTACKER))
    # …but the administrator, from anywhere else, logs in.
    assert logged_in(attempt(client, city_admin.username, PASSWORD, ELSEWHERE))


def test_one_colleagues_failures_do_not_lock_the_shared_office_address(client, owner, colleague):
    for _ in range(8):
        attempt(client.__class__(), colleague.username, "typo", OFFICE)
    assert refused_neutrally(attempt(client.__class__(), colleague.username, PASSWORD, OFFICE))
    assert logged_in(attempt(client, owner.username, PASSWORD, OFFICE))


def test_an_address_failing_against_many_accounts_is_refused_for_every_account(client, owner, city_admin):
    limit = settings.JINAN_LOGIN_ADDRESS_ACCOUNT_LIMIT
    assert limit == 20  # the documented default (README "Logins and lockouts")
    # One guess each against limit - 1 accounts (most of them do not exist): not yet.
    for n in range(limit - 1):
        attempt(client.__class__(), f"sprayed-{n}", "Password1", ATTACKER)
    assert logged_in(attempt(client.__class__(), owner.username, PASSWORD, ATTACKER))
    # One more account: the address is refused, for the right password of any account too.
    attempt(client.__class__(), "sprayed-last", "Password1", ATTACKER)
    refused = attempt(client.__class__(), city_admin.username, PASSWORD, ATTACKER)
    assert refused_neutrally(refused)
    assert refused_neutrally(attempt(client.__class__(), owner.username, PASSWORD, ATTACKER))
    # Neutral: the same page as a wrong password for an account that does not exist, from a clean address.
    ordinary = attempt(client.__class__(), "nobody-at-all", "wrong-password", ELSEWHERE)
    assert ordinary.status_code == refused.status_code
    assert ordinary.templates[0].name == refused.templates[0].name
    # Other addresses are not affected, and the block lifts after the cool-off time.
    assert logged_in(attempt(client.__class__(), city_admin.username, PASSWORD, ELSEWHERE))
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert logged_in(attempt(client, owner.username, PASSWORD, ATTACKER))


def test_an_administrator_unlocks_an_account_with_axes_reset_username(client, owner):
    for _ in range(5):
        attempt(client.__class__(), owner.username, "wrong-password")
    assert refused_neutrally(attempt(client.__class__(), owner.username, PASSWORD))
    out = StringIO()
    call_command("axes_reset_username", owner.username, stdout=out)
    assert "attempts removed" in out.getvalue()
    assert logged_in(attempt(client, owner.username, PASSWORD))


def test_a_lock_is_logged_once_when_it_begins(client, owner, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(8):
        attempt(client.__class__(), owner.username, "wrong-password", OFFICE)
    locks = [r for r in caplog.records if r.name == "jinan.auth"]
    assert len(locks) == 1
    assert "scope=account+address" in locks[0].getMessage() and OFFICE in locks[0].getMessage()
    assert not [r for r in caplog.records if r.name.startswith("axes")]


def test_behind_the_proxy_the_address_counted_is_the_one_the_proxy_added(client, owner, settings):
    """nginx appends the real client address to X-Forwarded-For; what comes before it is the client's to choose,
    so varying it must not escape the lock, and clients behind the one proxy address are told apart."""
    settings.JINAN_BEHIND_PROXY = True
    proxy = "10.0.0.2"
    for n in range(5):
        attempt(client.__class__(), owner.username, "guess", proxy, HTTP_X_FORWARDED_FOR=f"198.18.0.{n}, {ATTACKER}")
    spoofed = f"198.18.0.99, {ATTACKER}"
    assert refused_neutrally(attempt(client.__class__(), owner.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=spoofed))
    assert logged_in(attempt(client, owner.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE))
