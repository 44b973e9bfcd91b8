"""The shipped deployment (deploy/, README "Deployment") is consistent with the app: nginx accepts the site,
its limits and paths follow the settings, the gunicorn configuration loads, the systemd units start commands
that exist, and the environment file example lists every variable the settings read. Nothing is started and
no database is used; the backup and restore procedure runs in CI (`make deploy-check`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from gunicorn.config import KNOWN_SETTINGS

from surveys.manage.forms import REGISTER_MAX_UPLOAD_MB

from .test_settings_documented import SETTINGS, environment_reads

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "jinan_assess.conf"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
UNITS = DEPLOY / "systemd"
ENV_EXAMPLE = DEPLOY / "jinan.env.example"
# Where the units expect the code (WorkingDirectory); the tests read it as this checkout.
INSTALL_DIR = "/srv/jinan_assess"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _site_text() -> str:
    # Without the comments: only directives count.
    return "\n".join(line.split("#", 1)[0] for line in SITE.read_text(encoding="utf-8").splitlines())


def _nginx() -> str | None:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        message = "nginx is not installed (Debian: apt-get install nginx; `make test` installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_nginx_accepts_the_shipped_site():
    """The same check CI runs (deploy/nginx/check.sh): `nginx -t` on the unmodified file, warnings included."""
    _nginx()
    result = subprocess.run(
        ["bash", str(DEPLOY / "nginx" / "check.sh")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test is successful" in result.stdout + result.stderr


def test_nginx_request_limits_follow_the_upload_limits():
    """The file itself plus the multipart envelope: at least the app's limit, not much more."""
    site = _site_text()
    default = re.findall(r"^    client_max_body_size\s+(\d+)m;", site, re.MULTILINE)
    assert len(default) == 1, "one server-wide client_max_body_size, in megabytes"
    assert REGISTER_MAX_UPLOAD_MB < int(default[0]) <= REGISTER_MAX_UPLOAD_MB + 2
    jobs_views = pytest.importorskip("surveys.jobs.views")
    upload = re.search(r"location = (\S+) \{\s*client_max_body_size (\d+)m;\s*proxy_pass http://jinan_web;", site)
    assert upload, "the register job's upload has its own location and limit"
    assert upload.group(1) == reverse("jobs:register")
    assert jobs_views.REGISTER_JOB_MAX_MB < int(upload.group(2)) <= jobs_views.REGISTER_JOB_MAX_MB + 2


def test_nginx_paths_and_headers_follow_the_settings():
    site = _site_text()
    var_dir = re.search(r"^JINAN_VAR_DIR=(.+)$", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE)
    assert var_dir, "the environment example sets JINAN_VAR_DIR"
    var = var_dir.group(1).rstrip("/")
    # STATIC_ROOT and MEDIA_ROOT are JINAN_VAR_DIR/static and /media.
    assert Path(settings.STATIC_ROOT).name == "static" and Path(settings.MEDIA_ROOT).name == "media"
    assert Path(settings.STATIC_ROOT).parent == Path(settings.MEDIA_ROOT).parent
    static = re.search(r"location /(\S+)/ \{\s*alias (\S+);", site)
    assert static and static.groups() == (settings.STATIC_URL.strip("/"), f"{var}/static/")
    # Media only through the app's X-Accel-Redirect: an internal location, never a public one.
    media = re.search(r"location (/\S+/) \{\s*internal;\s*alias (\S+);", site)
    assert media and media.group(2) == f"{var}/media/"
    assert site.count(f"{var}/media") == 1
    # The headers the settings trust behind the proxy (DJANGO_BEHIND_PROXY): set, never passed through.
    assert site.count("proxy_set_header") == site.count("\n    proxy_set_header"), "set once, for the server"
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header Host $host;" in site
    assert not getattr(settings, "USE_X_FORWARDED_HOST", False)
    # HTTP only redirects; HTTPS has a certificate (a placeholder).
    assert "return 301 https://$host$request_uri;" in site
    assert re.search(r"listen 443 ssl", site) and "ssl_certificate " in site and "ssl_certificate_key " in site


def _gunicorn_namespace() -> dict:
    namespace: dict = {"__file__": str(GUNICORN_CONF), "__name__": "__config__"}
    exec(compile(GUNICORN_CONF.read_text(encoding="utf-8"), str(GUNICORN_CONF), "exec"), namespace)
    return namespace


def test_gunicorn_configuration_uses_only_known_settings():
    namespace = _gunicorn_namespace()
    known = {setting.name for setting in KNOWN_SETTINGS}
    values = {
        name: value
        for name, value in namespace.items()
        if not name.startswith("_") and not callable(value) and not isinstance(value, type(os))
    }
    # gunicorn ignores an unknown name silently: a typo would be a setting that is never applied.
    assert set(values) <= known, f"not gunicorn settings: {sorted(set(values) - known)}"
    assert values["workers"] >= 1 and values["preload_app"] is True
    assert values["max_requests"] > 0 and 0 < values["max_requests_jitter"] < values["max_requests"]
    # nginx waits a little longer than gunicorn, so that gunicorn's own timeout is the one that fires.
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", _site_text())
    assert read_timeout and values["timeout"] < int(read_timeout.group(1))
    upstream = re.search(r"upstream jinan_web \{[^}]*?server (\S+?)[ ;]", _site_text())
    assert upstream and upstream.group(1) == values["bind"]


