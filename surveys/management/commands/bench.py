"""make bench: performance goals measured side by side, printed as medians and ratios.

Sections can be chosen with --only; each prints what it measured and the goal next to it.
"""

import random
import statistics
import time

from django.core.management.base import BaseCommand

from surveys import scoring
from surveys.seeding import read_definition

SEED_PATH = "seeds/questionnaire-2026.1.yaml"


def median_time(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def synthetic_answers(definition: scoring.Definition, count: int, seed: int = 7) -> list[dict]:
    """Answers that correlate the way real firms' do: one latent maturity per firm, noise per item."""
    rnd = random.Random(seed)
    items = [item for dim in definition.dimensions for item in dim.items]
    sets = []
    for _ in range(count):
        maturity = rnd.betavariate(2.2, 2.8) * 4
        answers = {}
        for item in items:
            roll = rnd.random()
            if item.allows_unknown and roll < 0.04:
                answers[item.code] = scoring.UNKNOWN
            elif item.allows_na and roll > 0.97:
                answers[item.code] = scoring.NOT_APPLICABLE
            else:
                answers[item.code] = max(0, min(4, round(maturity + rnd.gauss(0, 0.8))))
        sets.append(answers)
    return sets


class _SessionHolder:
    def __init__(self, session):
        self.session = session


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from surveys.scopes import remember_administrator

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "surveys.auth_backends.MemberModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    remember_administrator(_SessionHolder(session), user)  # as a log in notes it
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _bench_firm(n: int, stamp: str):
    from django.contrib.auth import get_user_model

    from surveys import services
    from surveys.demo import demo_uscc

    user = get_user_model().objects.create_user(username=f"bench-{stamp}-{n}", password=None)
    code = demo_uscc(random.Random(f"{stamp}-{n}"), "370112", set())
    enterprise = services.enterprise_register(
        user=user,
        enterprise_data={
            "name": f"压测企业{stamp}-{n}",
            "uscc": code,
            "district": "370112",
            "industry": "C34",
            "size_class": "small",
            "leading_chain": "EQUIP",
            "contact_name": "压测",
            "contact_phone": "13800000000",
        },
    )
    return user, enterprise


class Command(BaseCommand):
    help = "Run the benchmarks and print medians, goals and ratios."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only", choices=["scoring", "web", "dashboard", "pdf", "register", "city", "jobs"], action="append"
        )
        parser.add_argument("--zip-firms", type=int, default=10_000, help="firm PDFs in the jobs section's ZIP")
        parser.add_argument("--seconds", type=float, default=4.0, help="duration of each load run")
        parser.add_argument("--firms", type=int, default=60_000)
        parser.add_argument("--repeat", type=int, default=7)
        parser.add_argument("--pdf-firms", type=int, default=200, help="firms whose report is timed")
        parser.add_argument("--pdf-reports", type=int, default=1000, help="reports rendered for the memory check")

    def handle(self, *args, only, firms, repeat, seconds, pdf_firms, pdf_reports, zip_firms, **options):
        sections = only or ["scoring", "web", "dashboard", "pdf", "register", "city", "jobs"]
        if "scoring" in sections:
            self.bench_scoring(firms, repeat)
        if "web" in sections:
            self.bench_web(seconds)
        if "dashboard" in sections:
            bench_dashboard(self, repeat)
        if "pdf" in sections:
            bench_pdf(self, pdf_firms, pdf_reports)
        if "register" in sections:
            bench_register(self, 100_000)
        if "city" in sections:
            bench_city_report(self, repeat)
        if "jobs" in sections:  # background jobs: surveys/management/commands/_bench_jobs.py
            from ._bench_jobs import bench_jobs

            bench_jobs(self, zip_firms)

    def line(self, name: str, value: str, goal: str, ok: bool) -> None:
        self.stdout.write(f"  {name:<52} {value:>14}   goal {goal:<12} {'OK' if ok else 'MISSED'}")

    def bench_web(self, seconds: float) -> None:
        """Server CPU per request (gunicorn's workers, /proc) for a trivial view, a questionnaire page and two
        complete responses, and the SQL statements of each request type (surveys/management/commands/_bench_web.py)."""
        import os

        from django.contrib.auth import get_user_model

        from surveys import selectors, services
        from surveys.models import Enterprise

        from . import _bench_web as web

        stamp = str(int(time.time()))
        try:
            user, enterprise = _bench_firm(0, stamp)
            draft = services.assessment_start(enterprise=enterprise, user=user)
            structure = selectors.questionnaire_structure(questionnaire=draft.questionnaire)
            items_by_page = [[i.code for i in structure.page_items(d)] for d in structure.dimensions]
            page_path = f"/assessments/{draft.pk}/page/2/"
            load = os.getloadavg()[0]
            with _Server() as server:
                pids = web.worker_pids(server.process.pid)
                self.stdout.write(
                    f"web: server CPU per request (gunicorn, 2 workers, one request at a time; questionnaire "
                    f"{draft.questionnaire.version}, {sum(map(len, items_by_page))} items; load average {load:.1f})"
                )
                browser = web.Browser(server.port, _session_cookie(user))
                browser.get(page_path)  # each worker reads the version's structure once
                trivial_runs, page_runs = [], []
                for _ in range(3):
                    trivial_runs.append(web.cpu_per_request(pids, lambda: browser.get("/healthz"), 200))
                    page_runs.append(web.cpu_per_request(pids, lambda: browser.get(page_path), 100))
                trivial, page = statistics.median(trivial_runs), statistics.median(page_runs)
                self.line("trivial view /healthz (median of 3 × 200)", f"{trivial * 1000:.2f} ms", "-", True)
                self.line("questionnaire page (median of 3 × 100)", f"{page * 1000:.2f} ms", "-", True)
                self.line(
                    "  ratio: questionnaire page ÷ trivial view",
                    f"1/{page / trivial:.1f}",
                    f">= 1/{web.GOAL_PAGE_RATIO}",
                    page <= web.GOAL_PAGE_RATIO * trivial,
                )
                by_type: dict[str, list[float]] = {}
                for autosave, goal in ((False, web.GOAL_NO_JS_MS), (True, web.GOAL_BROWSER_MS)):
                    costs, requests = [], 0
                    for n in range(1, 11):
                        firm_user, _firm = _bench_firm(n + (100 if autosave else 0), stamp)
                        firm_browser = web.MeasuredBrowser(server.port, _session_cookie(firm_user), pids, by_type)
                        before = web.cpu_seconds(pids)
                        requests = web.complete_response(firm_browser, items_by_page, autosave=autosave)
                        costs.append(web.cpu_seconds(pids) - before)
                    cost = statistics.median(costs) * 1000
                    path = "browser path, an autosave per answer" if autosave else "path without JavaScript"
                    self.line(
                        f"complete response, {path} ({requests} requests, median of 10)",
                        f"{cost:.0f} ms",
                        f"<= {goal} ms",
                        cost <= goal,
                    )
                    # The goal is in milliseconds on this kind of machine, whose speed varies from one machine
                    # to the next; in trivial views of the same run, the cost compares across machines.
                    self.line(
                        "  the same in trivial views of this run (compares machines)",
                        f"{cost / (trivial * 1000):.0f} views",
                        "-",
                        True,
                    )
                    self.line(
                        "  LimeSurvey 6.4.2, no JavaScript (measured earlier) ÷ this",
                        f"{web.LIMESURVEY_RESPONSE_CPU_S * 1000 / cost:.1f}×",
                        f">= {web.LIMESURVEY_RESPONSE_CPU_S * 1000 / goal:.0f}×",
                        cost <= goal,
                    )
                self.stdout.write("  server CPU by request type over the 20 responses (median; n requests)")
                for kind, samples in sorted(by_type.items(), key=lambda pair: -statistics.median(pair[1])):
                    name = f"    {kind[:38]} (n={len(samples)})"
                    self.line(name, f"{statistics.median(samples) * 1000:.1f} ms", "-", True)
            self.stdout.write("SQL statements per request (transaction control left out)")
            counting_user, counting_firm = _bench_firm(999, stamp)
            counting_draft = services.assessment_start(enterprise=counting_firm, user=counting_user)
            for name, statements in web.statements_per_request_type(counting_user, counting_draft, items_by_page):
                self.line(f"  {name}", str(statements), "-", True)
        finally:
            bench_firms = Enterprise.objects.filter(name__startswith=f"压测企业{stamp}")
            # Out of the summary tables first, as deleting a firm through the services would.
            services.summaries_enterprise_remove(enterprise_ids=list(bench_firms.values_list("id", flat=True)))
            bench_firms.delete()
            get_user_model().objects.filter(username__startswith=f"bench-{stamp}").delete()

    def bench_scoring(self, firms: int, repeat: int) -> None:
        definition = scoring.Definition.from_dict(read_definition(SEED_PATH))
        answer_sets = synthetic_answers(definition, firms)
        self.stdout.write(f"scoring engine ({len(definition.items)} items, {firms} synthetic firms, one core)")
        # The goal is the submission's budget of 1 ms per firm (scoring runs inside the submitting request),
        # held over the whole population rather than a sample: a full rescore of every firm runs in a
        # command, where a minute for 60,000 firms is acceptable. (The numpy batch engine that met "< 1 s"
        # was a second copy of the rules used by nothing but this benchmark; it is gone.)
        runs = max(3, repeat // 2)

        def score_all() -> None:
            for answers in answer_sets:
                scoring.score(definition, answers)

        everyone = median_time(score_all, runs)
        per_firm = []
        for answers in answer_sets[:2000]:
            start = time.perf_counter()
            scoring.score(definition, answers)
            per_firm.append(time.perf_counter() - start)
        one = statistics.median(per_firm)
        self.line(
            f"score {firms} firms one by one (median of {runs})",
            f"{everyone:.2f} s",
            f"< {firms / 1000:g} s",
            everyone < firms * 0.001,
        )
        self.line("  = per firm", f"{everyone / firms * 1e6:.0f} µs", "< 1 ms", everyone < firms * 0.001)
        self.line(f"one firm (median of {len(per_firm)} timed singly)", f"{one * 1000:.3f} ms", "< 1 ms", one < 0.001)


# --- web: questionnaire page vs a trivial view, and submissions, under gunicorn ---------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """gunicorn on 127.0.0.1 with the bench's own environment, stopped on exit."""

    def __init__(self, workers: int = 2):
        import os
        import subprocess
        import sys

        self.port = _free_port()
        env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_HTTPS": "0"}
        env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "jinan_assess.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(workers),
             "--access-logfile", "/dev/null", "--error-logfile", "-", "--log-level", "warning"],
            env=env,
        )  # fmt: skip

    def __enter__(self):
        import http.client

        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def _hammer(port: int, path: str, cookie: str, seconds: float, concurrency: int) -> tuple[float, int]:
    """Requests per second over keep-alive connections from a few threads (bounded in time)."""
    import http.client
    import threading

    counts = [0] * concurrency
    errors = [0] * concurrency
    stop = time.perf_counter() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < stop:
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                counts[n] += 1
            else:
                errors[n] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start), sum(errors)


