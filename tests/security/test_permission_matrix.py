"""Permission matrix (issue 6 item 1, plan S1): every URL × six roles × {own, foreign, missing object}.

The URL list comes from the resolver (``get_resolver().url_patterns``, walked recursively), the
expectations from ``MATRIX`` below, keyed by URL name: a URL added to the project without an entry makes
``test_every_url_has_an_entry`` fail. Two families are not in the table, each by a documented rule:

* Django's admin (namespace ``admin``, mounted at /admin/): its own views and permission system. Rule,
  tested for every one of its URLs: anonymous users and every non-staff role are redirected to the admin
  login (its logout to the admin index, which redirects there), and its login page answers 200.
* ``SKIPPED`` names (Django's ``set_language``, static files when DEBUG serves them): no object and no
  firm data; their CSRF protection is still checked by ``test_csrf_enforced_on_every_post``.

Objects are relative to the role: "own" is an object of the role's firm (A for anonymous and the city
administrator, B for the member of another firm and for the district administrator of 历下区),
"foreign" one of the other firm, "missing" an id that does not exist (plus mismatched id pairs). Expected
answers: 200, 401, 403, 404, 405, "login" (302 to the login page), "home" (302 to /), "manage" (302 to the
administrators' dashboard, where administrators without a firm land), "302" (another redirect).

Besides the status, every response is checked for leaks: none may contain a marker (name, USCC, contact
phone) of a firm the role is not entitled to see; and a foreign object must answer exactly like a
missing one (same status, same body once CSRF tokens and the requested path are blanked out).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .conftest import ROLE_HELP, ROLES, World, pooled_client, response_text, squeeze

pytestmark = pytest.mark.usefixtures("quiet_logs")

MISSING = 987654


# --- the URL list, from the resolver ----------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    route: str  # the concatenated route/regex strings, for messages
    name: str | None  # namespaced, e.g. "surveys:page"
    namespace: str
    pattern: URLPattern
    prefix: str  # the route of the resolvers above, e.g. "admin/surveys/enterprise/"

    @property
    def callback(self):
        return self.pattern.callback


def url_leaves(patterns=None, prefix: str = "", namespace: str = "") -> list[Leaf]:
    patterns = get_resolver().url_patterns if patterns is None else patterns
    leaves = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            leaves += url_leaves(entry.url_patterns, prefix + str(entry.pattern), inner)
        else:
            name = f"{namespace}{entry.name}" if entry.name else None
            leaves.append(Leaf(prefix + str(entry.pattern), name, namespace.rstrip(":"), entry, prefix))
    return leaves


def is_static(leaf: Leaf) -> bool:
    return getattr(leaf.callback, "__module__", "") == "django.views.static"


SKIPPED = {
    "set_language": "Django's own view (i18n): POST-only, sets the language cookie and redirects to a same-host "
    "`next`; no object and no firm data. CSRF: test_csrf_enforced_on_every_post.",
}


def is_admin(leaf: Leaf) -> bool:
    return leaf.namespace == "admin" or leaf.namespace.startswith("admin:")


# --- the expectation table --------------------------------------------------------------------------

OBJ = ("own", "foreign", "missing")


@dataclass(frozen=True)
class Probe:
    method: str  # "GET", "POST" (form) or "JSON" (POST with a JSON body)
    # (world, role, object kind) -> list of positional-argument lists; one request each
    args: Callable[[World, str, str], list[list]]
    expect: dict[str, tuple]  # object kind ("own"/"foreign"/"missing", or "-" for none) -> one per ROLES
    data: Callable[[World, str, str], object] | None = None
    # The own object legitimately shows its firm's name to whoever holds it (bearer-token links).
    reveals_own: bool = False
    label: str = ""


def firm_of(world: World, role: str, obj: str):
    return world.own(role) if obj == "own" else world.foreign(role)


def draft(number=None):
    def args(world, role, obj):
        tail = [] if number is None else [number]
        if obj == "missing":
            variants = [[MISSING, *tail]]
            if number is not None:  # a page the questionnaire does not have
                variants += [[world.own(role).draft.pk, 99], [world.own(role).draft.pk, 0]]
            return variants
        return [[firm_of(world, role, obj).draft.pk, *tail]]

    return args


def submitted(*, draft_is_missing=False):
    def args(world, role, obj):
        if obj == "missing":
            # the report of a draft does not exist yet (its results page redirects to the questionnaire)
            return [[MISSING]] + ([[world.own(role).draft.pk]] if draft_is_missing else [])
        return [[firm_of(world, role, obj).submitted.pk]]

    return args


def enterprise_for_administrator(world, role, obj):
    if obj == "missing":
        return [[MISSING]]
    return [[firm_of(world, role, obj).enterprise.pk]]


def assessment_for_administrator(world, role, obj):
    if obj == "missing":
        own, other = world.own(role), world.foreign(role)
        return [
            [MISSING, MISSING],
            [own.enterprise.pk, MISSING],
            [own.enterprise.pk, own.draft.pk],  # drafts are the firm's work in progress
            [own.enterprise.pk, other.submitted.pk],  # a round of another firm under this firm's id
        ]
    firm = firm_of(world, role, obj)
    return [[firm.enterprise.pk, firm.submitted.pk]]


def chart_names(world, role, obj):
    if obj == "missing":
        return [["no-such-chart"]]
    return [["levels"], ["dimensions"], ["breakdown"], ["weaknesses"], ["trend"]]


def export_args(world, role, obj):
    if obj == "missing":
        return [["no-such-dataset", "csv"], ["firms", "pdf"]]
    return [[dataset, fmt] for dataset in ("firms", "answers", "aggregates") for fmt in ("csv", "xlsx")]


def unassessed_export_args(world, role, obj):
    return [["pdf"]] if obj == "missing" else [["csv"], ["xlsx"]]


def register_report_args(world, role, obj):
    """An error report of a register upload (written as the page writes it), or a token that names none."""
    if obj == "missing":
        return [["0" * 32]]
    from surveys.manage.register_views import _report_save
    from surveys.services.register import RegisterImportResult, RegisterRowError

    errors = [RegisterRowError(row=2, uscc="913701120000000000", column="区县代码", reason="test")]
    return [[_report_save(RegisterImportResult(rows=1, created=0, updated=0, unchanged=0, errors=errors))]]


def job_args(world, role, obj):
    """A finished background job (surveys/jobs) over the district of the role's own or the other firm, with
    its result file; or an id that names none."""
    if obj == "missing":
        return [[MISSING]]
    from django.utils import timezone

    from surveys.jobs.models import Job
    from surveys.jobs.services import job_dir

    district = firm_of(world, role, obj).enterprise.district
    job = Job.objects.create(
        username="job-starter",
        kind=Job.KIND_REPORTS_ZIP,
        scope_districts=[district],
        state=Job.DONE,
        done=1,
        total=1,
        result_name="reports.zip",
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    job_dir(job.pk).mkdir(parents=True, exist_ok=True)
    (job_dir(job.pk) / "reports.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    Job.objects.filter(pk=job.pk).update(result_path=f"jobs/{job.pk}/reports.zip")
    return [[job.pk]]


def job_kind_args(world, role, obj):
    return [["no-such-job-kind"]] if obj == "missing" else [["reports_zip"], ["answers_csv"], ["answers_xlsx"]]


@pytest.fixture(autouse=True)
def _register_reports_in_tmp(settings, tmp_path):
    """Register error reports (manage:register_errors) are written under MEDIA_ROOT: a fresh directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


