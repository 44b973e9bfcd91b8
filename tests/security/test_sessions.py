"""Session lifecycle: new key at login, logout ends it, 30-minute idle and 12-hour absolute limits."""

import time

import pytest
from django.urls import reverse

from surveys.middleware import SESSION_SEEN, SESSION_STARTED

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def login(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def age_session(client, *, started_ago: int, seen_ago: int):
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED] = now - started_ago
    session[SESSION_SEEN] = now - seen_ago
    session.save()


def is_logged_in(client) -> bool:
    return client.get(reverse("surveys:firm")).status_code == 200


def test_login_issues_a_new_session_key(client, owner):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    assert login(client, owner).status_code == 302
    assert client.session.session_key != before


def test_logout_really_ends_the_session(client, owner):
    login(client, owner)
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = cookie  # replay the old cookie
    assert not is_logged_in(client)


@pytest.mark.parametrize(("idle", "alive"), [(30 * 60 - 60, True), (30 * 60 + 60, False)])
def test_idle_timeout_is_30_minutes(client, owner, idle, alive):
    login(client, owner)
    age_session(client, started_ago=idle, seen_ago=idle)
    assert is_logged_in(client) is alive


@pytest.mark.parametrize(("age", "alive"), [(12 * 3600 - 60, True), (12 * 3600 + 60, False)])
def test_absolute_timeout_is_12_hours_even_when_active(client, owner, age, alive):
    login(client, owner)
    age_session(client, started_ago=age, seen_ago=5)
    assert is_logged_in(client) is alive


def test_activity_keeps_the_session_alive(client, owner):
    login(client, owner)
    age_session(client, started_ago=3600, seen_ago=29 * 60)
    assert is_logged_in(client)
    assert int(time.time()) - client.session[SESSION_SEEN] < 5  # the visit was recorded
