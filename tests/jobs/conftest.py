"""Fixtures for the background jobs (surveys/jobs): administrators and demo firms, eager mode for the task
bodies, and ``celery_worker``: a real ``celery -A jinan_assess worker`` process against Redis.

The worker is given the test database (DATABASE_URL built from the connection pytest-django set up, which
carries pytest-xdist's suffix, e.g. test_test_gw0), the test's MEDIA_ROOT (through JINAN_VAR_DIR), and a Redis
database number and queue of its own per xdist worker, so that parallel test processes never take each
other's tasks. An in-memory SQLite test database cannot be shared with another process: there, the
real-worker tests are skipped with that reason (CI runs them on PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from surveys import demo, services
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT
from tests.model_factories import MembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
DEMO_FIRMS = 40
DISTRICT = "370112"  # 历城区, the largest district of the demo data
OTHER_DISTRICT = "370102"  # 历下区
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str):
    if in_ci():
        pytest.fail(f"{reason} (CI: the real-worker tests are required here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def eager(settings):
    """Tasks run inside the call that queues them (unit tests of the task bodies only)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def make_admin(role: str, districts=()):
    user = UserFactory()
    services.administrator_roles_ensure()
    services.administrator_grant(user=user, role=role, districts=list(districts))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def city_admin(questionnaire):
    return make_admin(ROLE_CITY)


@pytest.fixture
def district_admin(questionnaire):
    return make_admin(ROLE_DISTRICT, [DISTRICT])


@pytest.fixture
def other_district_admin(questionnaire):
    return make_admin(ROLE_DISTRICT, [OTHER_DISTRICT])


@pytest.fixture
def firm_user(questionnaire):
    return MembershipFactory(enterprise__district=DISTRICT).user


@pytest.fixture
def demo_firms(questionnaire):
    return demo.seed_demo(firms=DEMO_FIRMS, questionnaire=questionnaire, seed=11)


@pytest.fixture
def many_firms(questionnaire):
    """Enough firms for 历城区 to have a ZIP of several chunks (about 20 firms)."""
    return demo.seed_demo(firms=150, questionnaire=questionnaire, seed=11)


# --- a real worker --------------------------------------------------------------------------------------


def _xdist_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int("".join(ch for ch in worker if ch.isdigit()) or 0)


def _redis_ping() -> bool:
    import socket

    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def database_url() -> str:
    """The test database as a DATABASE_URL for the worker process."""
    data = connection.settings_dict
    if data["ENGINE"] != "django.db.backends.postgresql":
        name = str(data["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            # Not a missing tool but a limit of the database: skipped even in CI (which runs on PostgreSQL).
            pytest.skip(
                "a real worker cannot share the in-memory SQLite test database; run these tests on PostgreSQL "
                "(DATABASE_URL=postgres://postgres@127.0.0.1:5432/test), as CI does"
            )
        return f"sqlite:///{name}"
    auth = quote(data["USER"] or "")
    if data.get("PASSWORD"):
        auth += ":" + quote(data["PASSWORD"])
    host = data.get("HOST") or "127.0.0.1"
    port = data.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{data['NAME']}"


class Worker:
    """A ``celery worker`` subprocess; ``start()`` again after ``kill()`` for a fresh one."""

    def __init__(self, env: dict[str, str], log: Path, queue: str):
        self.env, self.log, self.queue = env, log, queue
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "jinan_assess", "worker", "--pool=solo", "-Q", self.queue]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        self.out = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=self.env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, the task's temporary files left behind."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
        self.out.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
        self.out.close()


@pytest.fixture
def celery_worker(transactional_db, settings, tmp_path):
    """A real worker on Redis (its own database number and queue per xdist worker); the test process
    queues to the same place. The test's data must be committed: use transactional tests."""
    if not _redis_ping():
        unavailable(f"the real-worker tests need Redis at {REDIS_HOST}:{REDIS_PORT} (.ci/run starts it)")
    index = _xdist_index()
    broker = f"redis://{REDIS_HOST}:{REDIS_PORT}/{2 + index % 14}"
    queue = f"jinan-test-{index}"
    import redis

    redis.Redis.from_url(broker).flushdb()
    settings.CELERY_BROKER_URL = broker
    settings.JINAN_JOB_QUEUE = queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    var = Path(settings.MEDIA_ROOT).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JINAN_", "CELERY_"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="test-only-not-secret",
        DJANGO_SETTINGS_MODULE="jinan_assess.settings",
        DATABASE_URL=database_url(),
        DJANGO_CONN_MAX_AGE="0",
        JINAN_VAR_DIR=str(var),
        CELERY_BROKER_URL=broker,
        JINAN_JOB_QUEUE=queue,
        JINAN_JOB_STALE_SECONDS=str(settings.JINAN_JOB_STALE_SECONDS),
        JINAN_JOB_VISIBILITY_SECONDS="3600",
        JINAN_JOB_ZIP_CHUNK=str(settings.JINAN_JOB_ZIP_CHUNK),
    )
    worker = Worker(env, tmp_path / "worker.log", queue)
    worker.start()
    yield worker
    worker.stop()
    redis.Redis.from_url(broker).flushdb()


def wait_for(condition, *, timeout: float = 120, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or "timed out")