def invitation_args(world, role, obj):
    if obj == "own":
        return [[world.own(role).invitation]]
    if obj == "foreign":  # a link of the other firm that has been used: like one that never existed
        return [[world.foreign(role).used_invitation]]
    return [["no-such-invitation-token"]]


def reset_args(world, role, obj):
    user = world.users[role] or world.a.owner
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    if obj == "own":
        return [[uid, default_token_generator.make_token(user)]]
    if obj == "foreign":  # another account's valid token under this account's id
        return [[uid, default_token_generator.make_token(world.foreign(role).owner)]]
    return [[urlsafe_base64_encode(force_bytes(MISSING)), default_token_generator.make_token(user)]]


def membership_action(action):
    def data(world, role, obj):
        if obj == "missing":
            return {"action": action, "membership": str(MISSING)}
        return {"action": action, "membership": str(firm_of(world, role, obj).pending.pk)}

    return data


def no_args(world, role, obj):
    return [[]]


def autosave_body(world, role, obj):
    return {"item": "P1.1", "value": "3", "note": "", "revision": 0, "page": 1}


ALL = lambda token: (token,) * len(ROLES)  # noqa: E731
#                   anon     member  owner   other   district city
FIRM_ONLY = ("login", 200, 200, 200, "manage", "manage")
FIRM_REDIRECT = ("login", "302", "302", "302", "manage", "manage")
FIRM_404 = ("login", 404, 404, 404, "manage", "manage")
# a JSON endpoint answers JSON errors: 401 without login, 403 without a firm (no redirects)
JSON_OWN = (401, 200, 200, 200, 403, 403)
JSON_404 = (401, 404, 404, 404, 403, 403)
ADMIN_OK = ("login", 403, 403, 403, 200, 200)
ADMIN_404 = ("login", 403, 403, 403, 404, 404)
# the district administrator does not see firm A; the city administrator sees both firms
ADMIN_FOREIGN = ("login", 403, 403, 403, 404, 200)
# the audit log is not filtered by district: city administrators only
CITY_ONLY = ("login", 403, 403, 403, 403, 200)
CITY_ONLY_404 = ("login", 403, 403, 403, 403, 404)
# a POST that ends in a redirect for administrators (a job started, cancelled or retried)
ADMIN_POST = ("login", 403, 403, 403, "302", "302")
ADMIN_POST_FOREIGN = ("login", 403, 403, 403, 404, "302")

