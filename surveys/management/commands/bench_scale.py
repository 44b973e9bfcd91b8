"""make bench-scale: the administrators' pages and the results page at 60,000 and at a million firms.

Run against the scale database (DATABASE_URL): it seeds that database with ``--firms`` demo firms by COPY when it
does not hold exactly that many (_scale_seed.py), then measures each database (``--compare`` URL, then its own)
in a child process of its own (``--measure``, which prints one line of JSON) and prints the medians side by
side with the ratio of the two and the goals of issue 15.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from surveys import demo, selectors

from . import _scale_seed
from .bench import client_page

# (key, name, goal at 60,000 firms in ms or None, largest ratio 1M ÷ 60k or None, goal at 1M in ms or None)
MEASURES = [
    ("dashboard", "fresh dashboard /manage/", 50.0, 1.5, None),
    ("breakdown", "breakdown /manage/breakdowns/?by=industry", None, None, None),
    ("results", "results page of a firm (its member)", 30.0, None, 30.0),
    ("city_report", "city report PDF /manage/report.pdf", None, None, None),
    # A key-sector filter: the table by sector and coverage's sector rows read the cells of the sector's pairs.
    ("city_report_sector", "city report PDF, key-sector filter ?sector=nev", None, None, None),
]


def _timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """Medians over ``repeat`` calls of the wall time and of this process's CPU time (time.process_time: the
    server's Python; the wall time adds PostgreSQL's share and waits), in ms."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {"wall": statistics.median(walls) * 1000, "cpu": statistics.median(cpus) * 1000, "n": repeat}


