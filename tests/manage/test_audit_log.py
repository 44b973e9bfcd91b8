"""The audit log page (/manage/audit/) and its CSV export: city administrators read who saw which firm."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.audit.models import AuditEvent
from surveys.audit.services import audit_event_record
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT

from .conftest import make_admin, submitted_firm

pytestmark = pytest.mark.django_db

AUDIT = reverse("manage:audit")
EXPORT = reverse("manage:audit_export")
FIRM_DISTRICT = "370102"


class _Request:
    """The parts of a request that audit_event_record reads."""

    def __init__(self, user=None, ip="10.0.0.9"):
        self.user = user if user is not None else type("Anonymous", (), {"is_authenticated": False})()
        self.META = {"REMOTE_ADDR": ip}


def record_at(when: dt.datetime, monkeypatch, *, user=None, **fields) -> AuditEvent:
    """An event recorded at ``when`` (``at`` is filled in from timezone.now when the row is saved)."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: when)
        return audit_event_record(request=_Request(user), **fields)


def local(year, month, day, hour=12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=timezone.get_default_timezone())


@pytest.fixture
def firm(questionnaire):
    enterprise, _assessment = submitted_firm(
        questionnaire, district=FIRM_DISTRICT, seed=5, name="济南审计测试机械有限公司"
    )
    return enterprise


@pytest.fixture
def city(roles):
    return make_admin(ROLE_CITY)


def events_of(response) -> list[AuditEvent]:
    return [row.event for row in response.context["rows"]]


def test_city_administrators_read_who_viewed_a_firm_district_administrators_cannot(client, roles, firm, city):
    district = make_admin(ROLE_DISTRICT, [FIRM_DISTRICT])  # even the firm's own district administrator
    client.force_login(district)
    assert client.get(reverse("manage:firm", args=[firm.pk])).status_code == 200
    assert client.get(AUDIT).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert f'href="{AUDIT}"' not in client.get(reverse("manage:dashboard")).content.decode()

    client.force_login(city)
    page = client.get(AUDIT)
    assert page.status_code == 200
    text = page.content.decode()
    assert f'href="{AUDIT}"' in text  # the tab
    view = next(row for row in page.context["rows"] if row.event.action == AuditEvent.VIEW)
    assert (view.event.username, view.event.enterprise_id, view.side) == (district.username, firm.pk, "manage")
    assert f'<a href="{reverse("manage:firm", args=[firm.pk])}">{firm.name}</a>' in text
    # newest first: the city administrator's own login is above the district administrator's view
    events = events_of(page)
    assert events == sorted(events, key=lambda e: (e.at, e.id), reverse=True)
    assert events[0].username == city.username and events[0].action == AuditEvent.LOGIN


def test_the_firm_page_links_to_the_firms_access_records(client, questionnaire, roles, firm, city):
    other, _round = submitted_firm(questionnaire, district="370112", seed=6)
    client.force_login(city)
    link = f"{AUDIT}?enterprise={firm.pk}"
    assert link in client.get(reverse("manage:firm", args=[firm.pk])).content.decode()
    client.get(reverse("manage:firm", args=[other.pk]))
    records = client.get(link)
    assert [e.enterprise_id for e in events_of(records)] == [firm.pk]
    assert firm.name in records.content.decode()
    client.force_login(make_admin(ROLE_DISTRICT, [FIRM_DISTRICT]))
    assert link not in client.get(reverse("manage:firm", args=[firm.pk])).content.decode()