OBJECT_PAGE = {"own": FIRM_ONLY, "foreign": FIRM_404, "missing": FIRM_404}

MATRIX: dict[str, list[Probe]] = {
    # --- project-level -------------------------------------------------------------------------------
    "healthz": [Probe("GET", no_args, {"-": ALL(200)})],
    # logged-in users are sent where they start: members to their firm, administrators to the dashboard
    "login": [Probe("GET", no_args, {"-": ("200", "302", "302", "302", "manage", "manage")})],
    "logout": [Probe("POST", no_args, {"-": ALL("home")})],
    "password_reset": [Probe("GET", no_args, {"-": ALL(200)})],
    "password_reset_done": [Probe("GET", no_args, {"-": ALL(200)})],
    "password_reset_confirm": [
        # a valid link redirects to its set-password form; a wrong or unknown one shows "invalid link"
        Probe("GET", reset_args, {"own": ALL("302"), "foreign": ALL(200), "missing": ALL(200)})
    ],
    "password_reset_complete": [Probe("GET", no_args, {"-": ALL(200)})],
    # --- the firm's side -----------------------------------------------------------------------------
    "surveys:home": [Probe("GET", no_args, {"-": (200, "302", "302", "302", "manage", "manage")})],
    "surveys:signup": [Probe("GET", no_args, {"-": (200, "home", "home", "home", "home", "home")})],
    "surveys:invitation": [
        Probe("GET", invitation_args, {"own": ALL(200), "foreign": ALL(404), "missing": ALL(404)}, reveals_own=True)
    ],
    "surveys:firm": [Probe("GET", no_args, {"-": FIRM_ONLY})],
    "surveys:profile": [
        Probe("GET", no_args, {"-": FIRM_ONLY}),
        # only the owner may change the firm's details (an empty form: 200 with errors); members are sent back
        Probe("POST", no_args, {"-": ("login", "302", 200, "302", "manage", "manage")}, lambda *a: {}),
    ],
    "surveys:profile_uscc": [
        # only the owner corrects the firm's code (an empty form: 200 with errors); members are sent to the
        # profile, which says who can
        Probe("GET", no_args, {"-": ("login", "302", 200, "302", "manage", "manage")}),
        Probe("POST", no_args, {"-": ("login", "302", 200, "302", "manage", "manage")}, lambda *a: {}),
    ],
    "surveys:members": [
        Probe("GET", no_args, {"-": FIRM_ONLY}),
        # only the owner may invite: the others are sent back with a message
        Probe(
            "POST", no_args, {"-": ("login", "302", 200, "302", "manage", "manage")}, lambda *a: {"action": "invite"}
        ),
        *(
            Probe(
                "POST",
                no_args,
                {"own": FIRM_REDIRECT, "foreign": FIRM_404, "missing": FIRM_404},
                membership_action(action),
                label=action,
            )
            for action in ("approve", "remove")
        ),
    ],
    "surveys:round_start": [Probe("POST", no_args, {"-": FIRM_REDIRECT}, lambda *a: {"label": ""})],
    "surveys:assessment": [Probe("GET", draft(), {"own": FIRM_REDIRECT, "foreign": FIRM_404, "missing": FIRM_404})],
    "surveys:page": [
        Probe("GET", draft(1), OBJECT_PAGE),
        Probe("POST", draft(1), {"own": FIRM_REDIRECT, "foreign": FIRM_404, "missing": FIRM_404}, lambda *a: {}),
    ],
    "surveys:autosave": [
        Probe("JSON", draft(), {"own": JSON_OWN, "foreign": JSON_404, "missing": JSON_404}, autosave_body)
    ],
    "surveys:review": [
        Probe("GET", draft(), OBJECT_PAGE),
        Probe("POST", draft(), OBJECT_PAGE, lambda *a: {}),  # no pledge: the form again
    ],
    "surveys:results": [Probe("GET", submitted(), OBJECT_PAGE)],
    "surveys:report": [Probe("GET", submitted(draft_is_missing=True), OBJECT_PAGE)],
    # --- the administrators' side (/manage/) ---------------------------------------------------------
    "manage:dashboard": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:breakdowns": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:weaknesses": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:trend": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:chart": [Probe("GET", chart_names, {"own": ADMIN_OK, "missing": ADMIN_404})],
    "manage:firms": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:firm": [
        Probe("GET", enterprise_for_administrator, {"own": ADMIN_OK, "foreign": ADMIN_FOREIGN, "missing": ADMIN_404})
    ],
    # correcting a firm's code: city-wide administrators only (403 before any lookup), any firm of the city
    "manage:firm_uscc": [
        Probe(
            method,
            enterprise_for_administrator,
            {"own": CITY_ONLY, "foreign": ADMIN_FOREIGN, "missing": ADMIN_404},
            (lambda *a: {}) if method == "POST" else None,
            label=method,
        )
        for method in ("GET", "POST")
    ],
    "manage:round": [
        Probe("GET", assessment_for_administrator, {"own": ADMIN_OK, "foreign": ADMIN_FOREIGN, "missing": ADMIN_404})
    ],
    "manage:round_report": [
        Probe("GET", assessment_for_administrator, {"own": ADMIN_OK, "foreign": ADMIN_FOREIGN, "missing": ADMIN_404})
    ],
    "manage:export": [Probe("GET", export_args, {"own": ADMIN_OK, "missing": ADMIN_404})],
    "manage:city_report": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:audit": [Probe("GET", no_args, {"-": CITY_ONLY})],
    "manage:audit_export": [Probe("GET", no_args, {"-": CITY_ONLY})],
    # coverage and the register firms not yet assessed: every administrator, in scope (public register data)
    "manage:coverage": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:unassessed": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "manage:unassessed_export": [Probe("GET", unassessed_export_args, {"own": ADMIN_OK, "missing": ADMIN_404})],
    # the business register is imported by the city (an empty form: 200 with errors); its error reports too
    "manage:register": [
        Probe(method, no_args, {"-": CITY_ONLY}, (lambda *a: {}) if method == "POST" else None, label=method)
        for method in ("GET", "POST")
    ],
    "manage:register_errors": [Probe("GET", register_report_args, {"own": CITY_ONLY, "missing": CITY_ONLY_404})],
    # background jobs (surveys/jobs): seen, followed and downloaded within the administrator's scope only; a job
    # of another district answers like a missing one. Started by POST from the export area (the queue is
    # kombu's in-memory transport in tests) or, for the register, by city administrators (an empty form: back
    # to the register page).
    "jobs:list": [Probe("GET", no_args, {"-": ADMIN_OK})],
    "jobs:start": [Probe("POST", job_kind_args, {"own": ADMIN_POST, "missing": ADMIN_404}, lambda *a: {"query": ""})],
    "jobs:register": [Probe("POST", no_args, {"-": ("login", 403, 403, 403, 403, "302")}, lambda *a: {})],
    # re-scoring a version's rounds changes every firm's result: city administrators only (an empty form: back
    # to the job list)
    "jobs:rescore": [Probe("POST", no_args, {"-": ("login", 403, 403, 403, 403, "302")}, lambda *a: {})],
    **{
        name: [Probe("GET", job_args, {"own": ADMIN_OK, "foreign": ADMIN_FOREIGN, "missing": ADMIN_404})]
        for name in ("jobs:detail", "jobs:progress", "jobs:download")
    },
    **{
        name: [
            Probe(
                "POST",
                job_args,
                {"own": ADMIN_POST, "foreign": ADMIN_POST_FOREIGN, "missing": ADMIN_404},
                lambda *a: {},
            )
        ]
        for name in ("jobs:cancel", "jobs:retry")
    },
}


