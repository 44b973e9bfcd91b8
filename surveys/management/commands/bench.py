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


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
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
        parser.add_argument("--only", choices=["scoring", "web"], action="append")
        parser.add_argument("--seconds", type=float, default=4.0, help="duration of each load run")
        parser.add_argument("--firms", type=int, default=60_000)
        parser.add_argument("--repeat", type=int, default=7)

    def handle(self, *args, only, firms, repeat, seconds, **options):
        sections = only or ["scoring", "web"]
        if "scoring" in sections:
            self.bench_scoring(firms, repeat)
        if "web" in sections:
            self.bench_web(seconds)

    def line(self, name: str, value: str, goal: str, ok: bool) -> None:
        self.stdout.write(f"  {name:<52} {value:>14}   goal {goal:<12} {'OK' if ok else 'MISSED'}")

    def bench_web(self, seconds: float) -> None:
        import re
        import urllib.parse

        from django.contrib.auth import get_user_model

        from surveys import selectors, services
        from surveys.models import Enterprise

        stamp = str(int(time.time()))
        users = []
        try:
            user, enterprise = _bench_firm(0, stamp)
            users.append(user)
            draft = services.assessment_start(enterprise=enterprise, user=user)
            page_path = f"/assessments/{draft.pk}/page/2/"
            cookie = _session_cookie(user)
            with _Server() as server:
                self.stdout.write("web under gunicorn (2 workers, 127.0.0.1, 4 client threads, keep-alive)")
                page_rates, trivial_rates, errors = [], [], 0
                for _ in range(3):
                    rate, err = _hammer(server.port, "/healthz", cookie, seconds, 4)
                    trivial_rates.append(rate)
                    errors += err
                    rate, err = _hammer(server.port, page_path, cookie, seconds, 4)
                    page_rates.append(rate)
                    errors += err
                trivial = statistics.median(trivial_rates)
                page = statistics.median(page_rates)
                self.line("trivial view /healthz (median of 3 runs)", f"{trivial:.0f} req/s", "-", True)
                self.line("questionnaire page (median of 3 runs)", f"{page:.0f} req/s", "-", errors == 0)
                self.line(
                    "  ratio: questionnaire page ÷ trivial view",
                    f"1/{trivial / page:.1f}",
                    ">= 1/15",
                    page * 15 >= trivial,
                )

                # Submissions: one complete draft per firm, submitted through the real form (CSRF included).
                import http.client

                item_codes = list(selectors.questionnaire_definition(questionnaire=draft.questionnaire).items)
                timings = []
                for n in range(1, 16):
                    user_n, enterprise_n = _bench_firm(n, stamp)
                    users.append(user_n)
                    round_n = services.assessment_start(enterprise=enterprise_n, user=user_n)
                    services.answers_save(
                        assessment=round_n,
                        user=user_n,
                        changes=[services.AnswerChange(code, 2, "", 0) for code in item_codes],
                    )
                    session = _session_cookie(user_n)
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                    conn.request("GET", f"/assessments/{round_n.pk}/review/", headers={"Cookie": session})
                    response = conn.getresponse()
                    body = response.read().decode()
                    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)
                    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
                    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "pledge": "on"})
                    start = time.perf_counter()
                    conn.request(
                        "POST",
                        f"/assessments/{round_n.pk}/review/",
                        body=form,
                        headers={
                            "Cookie": f"{session}; csrftoken={csrf_cookie}",
                            "Content-Type": "application/x-www-form-urlencoded",
                            "Referer": f"http://127.0.0.1:{server.port}/",
                        },
                    )
                    response = conn.getresponse()
                    response.read()
                    timings.append(time.perf_counter() - start)
                    if response.status != 302:
                        raise RuntimeError(f"submission answered {response.status}")
                submit = statistics.median(timings)
                self.line("submission incl. scoring (median of 15)", f"{submit * 1000:.0f} ms", "-", True)
        finally:
            Enterprise.objects.filter(name__startswith=f"压测企业{stamp}").delete()
            get_user_model().objects.filter(username__startswith=f"bench-{stamp}").delete()

    def bench_scoring(self, firms: int, repeat: int) -> None:
        definition = scoring.Definition.from_dict(read_definition(SEED_PATH))
        answer_sets = synthetic_answers(definition, firms)
        self.stdout.write(f"scoring engine ({len(definition.items)} items, {firms} synthetic firms, one core)")
        encode = median_time(lambda: scoring.encode_answers(definition, answer_sets), max(3, repeat // 2))
        matrix = scoring.encode_answers(definition, answer_sets)
        batch = median_time(lambda: scoring.score_batch(definition, matrix), repeat)
        sample = answer_sets[:2000]
        per_firm = []
        for answers in sample:
            start = time.perf_counter()
            scoring.score(definition, answers)
            per_firm.append(time.perf_counter() - start)
        one = statistics.median(per_firm)
        self.line(f"batch engine: score {firms} firms (median of {repeat})", f"{batch:.3f} s", "< 1 s", batch < 1)
        self.line(f"encode {firms} answer dicts into the matrix", f"{encode:.3f} s", "-", True)
        self.line("single-firm engine: one firm (median of 2000)", f"{one * 1000:.3f} ms", "< 1 ms", one < 0.001)
        self.line(f"  ratio: single engine × {firms} ÷ batch engine", f"{one * firms / batch:.1f}×", "-", True)


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
