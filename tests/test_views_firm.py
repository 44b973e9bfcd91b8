"""The firm's flow through the test client: sign-up, answering, autosave, resume, submit, results."""

import json

import pytest
from django.urls import reverse

from surveys import services
from surveys.models import Answer, Assessment, DimensionResult, Enterprise, Item, Membership
from surveys.reports.formatting import format_score
from surveys.services import ServiceError

from .model_factories import VALID_USCC

pytestmark = pytest.mark.django_db


def signup_data(**overrides):
    data = {
        "account-username": "wang",
        "account-email": "wang@example.com",
        "account-password1": "Quancheng-2026!",
        "account-password2": "Quancheng-2026!",
        "mode-mode": "new",
        "mode-join_uscc": "",
        "firm-name": "济南泉城精密机械有限公司",
        "firm-uscc": " 91370112ma3d2e4f1b ",
        "firm-district": "370112",
        "firm-zone": "HTZ",
        "firm-industry": "C34",
        "firm-size_class": "medium",
        "firm-above_designated_size": "on",
        "firm-leading_chain": "EQUIP",
        "firm-contact_name": "王经理",
        "firm-contact_phone": "13805310000",
    }
    data.update(overrides)
    return data


def start_round(client):
    response = client.post(reverse("surveys:round_start"), {"label": ""})
    assert response.status_code == 302
    return Assessment.objects.get(status="draft")


def page_post(assessment, number, value="2", action="next", **extra):
    items = Item.objects.filter(dimension__position=number, questionnaire=assessment.questionnaire)
    data = {"action": action}
    for item in items:
        answer = Answer.objects.filter(assessment=assessment, item=item).first()
        data[f"answer-{item.code}"] = value
        data[f"note-{item.code}"] = ""
        data[f"rev-{item.code}"] = str(answer.revision if answer else 0)
    data.update(extra)
    return data


def answer_everything(client, assessment, value="2"):
    for number in range(1, 6):
        url = reverse("surveys:page", args=[assessment.pk, number])
        response = client.post(url, page_post(assessment, number, value))
        assert response.status_code == 302, response.content.decode()[:500]


def test_signup_creates_user_firm_and_owner_then_the_whole_flow_to_results(client, questionnaire):
    response = client.post(reverse("surveys:signup"), signup_data())
    assert response.status_code == 302
    enterprise = Enterprise.objects.get()
    assert enterprise.uscc == "91370112MA3D2E4F1B"
    membership = Membership.objects.get()
    assert membership.role == "owner" and membership.enterprise == enterprise

    firm_page = client.get(reverse("surveys:firm"))
    assert "济南泉城精密机械有限公司" in firm_page.content.decode()
    assessment = start_round(client)
    assert assessment.questionnaire == questionnaire
    assert assessment.label.endswith("T0")

    # Page 1 answered with the Save button (no JavaScript), then autosave of one answer on page 2.
    url = reverse("surveys:page", args=[assessment.pk, 1])
    page = client.get(url)
    assert "第 1 / 5 页" in page.content.decode()
    assert client.post(url, page_post(assessment, 1, "3", action="save")).status_code == 302
    first_item = Item.objects.get(code="P2.1")
    autosave = client.post(
        reverse("surveys:autosave", args=[assessment.pk]),
        json.dumps({"item": "P2.1", "value": "4", "note": "ERP 2023年上线", "revision": 0, "page": 2}),
        content_type="application/json",
    )
    assert autosave.status_code == 200
    assert autosave.json()["revision"] == 1
    # The progress counter the page shows after each click: page 1 and this answer, out of every item.
    items = Item.objects.filter(questionnaire=questionnaire)
    page_one = items.filter(dimension__position=1).count()
    assert (autosave.json()["answered"], autosave.json()["total"]) == (page_one + 1, items.count())
    stored = Answer.objects.get(assessment=assessment, item=first_item)
    assert (stored.score, stored.note) == (4, "ERP 2023年上线")

    # Resume: the round reopens where the user left off, with the answers in place.
    resume = client.get(reverse("surveys:assessment", args=[assessment.pk]))
    assert resume.url == reverse("surveys:page", args=[assessment.pk, 2])
    page2 = client.get(resume.url).content.decode()
    assert 'id="a-P2.1-4" value="4" checked' in page2
    assert "ERP 2023年上线" in page2

    # The review page lists what is missing, with links.
    review = client.get(reverse("surveys:review", args=[assessment.pk])).content.decode()
    assert "P3.1" in review and reverse("surveys:page", args=[assessment.pk, 3]) in review

    answer_everything(client, assessment, "2")
    assert client.post(reverse("surveys:review", args=[assessment.pk]), {}).status_code == 200  # no pledge
    response = client.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"})
    assert response.url == reverse("surveys:results", args=[assessment.pk])
    assessment.refresh_from_db()
    assert assessment.status == "submitted" and assessment.level
    assert DimensionResult.objects.filter(assessment=assessment).count() == 5

    results = client.get(response.url).content.decode()
    assert assessment.level in results
    assert format_score(assessment.index) in results  # one decimal, as in the PDF
    assert results.count('src="data:image/svg+xml;base64,') == 2  # radar and bars, drawn as in the PDF
    assert "触发该建议的答案" in results or "不足10家" in results


