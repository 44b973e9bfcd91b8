from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from surveys.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Delete audit events older than JINAN_AUDIT_RETENTION_DAYS (never fewer than 183 days)."

    def handle(self, *args, **options):
        days = max(183, settings.JINAN_AUDIT_RETENTION_DAYS)
        cutoff = timezone.now() - timedelta(days=days)
        deleted = AuditEvent.objects.all()._purge_before(cutoff)
        self.stdout.write(f"deleted {deleted} audit events older than {days} days")
