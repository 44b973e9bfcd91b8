"""python manage.py rebuild_summaries [--check]: the summary tables recomputed from the stored results.

Without --check the tables are rebuilt in one transaction (the pages read the old ones until it commits) and
PostgreSQL's statistics refreshed. With --check nothing is written: the differences between the stored summaries
and what the stored results give are printed, and the exit code is 1 if there is any.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from surveys import services


class Command(BaseCommand):
    help = "Recompute the summary tables from the stored results (--check: only report differences, exit 1 if any)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare, write nothing; exit code 1 on a difference")
        parser.add_argument("--examples", type=int, default=20, help="differing rows printed with --check")

    def handle(self, *args, check, examples, **options):
        started = time.perf_counter()
        if check:
            result = services.summaries_differences(examples=examples)
            elapsed = time.perf_counter() - started
            if result.ok:
                self.stdout.write(f"summaries match the stored results ({elapsed:.1f} s)")
                return
            for d in result.examples:
                self.stdout.write(f"  {d.table} {d.key}: stored {d.stored}, the results give {d.expected}")
            raise CommandError(f"{result.differences} summary rows differ from the stored results ({elapsed:.1f} s)")
        services.summaries_rebuild()
        rebuilt = time.perf_counter() - started
        services.summaries_vacuum_analyze()
        self.stdout.write(
            f"summaries rebuilt in {rebuilt:.1f} s (with VACUUM ANALYZE {time.perf_counter() - started:.1f} s)"
        )