# --- dashboard: the administrators' pages against the raw SQL under them, and a CSV export of every firm --

# The core aggregation of the dashboard, written by hand: the (index, level) and (dimension, score)
# histograms of the firms' latest submitted rounds, from which the overview's figures follow.
RAW_DASHBOARD_SQL = [
    """
    SELECT a.index, a.level, COUNT(*) FROM surveys_assessment a
    WHERE a.status = 'submitted' AND a.is_latest GROUP BY a.index, a.level
    """,
    """
    SELECT d.code, r.score, r.insufficient_data, COUNT(*)
    FROM surveys_dimensionresult r JOIN surveys_dimension d ON d.id = r.dimension_id
    WHERE r.assessment_id IN (SELECT id FROM surveys_assessment WHERE status = 'submitted' AND is_latest)
    GROUP BY d.code, r.score, r.insufficient_data
    """,
]

# Runs in a fresh interpreter so that its peak memory is the export's (plus Django's own), not the bench's.
# The peak is the process's VmHWM: on Linux, getrusage's ru_maxrss survives fork and exec, so in a child it
# would report the parent's size when the parent was larger.
EXPORT_CHILD = r"""
import resource, sys, time
def peak_kb():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
import surveys.manage.views  # noqa: F401  (imported before the baseline: modules are not the export's memory)
user = get_user_model().objects.get(username=sys.argv[1])
with override_settings(ALLOWED_HOSTS=["testserver"]):
    client = Client()
    client.force_login(user)
    baseline = peak_kb()
    start = time.perf_counter()
    response = client.get("/manage/export/firms.csv", secure=True)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - start
    client.logout()
print(response.status_code, elapsed, baseline, peak_kb(), size, lines)
"""


