"""Stored and reflected XSS (issue 6 item 5, plan S5): a payload corpus through every free-text field.

Each payload becomes one firm, entered through the real forms: its name and contact person (sign-up),
the owner's and two colleagues' usernames (sign-up, join request, invitation), the round label (round
start) and the notes on the first page's answers (the questionnaire form, and a colleague's note that
comes back in a conflict message). Every page that shows them is rendered: the firm's pages, the
questionnaire, the conflict page, review, results, members, invitation, the messages after approving,
joining and a refused label, the login page with the payload as ``next``, /manage/ (list with the payload
as search, firm and round detail, the audit log naming the firms), Django's admin (changelists with the
payload as search, change pages) as superuser; then the PDFs and the CSV/XLSX exports.

An HTML page passes when it contains nothing that runs script that the same page rendered for a benign
firm (the baseline) does not also contain: no extra <script> element, no on* attribute, no
javascript:/vbscript:/data:text/html URL, no srcdoc/meta refresh, no element type the baseline lacks,
and the stored value appears as text (so the check is not vacuous). PDFs show the payload literally and
contain no action, link or script; spreadsheet cells hold it as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from surveys import services
from surveys.models import Answer, Assessment, Enterprise, Item
from surveys.text import clean_user_text
from surveys.uscc import with_check_characters

from .conftest import item_codes, load_seed, make_user, pdf_text, pooled_client, scan_html, squeeze, xlsx_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quiet_logs")]

ROOT = Path(__file__).resolve().parents[2]

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><svg/onload=alert(1)>',
    "javascript:alert(1)",
    "' onmouseover='alert(1)",
    "<img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "{{7*7}}{% debug %}${7*7}",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">点我</a>',
    "<body onload=alert(1)>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<scr<script>ipt>alert(1)</script>",
    '" onfocus="alert(1)" autofocus="',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script>",
    "<details open ontoggle=alert(1)>",
    '<object data="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<!--<script>alert(1)</script>-->",
    "]]><script>alert(1)</script><![CDATA[",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "＜script＞alert(1)＜/script＞",  # fullwidth brackets
    "<scr\u200bipt>alert(1)</scr\u200bipt>",  # zero-width space inside the tag name
    "\u202e<script>alert(1)</script>",  # right-to-left override
    "&lt;script&gt;alert(1)&lt;/script&gt;",  # already escaped: must not be unescaped once
    "<a href=&#106;avascript:alert(1)>x</a>",
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "`${alert(1)}`<x onclick=alert(1)>",
]
BASELINE = "济南基准测试制造有限公司"
# Reflected, not stored: Django drops a `next` that is not a same-host URL, so it may be absent.
REFLECTED_NEXT = "login with the payload as next (reflected)"

# Forbidden in templates and in code: everything that turns autoescaping off for a value.
GREP_GATE = [
    re.compile(r"\|\s*safe(seq)?\b"),
    re.compile(r"\bmark_safe\b"),
    re.compile(r"{%\s*autoescape\s+off"),
    re.compile(r"\bSafeString\b|\bSafeData\b"),
    re.compile(r"is_safe\s*=\s*True"),
]
# path -> why the hit is harmless
GREP_ALLOWED: dict[str, str] = {
    # The results page's action and recommendation cards and the questionnaire page's inputs, written as text
    # for speed: every value goes through html.escape before it is joined, and only the joined HTML is marked
    # safe (test_written_html_escapes_every_value below).
    "surveys/templatetags/plan_tags.py": "escapes every value with html.escape",
    "surveys/templatetags/questionnaire_form.py": "escapes every value with html.escape",
}


def test_grep_gate_no_autoescape_bypass():
    files = sorted((ROOT / "surveys" / "templates").rglob("*.html")) + sorted(
        path for path in (ROOT / "surveys").rglob("*.py") if "migrations" not in path.parts
    )
    hits = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(rule.search(line) for rule in GREP_GATE):
                relative = str(path.relative_to(ROOT))
                if relative not in GREP_ALLOWED:
                    hits.append(f"{relative}:{number}: {line.strip()}")
    print(f"\nfigure: grep gate: {len(files)} templates and modules, {len(hits)} autoescape bypasses")
    assert not hits, "\n".join(hits)


# --- building a firm through the forms --------------------------------------------------------------


def fit(text: str, length: int) -> str:
    return text[:length]


def signup(client: Client, *, username: str, name: str, contact: str, serial: int):
    data = {
        "account-username": username,
        "account-email": f"x{serial}@example.com",
        "account-password1": "Quancheng-2026!",
        "account-password2": "Quancheng-2026!",
        "mode-mode": "new",
        "mode-join_uscc": "",
        "firm-name": name,
        "firm-uscc": with_check_characters(f"913701{serial:010d}"),  # both checks pass: nothing to confirm
        "firm-district": "370112",
        "firm-zone": "",
        "firm-industry": "C34",
        "firm-size_class": "medium",
        "firm-leading_chain": "EQUIP",
        "firm-contact_name": contact,
        "firm-contact_phone": "13805310000",
    }
    response = client.post(reverse("surveys:signup"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Enterprise.objects.get(uscc=data["firm-uscc"])


def page_data(assessment, number, *, note: str, action="save"):
    data = {"action": action}
    for item in Item.objects.filter(questionnaire=assessment.questionnaire, dimension__position=number):
        answer = Answer.objects.filter(assessment=assessment, item=item).first()
        data[f"answer-{item.code}"] = "2"
        data[f"note-{item.code}"] = note
        data[f"rev-{item.code}"] = str(answer.revision if answer else 0)
    return data


def render_firm(
    text: str, serial: int, city_client: Client, *, pdfs=("firm", "manage")
) -> tuple[dict[str, tuple[str, object]], Enterprise]:
    """Enter ``text`` everywhere a firm can, render everything that shows it: {page: (kind, content)}."""
    pages: dict[str, tuple[str, object]] = {}

    def keep(key, response, *, status=200):
        assert response.status_code == status, (key, response.status_code)
        kind = response.get("Content-Type", "")
        content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
        pages[key] = (kind, content)

    owner = pooled_client("xss-owner")
    enterprise = signup(
        owner, username=fit(f"{text}#{serial}o", 150), name=fit(text, 100), contact=fit(text, 50), serial=serial
    )
    keep("firm (after sign-up, with message)", owner.get(reverse("surveys:firm")))
    keep("profile", owner.get(reverse("surveys:profile")))

    colleague = pooled_client("xss-colleague")
    response = colleague.post(
        reverse("surveys:signup"),
        {
            "account-username": fit(f"{text}#{serial}c", 150),
            "account-email": f"c{serial}@example.com",
            "account-password1": "Quancheng-2026!",
            "account-password2": "Quancheng-2026!",
            "mode-mode": "join",
            "mode-join_uscc": enterprise.uscc,
        },
    )
    assert response.status_code == 302
    pending = enterprise.memberships.get(status="pending")
    keep(
        "members after approving (message)",
        owner.post(reverse("surveys:members"), {"action": "approve", "membership": pending.pk}, follow=True),
    )
    response = owner.post(reverse("surveys:members"), {"action": "invite", "email": ""})
    keep("members with an invitation link", response)
    invite_path = response.context["invite_link"].split("testserver", 1)[1]
    invitee = pooled_client("xss-invitee")
    keep("invitation", invitee.get(invite_path))
    keep(
        "firm after joining by invitation (message)",
        invitee.post(
            invite_path,
            {
                "account-username": fit(f"{text}#{serial}i", 150),
                "account-email": f"i{serial}@example.com",
                "account-password1": "Quancheng-2026!",
                "account-password2": "Quancheng-2026!",
            },
            follow=True,
        ),
    )

    label = fit(text, 32)
    response = owner.post(reverse("surveys:round_start"), {"label": label})
    assert response.status_code == 302
    assessment = Assessment.objects.get(enterprise=enterprise, status="draft")
    assert assessment.label == clean_user_text(label)  # as stored: without zero-width and bidi characters
    page_url = reverse("surveys:page", args=[assessment.pk, 1])
    stale = page_data(assessment, 1, note=fit(text, 1000))
    assert owner.post(page_url, stale).status_code == 302
    keep("questionnaire page with notes", owner.get(page_url))
    # A colleague changes an answer and its note; the owner's stale form gets the conflict page.
    colleague_user = pending.user
    first = Item.objects.filter(questionnaire=assessment.questionnaire, dimension__position=1).first()
    stored = Answer.objects.get(assessment=assessment, item=first)
    services.answers_save(
        assessment=assessment,
        user=colleague_user,
        changes=[services.AnswerChange(first.code, 1, fit("同事：" + text, 1000), stored.revision)],
    )
    stale = {**stale, f"answer-{first.code}": "3"}
    keep("questionnaire conflict page", owner.post(page_url, stale), status=409)
    keep("review", owner.get(reverse("surveys:review", args=[assessment.pk])))
    codes = set(item_codes(assessment.questionnaire)) - set(
        Answer.objects.filter(assessment=assessment).values_list("item__code", flat=True)
    )
    services.answers_save(
        assessment=assessment, user=enterprise.memberships.get(role="owner").user,
        changes=[services.AnswerChange(code, 2, "", 0) for code in sorted(codes)],
    )  # fmt: skip
    assert owner.post(reverse("surveys:review", args=[assessment.pk]), {"pledge": "on"}).status_code == 302
    keep("results", owner.get(reverse("surveys:results", args=[assessment.pk])))
    if "firm" in pdfs:
        keep("PDF report", owner.get(reverse("surveys:report", args=[assessment.pk])))
    keep(
        "firm after a refused duplicate label (message)",
        owner.post(reverse("surveys:round_start"), {"label": label}, follow=True),
    )
    keep(REFLECTED_NEXT, pooled_client("xss-anonymous").get(reverse("login"), {"next": text}))

    # The administrators' side.
    keep("manage: firm list searched for the payload", city_client.get(reverse("manage:firms"), {"q": text[:100]}))
    keep("manage: firm", city_client.get(reverse("manage:firm", args=[enterprise.pk])))
    if "manage" in pdfs:
        url = reverse("manage:round_report", args=[enterprise.pk, assessment.pk])
        keep("manage: round PDF (contact included)", city_client.get(url))
    return pages, enterprise


def features(content: str):
    scan = scan_html(content)
    return scan, {
        "scripts": Counter(scan.scripts),
        "inline": Counter(scan.inline_scripts),
        "handlers": Counter(scan.handlers),
        "urls": Counter(scan.script_urls),
        "tags": scan.tags,
    }


def html_problems(content: str, baseline: dict, expected: list[str], *, may_drop: bool = False) -> list[str]:
    scan, found = features(content)
    problems = []
    for key in ("scripts", "inline", "handlers", "urls"):
        extra = found[key] - baseline[key]
        if extra:
            problems.append(f"{key} not in the template: {sorted(extra)[:3]}")
    new_tags = found["tags"] - baseline["tags"]
    if new_tags:
        problems.append(f"elements not in the template: {sorted(new_tags)}")
    readable = scan.text + "\n".join(scan.values)
    if not may_drop and not any(value and value in readable for value in expected):
        problems.append("the payload is not shown at all (vacuous check)")
    return problems


def visible(text: str) -> str:
    """For PDF text: without whitespace and format characters (zero-width, bidi), which no glyph shows."""
    return "".join(ch for ch in squeeze(text) if unicodedata.category(ch) != "Cf")


def pdf_problems(data: bytes, expected: list[str]) -> list[str]:
    problems = []
    for marker in (b"/JavaScript", b"/JS ", b"/Launch", b"/URI", b"/SubmitForm", b"/Annot"):
        if marker in data:
            problems.append(f"PDF contains {marker.decode()}")
    text = visible(pdf_text(data, pages=COVER_PAGES))
    if not any(visible(value) and visible(value) in text for value in expected):
        problems.append("the payload does not appear literally in the PDF text")
    return problems


COVER_PAGES = 2  # the firm's name, contact and round label are on the first pages; extraction is slow


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def table_problems(cells: list[str], values: list[str], where: str) -> list[str]:
    """Each value is in some cell, and no cell holding one would be evaluated as a formula."""
    problems = []
    for value in values:
        holding = [cell for cell in cells if value in cell]
        if not holding:
            problems.append(f"{where}: {value[:40]!r} missing")
        problems += [
            f"{where}: cell {cell[:40]!r} would be a formula" for cell in holding if cell.startswith(FORMULA_START)
        ]
    return problems


AGGREGATES = {
    "manage: dashboard": ("manage:dashboard", [], {}),
    "manage: breakdowns": ("manage:breakdowns", [], {"by": "district"}),
    "manage: weaknesses": ("manage:weaknesses", [], {}),
    "manage: trend (round labels)": ("manage:trend", [], {}),
    "manage: trend chart (SVG)": ("manage:chart", ["trend"], {}),
    "manage: breakdown chart (SVG)": ("manage:chart", ["breakdown"], {"by": "district"}),
}


def executable_problems(content: str, baseline: dict) -> list[str]:
    """Only what could run (aggregate pages change shape with the data, so their element types may too)."""
    _scan, found = features(content)
    return [f"{key} not in the template: {sorted(found[key] - baseline[key])[:3]}"
            for key in ("scripts", "inline", "handlers", "urls") if found[key] - baseline[key]]  # fmt: skip


def test_stored_xss_payloads_never_execute(settings):
    # Groups of one firm are shown: each payload's round label then reaches the trend table and filters.
    settings.JINAN_MIN_GROUP_SIZE = 1
    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    load_seed()
    assert len(PAYLOADS) >= 30
    city = make_user("xss-city")
    services.administrator_grant(user=city, role="city")
    city_client = Client()
    city_client.force_login(city)
    superuser = make_user("xss-root", is_staff=True, is_superuser=True)
    root = Client()
    root.force_login(superuser)

    baseline_pages, baseline_firm = render_firm(BASELINE, 1, city_client)
    baseline = {key: features(content.decode())[1] for key, (kind, content) in baseline_pages.items() if "html" in kind}
    # Lists of all firms: their baseline holds the benign firm only, the check runs once all firms exist.
    lists = {
        "manage: firm list": (city_client, reverse("manage:firms")),
        # every firm page viewed above is an event naming its firm
        "manage: audit log": (city_client, reverse("manage:audit") + "?action=view&user=xss-city"),
        "admin: firm changelist": (root, reverse("admin:surveys_enterprise_changelist")),
        "admin: round changelist": (root, reverse("admin:surveys_assessment_changelist")),
        "admin: user changelist": (root, reverse("admin:auth_user_changelist")),
    }
    list_baselines = {key: features(c.get(url).content.decode())[1] for key, (c, url) in lists.items()}
    aggregate_baselines = {
        key: features(city_client.get(reverse(name, args=args), query).content.decode())[1]
        for key, (name, args, query) in AGGREGATES.items()
    }

    problems: list[str] = []
    rendered: Counter = Counter()  # "html" pages, "pdf"s and "export"s checked
    field_values = 0
    firms = []
    for n, payload in enumerate(PAYLOADS, start=2):
        # Each payload goes through one of the two PDF paths (same renderer; the administrators' adds contacts).
        pages, enterprise = render_firm(payload, n, city_client, pdfs=("firm",) if n % 2 else ("manage",))
        firms.append(enterprise)
        assessment = enterprise.assessments.get(status="submitted")
        stored = [enterprise.name, enterprise.contact_name, assessment.label]
        stored += [answer.note for answer in assessment.answers.exclude(note="")]
        stored += [m.user.username for m in enterprise.memberships.select_related("user")]
        field_values += len(stored)
        pages.update(_admin_pages(root, enterprise, assessment, payload))
        for key, (kind, content) in pages.items():
            where = f"payload {payload!r} on {key}"
            if "html" in kind:
                rendered["html"] += 1
                if key not in baseline:  # the admin pages: their own baseline is the benign firm's page
                    baseline[key] = _admin_baseline(root, key, baseline_firm)
                found = html_problems(
                    content.decode(), baseline[key], stored + [payload], may_drop=key == REFLECTED_NEXT
                )
                problems += [f"{where}: {p}" for p in found]
            elif kind.startswith("application/pdf"):
                rendered["pdf"] += 1
                problems += [f"{where}: {p}" for p in _firm_pdf_problems(key, content, enterprise, assessment)]

    problems += _firm_list_problems(lists, list_baselines, firms, rendered)
    labels = [a.label for a in Assessment.objects.filter(enterprise__in=firms, status="submitted")]
    problems += _aggregate_problems(city_client, aggregate_baselines, labels, rendered)
    problems += _export_problems(city_client, firms, labels, rendered)
    print(
        f"\nfigure: stored XSS: {len(PAYLOADS)} payloads in {field_values} stored field values, rendered on "
        f"{rendered['html']} HTML pages, {rendered['pdf']} PDFs and {rendered['export']} exports: "
        f"{len(problems)} executable injections or missing payloads"
    )
    assert not problems, "\n".join(problems[:60])


def _admin_pages(root: Client, enterprise: Enterprise, assessment: Assessment, payload: str) -> dict:
    """Django's admin, as superuser: change pages and changelists searched for the payload."""
    responses = {
        "admin: firm change": root.get(reverse("admin:surveys_enterprise_change", args=[enterprise.pk])),
        "admin: round change": root.get(reverse("admin:surveys_assessment_change", args=[assessment.pk])),
        "admin: firms searched": root.get(reverse("admin:surveys_enterprise_changelist"), {"q": payload}),
        "admin: rounds searched": root.get(reverse("admin:surveys_assessment_changelist"), {"q": payload[:32]}),
    }
    for key, response in responses.items():
        assert response.status_code == 200, key
    return {key: (response["Content-Type"], response.content) for key, response in responses.items()}


