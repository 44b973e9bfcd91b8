import json
import time

from django.core.management.base import BaseCommand, CommandError

from surveys import demo, selectors, services
from surveys.models import Assessment, Enterprise, RegisterEntry, SummaryCell


def summaries_missing() -> bool:
    """Rounds are stored but no summary (a database migrated to the summary tables and never rebuilt)."""
    return not SummaryCell.objects.exists() and Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED).exists()


class Command(BaseCommand):
    help = "Create realistic demo firms with submitted rounds, plus demo logins; ends with one line of JSON."

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=300)
        parser.add_argument("--if-empty", action="store_true", help="only seed when there are no firms yet")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same firms)")

    def handle(self, *args, firms, if_empty, seed, **options):
        if firms < 0:
            raise CommandError("--firms must be 0 or more")
        questionnaire = selectors.questionnaire_current()
        if questionnaire is None:
            raise CommandError("no questionnaire loaded: run load_questionnaire first")
        wrote = False
        if if_empty and Enterprise.objects.exists():
            summary = demo.demo_summary()
        else:
            wrote = True
            # The first line, and only when seeding: `make run` shows it while the rest goes to a log.
            self.stderr.write(f"Seeding {firms} demo firms")
            summary = demo.seed_demo(
                firms=firms,
                questionnaire=questionnaire,
                previous=demo.questionnaire_before(questionnaire),
                seed=seed,
                progress=lambda done, total: self.stderr.write(f"  seeded {done}/{total} firms"),
                summaries=False,  # rebuilt once below, after the register
            )
            for line in demo.plan_statistics().lines():
                self.stderr.write(line)
        if not RegisterEntry.objects.exists():
            # The register the coverage pages count against: the demo firms plus some not signed up.
            added = demo.register_seed(seed=seed, summaries=False)
            wrote = True
            self.stderr.write(f"Demo business register: {added} firms, some not signed up (see /manage/coverage/)")
        # The demo's rows bypass the services: the summary tables are computed from them (also for a database
        # seeded before the tables existed), then PostgreSQL's statistics and visibility map are brought up to
        # date at once (autovacuum may be off, or not come round before the first pages are read).
        if wrote or summaries_missing():
            started = time.perf_counter()
            services.summaries_rebuild()
            self.stderr.write(f"Summary tables rebuilt in {time.perf_counter() - started:.1f} s")
            services.summaries_vacuum_analyze()
        logins = demo.demo_accounts_ensure()
        self.stderr.write(f"Demo logins (password for all: {logins[0][1]}):")
        width = max(len(username) for username, _password, _description in logins)
        for username, _password, description in logins:
            self.stderr.write(f"  {username:<{width}}  {description}")
        self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
