"""make bench, section "jobs" (issue 16): a ZIP of N firm PDF reports made by 1 and then by 2 real Celery
workers (separate processes, --pool=solo) in the same run: throughput and its ratio (goal: 2 workers at least
1.7× of 1), each worker's memory over the run (resident set sampled every second; peak VmHWM), and the delay
between a worker's progress and the job page's JSON endpoint seeing it, polled once a second as
surveys/static/surveys/jobs.js does (goal ≤ 2 s).

The broker is Redis (database 15, a queue of its own) when it answers at 127.0.0.1:6379, otherwise kombu's
filesystem transport in a temporary folder; result files go to a temporary MEDIA_ROOT, deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

GOAL_RATIO = 1.7
GOAL_DELAY = 2.0
POLL_SECONDS = 1.0  # as jobs.js


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _vm(pid: int, key: str) -> int:
    """A /proc/<pid>/status value in kB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Workers:
    def __init__(self, count: int, env: dict[str, str], logs: Path):
        self.processes = []
        for n in range(count):
            log = (logs / f"worker-{count}-{n}.log").open("wb")
            command = [sys.executable, "-m", "celery", "-A", "jinan_assess", "worker", "--pool=solo"]
            command += ["-Q", env["JINAN_JOB_QUEUE"], "-n", f"bench{n}@%h", "--without-gossip", "--without-mingle"]
            command += ["--without-heartbeat", "-l", "WARNING"]
            self.processes.append((subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT), log))
        self.samples: dict[int, list[int]] = {p.pid: [] for p, _log in self.processes}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            for pid, values in self.samples.items():
                values.append(_vm(pid, "VmRSS"))

    def wait_ready(self, seconds: float = 60) -> None:
        # A worker with --without-mingle is ready once its process imported Django and connected; a short
        # idle period is enough, and the job's first task waits in the queue anyway.
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(_vm(p.pid, "VmRSS") < 60_000 for p, _log in self.processes):
            time.sleep(0.2)
        self._sampler.start()

    def peaks_mb(self) -> list[float]:
        return [_vm(p.pid, "VmHWM") / 1024 for p, _log in self.processes]

    def stop(self) -> None:
        self._stop.set()
        for process, _log in self.processes:
            process.terminate()
        for process, log in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _progress_watch(client, url: str, stop: threading.Event, delays: list[float]) -> None:
    """The browser's view: the JSON endpoint once a second; the age of each new progress it sees."""
    seen = None
    while not stop.is_set():
        data = client.get(url, HTTP_ACCEPT="application/json").json()
        now = time.time()
        if data.get("progress_at") and data["done"] != seen:
            seen = data["done"]
            delays.append(now - datetime.fromisoformat(data["progress_at"]).timestamp())
        if data.get("ended"):
            return
        stop.wait(POLL_SECONDS)