def _firm_pdf_problems(key: str, content: bytes, enterprise: Enterprise, assessment: Assessment) -> list[str]:
    problems = pdf_problems(content, [enterprise.name, assessment.label])
    if "contact" in key and visible(enterprise.contact_name) not in visible(pdf_text(content, COVER_PAGES)):
        problems.append("the contact person is not in the PDF")
    return problems


def _firm_list_problems(lists: dict, list_baselines: dict, firms: list[Enterprise], rendered: Counter) -> list[str]:
    """Lists of all firms: nothing executable, and every payload firm shown (else the check is vacuous)."""
    problems = []
    every = []
    for firm in firms:
        every += [firm.name, firm.contact_name] + [m.user.username for m in firm.memberships.select_related("user")]
    for key, (c, url) in lists.items():
        response = c.get(url)
        assert response.status_code == 200, key
        rendered["html"] += 1
        content = response.content.decode()
        problems += [f"{key}: {p}" for p in html_problems(content, list_baselines[key], every)]
        scan = scan_html(content)
        readable = scan.text + "\n".join(scan.values)
        shown = [f for f in firms if f.name in readable or f.memberships.first().user.username in readable]
        if len(shown) < len(firms):
            problems.append(f"{key}: shows {len(shown)} of {len(firms)} payload firms")
    return problems


