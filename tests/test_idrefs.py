"""Every ``for``, ``aria-describedby``, ``aria-labelledby`` and ``aria-controls`` on the pages points at an
element of the page, forms with mistakes included (Django points a field's aria-describedby at
``<id>_helptext`` and ``<id>_error``, which a template rendering the field by hand must then provide).

The browser tests check the same with the Nu HTML checker (tests/e2e/nu.py) on the pages they visit; this
test runs without a browser or Java, on the states that are easiest to reach with the test client.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from surveys import services
from surveys.models import Item
from surveys.scopes import ROLE_CITY

from .model_factories import UserFactory

REFERENCES = {"for": False, "aria-describedby": True, "aria-labelledby": True, "aria-controls": True}


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name in REFERENCES and value is not None:
                for target in value.split() if REFERENCES[name] else [value]:
                    self.references.append((tag, name, target))


def dangling(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return [f'<{tag} {name}="{target}">' for tag, name, target in parser.references if target not in parser.ids]


def assert_no_dangling(response) -> None:
    assert response.status_code in {200, 400, 403, 404, 409}, response.status_code
    assert dangling(response.content.decode()) == [], response.request["PATH_INFO"]


def test_the_parser_finds_a_dangling_reference():
    html = '<label for="a">A</label><input id="a" aria-describedby="a_helptext a_error"><p id="a_error"></p>'
    assert dangling(html) == ['<input aria-describedby="a_helptext">']


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_anonymous_pages_and_forms_with_mistakes(client, questionnaire, language):
    client.cookies["django_language"] = language
    for path in ["/", reverse("surveys:signup"), reverse("login"), reverse("password_reset"), "/no-such-page/"]:
        assert_no_dangling(client.get(path))
    assert_no_dangling(client.post(reverse("surveys:signup"), {}))
    assert_no_dangling(client.post(reverse("surveys:signup"), {"uscc": " 9137-0100-MA3C0A1B7D ", "mode": "new"}))
    assert_no_dangling(client.post(reverse("login"), {"username": "nobody", "password": "wrong"}))


def test_the_firm_pages_and_forms_with_mistakes(owner_client, owner):
    enterprise = owner.membership.enterprise
    for path in [reverse("surveys:firm"), reverse("surveys:profile"), reverse("surveys:members")]:
        assert_no_dangling(owner_client.get(path))
    assert_no_dangling(owner_client.post(reverse("surveys:members"), {"action": "invite", "email": "not-an-address"}))
    assert_no_dangling(owner_client.post(reverse("surveys:profile"), {"name": "", "contact_phone": "x"}))
    draft = services.assessment_start(enterprise=enterprise, user=owner, label="2026 T0")
    for number in range(1, 6):
        assert_no_dangling(owner_client.get(reverse("surveys:page", args=[draft.pk, number])))
    # A note too long (400, the page again with the error) and a stale revision (the edit-conflict notice).
    page = reverse("surveys:page", args=[draft.pk, 1])
    items = Item.objects.filter(questionnaire=draft.questionnaire, dimension__position=1).order_by("position")
    data = {"action": "save"}
    for item in items:
        data |= {f"answer-{item.code}": "2", f"note-{item.code}": "", f"rev-{item.code}": "0"}
    assert_no_dangling(owner_client.post(page, {**data, f"note-{items[0].code}": "长" * 1001}))
    owner_client.post(page, data)
    assert_no_dangling(owner_client.post(page, {**data, f"answer-{items[0].code}": "3"}))
    assert_no_dangling(owner_client.post(reverse("surveys:review", args=[draft.pk]), {}))


def test_the_administrator_pages_and_filters_with_mistakes(client, questionnaire, owner):
    admin = UserFactory()
    services.administrator_grant(user=admin, role=ROLE_CITY)
    client.force_login(admin)
    enterprise = owner.membership.enterprise
    paths = [
        reverse("manage:dashboard"),
        reverse("manage:dashboard") + "?district=nowhere&size=huge&year=1",
        reverse("manage:firms") + "?district=nowhere&q=x",
        reverse("manage:firm", args=[enterprise.pk]),
        reverse("manage:audit"),
        reverse("manage:audit") + "?from=2026-13-45&to=2026-02-30&action=nothing&user=x&firm=y",
        reverse("manage:audit") + "?from=2026-03-05&to=2026-03-01",
    ]
    for path in paths:
        assert_no_dangling(client.get(path))
