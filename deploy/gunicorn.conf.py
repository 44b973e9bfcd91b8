"""gunicorn settings for jinan_assess (README "Deployment"); systemd starts it with
``gunicorn --config deploy/gunicorn.conf.py jinan_assess.wsgi:application`` (deploy/systemd/jinan-web.service).

Every value can be overridden from the environment file (deploy/jinan.env.example) without editing this file,
so that the same file serves one machine and several.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# nginx proxies to this address (deploy/nginx/jinan_assess.conf, upstream jinan_web). On several machines
# bind the web server's private address (e.g. 10.0.0.11:8000) so that the nginx machine reaches it.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Synchronous workers: every request is short database work or a PDF rendered in Python (CPU-bound), so
# gunicorn's rule of thumb of 2 × cores + 1 keeps the cores busy while some workers wait on PostgreSQL.
# Long work (ZIPs of reports, big exports, re-scoring) runs in the Celery workers, not here.
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)

# A request slower than this is killed (and logged): the firm's PDF and the exports take a few seconds, the
# city report under 30 s. nginx's proxy_read_timeout is a little longer, so gunicorn's error is the one seen.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On stop or restart a worker finishes its current request within this time (systemd's TimeoutStopSec is
# longer).
graceful_timeout = 30
# nginx keeps connections to the upstream open (keepalive in the upstream block); a little longer than
# nginx's idle time avoids a race where gunicorn closes a connection nginx is reusing.
keepalive = 65

# Import Django once in the master and fork the workers: faster start and shared memory pages. Code is then
# loaded at start only: deploy new code with `systemctl restart jinan-web` (a HUP would re-fork the old
# code). Django opens no database connection at import, so no connection is shared across the fork.
preload_app = True

# Restart each worker after about this many requests (jitter spreads the restarts so the workers do not all
# restart at once): bounds the memory a long-lived process gathers (ReportLab's font caches, fragmentation).
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# The heartbeat files on a RAM disk: a worker is not killed as stuck because /tmp is on a slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# X-Forwarded-Proto is accepted only from these proxies (nginx on the same machine by default; the nginx
# machine's address on several machines). Django trusts it only with DJANGO_BEHIND_PROXY=1.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to standard error (journald under systemd), one access line per request: the client address nginx
# saw (the last X-Forwarded-For entry, as the audit log records it, is at the end of the header), the
# request, status, size, duration in microseconds, referrer, user agent and the worker's <pid>.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(D)sus "%(f)s" "%(a)s" %(p)s'

proc_name = "jinan_assess"

# gunicorn's control socket (`gunicornc`: worker status, worker count): under systemd in the unit's runtime
# folder (RuntimeDirectory=jinan-web: /run/jinan-web, private to the service user); elsewhere off, rather than
# gunicorn's default in $HOME, which every gunicorn of that user would share.
_runtime_dir = os.environ.get("RUNTIME_DIRECTORY", "")
if _runtime_dir:
    control_socket = os.path.join(_runtime_dir, "gunicorn.ctl")
else:
    control_socket_disable = True
