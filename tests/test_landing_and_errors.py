"""Issue 17, "Landing, errors and messages", through the real pages: where each kind of user lands, the
site's error pages (zh and en, a way back, no internal detail), JSON errors of the autosave endpoint, the
edit-conflict wording, messages said once, and list punctuation that follows the language."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path, reverse
from django.utils import translation

from jinan_assess import urls as project_urls
from surveys import responses, services
from surveys.models import Item, Membership
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT
from surveys.text import in_brackets, join_list, with_colon, with_note, without_final_stop

from .model_factories import MembershipFactory, UserFactory
from .test_views_firm import answer_everything, page_post

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests/model_factories.UserFactory
CHINESE_LIST_MARKS = ("、", "（", "）", "；")


# --- a URLconf with views that fail, and the project's own handlers ------------------------------------


def _raise_bad_request(request):
    raise BadRequest("secret-internal-detail-400")


def _raise_permission_denied(request):
    raise PermissionDenied("secret-internal-detail-403")


def _raise_error(request):
    raise RuntimeError("secret-internal-detail-500 /srv/app/settings.py")


def _ok(request):
    return HttpResponse("ok")


urlpatterns = [
    path("test-400/", _raise_bad_request),
    path("test-403/", _raise_permission_denied),
    path("test-500/", _raise_error),
    path("test-ok/", _ok),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def failing_urls(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def speak(client, language: str):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def main_text(response) -> str:
    """The text of the page's <main>, tags removed and blanks squeezed."""
    content = response.content.decode()
    main = content[content.index("<main") : content.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


# --- users ------------------------------------------------------------------------------------------


def administrator(role: str, districts=()):
    services.administrator_roles_ensure()
    user = UserFactory()
    services.administrator_grant(user=user, role=role, districts=list(districts))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def city_admin(questionnaire):
    return administrator(ROLE_CITY)


@pytest.fixture
def district_admin(questionnaire):
    return administrator(ROLE_DISTRICT, ["370112", "370114"])


@pytest.fixture
def admin_and_member(questionnaire):
    """A district administrator who is also the owner of a firm."""
    user = administrator(ROLE_DISTRICT, ["370112"])
    MembershipFactory(user=user, enterprise__name="双重身份制造有限公司")
    return user


def log_in(client, user, **extra):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD, **extra})


# --- 1. landing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["city", "district"])
def test_administrators_land_on_the_dashboard(client, request, role):
    user = request.getfixturevalue(f"{role}_admin")
    response = log_in(client, user)
    assert response.status_code == 302 and response.url == reverse("manage:dashboard")
    # The home page and the login page send them on too; "my firm" is not offered to them.
    assert client.get(reverse("surveys:home")).url == reverse("manage:dashboard")
    assert client.get(reverse("login")).url == reverse("manage:dashboard")
    dashboard = client.get(reverse("manage:dashboard")).content.decode()
    assert f'href="{reverse("surveys:firm")}"' not in dashboard
    # An old bookmark of the firm's page leads to the dashboard, without "your account has no firm".
    response = client.get(reverse("surveys:firm"), follow=True)
    assert response.redirect_chain == [(reverse("manage:dashboard"), 302)]
    assert "还没有关联企业" not in response.content.decode()


def test_a_firm_user_lands_on_the_firm(client, owner, enterprise):
    response = log_in(client, owner)
    assert response.url == reverse("surveys:firm")
    assert client.get(reverse("surveys:home")).url == reverse("surveys:firm")
    page = client.get(reverse("surveys:firm")).content.decode()
    assert f'href="{reverse("surveys:firm")}"' in page  # "my firm" in the navbar
    assert f'href="{reverse("manage:dashboard")}"' not in page


def test_a_user_who_is_both_chooses_on_the_home_page(client, admin_and_member):
    response = log_in(client, admin_and_member)
    assert response.url == reverse("surveys:home")
    home = client.get(response.url)
    assert home.status_code == 200
    main = home.content.decode().split("<main", 1)[1]
    assert f'href="{reverse("surveys:firm")}"' in main and "双重身份制造有限公司" in main
    assert f'href="{reverse("manage:dashboard")}"' in main
    # Both places open.
    assert client.get(reverse("surveys:firm")).status_code == 200
    assert client.get(reverse("manage:dashboard")).status_code == 200


def test_a_next_parameter_still_wins(client, city_admin):
    response = log_in(client, city_admin, next=reverse("manage:firms"))
    assert response.url == reverse("manage:firms")


