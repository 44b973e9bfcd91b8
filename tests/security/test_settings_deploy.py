"""Production settings come from the environment and pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys

import pytest
from django.urls import reverse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JINAN_"))}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "assess.example.cn",
            "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
        }
    )
    env.update(extra)
    return env


def test_check_deploy_passes_with_zero_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_missing_secret_key_refuses_to_start_in_production():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_security_headers(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("surveys:home"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "http:" not in policy and "https:" not in policy


@pytest.mark.django_db
def test_pages_have_no_inline_scripts_or_styles(client, settings):
    """The CSP forbids them, so any inline script or style attribute would silently break."""
    content = client.get(reverse("surveys:signup")).content.decode() + client.get(reverse("login")).content.decode()
    assert "<script>" not in content and "<script type" not in content
    assert " style=" not in content and "<style" not in content
    assert " onclick=" not in content and " onchange=" not in content