# --- running requests -------------------------------------------------------------------------------


def role_clients(world: World) -> dict[str, str | None]:
    """role -> session key (None for anonymous); one logged-in session per role."""
    keys = {}
    for role in ROLES:
        user = world.users[role]
        if user is None:
            keys[role] = None
            continue
        client = pooled_client("login")
        client.force_login(user)
        keys[role] = client.session.session_key
    return keys


def request(method: str, url: str, session_key: str | None, data=None, **client_kwargs):
    """One request from a fresh client holding the role's session; everything it writes is rolled back."""
    client = pooled_client("matrix", raise_request_exception=False, **client_kwargs)
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif method == "JSON":
            response = client.post(url, data or {}, content_type="application/json")
        else:
            response = client.post(url, data or {})
        text = response_text(response) if response.status_code < 500 else ""
        transaction.set_rollback(True)
    return response, text


def outcome(response) -> str:
    status = response.status_code
    if status in (301, 302):
        location = response["Location"]
        if location.startswith(reverse("login")):
            return "login"
        if location == reverse("surveys:home"):
            return "home"
        if location == reverse("manage:dashboard"):
            return "manage"
        return "302"
    return str(status)


_CSRF_RE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+')


def normalised(response, text: str, url: str) -> str:
    body = _CSRF_RE.sub(r"\1-", text)
    location = response.get("Location", "")
    for variant in (url, quote(url), quote(url, safe="")):
        body = body.replace(variant, "<path>")
        location = location.replace(variant, "<path>")
    return f"{response.status_code} {location} {body}"


