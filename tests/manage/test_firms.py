"""Firm list (search, sort, filters, pagination) and firm detail (profile, rounds, answers, PDF)."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from surveys.models import Assessment, Enterprise
from surveys.reports.formatting import format_score
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT

from .conftest import DISTRICT_SCOPE, make_admin, submitted_firm

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def listed(response) -> list[Enterprise]:
    return list(response.context["page"].object_list)


def test_the_list_shows_exactly_the_scope(client, district_admin, demo_firms):
    client.force_login(district_admin)
    response = client.get(reverse("manage:firms"))
    page = response.context["page"]
    expected = Enterprise.objects.filter(district__in=DISTRICT_SCOPE)
    assert page.paginator.count == expected.count()
    seen = set()
    for number in page.paginator.page_range:
        firms = listed(client.get(reverse("manage:firms"), {"page": number}))
        assert all(f.district in DISTRICT_SCOPE for f in firms)
        seen |= {f.pk for f in firms}
    assert seen == set(expected.values_list("pk", flat=True))


def test_search_by_name_or_uscc(client, city_admin, demo_firms):
    client.force_login(city_admin)
    firm = Enterprise.objects.order_by("id")[5]
    by_uscc = listed(client.get(reverse("manage:firms"), {"q": firm.uscc[:12].lower()}))
    assert firm in by_uscc and all(f.uscc.startswith(firm.uscc[:12]) for f in by_uscc)
    fragment = firm.name[2:5]
    by_name = listed(client.get(reverse("manage:firms"), {"q": fragment}))
    assert firm in by_name or len(by_name) == 50
    assert all(fragment in f.name for f in by_name)


def test_sorting_by_allowed_fields(client, city_admin, demo_firms):
    client.force_login(city_admin)
    rows = listed(client.get(reverse("manage:firms"), {"sort": "-index"}))
    indexes = [f.round_index for f in rows]
    assert indexes == sorted(indexes, reverse=True)
    top = Assessment.objects.filter(is_latest=True).order_by("-index").first()
    assert rows[0].round_index == top.index
    rows = listed(client.get(reverse("manage:firms"), {"sort": "uscc"}))
    assert [f.uscc for f in rows] == sorted(f.uscc for f in rows)
    html = client.get(reverse("manage:firms"), {"sort": "-index"}).content.decode()
    assert 'aria-sort="descending"' in html


def test_filters_on_the_list(client, city_admin, demo_firms):
    client.force_login(city_admin)
    page = client.get(reverse("manage:firms"), {"level": "L3", "size": "medium"}).context["page"]
    expected = Enterprise.objects.filter(size_class="medium", assessments__is_latest=True, assessments__level="L3")
    assert page.paginator.count == expected.count()
    labels = set(Assessment.objects.values_list("label", flat=True))
    label = sorted(labels)[0]
    page = client.get(reverse("manage:firms"), {"round": label}).context["page"]
    assert page.paginator.count == Assessment.objects.filter(label=label, status="submitted").count()
    assert all(f.round_label == label for f in page.object_list)


def test_firms_without_a_submitted_round_are_listed_without_results(client, city_admin, questionnaire):
    from tests.model_factories import EnterpriseFactory

    EnterpriseFactory(name="尚未评估的企业")
    client.force_login(city_admin)
    rows = listed(client.get(reverse("manage:firms")))
    firm = next(f for f in rows if f.name == "尚未评估的企业")
    assert firm.round_index is None
    assert client.get(reverse("manage:firms"), {"level": "L1"}).context["page"].paginator.count == 0


@pytest.fixture
def noted_firm(questionnaire):
    return submitted_firm(
        questionnaire,
        district=DISTRICT_SCOPE[0],
        seed=2,
        name="济南泉城测试机械有限公司",
        contact_name="王经理",
        contact_phone="13905310000",
        notes={"P1.1": XSS, "P2.2": "数控设备 18 台"},
    )


def test_detail_shows_profile_rounds_answers_and_notes(client, city_admin, noted_firm):
    enterprise, assessment = noted_firm
    client.force_login(city_admin)
    html = client.get(reverse("manage:firm", args=[enterprise.pk])).content.decode()
    assert enterprise.name in html and enterprise.uscc in html
    assert "王经理" in html and "13905310000" in html
    assert assessment.label in html and format_score(assessment.index) in html
    assert "数控设备 18 台" in html
    assert XSS not in html and "&lt;script&gt;" in html
    assert reverse("manage:round_report", args=[enterprise.pk, assessment.pk]) in html


def test_contact_details_need_the_permission(client, roles, noted_firm):
    enterprise, assessment = noted_firm
    client.force_login(make_admin(ROLE_CITY, contacts=False))
    html = client.get(reverse("manage:firm", args=[enterprise.pk])).content.decode()
    assert "13905310000" not in html and "王经理" not in html
    response = client.get(reverse("manage:round_report", args=[enterprise.pk, assessment.pk]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert enterprise.uscc in text
    assert "13905310000" not in text and "王经理" not in text


def test_the_firm_pdf_for_an_administrator(client, city_admin, noted_firm):
    enterprise, assessment = noted_firm
    client.force_login(city_admin)
    response = client.get(reverse("manage:round_report", args=[enterprise.pk, assessment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment;" in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "13905310000" in text


def test_a_district_administrators_firm_pdf_has_no_city_wide_comparisons(client, roles, questionnaire, noted_firm):
    from surveys.reports import render_assessment_pdf
    from surveys.scopes import administrator_scope
    from surveys.selectors import assessment_report

    # Enough firms in the industry across the city for its comparison group to be shown to the firm.
    for n in range(11):
        submitted_firm(questionnaire, district="370102", seed=n)
    enterprise, assessment = noted_firm
    firm_view = assessment_report(assessment=assessment, language="zh-hans")
    assert any(p.key == "industry" and p.shown for p in firm_view.peers)
    scope = administrator_scope(make_admin(ROLE_DISTRICT, DISTRICT_SCOPE))
    report = assessment_report(assessment=assessment, language="zh-hans", scope=scope)
    assert [p.key for p in report.peers] == ["district"]
    assert all(len(d.peer_means) == 1 for d in report.dimensions)
    _name, _mime, data = render_assessment_pdf(report)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "济南全市" not in text
    city = administrator_scope(make_admin(ROLE_CITY))
    _name, _mime, data = render_assessment_pdf(assessment_report(assessment=assessment, language="zh-hans", scope=city))
    assert "济南全市" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