def test_an_account_without_a_firm_is_told_what_to_do_and_not_sent_in_circles(client, questionnaire):
    user = UserFactory()
    assert log_in(client, user).url == reverse("surveys:home")
    home = client.get(reverse("surveys:home")).content.decode()
    assert "索取邀请链接" in home
    assert f'href="{reverse("surveys:firm")}"' not in home  # no "my firm" button or link to bounce on
    response = client.get(reverse("surveys:firm"), follow=True)
    assert response.redirect_chain == [(reverse("surveys:home"), 302)]
    assert response.content.decode().count("还没有关联企业") == 1


def test_a_pending_administrator_sees_the_request_and_the_dashboard(client, questionnaire, enterprise):
    user = administrator(ROLE_CITY)
    MembershipFactory(user=user, enterprise=enterprise, role=Membership.ROLE_MEMBER, status=Membership.STATUS_PENDING)
    client.force_login(user)
    home = client.get(reverse("surveys:home"))
    assert home.status_code == 200
    content = home.content.decode()
    assert "等待企业负责人审批" in content and f'href="{reverse("manage:dashboard")}"' in content


# --- 2. error pages -----------------------------------------------------------------------------------

LEAKS = ("Traceback", "secret-internal-detail", "Request Method", "Django", "settings.py", "URLconf")


def assert_site_error_page(response, status: int, language: str):
    assert response.status_code == status
    content = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert 'class="navbar' in content and "</footer>" in content  # the site's base template
    assert f'href="{reverse("surveys:home")}"' in content.split("<main", 1)[1]  # a way back
    assert ('lang="en"' if language == "en" else 'lang="zh-CN"') in content
    expected = {"zh-hans": "返回首页", "en": "Back to the home page"}[language]
    assert expected in content
    for leak in LEAKS:
        assert leak not in content, leak


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_404_is_the_sites_page(client, production, questionnaire, language):
    response = speak(client, language).get("/no-such-page/")
    assert_site_error_page(response, 404, language)
    assert ("页面不存在" if language == "zh-hans" else "Page not found") in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_403_is_the_sites_page(client, production, owner, language):
    client.force_login(owner)
    response = speak(client, language).get(reverse("manage:dashboard"))  # a firm user on the admin side
    assert_site_error_page(response, 403, language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("url", "status"), [("/test-400/", 400), ("/test-403/", 403), ("/test-500/", 500)])
def test_raised_errors_get_the_sites_page(client, failing_urls, questionnaire, language, url, status):
    client.raise_request_exception = False
    response = speak(client, language).get(url)
    assert_site_error_page(response, status, language)


def test_the_500_page_needs_no_request_context(questionnaire, django_assert_num_queries):
    """Rendered without session, user or database: it must work when those are what failed."""
    bare = RequestFactory().get("/")  # no session, no user, no messages
    for language in ("zh-hans", "en"):
        with translation.override(language), django_assert_num_queries(0):
            response = responses.server_error(bare)
        content = response.content.decode()
        assert response.status_code == 500 and 'class="navbar' in content
        assert "csrfmiddlewaretoken" not in content  # no form that would need the request's token
        assert ("服务器出错" if language == "zh-hans" else "Server error") in content


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_csrf_failure_is_the_sites_page(production, owner, language):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = speak(client, language).post(reverse("surveys:round_start"), {"label": "x"})
    assert_site_error_page(response, 403, language)
    assert ("刷新" if language == "zh-hans" else "reload") in response.content.decode()
    assert "CSRF" not in response.content.decode()


# --- 2b. JSON errors of the autosave endpoint ------------------------------------------------------


def autosave(client, pk, body=None, **extra):
    payload = body if body is not None else {"item": "P1.1", "value": "2", "note": "", "revision": 0, "page": 1}
    return client.post(
        reverse("surveys:autosave", args=[pk]),
        payload if isinstance(payload, str) else json.dumps(payload),
        content_type="application/json",
        **extra,
    )


def assert_json_error(response, status: int):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["ok"] is False and data["message"]
    return data


def test_autosave_errors_are_json_with_their_status(client, production, owner, enterprise, city_admin):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    # Not logged in: 401 (not a redirect to the login page).
    assert_json_error(autosave(client, assessment.pk), 401)
    # A pending member: 403 (not the HTML "waiting for approval" page with 200).
    pending = MembershipFactory(enterprise=enterprise, role=Membership.ROLE_MEMBER, status=Membership.STATUS_PENDING)
    client.force_login(pending.user)
    assert_json_error(autosave(client, assessment.pk), 403)
    # An administrator without a firm: 403 (not a redirect to the dashboard).
    client.force_login(city_admin)
    assert_json_error(autosave(client, assessment.pk), 403)
    # The owner: a missing round 404, a malformed body 400, a wrong method 405, all JSON.
    client.force_login(owner)
    assert_json_error(autosave(client, 987654), 404)
    assert_json_error(autosave(client, assessment.pk, "{not json"), 400)
    response = client.get(reverse("surveys:autosave", args=[assessment.pk]))
    assert_json_error(response, 405)
    assert response["Allow"] == "POST"
    # And the endpoint works.
    assert autosave(client, assessment.pk).json()["ok"] is True


