"""The firm's path costs few SQL statements, whatever the size of the questionnaire or the page.

Targets (issue "Figures that cost the same at 60 thousand and 5 million firms…"): at most 7 statements per
autosave, 8 per page save, 12 per submission and 10 per results page. Counted as the database sees them,
without transaction control (BEGIN, COMMIT, savepoints), which SQLite logs and PostgreSQL does not.
"""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys import selectors, services
from surveys.models import Answer, Assessment, Item, Option, Questionnaire
from surveys.seeding import read_definition

from .conftest import SEED_2026_2_PATH

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


class Statements:
    """The SQL statements run inside the block, transaction control left out."""

    def __enter__(self):
        self._context = CaptureQueriesContext(connection)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)

    @property
    def sql(self) -> list[str]:
        return [q["sql"] for q in self._context.captured_queries if not TRANSACTION_CONTROL.match(q["sql"])]

    def __len__(self) -> int:
        return len(self.sql)


@pytest.fixture
def draft(owner_client, questionnaire_2026_2):
    response = owner_client.post(reverse("surveys:round_start"), {"label": ""})
    assert response.status_code == 302
    assessment = Assessment.objects.get(status=Assessment.STATUS_DRAFT)
    assert assessment.questionnaire == questionnaire_2026_2
    owner_client.get(reverse("surveys:page", args=[assessment.pk, 1]))  # the version's structure is read once
    return assessment


def items_of_page(assessment, number):
    return list(
        Item.objects.filter(questionnaire=assessment.questionnaire, dimension__position=number).order_by("position")
    )


def page_form(assessment, number, value="2"):
    data = {"action": "next"}
    for item in items_of_page(assessment, number):
        answer = Answer.objects.filter(assessment=assessment, item=item).first()
        data[f"answer-{item.code}"] = value
        data[f"note-{item.code}"] = ""
        data[f"rev-{item.code}"] = str(answer.revision if answer else 0)
    return data


def autosave(client, assessment, item, value, revision):
    return client.post(
        reverse("surveys:autosave", args=[assessment.pk]),
        json.dumps({"item": item.code, "value": value, "revision": revision, "page": 1}),
        content_type="application/json",
    )


def test_an_autosave_takes_at_most_seven_statements_new_or_changed(owner_client, draft):
    item = items_of_page(draft, 1)[0]
    with Statements() as new:
        response = autosave(owner_client, draft, item, "2", 0)
    assert response.json()["ok"] and response.json()["answered"] == 1
    with Statements() as changed:
        response = autosave(owner_client, draft, item, "3", 1)
    assert response.json() == {"ok": True, "item": item.code, "revision": 2, "answered": 1, "total": 43}
    assert len(new) <= 7, new.sql
    assert len(changed) <= 7, changed.sql
    assert Answer.objects.get(assessment=draft, item=item).score == 3


def test_a_page_save_takes_at_most_eight_statements_with_new_and_changed_answers(owner_client, draft):
    items = items_of_page(draft, 1)
    autosave(owner_client, draft, items[0], "1", 0)  # one answer exists: the page both changes and adds
    form = page_form(draft, 1, value="3")
    with Statements() as saved:
        response = owner_client.post(reverse("surveys:page", args=[draft.pk, 1]), form)
    assert response.status_code == 302 and response.url == reverse("surveys:page", args=[draft.pk, 2])
    assert len(saved) <= 8, saved.sql
    stored = {
        a.item.code: (a.score, a.revision) for a in Answer.objects.filter(assessment=draft).select_related("item")
    }
    assert stored == {item.code: (3, 2 if item == items[0] else 1) for item in items}
    draft.refresh_from_db()
    assert draft.last_page == 1


def test_a_submission_takes_at_most_twelve_statements_and_the_results_page_ten(owner_client, draft):
    for number in range(1, 6):
        owner_client.post(reverse("surveys:page", args=[draft.pk, number]), page_form(draft, number))
    with Statements() as submitted:
        response = owner_client.post(reverse("surveys:review", args=[draft.pk]), {"pledge": "on"})
    assert response.status_code == 302 and response.url == reverse("surveys:results", args=[draft.pk])
    assert len(submitted) <= 12, submitted.sql
    draft.refresh_from_db()
    assert draft.status == Assessment.STATUS_SUBMITTED and draft.dimension_results.count() == 5
    with Statements() as results:
        page = owner_client.get(reverse("surveys:results", args=[draft.pk]))
    assert page.status_code == 200 and draft.label in page.content.decode()
    assert len(results) <= 10, results.sql