def leaked_firms(world, role: str, probe, obj: str, text: str) -> list[str]:
    """What a response shows of the firms the role is not entitled to (it must show nothing)."""
    allowed = set(world.entitled(role))
    if probe.reveals_own and obj == "own":
        allowed.add(world.own(role).key)
    flat = squeeze(text)
    return [
        f"shows firm {key}'s {marker!r}"
        for key in sorted({"A", "B"} - allowed)
        for marker in world.firm(key).markers
        if squeeze(marker) in flat
    ]


def should_look_missing(probe, role_index: int) -> bool:
    """The table expects a foreign object to answer like a missing one for this role."""
    return "foreign" in probe.expect and probe.expect["foreign"][role_index] == probe.expect["missing"][role_index]


# --- the tests --------------------------------------------------------------------------------------


def test_every_url_has_an_entry():
    """A URL added without an entry in MATRIX (or a documented rule) fails here."""
    missing, unnamed = [], []
    for leaf in url_leaves():
        if is_admin(leaf) or is_static(leaf):
            continue
        if leaf.name is None:
            unnamed.append(leaf.route)
        elif leaf.name not in MATRIX and leaf.name not in SKIPPED:
            missing.append(f"{leaf.name} ({leaf.route})")
    assert not unnamed, f"unnamed URL patterns cannot be in the permission matrix; name them: {unnamed}"
    assert not missing, f"URLs without an entry in tests/security/test_permission_matrix.py MATRIX: {missing}"
    stale = set(MATRIX) - {leaf.name for leaf in url_leaves()}
    assert not stale, f"MATRIX entries for URLs that no longer exist: {sorted(stale)}"
    for probes in MATRIX.values():
        for probe in probes:
            assert all(len(row) == len(ROLES) for row in probe.expect.values())
            assert set(probe.expect) <= {"-", *OBJ}