def test_gunicorn_loads_the_app_with_the_configuration():
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--check-config",
            "--config",
            str(GUNICORN_CONF),
            "jinan_assess.wsgi:application",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _unit_commands(unit: Path) -> list[list[str]]:
    lines = unit.read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[1].split() for line in lines if line.startswith(("ExecStart=", "ExecReload="))]


def _local(path: str) -> Path:
    assert path.startswith(INSTALL_DIR), path
    return ROOT / path.removeprefix(INSTALL_DIR).lstrip("/")


def test_systemd_units_start_commands_that_exist():
    from django.core.management import get_commands

    units = sorted(UNITS.glob("*.service"))
    assert {unit.name for unit in units} == {"jinan-web.service", "jinan-worker@.service", "jinan-purge.service"}
    assert (UNITS / "jinan-purge.timer").exists()
    commands = get_commands()
    seen = set()
    for unit in units:
        text = unit.read_text(encoding="utf-8")
        assert f"WorkingDirectory={INSTALL_DIR}\n" in text
        assert "EnvironmentFile=/etc/jinan_assess/jinan.env\n" in text
        for argv in _unit_commands(unit):
            if argv[0] == "/bin/kill":
                continue
            program = _local(argv[0])
            assert program.name in {"gunicorn", "celery", "python"}, argv
            assert program.exists(), f"{unit.name}: {program} (pip install -r requirements.txt)"
            seen.add(program.name)
            if program.name == "gunicorn":
                assert _local(argv[argv.index("--config") + 1]) == GUNICORN_CONF
                assert argv[-1] == "jinan_assess.wsgi:application"
            elif program.name == "celery":
                assert argv[1:4] == ["-A", "jinan_assess", "worker"]
                assert (ROOT / "jinan_assess" / "celery.py").exists()
            else:
                assert argv[1] == "manage.py" and argv[2] in commands, f"{unit.name}: no command {argv[2]}"
    assert seen == {"gunicorn", "celery", "python"}


def test_systemd_accepts_the_units():
    """systemd-analyze verify (where systemd is installed) on the units, read from this checkout."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"jinan-units-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    try:
        for unit in UNITS.iterdir():
            # The template is verified as one of its instances.
            name = unit.name.replace("@.", "@1.")
            (folder / name).write_text(unit.read_text(encoding="utf-8").replace(INSTALL_DIR, str(ROOT)))
        result = subprocess.run(
            [analyze, "verify", *sorted(str(path) for path in folder.iterdir())],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        shutil.rmtree(folder)
    assert result.returncode == 0 and not result.stderr.strip(), result.stdout + result.stderr


def test_the_environment_example_lists_every_variable():
    names, _unnamed = environment_reads(SETTINGS.read_text(encoding="utf-8"))
    gunicorn = set(re.findall(r"\"(GUNICORN_[A-Z_]+)\"", GUNICORN_CONF.read_text(encoding="utf-8")))
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))
    assert sorted((names | gunicorn) - listed) == [], "add these to deploy/jinan.env.example"
    assert sorted(listed - names - gunicorn) == [], "deploy/jinan.env.example lists variables nothing reads"


def test_shell_scripts_parse():
    scripts = sorted(DEPLOY.rglob("*.sh"))
    assert {path.name for path in scripts} >= {"backup.sh", "restore.sh", "backup-check.sh", "check.sh"}
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert "set -euo pipefail" in script.read_text(encoding="utf-8"), script
        subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    if shutil.which("shellcheck"):
        result = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout


def test_settings_use_redis_as_the_shared_cache_when_configured():
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    env.update({"DJANGO_SETTINGS_MODULE": "jinan_assess.settings", "DATABASE_URL": "sqlite:///:memory:"})
    local = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert local.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"
    env["REDIS_URL"] = "redis://127.0.0.1:6379/1"
    shared = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert shared.stdout.strip() == "jinan_assess.cache.TolerantRedisCache"
    # The client library the backend needs is a pinned requirement.
    assert re.search(r"^redis==", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE)


def test_an_unreachable_redis_is_an_empty_cache(caplog):
    """Every cached figure can be computed again: a Redis that is down costs time, never a page."""
    from jinan_assess.cache import TolerantRedisCache

    # Port 1: nothing listens, the connection is refused at once.
    cache = TolerantRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    with caplog.at_level("WARNING", logger="jinan.cache"):
        assert cache.get("figure") is None
        assert cache.get("figure", "fallback") == "fallback"
        cache.set("figure", {"index": 48.7}, 60)
        assert cache.get_or_set("figure", lambda: {"index": 48.7}, 60) == {"index": 48.7}
        assert cache.get_many(["a", "b"]) == {}
        assert cache.has_key("figure") is False
        assert cache.delete("figure") is False
    # One line per outage, not one per call.
    assert [record.getMessage()[:17] for record in caplog.records] == ["cache unavailable"]


def test_redis_cache_round_trip():
    """Against the Redis of REDIS_URL (CI starts one at 127.0.0.1:6379), where there is one."""
    import redis

    from jinan_assess.cache import TolerantRedisCache

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip(f"no Redis at {url}")
    cache = TolerantRedisCache(url, {"KEY_PREFIX": f"jinan_test_{os.getpid()}"})
    cache.set("figure", {"index": 48.7}, 30)
    assert cache.get("figure") == {"index": 48.7}
    assert cache.delete("figure") is True
    assert cache.get("figure") is None