def _sample_rounds(count: int, seed: int = 15) -> list[tuple[int, int]]:
    """(round id, firm id) of ``count`` firms' latest rounds spread over the table (random id ranges, one
    indexed read each, rather than a random order over a million rows)."""
    from surveys.models import Assessment

    latest = Assessment.objects.filter(is_latest=True, status=Assessment.STATUS_SUBMITTED)
    bounds = Assessment.objects.order_by("id").values_list("id", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None or last is None:
        return []
    rnd, chosen = random.Random(seed), dict[int, int]()
    for _ in range(count * 3):
        found = latest.filter(id__gte=rnd.randint(first, last)).order_by("id").values_list("id", "enterprise_id")
        row = found.first()
        if row is not None:
            chosen[row[0]] = row[1]
        if len(chosen) == count:
            break
    return list(chosen.items())


def measure_pages(repeat: int, firms: int) -> dict[str, Any]:
    """The four measures on the database of DATABASE_URL, through the test Client: the administrators' pages
    as a city administrator, the results page as a member of each of ``firms`` firms. Each page is requested
    once before it is timed (buffers warm, as bench.py's dashboard bench does) and the cache is cleared before
    every timed request, so that every figure is computed afresh."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client, override_settings

    from surveys import services
    from surveys.models import Enterprise, Membership
    from surveys.scopes import ROLE_CITY

    stamp = f"bench-scale-{int(time.time())}"
    User = get_user_model()
    out: dict[str, Any] = {"firms": Enterprise.objects.count(), "database": connection.settings_dict["NAME"]}
    try:
        admin = User.objects.create_user(username=f"{stamp}-admin", password=None)
        services.administrator_grant(user=admin, role=ROLE_CITY)
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client = Client()
            client.force_login(admin)
            for key, path in (
                ("dashboard", "/manage/"),
                ("breakdown", "/manage/breakdowns/?by=industry"),
                ("city_report", "/manage/report.pdf"),
                ("city_report_sector", "/manage/report.pdf?sector=nev"),
            ):
                client_page(client, path, cold=True)()
                out[key] = _timed(
                    client_page(client, path, cold=True),
                    max(3, repeat // 2) if key.startswith("city_report") else repeat,
                )
            samples: dict[str, list[float]] = {"wall": [], "cpu": []}
            rounds = _sample_rounds(firms)
            for n, (round_id, enterprise_id) in enumerate(rounds):
                member = User.objects.create_user(username=f"{stamp}-firm-{n}", password=None)
                Membership.objects.create(user=member, enterprise_id=enterprise_id, role=Membership.ROLE_OWNER)
                firm_client = Client()
                firm_client.force_login(member)
                page = client_page(firm_client, f"/assessments/{round_id}/results/", cold=True)
                page()
                timed = _timed(page, 3)
                samples["wall"].append(timed["wall"])
                samples["cpu"].append(timed["cpu"])
            out["results"] = {
                "wall": statistics.median(samples["wall"]) if rounds else float("nan"),
                "cpu": statistics.median(samples["cpu"]) if rounds else float("nan"),
                "n": len(rounds),
            }
    finally:
        cache.clear()
        User.objects.filter(username__startswith=stamp).delete()
    return out


def database_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


class Command(BaseCommand):
    help = "Seed the scale database by COPY (once) and print the pages' medians at 60,000 and a million firms."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firms", type=int, default=1_000_000, help="firms of the scale database")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--compare", default="", help="DATABASE_URL of the 60,000-firm database")
        parser.add_argument("--repeat", type=int, default=7)
        parser.add_argument("--results-firms", type=int, default=7, help="firms whose results page is timed")
        parser.add_argument("--measure", action="store_true", help="only measure this database; print JSON")
        parser.add_argument("--seed-only", action="store_true", help="only seed the scale database")

    def handle(
        self,
        *args: Any,
        firms: int,
        seed: int,
        compare: str,
        repeat: int,
        results_firms: int,
        measure: bool,
        seed_only: bool,
        **options: Any,
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_scale runs on PostgreSQL: set DATABASE_URL")
        if measure:
            self.stdout.write(json.dumps(measure_pages(repeat, results_firms)))
            return
        self.stdout.write(f"load average at start: {self._load()}")
        self.seed(firms, seed)
        if seed_only:
            return
        columns = []
        if compare:
            columns.append(self.child(compare, repeat, results_firms))
        columns.append(self.child(os.environ.get("DATABASE_URL", ""), repeat, results_firms))
        self.table(columns)
        self.stdout.write(f"load average at end: {self._load()}")

    @staticmethod
    def _load() -> str:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())

    def seed(self, firms: int, seed: int) -> None:
        name = connection.settings_dict["NAME"]
        if _scale_seed.scale_seeded(firms):
            self.stdout.write(f"{name}: {firms:,} firms already seeded (reused); {database_size() / 2**30:.1f} GiB")
            return
        questionnaire = selectors.questionnaire_current()
        if questionnaire is None:
            raise CommandError("no questionnaire loaded: run load_questionnaire first")
        self.stdout.write(f"{name}: seeding {firms:,} firms by COPY (questionnaire {questionnaire.version})")
        report = _scale_seed.scale_seed(
            firms=firms,
            questionnaire=questionnaire,
            previous=demo.questionnaire_before(questionnaire),
            seed=seed,
            say=self.say,
        )
        self.stdout.write(
            f"seeded {report.firms:,} firms, {report.rounds:,} submitted rounds ({report.pool_sets:,} scored answer "
            f"sets) in {report.total:.0f} s; database {database_size() / 2**30:.1f} GiB"
        )

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # the phases' times as they come, also through a pipe

    def child(self, url: str, repeat: int, results_firms: int) -> dict[str, Any]:
        from django.conf import settings

        env = {**os.environ, "DATABASE_URL": url}
        result = subprocess.run(
            [sys.executable, "manage.py", "bench_scale", "--measure", "--repeat", str(repeat), "--results-firms",
             str(results_firms)],
            env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise CommandError(f"measuring {url} failed: {result.stderr[-3000:]}")
        measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return measured

    def table(self, columns: list[dict[str, Any]]) -> None:
        heads = [f"{c['firms']:,} firms ({c['database']})" for c in columns]
        self.stdout.write("medians, ms: wall time of the request in the test Client / CPU time of the process")
        self.stdout.write(f"  {'':<44}" + "".join(f"{h:>30}" for h in heads) + f"{'ratio':>8}   goal")
        for key, name, goal, ratio_goal, big_goal in MEASURES:
            cells = [f"{c[key]['wall']:.1f} / {c[key]['cpu']:.1f} (n={c[key]['n']})" for c in columns]
            ratio = columns[-1][key]["wall"] / columns[0][key]["wall"] if len(columns) == 2 else float("nan")
            goals, verdicts = [], []
            if goal is not None:
                goals.append(f"< {goal:g} ms at 60k")
                verdicts.append(columns[0][key]["wall"] < goal)
            if ratio_goal is not None and len(columns) == 2:
                goals.append(f"1M ≤ {ratio_goal:g}× 60k")
                verdicts.append(ratio <= ratio_goal)
            if big_goal is not None and len(columns) == 2:
                goals.append(f"< {big_goal:g} ms at 1M")
                verdicts.append(columns[-1][key]["wall"] < big_goal)
            verdict = "" if not verdicts else ("OK" if all(verdicts) else "MISSED")
            self.stdout.write(
                f"  {name:<44}"
                + "".join(f"{cell:>30}" for cell in cells)
                + f"{ratio:>7.2f}×   {', '.join(goals)} {verdict}"
            )
