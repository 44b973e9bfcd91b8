"""Shared builders for the security tests: two firms with every kind of object, and the administrators.

The builders are plain functions over the database (used by the permission matrix, the XSS corpus and
the fuzzers); the ``world`` fixture builds one world inside the test's transaction.

Firm A (历城区) and firm B (历下区) each have an owner, an active member, a pending join request, a
submitted round, an open draft, a valid invitation and a used one. The district administrator answers
for 历下区 (B's district, not A's); the city administrator for the whole city. Each firm carries marker
strings (name, USCC, contact phone) that must never appear in a response to someone not entitled to it.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

from surveys import services
from surveys.models import Assessment, Enterprise, Item, Membership, Questionnaire
from surveys.services import AnswerChange
from surveys.uscc import with_check_character
from tests.conftest import load_seed as _load_seed

SEED_PATH = "seeds/questionnaire-2026.1.yaml"
PASSWORD = "correct-horse-battery"
DISTRICT_A = "370112"  # 历城区
DISTRICT_B = "370102"  # 历下区

ROLES = ("anon", "member", "owner", "other", "district", "city")
ROLE_HELP = {
    "anon": "anonymous",
    "member": "member of firm A",
    "owner": "owner of firm A",
    "other": "member of another firm (B)",
    "district": "district administrator of another district (历下区, firm B's; firm A is in 历城区)",
    "city": "city administrator",
}


def load_seed() -> Questionnaire:
    return _load_seed()  # the seed as questionnaire_upsert writes it, without its thousand queries each time


def item_codes(questionnaire: Questionnaire) -> list[str]:
    return list(Item.objects.filter(questionnaire=questionnaire).order_by("position").values_list("code", flat=True))


_emails = itertools.count(1)


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"user{next(_emails)}@example.com", password=PASSWORD, **extra
    )


def answer_all(assessment: Assessment, user, *, value=2, note: str = "") -> None:
    codes = item_codes(assessment.questionnaire)
    outcome = services.answers_save(
        assessment=assessment, user=user, changes=[AnswerChange(code, value, note, 0) for code in codes]
    )
    assert outcome.ok


@dataclass
class Firm:
    key: str
    enterprise: Enterprise
    owner: object
    member: object
    pending: Membership
    submitted: Assessment
    draft: Assessment
    invitation: str  # a valid one-time token
    used_invitation: str  # a token already used by someone else

    @property
    def markers(self) -> tuple[str, ...]:
        return (self.enterprise.name, self.enterprise.uscc, self.enterprise.contact_phone)


def make_firm(key: str, *, district: str, serial: int, name: str | None = None, contact_name: str = "联系人") -> Firm:
    owner = make_user(f"owner-{key}")
    enterprise = services.enterprise_register(
        user=owner,
        enterprise_data={
            "name": name or f"济南标记{key}精密机械有限公司 MARKER-{key}-7Q3",
            "uscc": with_check_character(f"913701{serial:011d}"[:17]),
            "district": district,
            "industry": "C34",
            "size_class": "medium",
            "leading_chain": "EQUIP",
            "contact_name": contact_name,
            "contact_phone": f"1390531{serial:04d}",
        },
    )
    member = make_user(f"member-{key}")
    Membership.objects.create(user=member, enterprise=enterprise, role=Membership.ROLE_MEMBER)
    pending = services.membership_request(user=make_user(f"pending-{key}"), enterprise=enterprise)
    submitted = services.assessment_start(enterprise=enterprise, user=owner, label="2026 T0")
    answer_all(submitted, owner, note=f"备注 {key}")
    services.assessment_submit(assessment=submitted, user=owner, pledge=True)
    draft = services.assessment_start(enterprise=enterprise, user=owner, label="2026 T1")
    invitation = services.invitation_create(owner=owner, enterprise=enterprise)
    used = services.invitation_create(owner=owner, enterprise=enterprise)
    services.invitation_accept(token=used, user=make_user(f"invited-{key}"))
    return Firm(key, enterprise, owner, member, pending, submitted, draft, invitation, used)


@dataclass
class World:
    questionnaire: Questionnaire
    a: Firm
    b: Firm
    district_admin: object
    city_admin: object
    users: dict = field(default_factory=dict)  # role -> user (anon: None)

    def own(self, role: str) -> Firm:
        """The firm whose objects count as the role's own (anonymous: A, the city: A)."""
        return self.b if role in ("other", "district") else self.a

    def foreign(self, role: str) -> Firm:
        return self.a if self.own(role) is self.b else self.b

    def entitled(self, role: str) -> set[str]:
        """Firms whose identifying data the role may see anywhere."""
        return {"anon": set(), "member": {"A"}, "owner": {"A"}, "other": {"B"}, "district": {"B"}}.get(role, {"A", "B"})

    def firm(self, key: str) -> Firm:
        return self.a if key == "A" else self.b


