"""Settings for jinan_assess.

One module for every deployment: each difference between a developer's laptop and production comes from
the environment (see README.md, "Configuration"). Defaults are safe for local work: SQLite under var/,
DEBUG off unless DJANGO_DEBUG is set.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JINAN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# A development key is only acceptable while DEBUG is on; production must provide its own (no switch turns
# this off: a server with DEBUG off and the published development key would sign sessions anyone can forge).
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_include_bootstrap",
    "axes",
    "surveys",
    "surveys.audit",
    "surveys.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "surveys.middleware.SessionTimeoutMiddleware",
    "surveys.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into our neutral login response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "surveys.auth_backends.MemberModelBackend",
]

ROOT_URLCONF = "jinan_assess.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Templates are namespaced under the app (surveys/…): django_include_bootstrap ships a bare base.html.
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "jinan_assess.wsgi.application"

# DATABASE_URL selects PostgreSQL (postgres://user@host:port/db); unset means an embedded SQLite file.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout keep concurrent autosaves from failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
# One catalogue for the whole project (msgids are the Chinese source text).
LOCALE_PATHS = [BASE_DIR / "surveys" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "surveys:home"
LOGOUT_REDIRECT_URL = "surveys:home"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "noreply@jinan-assess.local")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- security (README "Configuration"; checked by `check --deploy --fail-level WARNING`) ----------
# DJANGO_HTTPS: the site is served over HTTPS (default whenever DEBUG is off). It turns on the HTTPS
# redirect, secure cookies and HSTS; tests and local benchmarks over plain HTTP set it to 0.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
JINAN_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if JINAN_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Database sessions read with one plain SELECT per request (surveys/sessions.py).
SESSION_ENGINE = "surveys.sessions"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # the autosave script reads the token from the form, not the cookie
# A refused token gets the site's page (JSON for the autosave), not Django's bare English one.
CSRF_FAILURE_VIEW = "surveys.responses.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Only our own static files; charts are <img> of our own SVG endpoints.
JINAN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

# Sessions: 30 minutes idle, 12 hours at most after login (surveys.middleware.SessionTimeoutMiddleware).
JINAN_SESSION_IDLE_SECONDS = int(os.environ.get("JINAN_SESSION_IDLE_SECONDS", str(30 * 60)))
JINAN_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("JINAN_SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_COOKIE_AGE = JINAN_SESSION_ABSOLUTE_SECONDS

# Login throttling (django-axes; README "Logins and lockouts"). 5 failures within 15 minutes lock one account
# *from one address* for 15 minutes: an attacker elsewhere cannot lock the owner (or the city administrator)
# out, and one colleague's typos do not lock a shared office address. An address that fails against 20
# different accounts within those 15 minutes (password spraying) is refused for every account
# (surveys.login_throttle.LoginThrottle: axes counts every parameter group against the one failure limit).
# The refusal is the ordinary failed-login page: it reveals neither the lock nor whether the user exists.
AXES_FAILURE_LIMIT = int(os.environ.get("JINAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("JINAN_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
JINAN_LOGIN_ADDRESS_ACCOUNT_LIMIT = int(os.environ.get("JINAN_LOGIN_ADDRESS_ACCOUNT_LIMIT", "20"))
AXES_HANDLER = "surveys.login_throttle.LoginThrottle"
AXES_CLIENT_IP_CALLABLE = "surveys.audit.services.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "surveys.auth_views.locked_out"
AXES_USERNAME_CALLABLE = "surveys.auth_views.axes_username"
AXES_VERBOSE = False

# Audit log: kept at least 183 days (Cybersecurity Law Art. 21: not less than six months).
JINAN_AUDIT_RETENTION_DAYS = max(183, int(os.environ.get("JINAN_AUDIT_RETENTION_DAYS", "183")))

# Where the TrueType CJK font for PDF reports is looked for; the first one found is used.
JINAN_PDF_FONT_PATHS = env_list(
    "JINAN_PDF_FONT_PATHS",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc,/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
# TrueType fonts tried, in order, for characters the CJK font lacks (surveys/reports/fonts.py): Symbola for
# emoji and symbols (fonts-symbola), HanaMinB for CJK Extension B–F and HanaMinA for Extension A
# (fonts-hanazono). A character none of them has prints as U+FFFD, with a warning.
JINAN_PDF_FALLBACK_FONT_PATHS = env_list(
    "JINAN_PDF_FALLBACK_FONT_PATHS",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf,"
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf,"
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
)
# Peer groups smaller than this are never shown (results page, dashboard, reports).
JINAN_MIN_GROUP_SIZE = int(os.environ.get("JINAN_MIN_GROUP_SIZE", "10"))
# Administrators' dashboard figures are cached this long (0: off); a new submission shows at once.
JINAN_DASHBOARD_CACHE_SECONDS = int(os.environ.get("JINAN_DASHBOARD_CACHE_SECONDS", "60"))
# The cache (dashboard figures, coverage): with REDIS_URL (redis://host:6379/1) one Redis shared by every web
# server and worker, so a figure computed once serves all; otherwise each process keeps its own in memory.
# Either way a submission shows at once: the cache keys carry a fingerprint of the summary tables.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache; a Redis that cannot be reached is an empty cache, never an error page
            # (jinan_assess/cache.py): the figures are computed again meanwhile.
            "BACKEND": "jinan_assess.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            # One Redis may serve other sites (and Celery's broker, on another database number).
            "KEY_PREFIX": "jinan_assess",
            # A Redis that does not answer is given up on within seconds instead of hanging a worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }

# --- background jobs (Celery; README "Background jobs") -----------------------------------------------
# Production names its broker (Redis: redis://127.0.0.1:6379/0). Without one, kombu's filesystem transport
# under var/celery/ is the broker: `make run` needs no extra service (the web process and its one worker
# share the folder).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or "filesystem://"
JINAN_JOB_QUEUE = os.environ.get("JINAN_JOB_QUEUE", "jinan")
# A message a worker took but never acknowledged (the worker was killed) goes back to the queue after this
# many seconds (Redis); the jobs' own heartbeat keeps a redelivered duplicate from running twice.
JINAN_JOB_VISIBILITY_SECONDS = int(os.environ.get("JINAN_JOB_VISIBILITY_SECONDS", "3600"))
# A running job whose worker has not reported for this long is shown as interrupted, and may be retried.
JINAN_JOB_STALE_SECONDS = int(os.environ.get("JINAN_JOB_STALE_SECONDS", "120"))
# Firms per task of a ZIP of reports: the job is shared out between the workers in pieces of this size.
JINAN_JOB_ZIP_CHUNK = int(os.environ.get("JINAN_JOB_ZIP_CHUNK", "50"))
# Behind nginx: the job download answers with "X-Accel-Redirect: <this prefix><path under MEDIA_ROOT>" and nginx
# sends the file (its internal location, deploy/nginx/); empty: the file is streamed by Django.
JINAN_X_ACCEL_MEDIA = os.environ.get("JINAN_X_ACCEL_MEDIA", "")
# Result files are deleted this many hours after the job ends (purge_jobs).
JINAN_JOB_RESULT_HOURS = int(os.environ.get("JINAN_JOB_RESULT_HOURS", "72"))
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    if CELERY_BROKER_URL.startswith("filesystem:")
    else {"visibility_timeout": JINAN_JOB_VISIBILITY_SECONDS, "socket_connect_timeout": 3, "socket_timeout": 30}
)
# A broker that is down must make the job buttons say so at once, not hang the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tasks are acknowledged when they end, not when they start: a killed worker's task goes back to the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = JINAN_JOB_QUEUE
CELERY_TASK_IGNORE_RESULT = True  # a job's state lives in its row (surveys/jobs), not in a result backend
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False

# One line per event, on the console (stderr). Django's own "django" handlers (a console handler while DEBUG is
# on, mail to ADMINS) are replaced by propagation to the root handler: otherwise every 4xx/5xx line, its
# traceback and the autoreloader's start line are printed twice with DEBUG on. runserver's request lines
# ("django.server") keep their own handler. django-axes logs four INFO lines per login and a WARNING per
# failure, repeating the audit log's one line ("jinan.audit"); it is kept to its errors, and a lockout is
# logged once by surveys.login_throttle ("jinan.auth").
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # Configuring "django" resets its children: runserver's request lines get Django's own setup back.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "axes": {"handlers": [], "level": "ERROR", "propagate": True},
    },
}