def test_filters_by_action_user_firm_outcome_and_local_dates(client, monkeypatch, firm, city):
    record_at(local(2026, 3, 1), monkeypatch, action=AuditEvent.LOGIN_FAILED, username="mallory", success=False)
    record_at(local(2026, 3, 2, 0), monkeypatch, action=AuditEvent.VIEW, username="wang.li", enterprise_id=firm.pk)
    record_at(local(2026, 3, 3, 23), monkeypatch, action=AuditEvent.DOWNLOAD, username="wang.li", enterprise_id=firm.pk)
    record_at(local(2026, 3, 4), monkeypatch, action=AuditEvent.EXPORT, username="zhao", target="export:firms.csv")
    client.force_login(city)

    def names(**query):
        response = client.get(AUDIT, query)
        assert response.status_code == 200
        return [(e.username, e.action) for e in events_of(response) if e.at.year == 2026 and e.at.month == 3]

    assert names(action="login_failed") == [("mallory", "login_failed")]
    assert names(outcome="failed") == [("mallory", "login_failed")]
    assert names(user="WANG") == [("wang.li", "download"), ("wang.li", "view")]
    assert names(firm="审计测试") == [("wang.li", "download"), ("wang.li", "view")]
    assert names(firm=firm.uscc.lower()) == [("wang.li", "download"), ("wang.li", "view")]
    assert names(firm="没有这家企业") == []
    # Both dates are inclusive local (Beijing) days: 00:00 on the 2nd and 23:00 on the 3rd are inside.
    assert names(**{"from": "2026-03-02", "to": "2026-03-03"}) == [("wang.li", "download"), ("wang.li", "view")]
    assert names(**{"from": "2026-03-04"}) == [("zhao", "export")]


def test_invalid_filters_are_reported_and_ignored(client, monkeypatch, city):
    record_at(local(2026, 3, 1), monkeypatch, action=AuditEvent.LOGIN, username="li")
    client.force_login(city)
    response = client.get(AUDIT, {"from": "2026-02-30", "action": "delete_everything", "enterprise": "abc"})
    assert response.status_code == 200
    filters = response.context["filters"]
    assert (filters.date_from, filters.action, filters.enterprise_id) == (None, "", None)
    text = response.content.decode()
    assert "此条件未使用" in text
    assert "li" in [e.username for e in events_of(response)]

    reversed_range = client.get(AUDIT, {"from": "2026-03-05", "to": "2026-03-01"})
    assert "截止日期不能早于起始日期" in reversed_range.content.decode()
    assert reversed_range.context["filters"].date_to is None


def test_pages_of_fifty_and_links_that_keep_the_filters(client, monkeypatch, city):
    for n in range(120):
        record_at(local(2026, 4, 1) + dt.timedelta(minutes=n), monkeypatch, action=AuditEvent.VIEW, username=f"u{n}")
    client.force_login(city)
    first = client.get(AUDIT, {"action": "view"})
    assert first.context["page"].paginator.count == 120
    assert [e.username for e in events_of(first)][:2] == ["u119", "u118"]
    assert len(events_of(first)) == 50
    assert "?action=view&amp;page=2" in first.content.decode()
    last = client.get(AUDIT, {"action": "view", "page": "3"})
    assert [e.username for e in events_of(last)][-1] == "u0"
    assert len(events_of(client.get(AUDIT, {"action": "view", "page": "999"}))) == 20  # the last page


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_export_is_filtered_neutralises_formulas_and_is_itself_recorded(client, monkeypatch, firm, city):
    payload = '=HYPERLINK("http://evil.example/","点击")'
    record_at(local(2026, 5, 1), monkeypatch, action=AuditEvent.LOGIN_FAILED, username=payload, success=False)
    record_at(local(2026, 5, 2), monkeypatch, action=AuditEvent.VIEW, username="wang", enterprise_id=firm.pk)
    client.force_login(city)
    response = client.get(EXPORT, {"outcome": "failed"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["时间", "用户名", "操作", "结果"]
    assert [row[1] for row in body] == ["'" + payload]
    assert body[0][2:4] == ["登录失败", "失败"]

    everything = read_csv(client.get(EXPORT, {"firm": firm.uscc}))[1:]
    assert [(row[1], row[5], row[6]) for row in everything] == [("wang", str(firm.pk), firm.name)]

    exported = AuditEvent.objects.filter(action=AuditEvent.EXPORT, target="export:audit.csv").order_by("id")
    assert [e.username for e in exported] == [city.username, city.username]
    assert exported[0].detail["filters"] == "outcome=failed"


def test_hostile_text_in_the_log_is_shown_as_text(client, monkeypatch, city):
    record_at(local(2026, 6, 1), monkeypatch, action=AuditEvent.LOGIN_FAILED, username="<script>alert(1)</script>")
    client.force_login(city)
    text = client.get(AUDIT).content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_page_in_english(client, city):
    client.force_login(city)
    response = client.get(AUDIT, HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert "Audit log" in text
    assert "审计日志" not in text