def test_permission_matrix(world):
    sessions = role_clients(world)
    failures, leaks = [], []
    requests = cells = 0
    seen_own_marker = 0
    for name, probes in MATRIX.items():
        for probe, role_index in itertools.product(probes, range(len(ROLES))):
            role = ROLES[role_index]
            bodies = {}
            for obj, row in probe.expect.items():
                expected = str(row[role_index])
                cells += 1
                kind = "own" if obj == "-" else obj
                for args in probe.args(world, role, kind):
                    url = reverse(name, args=args)
                    data = probe.data(world, role, kind) if probe.data else None
                    response, text = request(probe.method, url, sessions[role], data)
                    requests += 1
                    got = outcome(response)
                    where = f"{probe.method} {name}{' ' + probe.label if probe.label else ''} {url} as {role} ({obj})"
                    if got != expected:
                        exc = getattr(response, "exc_info", None)
                        failures.append(f"{where}: expected {expected}, got {got}{' ' + repr(exc[1]) if exc else ''}")
                    bodies.setdefault(obj, normalised(response, text, url))
                    leaks += [f"{where}: {leak}" for leak in leaked_firms(world, role, probe, obj, text)]
                    if response.status_code == 200 and world.own(role).key in world.entitled(role):
                        seen_own_marker += squeeze(world.own(role).enterprise.name) in squeeze(text)
            # A foreign object answers exactly like a missing one (where the table says they should).
            if should_look_missing(probe, role_index) and bodies.get("foreign") != bodies.get("missing"):
                failures.append(f"{name} as {role}: a foreign object does not answer exactly like a missing one")
    print(
        f"\nfigure: permission matrix: {len(MATRIX)} URL names, {len(ROLES)} roles, {cells} cells, "
        f"{requests} requests: {len(failures)} mismatches, {len(leaks)} leaks "
        f"(own firm's name shown in {seen_own_marker} allowed responses)"
    )
    for role in ROLES:
        print(f"  role {role}: {ROLE_HELP[role]}")
    assert not failures, "\n".join(failures)
    assert not leaks, "\n".join(leaks)


def _sample_paths(leaf: Leaf) -> list[str]:
    """A concrete path for an admin URL: reverse() with sample arguments, or the route filled in."""
    from django.urls.resolvers import RegexPattern, RoutePattern

    pattern = leaf.pattern.pattern
    if isinstance(pattern, RoutePattern):
        names = list(pattern.converters)
    elif isinstance(pattern, RegexPattern):
        names = list(pattern.regex.groupindex)
    else:  # pragma: no cover - LocalePrefixPattern has no leaves
        names = []
    if leaf.name:
        for values in itertools.product(["1", "surveys", "x"], repeat=len(names)):
            try:
                return [reverse(leaf.name, kwargs=dict(zip(names, values, strict=True)))]
            except Exception:  # noqa: BLE001 - try the next sample
                continue
    route = re.sub(r"<[^>]+>", "1", leaf.prefix)
    if isinstance(pattern, RegexPattern):
        tail = re.sub(r"\(\?P<\w+>[^)]*\)", "x", str(pattern).lstrip("^").rstrip("$"))
    else:
        tail = re.sub(r"<[^>]+>", "1", str(pattern))
    return ["/" + route + tail]