def client_page(client, path: str, *, cold: bool):
    """A GET of ``path`` through the test Client that fails unless it answers 200; ``cold``: the cache is cleared
    first, so that the page's figures are computed afresh (also used by bench_scale.py)."""
    from django.core.cache import cache

    def run():
        if cold:
            cache.clear()
        response = client.get(path, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")

    return run


def bench_dashboard(command, repeat: int) -> None:
    """Median server time of the dashboard (test Client, logged-in city administrator) next to the raw SQL."""
    import os
    import subprocess
    import sys

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings

    from surveys import services
    from surveys.models import Enterprise
    from surveys.scopes import ROLE_CITY

    repeat = max(repeat, 7)
    stamp = str(int(time.time()))
    username = f"bench-admin-{stamp}"
    user = get_user_model().objects.create_user(username=username, password=None)
    try:
        services.administrator_grant(user=user, role=ROLE_CITY)
        firms = Enterprise.objects.count()
        command.stdout.write(
            f"administrators' dashboard ({firms} firms, {connection.vendor}, test Client, city administrator)"
        )
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client = Client()
            client.force_login(user)

            def page(path: str, *, cold: bool):
                return client_page(client, path, cold=cold)

            def raw():
                with connection.cursor() as cursor:
                    for sql in RAW_DASHBOARD_SQL:
                        cursor.execute(sql)
                        cursor.fetchall()

            raw()  # warm the buffers once, as the pages are
            client.get("/manage/", secure=True)
            raw_time = median_time(raw, repeat)
            cold = median_time(page("/manage/", cold=True), repeat)
            cache.clear()
            client.get("/manage/", secure=True)
            warm = median_time(page("/manage/", cold=False), repeat)
            command.line(
                f"raw SQL of the core aggregation (median of {repeat})", f"{raw_time * 1000:.0f} ms", "-", True
            )
            command.line(
                f"dashboard page, figures cached (median of {repeat})", f"{warm * 1000:.0f} ms", "< 150 ms", warm < 0.15
            )
            command.line(  # issue "Figures that cost the same at 60 thousand and 5 million firms": 50 ms
                f"dashboard page, computed afresh (median of {repeat})",
                f"{cold * 1000:.0f} ms",
                "< 50 ms",
                cold < 0.05,
            )
            command.line(
                "  ratio: dashboard computed afresh ÷ raw SQL", f"{cold / raw_time:.1f}×", "<= 5×", cold <= 5 * raw_time
            )
            for path, name in [
                ("/manage/breakdowns/?by=industry", "breakdown by industry"),
                ("/manage/weaknesses/", "weaknesses"),
                ("/manage/trend/", "change across rounds"),
                ("/manage/firms/?sort=-index", "firm list sorted by index"),
            ]:
                fresh = median_time(page(path, cold=True), max(3, repeat // 2))
                command.line(f"{name} page, computed afresh (median)", f"{fresh * 1000:.0f} ms", "-", True)
            client.logout()

        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "jinan_assess.settings"}
        from django.conf import settings

        result = subprocess.run(
            [sys.executable, "-c", EXPORT_CHILD, username],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"export child failed: {result.stderr[-2000:]}")
        status, elapsed, baseline, maxrss, size, lines = result.stdout.strip().splitlines()[-1].split()
        elapsed, rss_mb, baseline_mb = float(elapsed), int(maxrss) / 1024, int(baseline) / 1024
        command.line(
            f"CSV export of all {int(lines) - 1} firms ({int(size) / 2**20:.1f} MB, streamed)",
            f"{elapsed:.2f} s",
            "< 5 s",
            status == "200" and elapsed < 5,
        )
        command.line(
            f"  peak memory of the exporting process (VmHWM; {baseline_mb:.0f} MB before)",
            f"{rss_mb:.0f} MB",
            "< 200 MB",
            rss_mb < 200,
        )
    finally:
        cache.clear()
        get_user_model().objects.filter(username=username).delete()


# --- the firm's PDF report: time per report and per page, and memory over many reports in one process -----

PDF_GOAL_MS = 40  # median CPU time to render one report from its read model (issue 13 item 6)
PDF_MEMORY_GROWTH_MB = 10  # peak memory may grow at most this much from the first to the last hundred reports


def _pdf_pages(data: bytes) -> int:
    """The page count of a ReportLab PDF (its page objects), without parsing the file."""
    import re

    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pdf_sample(count: int) -> list:
    """Up to ``count`` firms' latest submitted rounds, taken level by level in turn so that every level is in
    (the demo data has few L5 firms), each level's firms in a fixed random order."""
    from surveys.models import Assessment

    latest = Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED, is_latest=True)
    by_level: dict[str, list[int]] = {}
    for pk, level in latest.values_list("pk", "level").order_by("pk"):
        by_level.setdefault(level, []).append(pk)
    rnd = random.Random(13)
    for ids in by_level.values():
        rnd.shuffle(ids)
    chosen: list[int] = []
    while len(chosen) < count and any(by_level.values()):
        for level in sorted(by_level):
            if by_level[level] and len(chosen) < count:
                chosen.append(by_level[level].pop())
    rounds = Assessment.objects.select_related("enterprise", "questionnaire").in_bulk(chosen)
    return [rounds[pk] for pk in chosen]


def bench_pdf(command, count: int, volume: int) -> None:
    """The firm's PDF report: CPU time (time.process_time, so that other work on the machine counts less)
    to build its read model and, apart, to render it; pages per report; time per page; peak memory
    (getrusage maxrss) over ``volume`` reports rendered in one process, after the first and the last
    hundred."""
    import os

    from surveys.reports import render_assessment_pdf
    from surveys.reports.fonts import pdf_font
    from surveys.selectors.results import assessment_report

    rounds = _pdf_sample(count)
    if not rounds:
        command.stdout.write("firm PDF report: no submitted round to render")
        return
    font = pdf_font()
    levels = sorted({a.level for a in rounds})
    versions = sorted({a.questionnaire.version for a in rounds})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    command.stdout.write(
        f"firm PDF report ({len(rounds)} firms, levels {', '.join(levels)}, questionnaire {', '.join(versions)}, "
        f"font {font.name}{' embedded' if font.embedded else ' NOT embedded'}, Chinese, CPU time, "
        f"load average {load:.1f})"
    )
    build_times, reports = [], []
    for assessment in rounds:
        start = time.process_time()
        reports.append(assessment_report(assessment=assessment, language="zh-hans"))
        build_times.append(time.process_time() - start)
    render_assessment_pdf(reports[0])  # the fonts are read once per process, before any timing
    render_times, pages, per_page = [], [], []
    for report in reports:
        start = time.process_time()
        data = render_assessment_pdf(report)[2]
        elapsed = time.process_time() - start
        render_times.append(elapsed)
        pages.append(_pdf_pages(data))
        per_page.append(elapsed / max(pages[-1], 1))
    median = statistics.median(render_times)
    command.line(
        "read model per report (median, built apart)", f"{statistics.median(build_times) * 1000:.1f} ms", "-", True
    )
    command.line(
        f"render one report from its read model (median of {len(reports)})",
        f"{median * 1000:.1f} ms",
        f"<= {PDF_GOAL_MS} ms",
        median * 1000 <= PDF_GOAL_MS,
    )
    command.line(
        "  pages per report (median, min–max)",
        f"{statistics.median(pages):g} ({min(pages)}–{max(pages)})",
        "-",
        True,
    )
    command.line("  time per page (median)", f"{statistics.median(per_page) * 1000:.1f} ms", "-", True)

    peaks = []
    for n in range(volume):
        render_assessment_pdf(reports[n % len(reports)])
        if n + 1 in (100, volume):
            peaks.append(_peak_rss_mb())
    if len(peaks) == 2:
        first, last = peaks
        command.line(f"peak memory (maxrss) after the first 100 of {volume} reports", f"{first:.0f} MB", "-", True)
        command.line(
            f"  after the last 100 (growth {last - first:+.1f} MB)",
            f"{last:.0f} MB",
            f"< +{PDF_MEMORY_GROWTH_MB} MB",
            last - first < PDF_MEMORY_GROWTH_MB,
        )


# --- the business register: a 100,000-row import, then the same file again ("no change") --------------------

REGISTER_GOAL_SECONDS = 30
REGISTER_BENCH_NAME = "压测登记企业"  # the rows this bench writes, removed before and after


def bench_register(command, rows: int) -> None:
    """The import of a business register of ``rows`` firms from a CSV file (wall time, parse and validation
    included), then of the same file again, which must change nothing; then coverage() over it."""
    import csv
    import os
    import tempfile

    from django.db import connection
    from django.test import override_settings

    from surveys.analytics.coverage import coverage
    from surveys.choices import DISTRICTS, INDUSTRIES, LEADING_CHAINS, SECTORS, SIZE_CLASSES
    from surveys.models import RegisterEntry
    from surveys.scopes import AdminScope
    from surveys.selectors.administrators import Filters
    from surveys.services.register import register_delete, register_import
    from surveys.uscc import with_check_characters

    rnd = random.Random(14)
    districts, industries = [c for c, _l in DISTRICTS], [c for c, _l in INDUSTRIES]
    sizes, chains, sectors = [c for c, _l in SIZE_CLASSES], [c for c, _l in LEADING_CHAINS], [c for c, _l in SECTORS]
    bench_rows = RegisterEntry.objects.filter(name__startswith=REGISTER_BENCH_NAME)

    def remove_bench_rows() -> None:  # through the service: the register's summaries follow
        register_delete(usccs=list(bench_rows.values_list("uscc", flat=True)))

    remove_bench_rows()
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["USCC", "name", "district", "industry", "size", "leading chain", "sectors"])
            for n in range(rows):
                district = rnd.choice(districts)
                writer.writerow(
                    [
                        with_check_characters(f"91{district}Y{n:07d}"),  # Y…: no demo firm's code
                        f"{REGISTER_BENCH_NAME}{n}有限公司",
                        district,
                        rnd.choice(industries),
                        rnd.choice(sizes),
                        rnd.choice(chains + [""]),
                        ";".join(rnd.sample(sectors, rnd.choice([0, 0, 1, 2]))),
                    ]
                )
        size_mb = os.path.getsize(path) / 2**20
        command.stdout.write(f"business register import ({rows} rows, {size_mb:.1f} MB CSV, {connection.vendor})")
        results, times = [], []
        for _ in range(2):
            start = time.perf_counter()
            with open(path, "rb") as file:
                results.append(register_import(file=file))
            times.append(time.perf_counter() - start)
        first, second = results
        command.line(
            f"first import ({first.created} created, {first.invalid_rows} refused)",
            f"{times[0]:.1f} s",
            f"< {REGISTER_GOAL_SECONDS} s",
            times[0] < REGISTER_GOAL_SECONDS and first.created == rows,
        )
        command.line(
            f"same file again ({second.created} created, {second.updated} updated, {second.unchanged} unchanged)",
            f"{times[1]:.1f} s",
            f"< {REGISTER_GOAL_SECONDS} s",
            times[1] < REGISTER_GOAL_SECONDS and second.unchanged == rows and not (second.created or second.updated),
        )
        city = AdminScope.city_wide()
        with override_settings(JINAN_DASHBOARD_CACHE_SECONDS=0):
            figures = median_time(lambda: coverage(city, Filters()), 3)
        firms = RegisterEntry.objects.count()
        command.line(
            f"coverage() city-wide, {firms} register rows, computed afresh (median of 3)",
            f"{figures * 1000:.0f} ms",
            "-",
            True,
        )
    finally:
        os.unlink(path)
        remove_bench_rows()


