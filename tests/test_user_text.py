"""Text users type is stored normalised (issue 13 item 5): one rule, surveys/text.py clean_user_text().

NFC; bidi embeddings, overrides and isolates, other invisible format characters and control characters
removed (a ZWJ kept only inside an emoji sequence); white space collapsed in names and labels, line breaks
kept in notes. Applied where the text enters: sign-up (user name, firm and contact names), the profile,
starting a round, the questionnaire pages and autosave (notes), the review page (the barriers "other"
text). Download names: an ASCII-safe ``filename=`` and the cleaned UTF-8 name in ``filename*=``.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from surveys import services
from surveys.models import Answer, Assessment, Enterprise, Item, Questionnaire
from surveys.reports.http import attachment, content_disposition
from surveys.scopes import ROLE_CITY
from surveys.text import clean_user_text
from tests.manage.conftest import make_admin
from tests.model_factories import MembershipFactory
from tests.reports.conftest import realistic_answers, submit_round
from tests.test_submission_v2 import draft_with, review_url, submittable, version_2_definition
from tests.test_views_firm import profile_post, signup_data

RLO = "\u202e"
ZWSP = "\u200b"


# --- the rule -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2026\u202eT0", "2026T0"),  # right-to-left override
        ("济南\u202a泉城\u202c机械", "济南泉城机械"),  # embedding and pop
        ("A\u2066B\u2067C\u2068D\u2069", "ABCD"),  # isolates
        ("\u200e济南\u200f\u061c", "济南"),  # marks
        ("济南\u200b机械\u2060有限\ufeff公司\u00ad", "济南机械有限公司"),  # zero-width, word joiner, BOM, soft hyphen
        ("a\x00b\x07c\x1bd\x7fe\x9bf", "abcdef"),  # C0 and C1 controls
        ("e\u0301cole", "école"),  # NFC
        ("Ａ１ 济南", "Ａ１ 济南"),  # NFC, not NFKC: full-width letters as typed
        ("  济南\t泉城\n\u3000机械\u00a0公司  ", "济南 泉城 机械 公司"),  # names: one space
        ("a \u200b b", "a b"),
        ("\u200b\u202e", ""),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ inside an emoji sequence: kept
        ("👩🏽\u200d💻", "👩🏽\u200d💻"),
        ("🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"),
        ("a\u200db\u200d", "ab"),  # elsewhere: removed
        ("👨\u200d\u200d👩", "👨\u200d👩"),
        ("\U00020bb7\U0001f4e6\U0010fffd", "\U00020bb7\U0001f4e6\U0010fffd"),  # Extension B, emoji, private use
        (None, ""),
    ],
)
def test_single_line_text(typed, stored):
    assert clean_user_text(typed) == stored
    assert clean_user_text(stored) == stored  # idempotent


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  第一行\r\n第二行\r第三行\u2028第四行  ", "第一行\n第二行\n第三行\n第四行"),
        ("表格：\tA\tB\n", "表格：\tA\tB"),
        ("说明\u202e倒序\x00\x0b下一行", "说明倒序\n下一行"),
        ("e\u0301\r\n\r\n", "é"),
    ],
)
def test_multi_line_text_keeps_line_breaks_and_tabs(typed, stored):
    assert clean_user_text(typed, multiline=True) == stored


def test_a_lone_surrogate_is_left_for_the_services_to_refuse():
    assert clean_user_text("a\ud800") == "a\ud800"


# --- where it is applied ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signup_stores_names_without_invisible_characters(client, questionnaire):
    response = client.post(
        reverse("surveys:signup"),
        signup_data(
            **{
                "account-username": f"wang{ZWSP}",
                "firm-name": f"济南{ZWSP}泉城{RLO}精密机械有限公司",
                "firm-contact_name": f"王{RLO}经理\u2066",
            }
        ),
    )
    assert response.status_code == 302
    enterprise = Enterprise.objects.get()
    assert enterprise.name == "济南泉城精密机械有限公司"
    assert enterprise.contact_name == "王经理"
    assert get_user_model().objects.filter(username="wang").exists()


@pytest.mark.django_db
def test_a_contact_name_of_invisible_characters_only_is_refused(client, questionnaire):
    response = client.post(reverse("surveys:signup"), signup_data(**{"firm-contact_name": f"{ZWSP}{RLO}"}))
    assert response.status_code == 200
    assert not Enterprise.objects.exists()


@pytest.mark.django_db
def test_the_profile_stores_the_name_in_nfc(owner_client, enterprise):
    response = owner_client.post(reverse("surveys:profile"), profile_post(enterprise, name="Cafe\u0301 济南\u200b机械"))
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.name == "Café 济南机械" and len(enterprise.name) == 9


@pytest.mark.django_db
def test_a_round_label_is_stored_without_the_override(owner_client, enterprise):
    response = owner_client.post(reverse("surveys:round_start"), {"label": f" 2026{RLO}T0 "})
    assert response.status_code == 302
    assert Assessment.objects.get(enterprise=enterprise).label == "2026T0"


def _first_item(assessment) -> Item:
    return Item.objects.filter(questionnaire=assessment.questionnaire).order_by("position").first()


@pytest.mark.django_db
def test_notes_are_stored_normalised_from_the_page_and_from_autosave(owner_client, enterprise, owner):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    item = _first_item(assessment)
    page = reverse("surveys:page", args=[assessment.pk, item.dimension.position])
    posted = {
        "action": "save",
        f"answer-{item.code}": "2",
        f"note-{item.code}": f" e\u0301{RLO}说明\x00\r\n第二行{ZWSP} ",
        f"rev-{item.code}": "0",
    }
    assert owner_client.post(page, posted).status_code == 302
    answer = Answer.objects.get(assessment=assessment, item=item)
    assert answer.note == "é说明\n第二行"

    body = {"item": item.code, "value": "3", "note": f"自动{RLO}保存\u2066", "revision": answer.revision}
    response = owner_client.post(
        reverse("surveys:autosave", args=[assessment.pk]), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    answer.refresh_from_db()
    assert answer.note == "自动保存"


@pytest.mark.django_db
def test_the_barriers_other_text_is_stored_normalised(client, questionnaire):
    services.questionnaire_upsert(definition=version_2_definition())
    version = Questionnaire.objects.get(version="test-2")
    user = MembershipFactory().user
    enterprise = user.membership.enterprise
    assessment = draft_with(user, enterprise, submittable(version))
    client.force_login(user)
    posted = {"pledge": "on", "context-C1": ["cost", "other"], "context-C1-other": f"园区{RLO}网络\u200b  差"}
    response = client.post(review_url(assessment), posted)
    assert response.status_code == 302, response.content.decode()[:300]
    assessment.refresh_from_db()
    assert assessment.context["C1"]["other"] == "园区网络 差"


# --- download names -------------------------------------------------------------------------------------


def _names(disposition: str) -> tuple[str, str]:
    assert "\r" not in disposition and "\n" not in disposition and disposition.isascii()
    match = re.fullmatch(r"attachment; filename=\"([^\"]*)\"; filename\*=UTF-8''(\S+)", disposition)
    assert match, disposition
    ascii_name, encoded = match.groups()
    assert re.fullmatch(r"[A-Za-z0-9._-]+", ascii_name), ascii_name
    return ascii_name, unquote(encoded, encoding="utf-8", errors="strict")


@pytest.mark.django_db
def test_the_download_of_a_round_started_with_an_override_has_clean_names(
    owner_client, enterprise, owner, questionnaire
):
    owner_client.post(reverse("surveys:round_start"), {"label": f"2026{RLO}T0 第一轮"})
    # The draft the page opened is the one answered and submitted (a firm has one open draft).
    assessment = submit_round(enterprise=enterprise, user=owner, answers=realistic_answers(questionnaire))
    response = owner_client.get(reverse("surveys:report", args=[assessment.pk]))
    assert response.status_code == 200
    ascii_name, full_name = _names(response["Content-Disposition"])
    assert ascii_name == f"{enterprise.uscc}-2026T0.pdf"
    assert full_name == f"{enterprise.uscc}-2026T0 第一轮.pdf"


@pytest.mark.django_db
def test_a_stored_label_with_controls_never_reaches_the_header(client, owner_client, enterprise, owner, questionnaire):
    """A label stored before the rule (or by hand) with an override and a line break: both names are clean."""
    assessment = submit_round(
        enterprise=enterprise, user=owner, answers=realistic_answers(questionnaire), label="2026 T0"
    )
    Assessment.objects.filter(pk=assessment.pk).update(label=f"2026{RLO}T0\r\nSet-Cookie: a=b{ZWSP}")
    response = owner_client.get(reverse("surveys:report", args=[assessment.pk]))
    ascii_name, full_name = _names(response["Content-Disposition"])
    assert ascii_name.startswith(enterprise.uscc) and "Set-Cookie" not in response.cookies
    assert RLO not in full_name and ZWSP not in full_name and "\n" not in full_name
    assert full_name.startswith(f"{enterprise.uscc}-2026T0") and full_name.endswith(".pdf")

    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    response = client.get(reverse("manage:round_report", args=[enterprise.pk, assessment.pk]))
    _admin_ascii, admin_full = _names(response["Content-Disposition"])
    assert admin_full == full_name


@pytest.mark.parametrize(
    "hostile",
    ['x"\r\nSet-Cookie: a=b', "x\u202e\u2066\x00\x85\u2028y", "\u202e", "../../etc/passwd", "a\\b;c=d"],
)
def test_content_disposition_is_one_safe_header_line(hostile):
    header = content_disposition(f"{hostile}.pdf", ascii_fallback=f"{hostile}.pdf")
    ascii_name, full_name = _names(header)
    assert full_name == clean_user_text(f"{hostile}.pdf")
    assert not ascii_name.startswith(".")
    response = attachment(b"%PDF", filename=f"{hostile}.pdf", content_type="application/pdf")
    _names(response["Content-Disposition"])
