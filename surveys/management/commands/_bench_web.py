"""make bench, web section: what a request costs the server, measured by the server's CPU time.

gunicorn runs with two workers; the client sends one request at a time over keep-alive connections, and the
cost of a request is the CPU time (user + system, from /proc) that the workers spent while it ran. A client
that saturates first (Python's http.client does, well before Django does) cannot distort that figure, as it
could a requests-per-second ratio. The SQL statements per request type are counted apart, in process, with
the test client (transaction control left out: SQLite logs it, PostgreSQL does not).

Two complete responses are timed per firm, from a fresh round to its results page, log in excluded:
- the path without JavaScript: the firm's page, round start, each page shown and posted, the review, the
  submission, the results page (15 requests);
- the path a browser takes: the same, plus an autosave for every answer as it is clicked.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path

# LimeSurvey 6.4.2 on this kind of machine (same PostgreSQL, 2 PHP-FPM workers), a complete response of
# the same questionnaire without JavaScript: 1.1 s of server CPU (measured once by the project; see the
# issue "Figures that cost the same at 60 thousand and 5 million firms…").
LIMESURVEY_RESPONSE_CPU_S = 1.1
GOAL_NO_JS_MS = 140  # 8× cheaper than LimeSurvey
GOAL_BROWSER_MS = 280  # 4×
GOAL_PAGE_RATIO = 10  # a questionnaire page at most 10× a trivial view

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time the processes have run: from /proc/<pid>/schedstat (nanoseconds; gunicorn's sync workers are
    single-threaded), else user + system time from /proc/<pid>/stat (in clock ticks of 10 ms, too coarse to
    time one request)."""
    total = 0.0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)
    return total


def worker_pids(master: int) -> list[int]:
    """gunicorn's workers: the master's children."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children] + [master]


class Browser:
    """One user's keep-alive connection with its cookies (session, CSRF), as a browser would send them."""

    def __init__(self, port: int, session_cookie: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.port = port
        name, value = session_cookie.split("=", 1)
        self.cookies = {name: value}
        self.csrf = ""

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        headers.update(extra or {})
        return headers

    def _send(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None):
        self.conn.request(method, path, body=body, headers=self._headers(headers))
        response = self.conn.getresponse()
        data = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, rest = value.split("=", 1)
                self.cookies[name] = rest.split(";", 1)[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', data)
        if token:
            self.csrf = token.group(1)
        return response.status, response.getheader("Location") or "", data

    def get(self, path: str):
        return self._send("GET", path)

    def post(self, path: str, form: dict[str, str]):
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf, **form})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{self.port}/",
        }
        return self._send("POST", path, body, headers)

    def post_json(self, path: str, payload: str):
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Referer": f"http://127.0.0.1:{self.port}/",
        }
        return self._send("POST", path, payload, headers)


_ROUND_ID = re.compile(r"/\d+/")


class MeasuredBrowser(Browser):
    """A Browser that adds each request's server CPU time (the workers', ``pids``) to ``costs`` by request type
    (method and path, round ids left out)."""

    def __init__(self, port: int, session_cookie: str, pids: list[int], costs: dict[str, list[float]]):
        super().__init__(port, session_cookie)
        self.pids = pids
        self.costs = costs

    def _send(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None):
        before = cpu_seconds(self.pids)
        result = super()._send(method, path, body, headers)
        kind = f"{'POST (JSON)' if 'json' in (headers or {}).get('Content-Type', '') else method} "
        self.costs.setdefault(kind + _ROUND_ID.sub("/N/", path), []).append(cpu_seconds(self.pids) - before)
        return result


def complete_response(browser: Browser, items_by_page: list[list[str]], *, autosave: bool) -> int:
    """A firm's round from start to results, as a user would click through it; the number of requests."""
    status, _location, _body = browser.get("/firm/")  # where a member lands: it offers the new round
    _expect(status, 200, "the firm page")
    status, location, _body = browser.post("/rounds/start/", {"label": ""})
    _expect(status, 302, "round start")
    requests = 2
    round_path = location.split("/page/")[0]
    for number, codes in enumerate(items_by_page, start=1):
        requests += _answer_page(browser, f"{round_path}/page/{number}/", number, codes, autosave=autosave)
    status, _location, _body = browser.get(f"{round_path}/review/")
    _expect(status, 200, "the review page")
    status, location, _body = browser.post(f"{round_path}/review/", {"pledge": "on"})
    _expect(status, 302, "the submission")
    status, _location, _body = browser.get(location)
    _expect(status, 200, "the results page")
    return requests + 3


