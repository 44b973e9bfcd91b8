"""Concurrency on PostgreSQL (issue 6 item 7, plan D2, D3, D4): real threads and a real gunicorn.

* Two editors of one draft: 200 racing pairs through services.answers_save, both based on the same
  revision, each saving a different value for the same item. Exactly one wins per pair, the other gets a
  conflict showing the winner's value; the stored value is the winner's; the revision goes up by one.
* 10 concurrent identical submissions (services.assessment_submit) × 50 trials: exactly one submission
  with 5 DimensionResult rows per trial, the other nine get the "already submitted" ServiceError.
* One one-time invitation link used by 10 new people at once: one member, no account left behind.
* A gunicorn worker killed with SIGKILL in the middle of a submission over HTTP. A test-only trigger on
  surveys_dimensionresult (created here, dropped after; no application code knows of it) either blocks
  the k-th result row on an advisory lock the test holds (the kill then lands while the round is already
  marked submitted and k-1 result rows are written, uncommitted) or sleeps per row while the test kills at
  a random moment. Either way: the round is a draft with no results and its answers intact, or submitted
  with all 5 results; never in between.

Skipped unless the database is PostgreSQL (SQLite serialises writers, so there is no race to test).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from surveys import services
from surveys.models import Answer, Assessment, Dimension, DimensionResult, Membership
from surveys.services import AnswerChange, ServiceError

from .conftest import answer_all, item_codes, load_seed, make_firm

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL (set DATABASE_URL=postgres://…; CI does)",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_logs"),
]

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 200
SUBMIT_TRIALS = 50
SUBMITTERS = 10


def run_in_each_worker(pool: ThreadPoolExecutor, workers: int, fn) -> None:
    """Run ``fn`` once in every worker thread (a barrier keeps one worker from taking two)."""
    barrier = threading.Barrier(workers)

    def task():
        barrier.wait(timeout=30)
        fn()

    for future in [pool.submit(task) for _ in range(workers)]:
        future.result()


@pytest.fixture
def race_firm():
    load_seed()
    return make_firm("R", district="370112", serial=3003)


def test_two_editors_of_one_draft_never_lose_an_update(race_firm):
    draft, editors = race_firm.draft, (race_firm.owner, race_firm.member)
    codes = item_codes(draft.questionnaire)
    lost = conflicts = 0
    revisions: dict[str, list[int]] = {}
    with ThreadPoolExecutor(2) as pool:
        try:
            for n in range(PAIRS):
                code = codes[n % len(codes)]
                current = Answer.objects.filter(assessment=draft, item__code=code).first()
                base = current.revision if current else 0
                others = [value for value in range(5) if value != (current.value if current else None)]
                values = (others[n % len(others)], others[(n + 1) % len(others)])
                barrier = threading.Barrier(2)

                def save(user, value, base=base, code=code, barrier=barrier):
                    barrier.wait(timeout=30)
                    return services.answers_save(
                        assessment=draft, user=user, changes=[AnswerChange(code, value, f"by {user.username}", base)]
                    )

                futures = [pool.submit(save, user, value) for user, value in zip(editors, values, strict=True)]
                outcomes = [future.result() for future in futures]
                winners = [value for outcome, value in zip(outcomes, values, strict=True) if outcome.ok]
                stored = Answer.objects.get(assessment=draft, item__code=code)
                revisions.setdefault(code, []).append(stored.revision)
                if len(winners) != 1 or stored.value != winners[0] or stored.revision != base + 1:
                    lost += 1
                    continue
                loser = next(outcome for outcome in outcomes if not outcome.ok)
                assert loser.conflicts[0].theirs_value == winners[0]  # the loser is shown the winner's answer
                conflicts += 1
        finally:
            run_in_each_worker(pool, 2, connections.close_all)
    monotonic = all(all(b > a for a, b in zip(seq, seq[1:], strict=False)) for seq in revisions.values())
    print(
        f"\nfigure: {PAIRS} racing pairs of editors: {conflicts} got exactly one winner and one conflict, "
        f"{lost} lost updates; revisions strictly increasing: {monotonic}"
    )
    assert lost == 0 and conflicts == PAIRS and monotonic


def test_ten_identical_submissions_give_exactly_one(race_firm):
    firm = race_firm
    duplicates = wrong_errors = 0
    with ThreadPoolExecutor(SUBMITTERS) as pool:
        try:
            for trial in range(SUBMIT_TRIALS):
                draft = services.assessment_start(enterprise=firm.enterprise, user=firm.owner, label=f"trial {trial}")
                answer_all(draft, firm.owner, value=trial % 5)
                barrier = threading.Barrier(SUBMITTERS)

                def submit(draft=draft, barrier=barrier):
                    barrier.wait(timeout=30)
                    try:
                        services.assessment_submit(assessment=draft, user=firm.owner, pledge=True)
                        return "submitted"
                    except ServiceError as exc:
                        return "already" if "已提交" in str(exc.message) else f"error: {exc.message}"

                results = [future.result() for future in [pool.submit(submit) for _ in range(SUBMITTERS)]]
                rows = DimensionResult.objects.filter(assessment=draft).count()
                latest = Assessment.objects.filter(enterprise=firm.enterprise, is_latest=True).count()
                if results.count("submitted") != 1 or rows != 5 or latest != 1:
                    duplicates += 1
                wrong_errors += sum(1 for r in results if r not in ("submitted", "already"))
        finally:
            run_in_each_worker(pool, SUBMITTERS, connections.close_all)
    attempts = SUBMIT_TRIALS * SUBMITTERS
    print(
        f"\nfigure: {SUBMIT_TRIALS} trials × {SUBMITTERS} concurrent identical submissions ({attempts} attempts): "
        f"{SUBMIT_TRIALS - duplicates} trials with exactly one submission and 5 result rows, {duplicates} with "
        f"duplicates or missing rows, {wrong_errors} unexpected errors"
    )
    assert duplicates == 0 and wrong_errors == 0


def test_one_time_invitation_used_by_ten_at_once(race_firm):
    from django.test import Client
    from django.urls import reverse

    token = race_firm.invitation
    url = reverse("surveys:invitation", args=[token])
    before = Membership.objects.filter(enterprise=race_firm.enterprise).count()
    users_before = set(Membership._meta.get_field("user").related_model.objects.values_list("pk", flat=True))
    barrier = threading.Barrier(SUBMITTERS)

    def accept(n):
        client = Client(raise_request_exception=False)
        barrier.wait(timeout=30)
        try:
            response = client.post(
                url,
                {
                    "account-username": f"racer-{n}",
                    "account-email": f"racer{n}@example.com",
                    "account-password1": "Quancheng-2026!",
                    "account-password2": "Quancheng-2026!",
                },
            )
            return response.status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(SUBMITTERS) as pool:
        statuses = list(pool.map(accept, range(SUBMITTERS)))
    User = Membership._meta.get_field("user").related_model
    new_users = User.objects.exclude(pk__in=users_before)
    orphans = new_users.filter(membership__isnull=True).count()
    joined = Membership.objects.filter(enterprise=race_firm.enterprise).count() - before
    print(
        f"\nfigure: one invitation link used by {SUBMITTERS} people at once: {joined} joined, "
        f"{new_users.count()} accounts created, {orphans} accounts left without a firm (statuses {sorted(statuses)})"
    )
    assert joined == 1 and orphans == 0 and 500 not in statuses


# --- SIGKILL during a submission --------------------------------------------------------------------

GATE_SQL = """
CREATE TABLE jinan_test_gate (block_dimension_id bigint, sleep_ms integer NOT NULL DEFAULT 0, lock_key bigint);
CREATE FUNCTION jinan_test_gate_fn() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE g record;
BEGIN
  SELECT * INTO g FROM jinan_test_gate LIMIT 1;
  IF FOUND THEN
    IF g.sleep_ms > 0 THEN PERFORM pg_sleep(g.sleep_ms / 1000.0); END IF;
    IF g.block_dimension_id = NEW.dimension_id THEN PERFORM pg_advisory_xact_lock_shared(g.lock_key); END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER jinan_test_gate_trigger BEFORE INSERT ON surveys_dimensionresult
  FOR EACH ROW EXECUTE FUNCTION jinan_test_gate_fn();
