"""make loadtest (not part of make test; plan L1): 50 firms autosave and submit at once for 60 seconds.

gunicorn (2 × cores + 1 sync workers) runs on 127.0.0.1 against PostgreSQL: the database DATABASE_URL names
is created if missing, migrated and loaded with the questionnaire. Each virtual firm has its own account,
logged in by a session made here, and loops over the real HTTP flow: start a round (a form POST with the
CSRF token from the page), autosave up to --autosaves items in random order and some of them again (JSON
with X-CSRFToken and the csrftoken cookie, as questionnaire.js does), complete the round with each page's
Save button (the no-JavaScript path), open the review page and submit with the pledge, start the next round.
Between two actions a firm pauses --think seconds on average (0 for a saturation run). The clients are
stdlib threads with http.client, bounded in time (--seconds) and in requests per firm (--max-requests), and
talk only to 127.0.0.1.

Afterwards the database is checked against what the clients sent: every answer equals the last one sent
for its round and item, every accepted submission is one submitted round with its 5 result rows, no other
round is submitted, no firm has two drafts. It prints the request counts and p50/p95 of autosave, page save
and submission, and exits non-zero on any 5xx, unexpected 4xx or mismatch. Its firms are deleted at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import resource
import statistics
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

SEED_PATH = "seeds/questionnaire-2026.1.yaml"
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ROUND_RE = re.compile(r"/assessments/(\d+)/page/\d+/")
NOTES = ["", "", "", "ERP 2023年上线", "MES 覆盖二号车间", "计划明年改造", "数据中台试点中"]


def ensure_database() -> None:
    """CREATE DATABASE when the one DATABASE_URL names does not exist yet (connecting to "postgres")."""
    import psycopg

    db = settings.DATABASES["default"]
    params = {"dbname": "postgres", "user": db.get("USER") or None, "password": db.get("PASSWORD") or None}
    params.update({"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432})
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Item:
    code: str
    page: int
    values: list  # what may be sent: "0".."4", plus "unknown"/"na" where offered


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"autosave": [], "page save": [], "submit": [], "page": []}
    )
    requests: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # 5xx and unexpected 4xx
    submitted: set[int] = field(default_factory=set)
    sent: dict[tuple[int, str], tuple] = field(default_factory=dict)  # (round, item) -> (value, note) last saved
    lock: threading.Lock = field(default_factory=threading.Lock)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of the clients and of gunicorn


class VirtualFirm:
    def __init__(self, n, port, session, items, stats, *, seed: int, limit: int, think: float, autosaves: int):
        self.n, self.port, self.items, self.stats, self.limit = n, port, items, stats, limit
        self.think, self.autosaves = think, autosaves
        self.rnd = random.Random(seed * 1000 + n)
        self.cookies = dict([session.split("=", 1)])
        self.token = ""
        self.count = 0

    # --- HTTP ------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, body: bytes | None = None, headers=None, kind: str):
        if self.count >= self.limit:
            raise TimeoutError("request budget spent")
        self.count += 1
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Host": f"127.0.0.1:{self.port}",
            **(headers or {}),
        }
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - start
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        with self.stats.lock:
            self.stats.requests[kind] += 1
            if kind in self.stats.latencies:
                self.stats.latencies[kind].append(elapsed)
        return response.status, response.getheader("Location") or "", data

    def fail(self, what: str, status, data: bytes = b"") -> None:
        with self.stats.lock:
            self.stats.errors.append(f"firm {self.n}: {what} answered {status}: {data[:200]!r}")

    def form(self, path: str, fields: dict, kind: str):
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.token, **fields}).encode()
        return self.request(
            "POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, kind=kind
        )

    def page(self, path: str) -> str:
        status, _location, data = self.request("GET", path, kind="page")
        if status != 200:
            self.fail(f"GET {path}", status, data)
            raise RuntimeError
        text = data.decode()
        match = TOKEN_RE.search(text)
        if match:
            self.token = match.group(1)
        return text

    def pause(self, deadline: float) -> bool:
        """A person's pause between two actions (uniform, mean --think seconds); False once time is up."""
        if self.think:
            time.sleep(min(self.rnd.uniform(0, 2 * self.think), max(0.0, deadline - time.monotonic())))
        return time.monotonic() < deadline

    # --- the flow --------------------------------------------------------------------------------
    def run(self, deadline: float) -> None:
        try:
            self.page("/firm/")
            while time.monotonic() < deadline:
                self.one_round(deadline)
        except (TimeoutError, RuntimeError):
            pass
        except OSError as exc:
            self.fail("connection", type(exc).__name__)

    def one_round(self, deadline: float) -> None:
        status, location, data = self.form("/rounds/start/", {"label": ""}, kind="round start")
        match = ROUND_RE.search(location)
        if status != 302 or not match:
            self.fail("round start", status, data)
            raise RuntimeError
        pk = int(match.group(1))
        self.page(location)
        revisions: dict[str, int] = {}
        if not self.autosave(pk, revisions, deadline) or not self.save_pages(pk, revisions, deadline):
            return
        if not self.pause(deadline):
            return
        self.page(f"/assessments/{pk}/review/")
        status, location, data = self.form(f"/assessments/{pk}/review/", {"pledge": "on"}, kind="submit")
        if status == 302 and location.endswith(f"/assessments/{pk}/results/"):
            with self.stats.lock:
                self.stats.submitted.add(pk)
        else:
            self.fail("submission", status, data)

    def autosave(self, pk: int, revisions: dict[str, int], deadline: float) -> bool:
        """Items chosen one by one, some changed again, as questionnaire.js sends them; False once time is up."""
        chosen = self.rnd.sample(self.items, self.rnd.randint(self.autosaves // 2, self.autosaves))
        chosen += [self.rnd.choice(chosen) for _ in range(self.rnd.randint(0, len(chosen) // 3))]
        for item in chosen:
            if not self.pause(deadline):
                return False
            value, note = self.rnd.choice(item.values), self.rnd.choice(NOTES)
            payload = {"item": item.code, "value": value, "note": note, "revision": revisions.get(item.code, 0)}
            payload["page"] = item.page
            status, _location, data = self.request(
                "POST",
                f"/assessments/{pk}/autosave/",
                body=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json", "X-CSRFToken": self.token},
                kind="autosave",
            )
            if status != 200:
                self.fail(f"autosave {item.code}", status, data)
                continue
            revisions[item.code] = json.loads(data)["revision"]
            with self.stats.lock:
                self.stats.sent[pk, item.code] = (value, note)
        return True

    def save_pages(self, pk: int, revisions: dict[str, int], deadline: float) -> bool:
        """Complete the round with each page's Save button (the no-JavaScript path): every item of the page.
        False once time is up."""
        pages = sorted({item.page for item in self.items})
        for number in pages:
            if not self.pause(deadline):
                return False
            fields, answers = {"action": "review" if number == pages[-1] else "next"}, {}
            for item in (i for i in self.items if i.page == number):
                previous = self.stats.sent.get((pk, item.code))
                keep = previous is not None and self.rnd.random() < 0.7
                value, note = previous if keep else (self.rnd.choice(item.values), self.rnd.choice(NOTES))
                fields.update({f"answer-{item.code}": value, f"note-{item.code}": note})
                fields[f"rev-{item.code}"] = revisions.get(item.code, 0)
                answers[item.code] = (value, note)
            status, _location, data = self.form(f"/assessments/{pk}/page/{number}/", fields, kind="page save")
            if status != 302:
                self.fail(f"page {number} save", status, data)
                raise RuntimeError
            with self.stats.lock:
                for code, sent in answers.items():
                    self.stats.sent[pk, code] = sent
        return True


class Command(BaseCommand):
    help = "Load test: concurrent firms autosave and submit against gunicorn + PostgreSQL, then check the database."

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=60.0)
        parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
        parser.add_argument("--max-requests", type=int, default=20_000, help="upper bound per virtual firm")
        parser.add_argument("--think", type=float, default=0.5, help="mean pause between a firm's actions (s)")
        parser.add_argument("--autosaves", type=int, default=16, help="at most this many autosaved items per round")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep", action="store_true", help="keep the firms it created")

    def handle(self, *args, firms, seconds, workers, max_requests, think, autosaves, seed, keep, **options):
        if connection.vendor != "postgresql":
            raise CommandError("the load test runs on PostgreSQL: set DATABASE_URL=postgres://… (make loadtest does)")
        ensure_database()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_questionnaire", SEED_PATH, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)

        from django.contrib.auth import get_user_model

        from surveys import selectors, services
        from surveys.management.commands.bench import _bench_firm, _Server, _session_cookie
        from surveys.models import Enterprise
        from surveys.models import Item as ItemModel

        questionnaire = selectors.questionnaire_current()
        items = []
        for item in ItemModel.objects.filter(questionnaire=questionnaire).select_related("dimension"):
            values = ["0", "1", "2", "3", "4"] + (["unknown"] if item.allows_unknown else [])
            items.append(Item(item.code, item.dimension.position, values + (["na"] if item.allows_na else [])))
        stamp = f"load{int(time.time())}"
        stats = Stats()
        try:
            sessions = []
            for n in range(firms):
                user, _enterprise = _bench_firm(n, stamp)
                sessions.append(_session_cookie(user))
            os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")  # gunicorn's workers: no audit line per request
            usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            with _Server(workers=workers) as server:
                self.stdout.write(
                    f"load test: {firms} firms for {seconds:.0f} s against gunicorn ({workers} sync workers, "
                    f"127.0.0.1:{server.port}) and PostgreSQL {settings.DATABASES['default']['NAME']}; "
                    f"{len(items)} items per round; each firm pauses {think:g} s on average between actions"
                )
                deadline = time.monotonic() + seconds
                threads = [
                    threading.Thread(
                        target=VirtualFirm(
                            n,
                            server.port,
                            sessions[n],
                            items,
                            stats,
                            seed=seed,
                            limit=max_requests,
                            think=think,
                            autosaves=autosaves,
                        ).run,  # fmt: skip
                        args=(deadline,),
                        daemon=True,
                    )
                    for n in range(firms)
                ]
                began = time.monotonic()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=seconds + 120)
                elapsed = time.monotonic() - began
                if any(thread.is_alive() for thread in threads):
                    stats.errors.append("a client thread did not finish in time")
            mine = resource.getrusage(resource.RUSAGE_SELF)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            stats.cpu = {
                "clients": mine.ru_utime + mine.ru_stime - usage[0].ru_utime - usage[0].ru_stime,
                "gunicorn": children.ru_utime + children.ru_stime - usage[1].ru_utime - usage[1].ru_stime,
            }
            mismatches = self.verify(stats, stamp)
            self.report(stats, elapsed, mismatches)
        finally:
            if not keep:
                bench_firms = Enterprise.objects.filter(name__startswith=f"压测企业{stamp}")
                # Out of the summary tables first, as deleting a firm through the services would.
                services.summaries_enterprise_remove(enterprise_ids=list(bench_firms.values_list("id", flat=True)))
                bench_firms.delete()
                get_user_model().objects.filter(username__startswith=f"bench-{stamp}").delete()
        if stats.errors or mismatches:
            raise CommandError(f"{len(stats.errors)} request errors, {len(mismatches)} database mismatches")

    def verify(self, stats: Stats, stamp: str) -> list[str]:
        """The database against what the clients saw accepted."""
        from surveys.models import Answer, Assessment, DimensionResult

        mismatches = []
        rounds = {pk for pk, _code in stats.sent} | stats.submitted
        stored = {
            (a.assessment_id, a.item.code): a
            for a in Answer.objects.filter(assessment_id__in=rounds).select_related("item")
        }
        for key, (value, note) in stats.sent.items():
            answer = stored.get(key)
            got = None if answer is None else (str(answer.value), answer.note)
            if got != (value, note):
                mismatches.append(f"round {key[0]} item {key[1]}: sent {(value, note)!r}, stored {got!r}")
        for assessment in Assessment.objects.filter(enterprise__name__startswith=f"压测企业{stamp}"):
            results = DimensionResult.objects.filter(assessment=assessment).count()
            if assessment.pk in stats.submitted and (assessment.status != "submitted" or results != 5):
                mismatches.append(f"round {assessment.pk}: accepted submission stored as {assessment.status}/{results}")
            if assessment.pk not in stats.submitted and assessment.status != "draft":
                mismatches.append(f"round {assessment.pk}: submitted although no submission was accepted")
        drafts = Counter(
            Assessment.objects.filter(enterprise__name__startswith=f"压测企业{stamp}", status="draft").values_list(
                "enterprise_id", flat=True
            )
        )
        mismatches += [f"firm {e}: {n} open drafts" for e, n in drafts.items() if n > 1]
        return mismatches

    def report(self, stats: Stats, elapsed: float, mismatches: list[str]) -> None:
        def line(name, samples):
            if not samples:
                return f"  {name:<12} no requests"
            return (
                f"  {name:<12} n={len(samples):>6}   p50 {percentile(samples, 50) * 1000:7.0f} ms   "
                f"p95 {percentile(samples, 95) * 1000:7.0f} ms   max {max(samples) * 1000:7.0f} ms"
            )

        total = sum(stats.requests.values())
        self.stdout.write(f"requests: {total} in {elapsed:.1f} s ({total / elapsed:.0f}/s): {dict(stats.requests)}")
        self.stdout.write(line("autosave", stats.latencies["autosave"]) + "   goal p95 < 500 ms")
        self.stdout.write(line("page save", stats.latencies["page save"]))
        self.stdout.write(line("submission", stats.latencies["submit"]) + "   goal p95 < 1500 ms")
        self.stdout.write(line("page GET", stats.latencies["page"]))
        self.stdout.write(
            f"submitted rounds: {len(stats.submitted)}; answers checked: {len(stats.sent)}; "
            f"errors (5xx or unexpected 4xx): {len(stats.errors)}; database mismatches: {len(mismatches)}"
        )
        if stats.latencies["autosave"]:
            self.stdout.write(f"  autosave mean {statistics.mean(stats.latencies['autosave']) * 1000:.0f} ms")
        load = os.getloadavg()[0]
        self.stdout.write(
            f"CPU: clients {stats.cpu.get('clients', 0):.1f} s, gunicorn workers {stats.cpu.get('gunicorn', 0):.1f} s "
            f"(PostgreSQL not counted) on {os.cpu_count()} cores; load average at the end {load:.1f}"
        )
        for problem in (stats.errors + mismatches)[:20]:
            self.stdout.write(f"  ! {problem}")
