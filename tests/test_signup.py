"""Sign-up and the firm's identity (issue 17) through the real pages: the USCC as people paste it, warnings
confirmed before the account exists, correcting a mistyped code (owner, city administrator, audit log), and
the password rules beside the field."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from surveys import services, uscc
from surveys.audit.models import AuditEvent
from surveys.models import Enterprise, Membership
from surveys.services import ServiceError

from .test_views_firm import signup_data

pytestmark = pytest.mark.django_db

CODE = "91370112MA3D2E4F1B"  # passes both checks, in Jinan
ORG_CHECK_WRONG = uscc.with_check_character("91370112MA3D2E4F2")  # valid check digit, 17th character wrong
INDIVIDUAL = uscc.with_check_characters("92370112MA3D2E4F")
COOPERATIVE = uscc.with_check_characters("93370112MA3D2E4F")


def signup(client, code: str, **extra):
    return client.post(reverse("surveys:signup"), signup_data(**{"firm-uscc": code, **extra}))


def nothing_created():
    return not get_user_model().objects.exists() and not Enterprise.objects.exists()


def input_tag(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert found, f"no input named {name}"
    return found.group(0)


def english(client):
    client.cookies["django_language"] = "en"
    return client


# --- 1. the code as people paste it ---------------------------------------------------------------------


def test_the_uscc_boxes_have_no_maxlength_and_load_the_normalising_script(client, questionnaire):
    html = client.get(reverse("surveys:signup")).content.decode()
    for name in ("firm-uscc", "mode-join_uscc"):
        tag = input_tag(html, name)
        assert "maxlength" not in tag, tag  # the browser would cut a paste
        assert "data-uscc-separators" in tag
    assert "surveys/uscc.js" in html


@pytest.mark.parametrize(
    "pasted",
    [
        "  91370112MA3D2E4F1B  ",
        "9137 0112 MA3D 2E4F 1B",
        "91370112-MA3D-2E4F-1B",
        "９１３７０１１２ＭＡ３Ｄ２Ｅ４Ｆ１Ｂ",
        "91370112－ma3d２e4f1b",
        "91370112\u3000MA3D2E4F1B\u200b",
    ],
)
def test_a_pasted_code_with_separators_or_full_width_characters_registers_normalised(client, questionnaire, pasted):
    response = signup(client, pasted)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Enterprise.objects.get().uscc == CODE


def test_a_19_character_code_is_reported_as_too_long_with_its_length_and_nothing_is_created(client, questionnaire):
    content = signup(client, " 9137-0112-MA3D-2E4F-1B7 ").content.decode()
    assert "去掉空格和分隔符后有 19 位，多了 1 位" in content
    assert nothing_created()
    content = signup(client, "91370112 MA3D2E4F1").content.decode()
    assert "去掉空格和分隔符后只有 17 位" in content
    assert nothing_created()


def test_the_length_message_in_english(client, questionnaire):
    content = signup(english(client), "91370112MA3D2E4F1B77").content.decode()
    assert "without spaces and separators the code entered has 20, 2 too many" in content


def test_joining_accepts_a_pasted_code_too(client, enterprise):
    spaced = " ".join(enterprise.uscc[i : i + 4] for i in range(0, 18, 4)).lower()
    response = client.post(reverse("surveys:signup"), signup_data(**{"mode-mode": "join", "mode-join_uscc": spaced}))
    assert response.status_code == 302
    assert Membership.objects.get(user__username="wang").enterprise == enterprise


def test_the_service_refuses_an_invalid_code_in_the_users_language(questionnaire):
    user = get_user_model().objects.create_user(username="svc", password="x")
    data = {
        "name": "济南服务层测试有限公司",
        "district": "370112",
        "industry": "C34",
        "size_class": "medium",
        "leading_chain": "EQUIP",
        "contact_name": "王",
        "contact_phone": "13805310000",
    }
    with pytest.raises(ServiceError, match="只有 17 位"):
        services.enterprise_register(user=user, enterprise_data={**data, "uscc": CODE[:17]})
    with translation.override("en"), pytest.raises(ServiceError, match="check character"):
        services.enterprise_register(user=user, enterprise_data={**data, "uscc": CODE[:17] + "C"})
    assert not Enterprise.objects.exists()
    enterprise = services.enterprise_register(user=user, enterprise_data={**data, "uscc": " 9137-0112 ma3d2e4f1b"})
    assert enterprise.uscc == CODE
    other = get_user_model().objects.create_user(username="svc2", password="x")
    with pytest.raises(ServiceError, match="已注册"):
        services.enterprise_register(user=other, enterprise_data={**data, "uscc": CODE.lower()})


# --- 2 and 3. warnings confirmed before the account is created ---------------------------------------


@pytest.mark.parametrize(
    ("code", "warning"),
    [
        (ORG_CHECK_WRONG, "组织机构代码校验位"),
        (INDIVIDUAL, "个体工商户"),
        (COOPERATIVE, "农民专业合作社"),
        (uscc.with_check_characters("51370112MA3D2E4F"), "不是企业的登记类型"),
    ],
)
def test_a_doubtful_code_is_warned_before_the_account_exists_and_registers_once_confirmed(
    client, questionnaire, code, warning
):
    content = signup(client, code).content.decode()
    assert warning in content
    if warning != "组织机构代码校验位":
        assert "本评估面向企业" in content  # not blocked: said, and confirmed
    box = input_tag(content, "firm-uscc_confirm")
    assert 'type="checkbox"' in box and f'value="{code}"' in box and "checked" not in box
    assert "请勾选此项后再提交" in content
    assert nothing_created()

    response = signup(client, code, **{"firm-uscc_confirm": code})
    assert response.status_code == 302
    assert Enterprise.objects.get().uscc == code
    # Confirmed before: not repeated after the account exists.
    assert warning not in client.get(reverse("surveys:firm")).content.decode()


def test_a_tick_for_another_code_confirms_nothing(client, questionnaire):
    content = signup(client, INDIVIDUAL, **{"firm-uscc_confirm": COOPERATIVE}).content.decode()
    assert "个体工商户" in content and nothing_created()


def test_a_ticked_box_stays_ticked_when_another_field_is_wrong(client, questionnaire):
    content = signup(
        client, COOPERATIVE, **{"firm-uscc_confirm": COOPERATIVE, "firm-contact_phone": "12"}
    ).content.decode()
    assert "checked" in input_tag(content, "firm-uscc_confirm")
    assert "请勾选此项后再提交" not in content and "请填写有效的手机号" in content
    assert nothing_created()


def test_the_warning_and_confirmation_in_english(client, questionnaire):
    content = signup(english(client), INDIVIDUAL).content.decode()
    assert "mean an individual business" in content
    assert "This assessment is for enterprises" in content
    assert f"I have checked the business license: the code {INDIVIDUAL} is right" in content


def test_an_area_outside_jinan_is_a_note_after_registration_not_a_question(client, questionnaire):
    outside = uscc.with_check_characters("91110108MA01ABCD")
    response = client.post(reverse("surveys:signup"), signup_data(**{"firm-uscc": outside}), follow=True)
    assert Enterprise.objects.filter(uscc=outside).exists()
    assert "不在济南市" in response.content.decode()


# --- 4. the password rules beside the field ---------------------------------------------------------


def test_the_password_rules_are_shown_beside_the_field_before_any_attempt(client, questionnaire):
    html = client.get(reverse("surveys:signup")).content.decode()
    assert "你的密码必须包含至少 8 个字符" in html
    assert 'aria-describedby="id_account-password1_helptext"' in input_tag(html, "account-password1")
    assert 'id="id_account-password1_helptext"' in html
    html = english(Client()).get(reverse("surveys:signup")).content.decode()
    assert "Your password must contain at least 8 characters." in html


# --- correcting a mistyped code -----------------------------------------------------------------------


def city_admin():
    services.administrator_roles_ensure()
    user = get_user_model().objects.create_user(username="city", password="x")
    services.administrator_grant(user=user, role="city")
    return get_user_model().objects.get(pk=user.pk)


def district_admin(districts):
    services.administrator_roles_ensure()
    user = get_user_model().objects.create_user(username="district", password="x")
    services.administrator_grant(user=user, role="district", districts=list(districts))
    return get_user_model().objects.get(pk=user.pk)


def correct(client, url, code, **extra):
    return client.post(url, {"correct-uscc": code, **extra})


def test_the_profile_says_who_can_correct_the_code(client, enterprise, owner, colleague):
    client.force_login(colleague)
    page = client.get(reverse("surveys:profile")).content.decode()
    assert "只有本企业负责人或市级管理员可以更正此代码" in page
    assert reverse("surveys:profile_uscc") not in page
    client.force_login(owner)
    page = client.get(reverse("surveys:profile")).content.decode()
    assert reverse("surveys:profile_uscc") in page
    assert "也可以请市级管理员更正" in page


def test_the_owner_corrects_a_mistyped_code_and_the_audit_log_records_it(owner_client, enterprise, owner):
    old = enterprise.uscc
    url = reverse("surveys:profile_uscc")
    page = owner_client.get(url).content.decode()
    assert old in page and "maxlength" not in input_tag(page, "correct-uscc")

    response = correct(owner_client, url, " 9137-0112-ma3d-2e4f-1b ")
    assert response.status_code == 302 and response["Location"] == reverse("surveys:profile")
    enterprise.refresh_from_db()
    assert enterprise.uscc == CODE
    event = AuditEvent.objects.get(action=AuditEvent.CORRECT)
    assert event.user == owner and event.enterprise_id == enterprise.pk and event.ip == "127.0.0.1"
    assert event.detail == {"uscc_old": old, "uscc_new": CODE}
    assert "已更正为 91370112MA3D2E4F1B" in owner_client.get(reverse("surveys:profile")).content.decode()


def test_a_correction_is_checked_like_a_registration(owner_client, enterprise, stranger):
    url = reverse("surveys:profile_uscc")
    old = enterprise.uscc
    assert "只有 17 位" in correct(owner_client, url, CODE[:17]).content.decode()
    assert "与当前代码相同" in correct(owner_client, url, old.lower()).content.decode()
    taken = stranger.membership.enterprise.uscc
    assert "已被另一家已注册企业使用" in correct(owner_client, url, taken).content.decode()
    content = correct(owner_client, url, INDIVIDUAL).content.decode()
    assert "个体工商户" in content and f'value="{INDIVIDUAL}"' in input_tag(content, "correct-uscc_confirm")
    enterprise.refresh_from_db()
    assert enterprise.uscc == old and not AuditEvent.objects.filter(action=AuditEvent.CORRECT).exists()
    assert correct(owner_client, url, INDIVIDUAL, **{"correct-uscc_confirm": INDIVIDUAL}).status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.uscc == INDIVIDUAL


def test_members_cannot_correct_the_code(client, enterprise, owner, colleague):
    client.force_login(colleague)
    old = enterprise.uscc
    response = correct(client, reverse("surveys:profile_uscc"), CODE)
    assert response.status_code == 302 and response["Location"] == reverse("surveys:profile")
    enterprise.refresh_from_db()
    assert enterprise.uscc == old
    with pytest.raises(ServiceError):
        services.enterprise_uscc_correct(user=colleague, enterprise=enterprise, uscc_raw=CODE)
    # Nor through the profile form or its service: the code changes only through the correction.
    with pytest.raises(ServiceError):
        services.enterprise_update(user=owner, enterprise=enterprise, data={"uscc": CODE})


def test_a_city_administrator_corrects_a_code_recorded_as_an_administrators_action(client, enterprise):
    admin = city_admin()
    client.force_login(admin)
    firm_page = client.get(reverse("manage:firm", args=[enterprise.pk])).content.decode()
    url = reverse("manage:firm_uscc", args=[enterprise.pk])
    assert url in firm_page
    response = correct(client, url, CODE)
    assert response.status_code == 302 and response["Location"] == reverse("manage:firm", args=[enterprise.pk])
    enterprise.refresh_from_db()
    assert enterprise.uscc == CODE
    event = AuditEvent.objects.get(action=AuditEvent.CORRECT)
    assert event.user == admin and event.detail["side"] == "manage" and event.detail["uscc_new"] == CODE
    log = client.get(reverse("manage:audit"), {"action": "correct"}).content.decode()
    assert "更正" in log and "新统一社会信用代码" in log and CODE in log


def test_district_administrators_cannot_correct_codes(client, enterprise):
    admin = district_admin([enterprise.district])
    client.force_login(admin)
    url = reverse("manage:firm_uscc", args=[enterprise.pk])
    assert url not in client.get(reverse("manage:firm", args=[enterprise.pk])).content.decode()
    assert client.get(url).status_code == 403
    assert correct(client, url, CODE).status_code == 403
    with pytest.raises(ServiceError):
        services.enterprise_uscc_correct(user=admin, enterprise=enterprise, uscc_raw=CODE)
    enterprise.refresh_from_db()
    assert enterprise.uscc != CODE
