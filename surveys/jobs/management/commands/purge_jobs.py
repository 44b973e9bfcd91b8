"""Delete the result files of background jobs past their expiry (JINAN_JOB_RESULT_HOURS); run daily."""

from django.core.management.base import BaseCommand

from surveys.jobs.services import job_purge


class Command(BaseCommand):
    help = "Delete expired result files of background jobs (JINAN_JOB_RESULT_HOURS after they ended)."

    def handle(self, *args, **options):
        count = job_purge()
        self.stdout.write(f"{count} expired result files deleted")