"""
DROP_GATE_SQL = """
DROP TRIGGER IF EXISTS jinan_test_gate_trigger ON surveys_dimensionresult;
DROP FUNCTION IF EXISTS jinan_test_gate_fn();
DROP TABLE IF EXISTS jinan_test_gate;
"""
LOCK_KEY = 737101
APP_NAME = "jinan-kill-test"


def sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    auth = urllib.parse.quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}?application_name={APP_NAME}"


class Gunicorn:
    """One sync worker on 127.0.0.1 against the test database; the master respawns a killed worker."""

    def __init__(self):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JINAN_"))}
        env.update(
            {
                "DATABASE_URL": database_url(),
                "DJANGO_DEBUG": "0",
                "DJANGO_HTTPS": "0",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the sessions made here must verify there
                "DJANGO_CONN_MAX_AGE": "0",
                "DJANGO_LOG_LEVEL": "ERROR",
            }
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "jinan_assess.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1",
             "--preload", "--timeout", "60", "--graceful-timeout", "2", "--access-logfile", "/dev/null",
             "--error-logfile", "-", "--log-level", "critical"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.wait_ready()

    def worker(self) -> int | None:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # ppid
                return int(stat.parent.name)
        return None

    def wait_ready(self, previous: int | None = None, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker = self.worker()
            if worker and worker != previous:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("gunicorn did not (re)start a worker")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def session_cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "surveys.auth_backends.MemberModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def post_submission(port: int, assessment_id: int, session_key: str, outcome: dict) -> None:
    token = "k" * 32  # an unmasked CSRF secret, as cookie and as form field
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "pledge": "on"})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            "POST",
            f"/assessments/{assessment_id}/review/",
            body=body,
            headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={token}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = conn.getresponse()
        response.read()
        outcome["status"] = response.status
    except (OSError, http.client.HTTPException) as exc:
        outcome["status"] = f"killed ({type(exc).__name__})"


def answers_digest(assessment_id: int) -> str:
    rows = (
        Answer.objects.filter(assessment_id=assessment_id)
        .order_by("id")
        .values_list("item_id", "score", "special", "note", "revision")
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def wait_for_app_backends_to_finish(timeout: float = 30) -> None:
    """The killed worker's PostgreSQL backend notices the dead client only when it next talks to it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle'",
            [APP_NAME],
        )[0][0]
        if not busy:
            return
        time.sleep(0.05)
    raise RuntimeError("a killed worker's transaction is still running")