def bench_jobs(command, zip_firms: int) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from django.urls import reverse

    from surveys import services
    from surveys.jobs.models import Job
    from surveys.jobs.services import job_create, job_enqueue
    from surveys.models import Assessment
    from surveys.scopes import ROLE_CITY, AdminScope
    from surveys.selectors.administrators import Filters

    command.stdout.write(f"\njobs: a ZIP of {zip_firms:,} firm PDF reports, by 1 and by 2 Celery workers")
    available = Assessment.objects.filter(status="submitted").values("enterprise_id").distinct().count()
    if available < zip_firms:
        command.stdout.write(f"  only {available:,} firms have a submitted round: the ZIP has {available:,}")
        zip_firms = available
    user, _created = get_user_model().objects.get_or_create(username="bench-jobs-city")
    services.administrator_grant(user=user, role=ROLE_CITY)
    user = get_user_model().objects.get(pk=user.pk)
    tmp = Path(tempfile.mkdtemp(prefix="jinan-bench-jobs-"))
    queue = f"bench-jobs-{os.getpid()}"
    broker = "redis://127.0.0.1:6379/15" if _redis_up() else "filesystem://"
    env = {**os.environ, "JINAN_VAR_DIR": str(tmp / "var"), "JINAN_JOB_QUEUE": queue, "CELERY_BROKER_URL": broker}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    env["DJANGO_DEBUG"] = "0"
    # At least 20 chunks, so that a short trial run (--zip-firms 300) is shared out too; 50 firms at most.
    chunk = max(1, min(settings.JINAN_JOB_ZIP_CHUNK, zip_firms // 20))
    env["JINAN_JOB_ZIP_CHUNK"] = str(chunk)
    command.stdout.write(f"  broker: {broker.split(':')[0]}, chunks of {chunk} firms")
    transport = {} if broker.startswith("redis") else {
        key: str(tmp / "var" / "celery" / name)
        for key, name in (("data_folder_in", "queue"), ("data_folder_out", "queue"), ("control_folder", "control"))
    }  # fmt: skip
    results: dict[int, float] = {}
    try:
        with override_settings(
            MEDIA_ROOT=tmp / "var" / "media",
            CELERY_BROKER_URL=broker,
            CELERY_BROKER_TRANSPORT_OPTIONS=transport or settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            JINAN_JOB_QUEUE=queue,
            CELERY_TASK_ALWAYS_EAGER=False,
            ALLOWED_HOSTS=["testserver"],
            SECURE_SSL_REDIRECT=False,
        ):
            client = Client()
            client.force_login(user)
            for count in (1, 2):
                workers = _Workers(count, env, tmp)
                try:
                    workers.wait_ready()
                    job = job_create(
                        request=None,
                        user=user,
                        scope=AdminScope.city_wide(),
                        kind=Job.KIND_REPORTS_ZIP,
                        parameters={"filters": Filters().__dict__, "language": "zh-hans", "limit": zip_firms},
                    )
                    delays: list[float] = []
                    stop = threading.Event()
                    url = reverse("jobs:progress", args=[job.pk])
                    watcher = threading.Thread(target=_progress_watch, args=(client, url, stop, delays), daemon=True)
                    started = time.perf_counter()
                    job_enqueue(job=job)
                    watcher.start()
                    while Job.objects.filter(pk=job.pk).exclude(state__in=Job.ENDED).exists():
                        time.sleep(0.1)
                    elapsed = time.perf_counter() - started
                    stop.set()
                    watcher.join(timeout=5)
                    job.refresh_from_db()
                    if job.state != Job.DONE:
                        command.stdout.write(f"  {count} worker(s): job {job.state} ({job.error_code})")
                        return
                    results[count] = job.total / elapsed
                    peaks = workers.peaks_mb()
                    # Flat memory: the highest resident set of the run's first tenth (fonts and caches loaded)
                    # against that of its last tenth, per worker.
                    early = [_highest(values, 0.1, 0.2) for values in workers.samples.values() if len(values) > 9]
                    late = [_highest(values, 0.9, 1.0) for values in workers.samples.values() if len(values) > 9]
                    size = job.result_size / 1e6
                    command.stdout.write(
                        f"  {count} worker(s): {job.total:,} PDFs, {size:,.1f} MB ZIP in {elapsed:,.1f} s"
                        f" = {results[count]:,.1f} PDFs/s; worker RSS, highest in the run's 2nd tenth"
                        f" {', '.join(f'{m:,.0f}' for m in early)} MB, in its last tenth"
                        f" {', '.join(f'{m:,.0f}' for m in late)} MB,"
                        f" peak (VmHWM) {', '.join(f'{m:,.0f}' for m in peaks)} MB"
                    )
                    if delays:
                        command.line(
                            f"progress seen by the job page, {count} worker(s) (max)",
                            f"{max(delays):.2f} s",
                            f"≤ {GOAL_DELAY:.0f} s",
                            max(delays) <= GOAL_DELAY,
                        )
                        command.stdout.write(
                            f"    median delay {statistics.median(delays):.2f} s over {len(delays)} updates seen"
                        )
                finally:
                    workers.stop()
                    # The bench's job rows go with their files (in the temporary folder): nothing left to purge.
                    Job.objects.filter(parameters__limit=zip_firms, username=user.get_username()).delete()
            ratio = results[2] / results[1]
            command.line("2 workers / 1 worker, throughput", f"{ratio:.2f}×", f"≥ {GOAL_RATIO}×", ratio >= GOAL_RATIO)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _highest(values: list[int], start: float, end: float) -> float:
    """The highest of the samples (kB) between two fractions of the run, in MB."""
    part = values[int(len(values) * start) : max(int(len(values) * end), int(len(values) * start) + 1)]
    return max(part) / 1024