def test_invalid_uscc_gets_a_field_error_naming_the_rule(client, questionnaire):
    response = client.post(reverse("surveys:signup"), signup_data(**{"firm-uscc": "91370100MA3C0A1B7E"}))
    assert response.status_code == 200
    assert "第18位校验码不正确" in response.content.decode()
    response = client.post(reverse("surveys:signup"), signup_data(**{"firm-uscc": "91370100MA3COA1B7D"}))
    assert "不允许的字符：O" in response.content.decode()
    assert not Enterprise.objects.exists()
    assert not Membership.objects.exists()


def test_registered_uscc_gets_guidance_to_request_joining(client, enterprise):
    response = client.post(reverse("surveys:signup"), signup_data(**{"firm-uscc": enterprise.uscc}))
    assert "申请加入已注册企业" in response.content.decode()
    response = client.post(
        reverse("surveys:signup"), signup_data(**{"mode-mode": "join", "mode-join_uscc": enterprise.uscc.lower()})
    )
    assert response.status_code == 302
    request = Membership.objects.get(user__username="wang")
    assert request.status == "pending" and request.enterprise == enterprise


def test_warning_for_a_code_registered_outside_jinan_but_accepted(client, questionnaire):
    from surveys import uscc

    outside = uscc.with_check_characters("91110108MA01ABCD")  # both checks pass: the area is only a note
    response = client.post(reverse("surveys:signup"), signup_data(**{"firm-uscc": outside}), follow=True)
    assert Enterprise.objects.filter(uscc=outside).exists()
    assert "不在济南市" in response.content.decode()


def test_weak_password_and_bad_phone_are_refused(client, questionnaire):
    data = signup_data(**{"account-password1": "12345678", "account-password2": "12345678", "firm-contact_phone": "12"})
    content = client.post(reverse("surveys:signup"), data).content.decode()
    assert "请填写有效的手机号" in content
    assert not Enterprise.objects.exists()


def test_owner_approves_a_join_request_and_removes_a_member(client, owner_client, enterprise):
    from .model_factories import MembershipFactory

    pending = MembershipFactory(enterprise=enterprise, role="member", status="pending")
    response = owner_client.post(reverse("surveys:members"), {"action": "approve", "membership": pending.id})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "active"
    owner_client.post(reverse("surveys:members"), {"action": "remove", "membership": pending.id})
    assert not Membership.objects.filter(id=pending.id).exists()


def test_a_member_cannot_manage_members(client, colleague, enterprise):
    from .model_factories import MembershipFactory

    pending = MembershipFactory(enterprise=enterprise, role="member", status="pending")
    client.force_login(colleague)
    client.post(reverse("surveys:members"), {"action": "approve", "membership": pending.id})
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_pending_member_sees_no_firm_data(client, enterprise):
    from .model_factories import MembershipFactory

    pending = MembershipFactory(enterprise=enterprise, role="member", status="pending")
    client.force_login(pending.user)
    response = client.get(reverse("surveys:firm"))
    assert "等待审批" in response.content.decode()
    assert enterprise.contact_phone not in response.content.decode()


def test_invitation_link_is_one_time(client, owner_client, enterprise):
    response = owner_client.post(reverse("surveys:members"), {"action": "invite", "email": ""})
    link = response.context["invite_link"]
    path = link.split("testserver", 1)[1]
    client.logout()
    from django.test import Client

    newcomer = Client()
    data = {
        "account-username": "li",
        "account-email": "li@example.com",
        "account-password1": "Quancheng-2026!",
        "account-password2": "Quancheng-2026!",
    }
    assert newcomer.post(path, data).status_code == 302
    assert Membership.objects.get(user__username="li").enterprise == enterprise
    assert Client().get(path).status_code == 404