def test_a_worker_killed_mid_submission_leaves_no_half_written_round(race_firm):
    firm = race_firm
    firm.draft.delete()
    dimensions = list(Dimension.objects.filter(questionnaire=firm.submitted.questionnaire).order_by("position"))
    cookie = session_cookie(firm.owner)
    sql(DROP_GATE_SQL)
    sql(GATE_SQL)
    server = Gunicorn()
    rnd = random.Random(6)
    trials = [("blocked", k) for k in range(1, 6)] + [("random", None)] * 7
    outcomes = {"draft, 0 results": 0, "submitted, 5 results": 0}
    half_written, killed_mid_transaction, details = 0, 0, []
    start = time.monotonic()
    try:
        # Calibration: how long one submission takes with 40 ms per result row, not killed.
        draft = services.assessment_start(enterprise=firm.enterprise, user=firm.owner, label="calibration")
        answer_all(draft, firm.owner)
        sql("INSERT INTO jinan_test_gate (block_dimension_id, sleep_ms, lock_key) VALUES (NULL, 40, NULL)")
        outcome: dict = {}
        began = time.monotonic()
        post_submission(server.port, draft.pk, cookie, outcome)
        took = time.monotonic() - began
        assert outcome["status"] == 302 and DimensionResult.objects.filter(assessment=draft).count() == 5
        for n, (mode, k) in enumerate(trials):
            draft = services.assessment_start(enterprise=firm.enterprise, user=firm.owner, label=f"kill {n}")
            answer_all(draft, firm.owner, value=n % 5)
            before = answers_digest(draft.pk)
            sql("DELETE FROM jinan_test_gate")
            if mode == "blocked":
                sql(
                    "INSERT INTO jinan_test_gate (block_dimension_id, sleep_ms, lock_key) VALUES (%s, 0, %s)",
                    [dimensions[k - 1].pk, LOCK_KEY],
                )
                sql("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            else:
                sql("INSERT INTO jinan_test_gate (block_dimension_id, sleep_ms, lock_key) VALUES (NULL, 40, NULL)")
            outcome: dict = {}
            thread = threading.Thread(target=post_submission, args=(server.port, draft.pk, cookie, outcome))
            worker = server.worker()
            thread.start()
            try:
                if mode == "blocked":
                    # Wait until the worker's transaction sits at the k-th result row, then kill it there.
                    deadline = time.monotonic() + 20
                    waiting = "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s"
                    while not sql(waiting, [LOCK_KEY]):
                        assert time.monotonic() < deadline, "the submission never reached the result rows"
                        time.sleep(0.01)
                    killed_mid_transaction += 1
                else:
                    time.sleep(rnd.uniform(0.0, 1.5 * took))  # before, during (5 × 40 ms of results) or after
                os.kill(worker, signal.SIGKILL)
            finally:
                if mode == "blocked":
                    sql("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
            thread.join(timeout=30)
            wait_for_app_backends_to_finish()
            server.wait_ready(previous=worker)

            draft.refresh_from_db()
            rows = DimensionResult.objects.filter(assessment=draft).count()
            latest = Assessment.objects.filter(enterprise=firm.enterprise, is_latest=True).count()
            if draft.status == "draft" and rows == 0 and answers_digest(draft.pk) == before and latest == 1:
                outcomes["draft, 0 results"] += 1
                draft.delete()  # the next trial opens a new round
            elif draft.status == "submitted" and rows == 5 and draft.level and latest == 1:
                outcomes["submitted, 5 results"] += 1
            else:
                half_written += 1
            details.append(f"{mode}{k or ''}:{outcome.get('status')}→{draft.status}/{rows}")
    finally:
        server.stop()
        sql(DROP_GATE_SQL)
    print(
        f"\nfigure: {len(trials)} gunicorn workers SIGKILLed during a submission ({killed_mid_transaction} while the "
        f"round was marked submitted with 0–4 result rows written, uncommitted; {len(trials) - killed_mid_transaction} "
        f"at random moments within 1.5 × the {took * 1000:.0f} ms a submission takes): {half_written} half-written "
        f"rounds; {outcomes}; {time.monotonic() - start:.1f} s"
    )
    print("  " + " ".join(details))
    assert half_written == 0
    assert outcomes["draft, 0 results"] >= killed_mid_transaction