# --- the city report: the PDF of every firm, for the whole city (issue 14 item 5) --------------------------

CITY_REPORT_GOAL_S = 2.0


def bench_city_report(command, repeat: int) -> None:
    """Median time of the city PDF for the whole city through the test Client (a city administrator), and of its
    two halves: the figures (analytics.city_report) and the layout (render_city_pdf)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, override_settings

    from surveys import analytics, services
    from surveys.models import Enterprise, RegisterEntry
    from surveys.reports.city import render_city_pdf
    from surveys.scopes import ROLE_CITY, AdminScope

    repeat = max(repeat, 5)
    username = f"bench-city-{int(time.time())}"
    user = get_user_model().objects.create_user(username=username, password=None)
    try:
        services.administrator_grant(user=user, role=ROLE_CITY)
        firms, register = Enterprise.objects.count(), RegisterEntry.objects.count()
        command.stdout.write(
            f"city report PDF ({firms} firms, {register} register rows, {connection.vendor}, whole city, Chinese)"
        )
        scope, filters = AdminScope.city_wide(), analytics.Filters()

        def figures():
            return analytics.city_report(scope=scope, filters=filters, language="zh-hans")

        report = figures()  # warm the buffers once, as the dashboard bench does
        figures_time = median_time(figures, repeat)
        layout_time = median_time(lambda: render_city_pdf(report), repeat)
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client = Client()
            client.force_login(user)

            def request():
                response = client.get("/manage/report.pdf", secure=True)
                if response.status_code != 200:
                    raise RuntimeError(f"/manage/report.pdf answered {response.status_code}")

            request()
            total = median_time(request, repeat)
            client.logout()
        command.line(f"figures (analytics.city_report, median of {repeat})", f"{figures_time * 1000:.0f} ms", "-", True)
        command.line(f"layout (render_city_pdf, median of {repeat})", f"{layout_time * 1000:.0f} ms", "-", True)
        command.line(
            f"city report PDF, whole request (median of {repeat})",
            f"{total:.2f} s",
            f"< {CITY_REPORT_GOAL_S:g} s",
            total < CITY_REPORT_GOAL_S,
        )
    finally:
        get_user_model().objects.filter(username=username).delete()