def _answer_page(browser: Browser, path: str, number: int, codes: list[str], *, autosave: bool) -> int:
    """One questionnaire page shown, answered (each answer autosaved as it is clicked, on the browser path)
    and posted with "next"; the number of requests."""
    import json

    status, _location, body = browser.get(path)
    _expect(status, 200, f"page {number}")
    requests = 1
    revisions = dict(re.findall(r'name="rev-([^"]+)" value="(\d+)"', body))
    autosave_path = path.split("/page/")[0] + "/autosave/"
    form = {"action": "next"}
    for code in codes:
        if autosave:  # the answer is saved as it is clicked; the page's own post then changes nothing
            payload = json.dumps({"item": code, "value": "2", "revision": revisions.get(code, "0"), "page": number})
            status, _location, reply = browser.post_json(autosave_path, payload)
            _expect(status, 200, "an autosave")
            requests += 1
            revisions[code] = str(json.loads(reply)["revision"])
        form.update({f"answer-{code}": "2", f"note-{code}": "", f"rev-{code}": revisions.get(code, "0")})
    status, _location, _body = browser.post(path, form)
    _expect(status, 302, f"page {number}'s post")
    return requests + 1


def _expect(status: int, expected: int, what: str) -> None:
    if status != expected:
        raise RuntimeError(f"{what} answered {status}, not {expected}")


def cpu_per_request(pids: list[int], send: Callable[[], tuple[int, str, str]], count: int) -> float:
    """The workers' CPU seconds per request over ``count`` requests sent one after the other (each must
    answer 200: an error page is no measure of the page)."""
    start = cpu_seconds(pids)
    for _ in range(count):
        status = send()[0]
        if status != 200:
            raise RuntimeError(f"answered {status}")
    return (cpu_seconds(pids) - start) / count


def statements_per_request_type(user, draft, items_by_page: list[list[str]]) -> list[tuple[str, int]]:
    """SQL statements of each request type, counted in process with the test client."""
    from django.conf import settings
    from django.test.utils import override_settings

    # As the bench's server runs: plain HTTP on 127.0.0.1 (DJANGO_HTTPS=0).
    plain_http = {"SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False}
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"], **plain_http):
        return _statements(user, draft, items_by_page)


def _statements(user, draft, items_by_page: list[list[str]]) -> list[tuple[str, int]]:
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    base = f"/assessments/{draft.pk}"
    first = items_by_page[0]

    def count(send) -> int:
        with CaptureQueriesContext(connection) as context:
            response = send()
        if response.status_code not in (200, 302) or "/login" in response.get("Location", ""):
            raise RuntimeError(f"{response.status_code} while counting statements")
        return sum(1 for q in context.captured_queries if not TRANSACTION_CONTROL.match(q["sql"]))

    client.get(f"{base}/page/1/")  # the version's structure is read once per process
    rows = [
        ("trivial view /healthz", count(lambda: client.get("/healthz"))),
        ("questionnaire page", count(lambda: client.get(f"{base}/page/1/"))),
        (
            "autosave",
            count(
                lambda: client.post(
                    f"{base}/autosave/",
                    json.dumps({"item": first[0], "value": "2", "revision": 0, "page": 1}),
                    content_type="application/json",
                )
            ),
        ),
    ]
    for number, codes in enumerate(items_by_page, start=1):
        form = {"action": "next"}
        for code in codes:
            form[f"answer-{code}"] = "2"
            form[f"rev-{code}"] = "1" if code == first[0] else "0"
        statements = count(lambda form=form, number=number: client.post(f"{base}/page/{number}/", form))
        if number == 1:
            rows.append(("page save", statements))
    rows.append(("review page", count(lambda: client.get(f"{base}/review/"))))
    rows.append(("submission", count(lambda: client.post(f"{base}/review/", {"pledge": "on"}))))
    rows.append(("results page", count(lambda: client.get(f"{base}/results/"))))
    return rows