def test_django_admin_rule(world):
    """Every /admin/ URL: anonymous and non-staff roles are sent to the admin login; its login answers 200."""
    sessions = role_clients(world)
    admin_login = reverse("admin:login")
    leaves = [leaf for leaf in url_leaves() if is_admin(leaf)]
    assert len(leaves) > 20
    failures, requests = [], 0
    for leaf in leaves:
        for path in _sample_paths(leaf):
            resolve(path)  # the sample path reaches a view
            for role in ROLES:
                assert not (world.users[role] and world.users[role].is_staff)
                response, _text = request("GET", path, sessions[role])
                requests += 1
                if leaf.name == "admin:login":
                    ok = response.status_code == 200
                elif leaf.name == "admin:logout":
                    ok = response.status_code == 302 and response["Location"] == reverse("admin:index")
                else:
                    ok = response.status_code == 302 and response["Location"].startswith(admin_login + "?next=")
                if not ok:
                    failures.append(
                        f"{path} ({leaf.name}) as {role}: {response.status_code} {response.get('Location')}"
                    )
    print(f"\nfigure: Django admin rule: {len(leaves)} admin URLs × {len(ROLES)} roles = {requests} requests, "
          f"{len(failures)} reached a page other than the admin login")  # fmt: skip
    assert not failures, "\n".join(failures)


def _any_path(leaf: Leaf, world: World) -> str:
    if is_admin(leaf) or leaf.name is None:
        return _sample_paths(leaf)[0]
    if leaf.name in MATRIX:
        probe = MATRIX[leaf.name][0]
        kind = "own" if "own" in probe.expect or "-" in probe.expect else "missing"
        return reverse(leaf.name, args=probe.args(world, "owner", kind)[0])
    return reverse(leaf.name)


def test_csrf_enforced_on_every_post(world):
    """With CSRF checks on, a POST to any URL of the project without a token, or with a wrong one, is 403.

    State-changing views are the POST-accepting ones; since CsrfViewMiddleware checks before the view
    runs, every URL is tried (GET-only views would answer 405 if the check were missing). No view is
    csrf_exempt.
    """
    sessions = role_clients(world)
    exempt = [leaf.route for leaf in url_leaves() if getattr(leaf.callback, "csrf_exempt", False)]
    assert not exempt, f"csrf_exempt views: {exempt}"
    failures, requests = [], 0
    leaves = [leaf for leaf in url_leaves() if not is_static(leaf)]
    for leaf in leaves:
        path = _any_path(leaf, world)
        for role in ("anon", "owner"):
            for token in (None, "wrong"):
                client = pooled_client("csrf", enforce_csrf_checks=True, raise_request_exception=False)
                if sessions[role]:
                    client.cookies[settings.SESSION_COOKIE_NAME] = sessions[role]
                data = {"pledge": "on", "action": "invite", "label": "x"}
                if token:
                    client.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32
                    data["csrfmiddlewaretoken"] = "b" * 32
                with transaction.atomic():
                    response = client.post(path, data)
                    transaction.set_rollback(True)
                requests += 1
                if response.status_code != 403:
                    failures.append(f"POST {path} as {role} with {token or 'no'} token: {response.status_code}")
    print(f"\nfigure: CSRF: {requests} token-less or wrong-token POSTs to {len(leaves)} URLs, "
          f"{requests - len(failures)} answered 403, 0 csrf_exempt views")  # fmt: skip
    assert not failures, "\n".join(failures)