def _aggregate_problems(client: Client, baselines: dict, labels: list[str], rendered: Counter) -> list[str]:
    problems = []
    for key, (name, args, query) in AGGREGATES.items():
        response = client.get(reverse(name, args=args), query)
        assert response.status_code == 200, key
        rendered["html"] += 1
        content = response.content.decode()
        problems += [f"{key}: {p}" for p in executable_problems(content, baselines[key])]
        if key.startswith("manage: trend (round labels)"):
            readable = scan_html(content).text
            missing = [label for label in labels if label not in readable]
            if missing:
                problems.append(f"{key}: {len(missing)} payload labels not shown (vacuous check)")
    return problems


def _export_problems(client: Client, firms: list[Enterprise], labels: list[str], rendered: Counter) -> list[str]:
    """Exports hold every firm at once: payloads as text, never as formulas."""
    problems = []
    names = [firm.name for firm in firms]
    contacts = [firm.contact_name for firm in firms]
    notes = list(
        Answer.objects.filter(assessment__enterprise__in=firms).exclude(note="").values_list("note", flat=True)
    )
    for dataset, values in (("firms", names + contacts + labels), ("answers", names + labels + notes)):
        for fmt in ("csv", "xlsx"):
            response = client.get(reverse("manage:export", args=[dataset, fmt]))
            assert response.status_code == 200
            data = b"".join(response.streaming_content) if response.streaming else response.content
            rendered["export"] += 1
            if fmt == "csv":
                cells = [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
            else:
                cells = xlsx_text(data).split("\n")
            problems += table_problems(cells, values, f"{dataset}.{fmt}")
    return problems


def _admin_baseline(root: Client, key: str, firm: Enterprise) -> dict:
    assessment = firm.assessments.get(status="submitted")
    url, query = {
        "admin: firm change": (reverse("admin:surveys_enterprise_change", args=[firm.pk]), {}),
        "admin: round change": (reverse("admin:surveys_assessment_change", args=[assessment.pk]), {}),
        "admin: firms searched": (reverse("admin:surveys_enterprise_changelist"), {"q": firm.name}),
        "admin: rounds searched": (reverse("admin:surveys_assessment_changelist"), {"q": assessment.label}),
    }[key]
    return features(root.get(url, query).content.decode())[1]


def test_written_html_escapes_every_value():
    """The two tags that write HTML as text (GREP_ALLOWED) escape every value they are given: a hostile text in
    each field of an action card, and in a question's code, option label, revision, note and error, comes out
    as text, never as markup."""
    from types import SimpleNamespace

    from surveys.templatetags.plan_tags import action_card, recommendation_card
    from surveys.templatetags.questionnaire_form import answer_inputs

    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    answer = SimpleNamespace(item_code=hostile, question=hostile, answer=hostile)
    programme = SimpleNamespace(name=hostile, url=hostile, level_label=hostile)
    part = SimpleNamespace(text=hostile, number=None)
    action = SimpleNamespace(
        key=hostile, kind=hostile, horizon=hostile, kind_label=hostile, title=hostile, what=hostile + "!",
        done_criterion=hostile, lead_label=hostile, horizon_label=hostile, countermeasure_code="CM1",
        countermeasure_title=hostile, programmes=[programme], why=[part], answers=[answer],
    )  # fmt: skip
    item = SimpleNamespace(code=hostile, allows_unknown=True, allows_na=True)
    option = SimpleNamespace(score=2, label=hostile)
    row = {"view": SimpleNamespace(item=item), "options": [(option, True)], "selected": "", "revision": hostile}
    row |= {"note": hostile, "error": hostile}
    rec = SimpleNamespace(priority=1, priority_label=hostile, horizon_label=hostile, text=hostile, triggers=[answer])
    for html in (action_card(action, 1), recommendation_card(rec), answer_inputs(row)):
        assert "<script" not in html and "<img" not in html and 'onerror="' not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