def build_world() -> World:
    questionnaire = load_seed()
    a = make_firm("A", district=DISTRICT_A, serial=1001)
    b = make_firm("B", district=DISTRICT_B, serial=2002)
    district_admin = make_user("district-admin")
    services.administrator_grant(user=district_admin, role="district", districts=[DISTRICT_B])
    city_admin = make_user("city-admin")
    services.administrator_grant(user=city_admin, role="city")
    world = World(questionnaire, a, b, district_admin, city_admin)
    world.users = {
        "anon": None,
        "member": a.member,
        "owner": a.owner,
        "other": b.member,
        "district": district_admin,
        "city": city_admin,
    }
    return world


@pytest.fixture
def world(db, settings) -> World:
    return build_world()


@pytest.fixture
def quiet_logs():
    """404s and audit lines are expected by the hundred here; keep them out of the -s output."""
    import logging

    loggers = [logging.getLogger(name) for name in ("django.request", "django.security.csrf", "jinan.audit", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


# --- clients ---------------------------------------------------------------------------------------

_POOL: dict[tuple, object] = {}


def pooled_client(name: str = "", **kwargs):
    """A test Client without cookies, reused: building a Client's handler loads the middleware, and
    WhiteNoise's scans every static file (about 0.1 s), which would dominate hundreds of requests."""
    from django.test import Client

    key = (name, tuple(sorted(kwargs.items())))
    client = _POOL.get(key)
    if client is None:
        client = _POOL[key] = Client(**kwargs)
    client.cookies.clear()
    return client


# --- reading responses ------------------------------------------------------------------------------


def response_text(response) -> str:
    """What a person could read in the response: HTML/CSV/SVG/JSON as text, PDFs and XLSX extracted."""
    data = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        return pdf_text(data)
    if "spreadsheetml" in kind:
        return xlsx_text(data)
    return data.decode("utf-8", "replace")


def squeeze(text: str) -> str:
    """Text without whitespace: PDF extraction breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes, pages: int | None = None) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in list(reader.pages)[:pages])


def xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = []
    for sheet in book.worksheets:
        cells.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            cells.extend("" if value is None else str(value) for value in row)
    book.close()
    return "\n".join(cells)


class DocumentScan(HTMLParser):
    """Everything in an HTML document that could run script, and its readable text and attribute values."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset", "background"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.scripts: list[tuple[str, str]] = []  # (src, type) of every <script>, "" for inline
        self.inline_scripts: list[str] = []
        self.handlers: list[tuple[str, str, str]] = []  # (tag, attribute, value) of on* attributes
        self.script_urls: list[tuple[str, str, str]] = []  # javascript:/vbscript:/data:text/html URLs
        self.texts: list[str] = []
        self.values: list[str] = []
        self._in_script = False

    @staticmethod
    def dangerous_url(value: str, tag: str = "") -> bool:
        cleaned = re.sub(r"[\x00-\x20\u200b-\u200f\ufeff]+", "", value).lower()
        if cleaned.startswith(("javascript:", "vbscript:", "data:text/html", "data:application/")):
            return True
        # An SVG as an <img> runs no script (our charts are inline data: images); elsewhere it could.
        return cleaned.startswith("data:image/svg") and tag != "img"

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attributes = dict(attrs)
        for name, value in attrs:
            value = value or ""
            self.values.append(value)
            if name.startswith("on"):
                self.handlers.append((tag, name, value))
            if name in self.URL_ATTRIBUTES and self.dangerous_url(value, tag):
                self.script_urls.append((tag, name, value))
            if name == "srcdoc" or (tag == "meta" and name == "http-equiv" and value.lower() == "refresh"):
                self.script_urls.append((tag, name, value))
        if tag == "script":
            self.scripts.append((attributes.get("src") or "", attributes.get("type") or ""))
            self._in_script = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            if data.strip():
                self.inline_scripts.append(data)
        else:
            self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def scan_html(content: str) -> DocumentScan:
    scan = DocumentScan()
    scan.feed(content)
    scan.close()
    return scan