def test_autosave_csrf_failure_is_json(production, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    data = assert_json_error(autosave(client, assessment.pk), 403)
    assert "刷新" in data["message"]


def test_errors_follow_the_request_json_or_html(client, production, questionnaire):
    """A request asking for JSON only gets JSON errors anywhere; a browser gets the page."""
    assert_json_error(client.get("/no-such-page/", headers={"Accept": "application/json"}), 404)
    html = client.get("/no-such-page/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.status_code == 404 and html["Content-Type"].startswith("text/html")


# --- 3. the edit-conflict message ---------------------------------------------------------------------


def alert_texts(response) -> list[str]:
    content = response.content.decode()
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block))
        for block in re.findall(r'role="alert">(.*?)</div>', content, re.S)
    ]


def test_autosave_conflict_names_the_same_account_or_the_colleague(owner_client, owner, colleague, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    # The owner saved P1.1 in another tab; this tab still shows revision 0.
    services.answers_save(assessment=assessment, user=owner, changes=[services.AnswerChange("P1.1", 3, "", 0)])
    data = autosave(owner_client, assessment.pk, {"item": "P1.1", "value": "1", "note": "", "revision": 0}).json()
    assert data["conflict"]["same_account"] is True
    assert "另一个标签页或窗口" in data["message"] and "同事" not in data["message"]
    # A colleague saved P1.2.
    services.answers_save(assessment=assessment, user=colleague, changes=[services.AnswerChange("P1.2", 3, "", 0)])
    data = autosave(owner_client, assessment.pk, {"item": "P1.2", "value": "1", "note": "", "revision": 0}).json()
    assert data["conflict"]["same_account"] is False
    assert "同事" in data["message"] and colleague.username in data["message"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_page_conflict_from_another_tab_is_not_a_colleague(owner_client, owner, enterprise, language):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = reverse("surveys:page", args=[assessment.pk, 1])
    stale = page_post(assessment, 1, "1", action="save")  # this tab, loaded before the other tab saved
    other_tab = owner_client.post(url, page_post(assessment, 1, "3", action="save"), follow=True)
    assert other_tab.redirect_chain == [(url, 302)]  # saved there (and its "saved" message shown there)
    response = speak(owner_client, language).post(url, stale)
    assert response.status_code == 409
    alerts = alert_texts(response)
    words = {"zh-hans": ("另一个标签页或窗口", "同事"), "en": ("another tab or window", "colleague")}[language]
    assert alerts and all(words[0] in text for text in alerts)
    assert not any(words[1] in text for text in alerts)
    assert not any("。。" in text or re.search(r"\.\s*\.", text) for text in alerts)


def test_page_conflict_from_a_colleague_names_the_colleague_once_without_a_double_stop(
    client, owner, colleague, enterprise
):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = reverse("surveys:page", args=[assessment.pk, 1])
    stale = page_post(assessment, 1, "1", action="save")
    client.force_login(colleague)
    client.post(url, page_post(assessment, 1, "3", action="save"), follow=True)
    client.force_login(owner)
    alerts = alert_texts(client.post(url, stale))
    assert alerts[0].count("同事在您编辑期间") == 1  # the flash
    assert all(colleague.username in text for text in alerts[1:])
    assert not any("。。" in text for text in alerts)


# --- 4. messages said once ----------------------------------------------------------------------------


def test_review_says_missing_answers_once(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    owner_client.post(reverse("surveys:page", args=[assessment.pk, 1]), page_post(assessment, 1, "2"))
    response = owner_client.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"}, follow=True)
    text = main_text(response)
    assert text.count("题未作答") == 1
    assert text.count("P2.1") == 1  # in the list of missing answers, not again in a message


def test_review_says_the_pledge_once(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    answer_everything(owner_client, assessment)
    for data in ({}, {"csrfmiddlewaretoken": "-"}):  # a POST with no field at all too
        response = owner_client.post(reverse("surveys:review", args=[assessment.pk]), data)
        assert response.status_code == 200
        assert main_text(response).count("真实性承诺") == 1
    assessment.refresh_from_db()
    assert assessment.is_draft


def submit_with_gates(client, assessment):
    """Every answer 4 except the core-technology page at 0: the floor gates of L3, L4 and L5 fail on it."""
    answer_everything(client, assessment, "4")
    client.post(reverse("surveys:page", args=[assessment.pk, 3]), page_post(assessment, 3, "0"))
    response = client.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"})
    assert response.url == reverse("surveys:results", args=[assessment.pk])
    return response.url


def test_results_explain_the_capping_gate_once(owner_client, owner, enterprise):
    from surveys.models import Gate

    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = submit_with_gates(owner_client, assessment)
    assessment.refresh_from_db()
    assert assessment.level == "L2" and {"G-L3-FLOOR", "G-L4-FLOOR", "G-L5-FLOOR"} <= set(
        assessment.result["capped_by"]
    )
    text = main_text(owner_client.get(url))
    reasons = {
        g.code: re.sub(r"\s+", " ", g.reason_zh) for g in Gate.objects.filter(questionnaire=assessment.questionnaire)
    }
    # The gate that set L2 explains the level, once (in "what stands between you and L3"); the gates of L4
    # and L5 would only repeat it; the summary says how many gates set the level and points there.
    assert text.count(reasons["G-L3-FLOOR"]) == 1
    assert reasons["G-L4-FLOOR"] not in text and reasons["G-L5-FLOOR"] not in text
    assert text.count("因 1 道门槛未通过，等级定为 L2") == 1


@pytest.mark.parametrize(("language", "phrase"), [("zh-hans", "官方评定"), ("en", "official")])
def test_the_home_page_says_the_disclaimer_once(client, questionnaire, language, phrase):
    content = speak(client, language).get(reverse("surveys:home")).content.decode()
    assert content.count(phrase) == 1


def test_joining_a_firm_is_said_once(client, enterprise):
    data = {
        "account-username": "zhao",
        "account-email": "zhao@example.com",
        "account-password1": "Quancheng-2026!",
        "account-password2": "Quancheng-2026!",
        "mode-mode": "join",
        "mode-join_uscc": enterprise.uscc,
    }
    response = client.post(reverse("surveys:signup"), data, follow=True)
    assert Membership.objects.get(user__username="zhao").status == Membership.STATUS_PENDING
    text = main_text(response)
    assert text.count("审批") == 1, text


# --- 5. list punctuation follows the language ----------------------------------------------------------


def test_the_helpers_follow_the_language():
    with translation.override("zh-hans"):
        assert join_list(["P1.4", "P2.1"]) == "P1.4、P2.1"
        assert join_list(["a", "b"], strong=True) == "a；b"
        assert in_brackets("P1.4") == "（P1.4）" and with_note("指数", "0–100") == "指数（0–100）"
        assert with_colon("范围") == "范围："
    with translation.override("en"):
        assert join_list(["P1.4", "P2.1"]) == "P1.4, P2.1"
        assert join_list(["a", "b"], strong=True) == "a; b"
        assert in_brackets("P1.4") == "(P1.4)" and with_note("Index", "0–100") == "Index (0–100)"
        assert with_colon("Scope") == "Scope: "
    assert without_final_stop("没有规划。") == "没有规划" and without_final_stop("No plan.") == "No plan"


def test_english_results_list_the_gate_items_in_english(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    url = submit_with_gates(owner_client, assessment)
    page = speak(owner_client, "en").get(url).content.decode()
    text = main_text(speak(owner_client, "en").get(url))
    assert "、" not in text and "（P" not in text
    # The items blocking L3 are listed one by one in "What stands between you and L3".
    block = page[page.index('id="next-level"') :]
    assert all(f'data-item="{code}"' in block or code in block for code in ("P3.1", "P3.2", "P3.3"))
    assert "What stands between you and L3" in text


def test_english_missing_answers_are_listed_in_english(owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    with translation.override("en"), pytest.raises(services.ServiceError) as refused:
        services.assessment_submit(assessment=assessment, user=owner, pledge=True)
    message = str(refused.value.message)
    assert "P1.1, P1.2" in message and not any(mark in message for mark in CHINESE_LIST_MARKS)


def test_english_admin_pages_use_english_punctuation(client, district_admin, owner):
    client.force_login(district_admin)
    speak(client, "en")
    for name in ("manage:dashboard", "manage:weaknesses", "manage:firms"):
        text = main_text(client.get(reverse(name)))
        assert "Scope: " in text, name
        assert not any(mark in text for mark in ("、", "：")), (name, text[:300])


# --- 6. the home page introduces the assessment in two sentences --------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_home_page_introduction_is_two_sentences_with_sign_up_and_login(client, questionnaire, language):
    content = speak(client, language).get(reverse("surveys:home")).content.decode()
    lead = re.search(r'<p class="lead">(.*?)</p>', content, re.S).group(1)
    lead = re.sub(r"\s+", " ", lead).strip()
    stops = lead.count("。") if language == "zh-hans" else len(re.findall(r"[.!?](?:\s|$)", lead))
    assert stops == 2, lead
    n = Item.objects.filter(questionnaire=questionnaire).count()
    assert str(n) in lead and "15–20" in lead
    assert f'href="{reverse("surveys:signup")}"' in content and f'href="{reverse("login")}"' in content