def test_a_questionnaire_page_reads_no_questionnaire_rows_and_no_permissions(owner_client, draft):
    with Statements() as shown:
        response = owner_client.get(reverse("surveys:page", args=[draft.pk, 2]))
    assert response.status_code == 200
    assert not [sql for sql in shown.sql if re.search(r'FROM "(surveys_item|surveys_option|surveys_dimension)"', sql)]
    assert not [sql for sql in shown.sql if "auth_permission" in sql or "auth_group" in sql], shown.sql
    assert "管理端" not in response.content.decode()  # a firm's user is offered no administration


def test_an_administrator_who_is_also_a_member_still_sees_the_administration_link(client, draft, owner):
    from django.contrib.auth.models import Permission

    from surveys.scopes import PERM_ALL

    app_label, codename = PERM_ALL.split(".")
    owner.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client.force_login(type(owner).objects.get(pk=owner.pk))  # noted at login (a fresh login reads the rights)
    html = client.get(reverse("surveys:page", args=[draft.pk, 1])).content.decode()
    assert reverse("manage:dashboard") in html


def test_a_conflicting_autosave_writes_nothing_not_even_the_rounds_stamp(owner_client, draft):
    item = items_of_page(draft, 1)[0]
    autosave(owner_client, draft, item, "2", 0)
    draft.refresh_from_db()
    stamp = draft.updated_at
    response = autosave(owner_client, draft, item, "4", 0)  # based on "no answer yet": a conflict
    assert response.status_code == 409 and response.json()["conflict"]["value"] == 2
    draft.refresh_from_db()
    assert draft.updated_at == stamp
    assert Answer.objects.get(assessment=draft, item=item).score == 2


def test_a_changed_unused_version_is_read_afresh(owner_client, draft, questionnaire_2026_2):
    """The structure is kept per version and stamp: the loader's change to a version without submitted
    rounds shows at once (a used version never changes: the loader refuses)."""
    item = items_of_page(draft, 1)[0]
    definition = read_definition(SEED_2026_2_PATH)
    entry = definition["dimensions"][0]["items"][0]
    assert entry["code"] == item.code
    entry["text_zh"] = "（已修订）" + entry["text_zh"]
    report = services.questionnaire_upsert(definition=definition)
    assert report.changed
    draft.refresh_from_db()
    html = owner_client.get(reverse("surveys:page", args=[draft.pk, 1])).content.decode()
    assert "（已修订）" in html
    assert (
        selectors.questionnaire_structure(questionnaire=draft.questionnaire).items[0].text_zh.startswith("（已修订）")
    )


def test_an_admin_edit_of_an_unused_version_stamps_it(admin_client, draft, questionnaire_2026_2):
    before = Questionnaire.objects.get(pk=questionnaire_2026_2.pk).updated_at
    option = Option.objects.filter(item__questionnaire=questionnaire_2026_2).order_by("item__position", "score").first()
    item = option.item
    url = reverse("admin:surveys_item_change", args=[item.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({k: v for k, v in data.items() if isinstance(v, list)})
    data["help_zh"] = "管理员补充的提示"
    inline = admin_client.get(url).context["inline_admin_formsets"][0].formset
    data.update(
        {
            f"{inline.prefix}-TOTAL_FORMS": str(inline.total_form_count()),
            f"{inline.prefix}-INITIAL_FORMS": str(inline.initial_form_count()),
        }
    )
    for n, inline_form in enumerate(inline.forms):
        for name in inline_form.fields:
            value = inline_form[name].value()
            if value is not None:
                data[f"{inline.prefix}-{n}-{name}"] = value
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert Questionnaire.objects.get(pk=questionnaire_2026_2.pk).updated_at > before
    draft.refresh_from_db()
    structure = selectors.questionnaire_structure(questionnaire=draft.questionnaire)
    assert next(i for i in structure.items if i.pk == item.pk).help_zh == "管理员补充的提示"
