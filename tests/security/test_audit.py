"""The audit trail: logins, views, downloads, submissions and corrections of a firm's code are recorded;
rows are append-only."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from surveys import services
from surveys.audit.models import AppendOnlyError, AuditEvent

from ..test_views_firm import answer_everything

pytestmark = pytest.mark.django_db


def test_logins_and_failed_logins_are_recorded(client, owner):
    client.post(reverse("login"), {"username": owner.username, "password": "nope"})
    client.post(reverse("login"), {"username": owner.username, "password": "correct-horse-battery"})
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "username", "success"))
    assert actions == [("login_failed", owner.username, False), ("login", owner.username, True)]
    assert AuditEvent.objects.filter(ip="127.0.0.1").count() == 2


def test_results_view_pdf_download_and_submission_are_recorded(owner_client, owner, enterprise):
    assessment = services.assessment_start(enterprise=enterprise, user=owner)
    answer_everything(owner_client, assessment)
    owner_client.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"})
    owner_client.get(reverse("surveys:results", args=[assessment.pk]))
    owner_client.get(reverse("surveys:report", args=[assessment.pk]))
    events = AuditEvent.objects.filter(enterprise_id=enterprise.id).order_by("id")
    assert [(e.action, e.target) for e in events] == [
        ("submit", f"assessment:{assessment.pk}"),
        ("view", f"assessment:{assessment.pk}"),
        ("download", f"report:{assessment.pk}"),
    ]
    assert all(e.user == owner and e.at is not None for e in events)


def test_a_uscc_correction_is_recorded_with_the_old_and_new_code(owner_client, owner, enterprise):
    from surveys.uscc import with_check_characters

    old, new = enterprise.uscc, with_check_characters("91370112MA3D2E4F")
    owner_client.post(reverse("surveys:profile_uscc"), {"correct-uscc": "  " + new.lower()})
    refused = owner_client.post(reverse("surveys:profile_uscc"), {"correct-uscc": new[:17]})
    assert refused.status_code == 200  # an invalid code changes nothing and records nothing
    events = AuditEvent.objects.filter(action=AuditEvent.CORRECT)
    assert [(e.user, e.target, e.enterprise_id, e.detail) for e in events] == [
        (owner, f"enterprise:{enterprise.pk}", enterprise.pk, {"uscc_old": old, "uscc_new": new})
    ]
    # The service records it without a request too (a shell, a command): the user, no address.
    services.enterprise_uscc_correct(user=owner, enterprise=enterprise, uscc_raw=old)
    latest = AuditEvent.objects.filter(action=AuditEvent.CORRECT).first()
    assert latest.user == owner and latest.ip is None and latest.detail == {"uscc_old": new, "uscc_new": old}


def test_events_cannot_be_changed_or_deleted(rf):
    from surveys.audit.services import audit_event_record

    request = rf.get("/")
    request.user = type("Anon", (), {"is_authenticated": False})()
    event = audit_event_record(request=request, action=AuditEvent.VIEW, target="x")
    event.target = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(id=event.id).update(target="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(id=event.id).target == "x"


def test_retention_keeps_at_least_183_days(rf, settings):
    from surveys.audit.services import audit_event_record

    settings.JINAN_AUDIT_RETENTION_DAYS = 30  # below the legal minimum: still 183
    request = rf.get("/")
    request.user = type("Anon", (), {"is_authenticated": False})()
    young = audit_event_record(request=request, action=AuditEvent.VIEW, target="young")
    old = audit_event_record(request=request, action=AuditEvent.VIEW, target="old")
    # Backdate directly in SQL: the application itself cannot.
    from django.db import connection

    with connection.cursor() as cursor:
        table = AuditEvent._meta.db_table
        cursor.execute(f"UPDATE {table} SET at = %s WHERE id = %s", [timezone.now() - timedelta(days=182), young.id])
        cursor.execute(f"UPDATE {table} SET at = %s WHERE id = %s", [timezone.now() - timedelta(days=184), old.id])
    out = StringIO()
    call_command("purge_audit_log", stdout=out)
    assert "deleted 1 audit events older than 183 days" in out.getvalue()
    assert list(AuditEvent.objects.values_list("target", flat=True)) == ["young"]


def test_carriage_returns_in_usernames_cannot_forge_log_lines(client, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="jinan.audit")
    client.post(reverse("login"), {"username": "evil\r\naudit login user='admin'", "password": "x"})
    assert all("\n" not in record.getMessage() for record in caplog.records)
