"""Who may open which administrator URL: every pattern of surveys.manage.urls is enumerated, so a new URL
cannot be added without being covered here."""

import pytest
from django.urls import URLPattern, resolve, reverse

from surveys.manage import urls as admin_urls
from surveys.models import Assessment, Enterprise
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT

from .conftest import DISTRICT_SCOPE, make_admin, submitted_firm

pytestmark = pytest.mark.django_db

# Sample values for the path converters; the firm/round ones are filled in per test.
SAMPLE_KWARGS = {"name": "levels", "dataset": "firms", "fmt": "csv", "token": "0" * 32}
# URLs of an object that the sample values do not name (an upload's error report): 404 where others answer 200.
NO_SAMPLE_OBJECT = {"register_errors"}


def admin_url_names() -> list[str]:
    names = []
    for pattern in admin_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), "admin_urls should list its views directly"
        assert pattern.name, f"unnamed admin URL {pattern.pattern}"
        names.append(pattern.name)
    return names


def admin_urls_for(enterprise: Enterprise, assessment: Assessment) -> list[str]:
    urls = []
    for pattern in admin_urls.urlpatterns:
        wanted = set(pattern.pattern.converters)
        values = {**SAMPLE_KWARGS, "pk": enterprise.pk, "round_pk": assessment.pk}
        urls.append(reverse(f"manage:{pattern.name}", kwargs={k: values[k] for k in wanted}))
    return urls


@pytest.fixture
def outside_firm(questionnaire):
    """A submitted firm in Lixia (370102), outside the district administrators' scope."""
    return submitted_firm(questionnaire, district="370102", seed=3)


@pytest.fixture
def inside_firm(questionnaire):
    return submitted_firm(questionnaire, district=DISTRICT_SCOPE[0], seed=4)


def test_every_admin_url_is_known_to_this_test():
    assert set(admin_url_names()) == {
        "dashboard",
        "breakdowns",
        "weaknesses",
        "trend",
        "chart",
        "firms",
        "firm",
        "firm_uscc",
        "round",
        "round_report",
        "export",
        "city_report",
        "audit",
        "audit_export",
        "coverage",
        "unassessed",
        "unassessed_export",
        "register",
        "register_errors",
    }


# The audit log names users and firms of every district; correcting a firm's code and importing the business
# register are the city's job.
CITY_ONLY = {"audit", "audit_export", "firm_uscc", "register", "register_errors"}
# The forms of the administrators' side that write (enterprise_uscc_correct, register_import); every other
# page only reads.
ACCEPTS_POST = {"firm_uscc", "register"}


def test_anonymous_users_are_sent_to_the_login_page(client, inside_firm):
    for url in admin_urls_for(*inside_firm):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_firm_users_get_403_on_every_admin_url(client, firm_user, inside_firm):
    client.force_login(firm_user)
    own_enterprise = firm_user.membership.enterprise
    for url in admin_urls_for(*inside_firm):
        assert client.get(url).status_code == 403, url
    # Their own firm is no exception.
    own_round = inside_firm[1]
    for url in admin_urls_for(own_enterprise, own_round):
        assert client.get(url).status_code in (403, 404), url


def test_staff_without_an_administrator_role_gets_403(client, questionnaire, inside_firm):
    from tests.model_factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    for url in admin_urls_for(*inside_firm):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["city", "district", "superuser"])
def test_administrators_open_every_admin_url(client, roles, superuser, role, inside_firm):
    user = superuser if role == "superuser" else make_admin(role, DISTRICT_SCOPE if role == ROLE_DISTRICT else ())
    client.force_login(user)
    for url in admin_urls_for(*inside_firm):
        response = client.get(url)
        city_only = resolve(url).url_name in CITY_ONLY
        expected = (
            403 if city_only and role == ROLE_DISTRICT else 404 if resolve(url).url_name in NO_SAMPLE_OBJECT else 200
        )
        assert response.status_code == expected, (url, response.status_code)


def test_a_district_administrator_gets_404_for_firms_outside_the_districts(client, district_admin, outside_firm):
    client.force_login(district_admin)
    enterprise, assessment = outside_firm
    for name in ("firm", "round", "round_report"):
        pattern = next(p for p in admin_urls.urlpatterns if p.name == name)
        kwargs = {"pk": enterprise.pk, "round_pk": assessment.pk}
        url = reverse(f"manage:{name}", kwargs={k: kwargs[k] for k in pattern.pattern.converters})
        assert client.get(url).status_code == 404, url


def test_a_round_of_another_firm_is_404_even_inside_the_scope(client, city_admin, inside_firm, outside_firm):
    client.force_login(city_admin)
    url = reverse("manage:round", args=[inside_firm[0].pk, outside_firm[1].pk])
    assert client.get(url).status_code == 404


def test_drafts_are_not_shown_to_administrators(client, city_admin, questionnaire):
    from surveys import services
    from tests.model_factories import MembershipFactory

    membership = MembershipFactory()
    draft = services.assessment_start(enterprise=membership.enterprise, user=membership.user)
    client.force_login(city_admin)
    assert client.get(reverse("manage:round", args=[membership.enterprise.pk, draft.pk])).status_code == 404
    assert client.get(reverse("manage:round_report", args=[membership.enterprise.pk, draft.pk])).status_code == 404


def test_exports_and_the_city_report_need_the_export_permission(client, roles, inside_firm):
    client.force_login(make_admin(ROLE_CITY, export=False))
    for url in admin_urls_for(*inside_firm):
        status = client.get(url).status_code
        if "/export/" in url or url.endswith("/manage/report.pdf"):
            assert status == 403, url
        elif resolve(url).url_name in NO_SAMPLE_OBJECT:
            assert status == 404, url
        else:
            assert status == 200, url


def test_a_district_permission_without_districts_sees_nothing(client, roles, inside_firm):
    user = make_admin(ROLE_DISTRICT, DISTRICT_SCOPE)
    user.administrator_scope.districts = []
    user.administrator_scope.save()
    client.force_login(user)
    assert client.get(reverse("manage:firm", args=[inside_firm[0].pk])).status_code == 404
    page = client.get(reverse("manage:firms"))
    assert page.context["page"].paginator.count == 0
    assert "未分配区县" in page.content.decode()


def test_unknown_dataset_format_chart_and_sort_are_harmless(client, city_admin, inside_firm):
    client.force_login(city_admin)
    assert client.get(reverse("manage:export", args=["users", "csv"])).status_code == 404
    assert client.get(reverse("manage:export", args=["firms", "json"])).status_code == 404
    assert client.get(reverse("manage:chart", args=["secret"])).status_code == 404
    assert client.get(reverse("manage:chart", args=["breakdown"]) + "?by=contact_phone").status_code == 404
    for sort in ("contact_phone", "-contact_phone", "membership__user__password", "name;drop", "", "-"):
        response = client.get(reverse("manage:firms"), {"sort": sort})
        assert response.status_code == 200
        assert response.context["sort"] == "name"


def test_admin_pages_only_answer_get(client, city_admin, inside_firm):
    client.force_login(city_admin)
    for url in admin_urls_for(*inside_firm):
        if resolve(url).url_name in ACCEPTS_POST:
            continue
        assert client.post(url).status_code == 405, url


def test_the_navbar_links_the_admin_side_for_administrators_only(client, city_admin, firm_user):
    client.force_login(firm_user)
    assert reverse("manage:dashboard") not in client.get(reverse("surveys:firm")).content.decode()
    client.force_login(city_admin)
    assert reverse("manage:dashboard") in client.get(reverse("manage:firms")).content.decode()