def test_edit_conflict_keeps_both_and_overwrites_nothing(client, owner, colleague, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = reverse("surveys:page", args=[assessment.pk, 1])
    stale = page_post(assessment, 1, "1", action="save")  # owner's form, loaded before the colleague saved

    client.force_login(colleague)
    assert client.post(url, page_post(assessment, 1, "3", action="save")).status_code == 302
    theirs = dict(Answer.objects.filter(assessment=assessment).values_list("item__code", "score"))

    client.force_login(owner)
    response = client.post(url, stale)
    assert response.status_code == 409
    content = response.content.decode()
    assert "同事在您编辑期间修改了部分答案" in content
    assert 'id="a-P1.1-1" value="1" checked' in content  # the owner's input is kept on screen
    assert dict(Answer.objects.filter(assessment=assessment).values_list("item__code", "score")) == theirs

    # Saving the re-shown form again is a deliberate overwrite based on the colleague's revision.
    resend = dict(stale)
    for key in list(resend):
        if key.startswith("rev-"):
            resend[key] = str(Answer.objects.get(assessment=assessment, item__code=key[4:]).revision)
    assert client.post(url, resend).status_code == 302
    assert set(
        Answer.objects.filter(assessment=assessment, item__dimension__position=1).values_list("score", flat=True)
    ) == {1}


def test_autosave_conflict_answers_409_and_saves_nothing(owner_client, owner, colleague, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    services.answers_save(assessment=assessment, user=colleague, changes=[services.AnswerChange("P1.1", 3, "", 0)])
    response = owner_client.post(
        reverse("surveys:autosave", args=[assessment.pk]),
        json.dumps({"item": "P1.1", "value": "1", "note": "", "revision": 0}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["conflict"]["value"] == 3
    assert Answer.objects.get(assessment=assessment, item__code="P1.1").score == 3


def test_tampered_item_or_option_gets_400_and_nothing_is_saved(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = reverse("surveys:page", args=[assessment.pk, 1])
    data = page_post(assessment, 1, "2", action="save")
    assert owner_client.post(url, {**data, "answer-P1.1": "7"}).status_code == 400
    assert owner_client.post(url, {**data, "answer-P9.9": "1"}).status_code == 400
    assert owner_client.post(url, {**data, "answer-P2.1": "1"}).status_code == 400  # another page's item
    assert owner_client.post(url, {**data, "answer-P1.1": "na"}).status_code == 400  # P1.1 has no 不适用
    assert owner_client.post(url, {**data, "rev-P1.1": "abc"}).status_code == 400
    autosave = reverse("surveys:autosave", args=[assessment.pk])
    assert owner_client.post(autosave, "not json", content_type="application/json").status_code == 400
    assert (
        owner_client.post(
            autosave, json.dumps({"item": "P1.1", "value": "5"}), content_type="application/json"
        ).status_code
        == 400
    )
    assert not Answer.objects.filter(assessment=assessment).exists()


def test_over_long_note_is_a_field_error(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = reverse("surveys:page", args=[assessment.pk, 1])
    data = page_post(assessment, 1, "2", action="save", **{"note-P1.1": "长" * 1001})
    response = owner_client.post(url, data)
    assert response.status_code == 400
    assert "备注最多 1000 字" in response.content.decode()
    assert not Answer.objects.filter(assessment=assessment).exists()


def test_double_submission_gives_exactly_one(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    answer_everything(owner_client, assessment)
    url = reverse("surveys:review", args=[assessment.pk])
    first = owner_client.post(url, {"pledge": "on"})
    assessment.refresh_from_db()
    submitted_at = assessment.submitted_at
    second = owner_client.post(url, {"pledge": "on"}, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "本轮评估已提交" in second.content.decode()
    assessment.refresh_from_db()
    assert assessment.submitted_at == submitted_at
    assert Assessment.objects.filter(enterprise=enterprise, status="submitted").count() == 1
    assert DimensionResult.objects.filter(assessment=assessment).count() == 5


def test_submitted_answers_are_immutable(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    answer_everything(owner_client, assessment)
    owner_client.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"})
    before = list(Answer.objects.filter(assessment=assessment).values_list("item__code", "score", "revision"))
    response = owner_client.post(
        reverse("surveys:page", args=[assessment.pk, 1]), page_post(assessment, 1, "4", action="save"), follow=True
    )
    assert "答案不能再修改" in response.content.decode()
    autosave = owner_client.post(
        reverse("surveys:autosave", args=[assessment.pk]),
        json.dumps({"item": "P1.1", "value": "4", "revision": 1}),
        content_type="application/json",
    )
    assert autosave.status_code == 409
    assert list(Answer.objects.filter(assessment=assessment).values_list("item__code", "score", "revision")) == before


def test_submission_with_missing_answers_is_refused_with_the_codes(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    owner_client.post(reverse("surveys:page", args=[assessment.pk, 1]), page_post(assessment, 1, "2"))
    response = owner_client.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"}, follow=True)
    assert "题未作答" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "draft"


def test_one_open_draft_and_a_new_round_after_submission(owner_client, owner, enterprise):
    first = start_round(owner_client)
    owner_client.post(reverse("surveys:round_start"), {"label": ""})
    assert Assessment.objects.filter(enterprise=enterprise, status="draft").count() == 1
    answer_everything(owner_client, first)
    owner_client.post(reverse("surveys:review", args=[first.pk]), {"pledge": "on"})
    owner_client.post(reverse("surveys:round_start"), {"label": "2026 T1"})
    second = Assessment.objects.get(enterprise=enterprise, status="draft")
    assert second.label == "2026 T1" and second.pk != first.pk


@pytest.mark.parametrize("name", ["page", "review", "results", "assessment", "autosave", "report"])
def test_another_firms_round_answers_404_like_a_missing_one(client, owner, stranger, enterprise, name):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    args = {"page": [assessment.pk, 1]}.get(name, [assessment.pk])
    missing = {"page": [999999, 1]}.get(name, [999999])
    client.force_login(stranger)
    method = client.post if name == "autosave" else client.get
    foreign = method(reverse(f"surveys:{name}", args=args))
    absent = method(reverse(f"surveys:{name}", args=missing))
    assert foreign.status_code == absent.status_code == 404


def test_anonymous_users_are_sent_to_login(client, questionnaire):
    response = client.get(reverse("surveys:firm"))
    assert response.status_code == 302 and reverse("login") in response.url


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "济南市制造业企业数字经济与实体经济融合自评估"), ("en", 'lang="en"')],
)
def test_both_languages_render(client, questionnaire, language, expected):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    content = client.get(reverse("surveys:home")).content.decode()
    assert expected in content


def test_the_questionnaire_renders_in_english(owner_client, owner, enterprise):
    from django.conf import settings

    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = owner_client.get(reverse("surveys:page", args=[assessment.pk, 1])).content.decode()
    item = Item.objects.get(code="P1.1", questionnaire=assessment.questionnaire)
    assert item.text_en in content
    assert item.text_zh not in content


def test_every_valid_fixture_code_registers(client, questionnaire):
    for n, code in enumerate(VALID_USCC):
        from django.test import Client

        response = Client().post(
            reverse("surveys:signup"),
            signup_data(**{"account-username": f"u{n}", "account-email": f"u{n}@example.com", "firm-uscc": code}),
        )
        assert response.status_code == 302, code
    assert Enterprise.objects.count() == 4


def profile_post(enterprise, **changes):
    data = {
        "firm-name": enterprise.name,
        "firm-district": enterprise.district,
        "firm-zone": enterprise.zone,
        "firm-industry": enterprise.industry,
        "firm-size_class": enterprise.size_class,
        "firm-leading_chain": enterprise.leading_chain,
        "firm-contact_name": enterprise.contact_name,
        "firm-contact_phone": enterprise.contact_phone,
    }
    data.update({f"firm-{key}": value for key, value in changes.items()})
    return data


def test_only_the_owner_changes_the_firms_details_members_read_them(client, enterprise, owner, colleague):
    client.force_login(colleague)
    page = client.get(reverse("surveys:profile")).content.decode()
    assert "只有企业负责人可以修改企业信息" in page
    assert enterprise.name in page
    assert 'name="firm-name"' in page and "disabled" in page
    response = client.post(reverse("surveys:profile"), profile_post(enterprise, name="被同事改掉的名称"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("surveys:profile")
    assert "只有企业负责人可以修改企业信息。" in response.content.decode()
    enterprise.refresh_from_db()
    assert enterprise.name != "被同事改掉的名称"

    client.force_login(owner)
    assert "只有企业负责人可以修改企业信息" not in client.get(reverse("surveys:profile")).content.decode()
    response = client.post(reverse("surveys:profile"), profile_post(enterprise, name="济南泉城新名称有限公司"))
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.name == "济南泉城新名称有限公司"


def test_the_service_refuses_a_member(enterprise, colleague):
    with pytest.raises(ServiceError):
        services.enterprise_update(user=colleague, enterprise=enterprise, data={"name": "改名"})
    enterprise.refresh_from_db()
    assert enterprise.name != "改名"
