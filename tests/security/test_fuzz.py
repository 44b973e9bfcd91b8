"""Fuzzing every form endpoint (issue 6 item 6, plan S6): 0 responses 500, 0 partial writes.

Hypothesis generates hostile payloads for each endpoint: wrong types, strings up to 100 KB, NUL bytes,
lone surrogates (percent-encoded as invalid UTF-8 in forms, as \\ud800 escapes in JSON), RTL and
zero-width characters, unknown and foreign ids, missing fields, duplicated keys, extra keys. Most examples
start from a valid request and break one to three fields, so that every branch is reached, successes too.

Every example runs in a savepoint that is rolled back afterwards, between two snapshots of the tables a
firm's data lives in (row counts and a hash of every row). Per endpoint the rule is:

* never a 500;
* firm B's rows never change (every fuzzed request acts as firm A, anonymously or as an administrator);
* a refused request (status >= 400, or the form shown again with errors) changes nothing at all;
* an accepted one writes all of what it should and nothing else (e.g. sign-up: user, firm and owner
  together; a questionnaire page: exactly the posted answers, as posted).

Examples per endpoint: JINAN_FUZZ_EXAMPLES (default 200; the plan asks 500 in CI and 5,000 nightly).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from surveys import scoring
from surveys.models import Answer, Assessment, DimensionResult, Enterprise, Invitation, Item, Membership
from surveys.text import clean_user_text
from surveys.uscc import normalize as uscc_normalize
from surveys.uscc import validate as uscc_validate
from surveys.uscc import with_check_characters

from ..test_views_firm import signup_data
from .conftest import PASSWORD, World, answer_all, pooled_client, response_text, squeeze

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quiet_logs")]

EXAMPLES = int(os.environ.get("JINAN_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- hostile values ---------------------------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 3,
    "\ud800",
    "x\udfffy",
    "\u202e\u200b\ufeff",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "1; DROP TABLE surveys_answer;--",
    "%00",
    "../../etc/passwd",
    "null",
    "None",
    "true",
    "NaN",
    "-Infinity",
    "-1",
    "0",
    "4",
    "5",
    "1e309",
    "9" * 30,
    "9" * 5000,
    "１２３",
    "٣",
    "²",
    "\r\n",
    "\t",
    "unknown",
    "na",
    "P1.1",
    "P9.9",
    "firm__owner__password",
    "-name",
    "__proto__",
    "{}",
    "[]",
    "on",
]
UNITS = ["x", "长", "\x00", "<a>", "9", "é", "\u202e", " "]


def huge_text():
    return st.builds(lambda unit, n: (unit * n)[:100_000], st.sampled_from(UNITS), st.integers(1, 100_000))


def hostile_text():
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.text(max_size=60),
        huge_text(),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


MISSING = object()  # the field is left out
KEEP = object()  # the field's valid value
HOSTILE = hostile_text()
# A field of a near-valid request: usually valid; else hostile, missing or duplicated. Built once:
# constructing strategies per draw costs more than the requests themselves.
FIELD = st.one_of(
    st.just(KEEP),
    st.just(KEEP),
    HOSTILE,
    st.just(MISSING),
    st.lists(st.one_of(st.just(KEEP), HOSTILE), min_size=2, max_size=3),
)
EXTRA_KEYS = ["x", "\x00", "mode-mode", "csrfmiddlewaretoken"]


@st.composite
def mutated_form(draw, valid: dict, *, extra_keys=()):
    """``valid`` with one to three fields broken, sometimes plus unknown keys: a list of (key, value) pairs."""
    keys = list(valid)
    # Mostly one to three broken fields (or none: a valid request); sometimes every field hostile.
    broken = set(keys) if draw(st.integers(0, 4)) == 0 else draw(st.sets(st.sampled_from(keys), max_size=3))
    pairs = []
    for key in keys:
        value = draw(FIELD) if key in broken else KEEP
        if value is MISSING:
            continue
        for one in value if isinstance(value, list) else [value]:
            pairs.append((key, valid[key] if one is KEEP else one))
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(st.sampled_from([*extra_keys, *EXTRA_KEYS])), draw(HOSTILE)))
    return pairs


def form_body(pairs) -> bytes:
    """application/x-www-form-urlencoded; lone surrogates become invalid UTF-8 (%ED%A0%80), as a client may send."""
    return "&".join(
        f"{quote_plus(str(k).encode('utf-8', 'surrogatepass'))}={quote_plus(str(v).encode('utf-8', 'surrogatepass'))}"
        for k, v in pairs
    ).encode("ascii")


def post_form(client: Client, url: str, pairs):
    body = form_body(pairs)
    return client.post(url, body, content_type="application/x-www-form-urlencoded"), QueryDict(body)


def json_containers(children):
    return st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        hostile_text(),
    ),
    json_containers,
    max_leaves=5,
)


# --- snapshots --------------------------------------------------------------------------------------

User = get_user_model()
MODELS = {
    "user": User,
    "enterprise": Enterprise,
    "membership": Membership,
    "invitation": Invitation,
    "assessment": Assessment,
    "answer": Answer,
    "result": DimensionResult,
}


def table_rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def digest(data) -> str:
    return hashlib.sha256(repr(data).encode("utf-8", "surrogatepass")).hexdigest()


def snapshot(world: World, *, ignore_last_login: bool = False) -> dict[str, object]:
    """Row count and a hash of every row, per table (plain SQL: this runs twice per example)."""
    shot = {}
    for name, model in MODELS.items():
        columns = [f.column for f in model._meta.concrete_fields]
        if ignore_last_login and name == "user":
            columns.remove("last_login")
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        data = table_rows(f"SELECT {quoted} FROM {model._meta.db_table} ORDER BY id")
        shot[name] = (len(data), digest(data))
    return shot


FOREIGN_SQL = {
    Enterprise: "id = %s",
    Membership: "enterprise_id = %s",
    Invitation: "enterprise_id = %s",
    Assessment: "enterprise_id = %s",
    Answer: "assessment_id IN (SELECT id FROM surveys_assessment WHERE enterprise_id = %s)",
    DimensionResult: "assessment_id IN (SELECT id FROM surveys_assessment WHERE enterprise_id = %s)",
    User: "id IN (SELECT user_id FROM surveys_membership WHERE enterprise_id = %s)",
}


def foreign_rows(world: World) -> str:
    """Everything of firm B, its people included: must never change."""
    data = []
    for model, where in FOREIGN_SQL.items():
        data.append(
            table_rows(f"SELECT * FROM {model._meta.db_table} WHERE {where} ORDER BY id", [world.b.enterprise.pk])
        )
    return digest(data)


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after[name]}


@dataclass
class Tally:
    endpoint: str
    examples: int = 0
    statuses: Counter = field(default_factory=Counter)
    accepted: int = 0
    errors: int = 0  # 500s
    partial: int = 0  # refused but wrote, or accepted but wrote the wrong thing

    def print(self):
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        print(
            f"\nfigure: fuzz {self.endpoint}: {self.examples} examples, {self.errors} responses 500, "
            f"{self.partial} partial writes ({self.accepted} accepted; statuses {codes})"
        )


def run_example(world: World, tally: Tally, send, check, *, ignore_last_login: bool = False):
    """Snapshot, send, snapshot, check, roll back. ``send`` returns (response, sent); ``check`` raises."""
    tally.examples += 1
    with transaction.atomic():
        before = snapshot(world, ignore_last_login=ignore_last_login)
        foreign = foreign_rows(world)
        response, sent = send()
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.errors += 1
            exc = getattr(response, "exc_info", None)
            transaction.set_rollback(True)
            raise AssertionError(f"{tally.endpoint}: 500 for {str(sent)[:300]!r}: {exc[1]!r}" if exc else "500")
        after = snapshot(world, ignore_last_login=ignore_last_login)
        try:
            assert foreign_rows(world) == foreign, "firm B's rows changed"
            accepted = check(response, sent, changed(before, after))
            tally.accepted += bool(accepted)
        except AssertionError as exc:
            tally.partial += 1
            raise AssertionError(f"{tally.endpoint}: {exc} for {str(sent)[:300]!r} ({response.status_code})") from exc
        finally:
            transaction.set_rollback(True)


def refused(response) -> bool:
    """A refusal: an error status, or a form shown again with its errors."""
    if response.status_code >= 400:
        return True
    return response.status_code == 200 and "invalid-feedback" in response.content.decode("utf-8", "replace")


def nothing_changed(diff: set[str]):
    assert not diff, f"refused, but {sorted(diff)} changed"


def fuzz(world: World, tally: Tally, strategy, send, check, *, examples=(), **kwargs):
    """``examples``: known edge cases, always run first (hypothesis.example), besides the generated ones."""

    def one(value):
        run_example(world, tally, lambda: send(value), check, **kwargs)

    for value in reversed(examples):
        one = example(value)(one)
    try:
        FUZZ(given(strategy)(one))()
    finally:
        tally.print()
    assert tally.errors == 0 and tally.partial == 0
    assert tally.examples >= EXAMPLES


def logged_in(user) -> Client:
    client = pooled_client(f"fuzz-{user.pk}", raise_request_exception=False)
    client.force_login(user)
    return client


def anonymous() -> Client:
    return pooled_client("fuzz-anonymous", raise_request_exception=False)


def edited(valid: dict, **changes) -> list[tuple[str, str]]:
    """A known edge case: ``valid`` with some fields replaced (None: left out)."""
    merged = {**valid, **{key.replace("__", "-"): value for key, value in changes.items()}}
    return [(key, value) for key, value in merged.items() if value is not None]


# --- accounts ---------------------------------------------------------------------------------------


def signup_valid(world: World) -> dict:
    return signup_data(
        **{
            "account-username": "fuzz-newcomer",
            "account-email": "newcomer@example.com",
            "mode-join_uscc": world.a.enterprise.uscc,
            "firm-name": "济南模糊测试机械有限公司",
            "firm-uscc": with_check_characters("91370112MA3D9E4F"),  # both checks pass: nothing to confirm
        }
    )


def test_fuzz_signup(world):
    tally = Tally("signup")
    url = reverse("surveys:signup")

    def send(pairs):
        return post_form(anonymous(), url, pairs)

    def check(response, sent, diff):
        if response.status_code != 302:
            nothing_changed(diff)
            return False
        # All or nothing: the account with either a new firm and its owner, or a pending request to join.
        user = User.objects.order_by("-pk").first()
        membership = Membership.objects.get(user=user)
        if membership.role == Membership.ROLE_OWNER:
            assert diff == {"user", "enterprise", "membership"}, diff
            assert membership.enterprise.name == clean_user_text(sent.get("firm-name"))
        else:
            assert diff == {"user", "membership"} and membership.status == Membership.STATUS_PENDING, diff
            assert membership.enterprise == world.a.enterprise
        return True

    valid = signup_valid(world)
    cases = [
        edited(valid, account__username="ｏｗｎｅｒ-A"),  # NFKC: the name of an existing account
        edited(valid, account__username="ﷺ" * 10),  # NFKC: 180 characters
        edited(valid, account__username="\u3000"),
        edited(valid, firm__name="a\x00b"),
        edited(valid, firm__contact_name="\ud800"),
        edited(valid, mode__mode="join", mode__join_uscc=world.a.enterprise.uscc.lower() + "\x00"),
        edited(valid, firm__uscc=world.b.enterprise.uscc),
        edited(valid, account__email='"<script>"@example.com'),
    ]
    strategy = mutated_form(valid, extra_keys=["firm-uscc", "account-username"])
    fuzz(world, tally, strategy, send, check, examples=cases)


def test_fuzz_login(world):
    tally = Tally("login")
    url = reverse("login")
    valid = {"username": world.a.owner.username, "password": PASSWORD, "next": "/firm/"}

    def send(pairs):
        return post_form(anonymous(), url, pairs)

    def check(response, sent, diff):
        # Only a successful login writes (the session, the audit log and axes' table are not snapshotted).
        nothing_changed(diff)
        return response.status_code == 302

    fuzz(world, tally, mutated_form(valid), send, check, ignore_last_login=True)


def test_fuzz_password_reset_request(world):
    tally = Tally("password reset request")
    url = reverse("password_reset")

    def send(pairs):
        return post_form(anonymous(), url, pairs)

    def check(response, sent, diff):
        nothing_changed(diff)  # it only sends mail
        return response.status_code == 302

    fuzz(world, tally, mutated_form({"email": world.a.owner.email}), send, check)


def test_fuzz_password_reset_confirm(world):
    tally = Tally("password reset confirm")
    user = world.a.owner
    link = reverse(
        "password_reset_confirm",
        args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)],
    )
    valid = {"new_password1": "Lixia-Springs-2026", "new_password2": "Lixia-Springs-2026"}

    def send(pairs):
        client = anonymous()
        form_url = client.get(link)["Location"]  # the token moves into the session
        return post_form(client, form_url, pairs)

    def check(response, sent, diff):
        if response.status_code == 302:
            assert diff == {"user"}
            user.refresh_from_db()
            assert user.check_password(sent.get("new_password1"))
            return True
        nothing_changed(diff)
        return False

    fuzz(world, tally, mutated_form(valid), send, check)


# --- the firm ---------------------------------------------------------------------------------------


def profile_valid(world: World) -> dict:
    e = world.a.enterprise
    return {
        "firm-name": e.name,
        "firm-district": e.district,
        "firm-zone": e.zone,
        "firm-industry": e.industry,
        "firm-size_class": e.size_class,
        "firm-leading_chain": e.leading_chain,
        "firm-contact_name": e.contact_name,
        "firm-contact_phone": e.contact_phone,
        "firm-uscc": world.b.enterprise.uscc,  # disabled: never taken from the request
    }


def test_fuzz_profile(world):
    tally = Tally("profile")
    client = logged_in(world.a.owner)
    url = reverse("surveys:profile")
    original = world.a.enterprise.uscc

    def check(response, sent, diff):
        if refused(response):
            nothing_changed(diff)
            return False
        assert response.status_code == 302
        assert diff <= {"enterprise"}, diff
        enterprise = Enterprise.objects.get(pk=world.a.enterprise.pk)
        assert enterprise.uscc == original
        assert enterprise.name == clean_user_text(sent.get("firm-name"))
        return True

    fuzz(world, tally, mutated_form(profile_valid(world)), lambda p: post_form(client, url, p), check)


def test_fuzz_uscc_correction(world):
    tally = Tally("uscc correction")
    client = logged_in(world.a.owner)
    url = reverse("surveys:profile_uscc")
    new_code = with_check_characters("91370112MA3D8E4F")
    original = world.a.enterprise.uscc

    def check(response, sent, diff):
        enterprise = Enterprise.objects.get(pk=world.a.enterprise.pk)
        if refused(response):
            nothing_changed(diff)
            assert enterprise.uscc == original
            return False
        assert response.status_code == 302
        assert diff == {"enterprise"}, diff
        # Only a valid code, as the user's input normalised, never cut; and never another firm's.
        assert enterprise.uscc == uscc_normalize(sent.get("correct-uscc")) and uscc_validate(enterprise.uscc).is_valid
        assert enterprise.uscc not in (original, world.b.enterprise.uscc)
        return True

    valid = {"correct-uscc": new_code, "correct-uscc_confirm": ""}
    cases = [
        edited(valid, correct__uscc=" ".join(new_code[i : i + 3] for i in range(0, 18, 3)).lower()),
        edited(valid, correct__uscc=new_code + "7"),
        edited(valid, correct__uscc="".join(chr(ord(c) + 0xFEE0) for c in new_code)),  # full-width
        edited(valid, correct__uscc=world.b.enterprise.uscc),
        edited(valid, correct__uscc=original),
        edited(valid, correct__uscc=with_check_characters("92370112MA3D8E4F")),
        edited(
            valid,
            correct__uscc=with_check_characters("92370112MA3D8E4F"),
            correct__uscc_confirm=with_check_characters("92370112MA3D8E4F"),
        ),
    ]
    fuzz(world, tally, mutated_form(valid), lambda p: post_form(client, url, p), check, examples=cases)


@st.composite
def members_request(draw, world: World):
    a, b = world.a, world.b
    ids = [
        a.pending.pk,
        a.member.membership.pk,
        a.owner.membership.pk,
        b.pending.pk,
        b.member.membership.pk,
        987654,
    ]
    valid = {
        "action": draw(st.sampled_from(["approve", "remove", "invite"])),
        "membership": str(draw(st.sampled_from(ids))),
        "email": "colleague@example.com",
    }
    return draw(mutated_form(valid, extra_keys=["action", "membership"]))


def test_fuzz_members(world):
    tally = Tally("members (approve/remove/invite)")
    client = logged_in(world.a.owner)
    url = reverse("surveys:members")

    def check(response, sent, diff):
        if response.status_code >= 400 or (response.status_code == 200 and not response.context.get("invite_link")):
            nothing_changed(diff)
            return False
        if response.status_code == 200:  # an invitation was created, nothing else
            assert diff == {"invitation"}, diff
            return True
        assert diff <= {"membership"}, diff
        return bool(diff)

    cases = [
        [("action", "approve"), ("membership", bad)] for bad in ["", "abc", "1.0", "9" * 5000, "9" * 19, "-1", "١"]
    ]
    cases += [[("action", "remove"), ("membership", str(world.b.member.membership.pk))]]
    fuzz(world, tally, members_request(world), lambda p: post_form(client, url, p), check, examples=cases)


def test_fuzz_round_start(world):
    tally = Tally("round start")
    world.a.draft.delete()  # so that a valid label opens a round
    client = logged_in(world.a.owner)
    url = reverse("surveys:round_start")

    def check(response, sent, diff):
        assert response.status_code == 302
        if not diff:
            return False
        assert diff == {"assessment"}, diff
        draft = Assessment.objects.get(enterprise=world.a.enterprise, status="draft")
        label = clean_user_text(sent.get("label") or "")
        assert draft.label == label or (not label and re.fullmatch(r"\d{4} T\d+", draft.label)), draft.label
        return True

    fuzz(world, tally, mutated_form({"label": "2026 T9"}), lambda p: post_form(client, url, p), check)


# --- the questionnaire ------------------------------------------------------------------------------


def page_items(world: World) -> dict[int, list[Item]]:
    grouped: dict[int, list[Item]] = {}
    for item in Item.objects.filter(questionnaire=world.questionnaire).select_related("dimension"):
        grouped.setdefault(item.dimension.position, []).append(item)
    return grouped


@st.composite
def page_request(draw, world: World, items: dict[int, list[Item]], revisions: dict[str, int]):
    # Mostly a page the questionnaire has; one in five not.
    number = draw(st.sampled_from([1, 2, 3, 4, 5] * 4 + [0, 6, 99, 2**31, 10**20]))
    valid = {"action": draw(st.sampled_from(["save", "next", "previous", "review"]))}
    for item in items.get(number, items[1]):
        options = ["0", "1", "2", "3", "4", ""] + (["unknown"] if item.allows_unknown else [])
        options += ["na"] if item.allows_na else []
        valid[f"answer-{item.code}"] = draw(st.sampled_from(options))
        valid[f"note-{item.code}"] = draw(st.sampled_from(["", "说明", "x" * 1000]))
        valid[f"rev-{item.code}"] = str(revisions.get(item.code, 0))
    other = items[2 if number == 1 else 1][0].code
    extra = [f"answer-{other}", "answer-P9.9", f"note-{other}", "rev-", "answer-"]
    return number, draw(mutated_form(valid, extra_keys=extra))


def stored(assessment_id: int, code: str):
    answer = Answer.objects.filter(assessment_id=assessment_id, item__code=code).first()
    return (None, "") if answer is None else (answer.value, answer.note)


def parsed(raw):
    if raw in (None, ""):
        return None
    return raw if raw in scoring.SPECIAL_ANSWERS else int(raw)


def test_fuzz_questionnaire_page(world):
    tally = Tally("questionnaire page POST")
    draft = world.a.draft
    # Half the first page answered already, so that stale revisions and conflicts come up too.
    items = page_items(world)
    half = items[1][: len(items[1]) // 2]
    from surveys.services import AnswerChange, answers_save

    answers_save(assessment=draft, user=world.a.member, changes=[AnswerChange(i.code, 3, "", 0) for i in half])
    revisions = dict(Answer.objects.filter(assessment=draft).values_list("item__code", "revision"))
    client = logged_in(world.a.owner)

    def send(request):
        number, pairs = request
        response, sent = post_form(client, reverse("surveys:page", args=[draft.pk, number]), pairs)
        return response, (number, sent)

    def check(response, sent, diff):
        number, data = sent
        if response.status_code >= 400:
            nothing_changed(diff)
            return False
        assert response.status_code == 302, response.status_code
        assert diff <= {"answer", "assessment"}, diff
        # Every item of the page holds exactly what was posted.
        for item in items[number]:
            value = parsed(data.get(f"answer-{item.code}"))
            note = clean_user_text(data.get(f"note-{item.code}") or "", multiline=True)
            if (value, note) != (None, "") or Answer.objects.filter(assessment=draft, item=item).exists():
                assert stored(draft.pk, item.code) == (value, note), item.code
        return True

    first = items[1][0].code
    valid = [(f"answer-{first}", "2"), (f"rev-{first}", str(revisions.get(first, 0))), ("action", "save")]
    cases = [
        (1, [*valid, (f"note-{first}", "a\x00b")]),  # NUL: removed by clean_user_text (PostgreSQL refuses it)
        (1, [*valid, (f"note-{first}", "\ud800")]),  # arrives as invalid UTF-8
        (1, [*valid, (f"rev-{first}", "9" * 5000)]),
        (1, [*valid, (f"answer-{first}", "2"), (f"answer-{first}", "7")]),
        (10**20, valid),
    ]
    fuzz(world, tally, page_request(world, items, revisions), send, check, examples=cases)


@st.composite
def autosave_body(draw, world: World):
    kind = draw(st.sampled_from(["near-valid", "near-valid", "near-valid", "any-json", "raw"]))
    if kind == "raw":
        return draw(
            st.one_of(
                st.binary(max_size=200),
                st.sampled_from(
                    [
                        b"",
                        b"not json",
                        b"\xff\xfe\x00",
                        b'{"item": "P1.1", "value": "2", "note": "\\ud800", "revision": 0}',
                        b'{"item": "P1.1", "note": "a\\u0000b", "value": "1", "revision": 0}',
                        b'{"item": "P1.1", "item": "P9.9", "value": "2", "revision": 0}',
                        b'{"item": "P1.1", "value": "2", "value": "7", "revision": 0}',
                        b'{"item": "P1.1", "value": "2", "revision": 0, "page": 99999}',
                        b'{"item": "P1.1", "value": "2", "revision": 0, "page": "1000000000000000000000000"}',
                        b'{"item": "P1.1", "value": 2, "revision": 1e400}',
                        b"[" * 5000,
                        b'{"item": "P1.1", "value": NaN, "revision": 0}',
                    ]
                ),
                huge_text().map(
                    lambda s: json.dumps({"item": "P1.1", "value": "2", "note": s, "revision": 0}).encode()
                ),
            )
        )
    if kind == "any-json":
        return json.dumps(draw(json_values)).encode()
    valid = {
        "item": draw(st.sampled_from(["P1.1", "P1.2", "P2.1", "P5.8"])),
        "value": draw(st.sampled_from(["0", "1", "2", "3", "4", "unknown", "na", None, 2])),
        "note": draw(st.sampled_from(["", "ERP 2023年上线"])),
        "revision": draw(st.sampled_from([0, "0", 1])),
        "page": draw(st.sampled_from([1, "2", None])),
    }
    payload = {}
    for key, value in valid.items():
        choice = draw(st.sampled_from(["keep", "keep", "json", "text", "missing"]))
        if choice == "keep":
            payload[key] = value
        elif choice == "json":
            payload[key] = draw(json_values)
        elif choice == "text":
            payload[key] = draw(HOSTILE)
    return json.dumps(payload, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def test_fuzz_autosave(world):
    tally = Tally("autosave (JSON)")
    draft = world.a.draft
    client = logged_in(world.a.owner)
    url = reverse("surveys:autosave", args=[draft.pk])

    def send(body):
        return client.post(url, body, content_type="application/json"), body

    def check(response, body, diff):
        if response.status_code >= 400:
            nothing_changed(diff)
            return False
        assert response.status_code == 200
        payload = json.loads(body)
        code = payload["item"]
        assert isinstance(code, str) and isinstance(payload.get("note") or "", str), "a wrong type was accepted"
        assert diff <= {"answer", "assessment"}, diff
        value = payload.get("value")
        expected = (
            None if value is None else parsed(str(value)),
            clean_user_text(payload.get("note") or "", multiline=True),
        )
        assert stored(draft.pk, code) == expected
        answer = Answer.objects.filter(assessment=draft, item__code=code).first()
        assert response.json()["revision"] == (answer.revision if answer else 0)
        return True

    cases = [
        b"[" * 5000,
        b'{"item": "P1.1", "value": "2", "note": "a\\u0000b", "revision": 0}',
        b'{"item": "P1.1", "value": "2", "note": "\\ud800", "revision": 0}',
        b'{"item": "P1.1", "value": "2", "note": true, "revision": 0}',
        b'{"item": ["P1.1"], "value": "2", "revision": 0}',
        b'{"item": "P1.1", "value": "2", "revision": 0, "page": 99999}',
        b'{"item": "P1.1", "value": "2", "revision": 0, "page": "1000000000000000000000000"}',
        b'{"item": "P1.1", "value": "2", "revision": "' + b"9" * 5000 + b'"}',
        b'{"item": "P1.1", "item": "P9.9", "value": "2", "revision": 0}',
        b'{"item": "P1.1", "value": NaN, "revision": 0}',
        b"\xff\xfe",
    ]
    fuzz(world, tally, autosave_body(world), send, check, examples=cases)


def test_fuzz_review_submit(world):
    tally = Tally("review / submit")
    draft = world.a.draft
    answer_all(draft, world.a.owner)
    client = logged_in(world.a.owner)
    url = reverse("surveys:review", args=[draft.pk])

    def check(response, sent, diff):
        if not diff:
            return False
        assert response.status_code == 302 and response["Location"] == reverse("surveys:results", args=[draft.pk])
        assert diff == {"assessment", "result"}, diff
        assert DimensionResult.objects.filter(assessment=draft).count() == 5
        assert Assessment.objects.get(pk=draft.pk).status == "submitted"
        return True

    fuzz(
        world, tally, mutated_form({"pledge": "on"}, extra_keys=["pledge"]), lambda p: post_form(client, url, p), check
    )


# --- invitations --------------------------------------------------------------------------------------


@st.composite
def invitation_request(draw, world: World):
    token = draw(
        st.one_of(
            st.just(world.a.invitation),
            st.just(world.a.invitation),
            st.just(world.b.used_invitation),
            st.text(min_size=1, max_size=80).filter(lambda t: "/" not in t),
        )
    )
    valid = {
        "account-username": "fuzz-invitee",
        "account-email": "invitee@example.com",
        "account-password1": "Quancheng-2026!",
        "account-password2": "Quancheng-2026!",
    }
    return token, draw(mutated_form(valid, extra_keys=["account-username"]))


def test_fuzz_invitation_accept(world):
    tally = Tally("invitation accept")
    valid_token = world.a.invitation

    def send(request):
        token, pairs = request
        url = "/invite/" + quote_plus(token.encode("utf-8", "surrogatepass")).replace("+", "%20") + "/"
        response, sent = post_form(anonymous(), url, pairs)
        return response, (token, sent)

    def check(response, sent, diff):
        token, data = sent
        if response.status_code != 302:
            nothing_changed(diff)
            return False
        assert token == valid_token
        # The new account, its membership of firm A and the used invitation: together.
        assert diff == {"user", "membership", "invitation"}, diff
        user = User.objects.order_by("-pk").first()
        assert user.membership.enterprise == world.a.enterprise
        return True

    account = [
        ("account-username", "fuzz-invitee"),
        ("account-email", "invitee@example.com"),
        ("account-password1", "Quancheng-2026!"),
        ("account-password2", "Quancheng-2026!"),
    ]
    cases = [("\x00", account), ("\ud800", account), ("x" * 5000, account), (valid_token, account[:1])]
    cases += [(valid_token, [("account-username", "ｏｗｎｅｒ-A"), *account[1:]])]
    fuzz(world, tally, invitation_request(world), send, check, examples=cases)


# --- the administrators' filters --------------------------------------------------------------------

MANAGE_VIEWS = [
    ("manage:dashboard", []),
    ("manage:breakdowns", []),
    ("manage:weaknesses", []),
    ("manage:trend", []),
    ("manage:firms", []),
    ("manage:chart", ["levels"]),
    ("manage:chart", ["breakdown"]),
    ("manage:export", ["firms", "csv"]),
]
FILTER_VALUES = {
    "district": ["370102", "370112", "370113"],
    "industry": ["C34", "C39"],
    "size": ["medium", "small"],
    "chain": ["EQUIP"],
    "round": ["2026 T0"],
    "year": ["2026", "2024"],
    "level": ["L1", "L2", "L3"],
    "by": ["district", "industry", "size", "chain", "zone"],
    "q": ["济南", "MARKER-A", "9137"],
    "sort": ["name", "-index", "-submitted", "firm__owner__password"],
    "page": ["1", "2", "last"],
}


@st.composite
def manage_request(draw):
    name, args = draw(st.sampled_from(MANAGE_VIEWS))
    params = []
    for key in draw(st.sets(st.sampled_from([*FILTER_VALUES, "x", "\x00"]), max_size=5)):
        values = draw(
            st.lists(st.one_of(st.sampled_from(FILTER_VALUES.get(key, ["1"])), HOSTILE), min_size=1, max_size=2)
        )
        params += [(key, value) for value in values]
    return name, args, params


def test_fuzz_manage_filters(world):
    """Both administrators; for the district one (历下区) no filter ever reaches firm A (历城区)."""
    tally = Tally("/manage/ filter GET parameters")
    clients = {"district": logged_in(world.district_admin), "city": logged_in(world.city_admin)}
    markers = [squeeze(m) for m in world.a.markers]

    def send(request):
        role, (name, args, params) = request
        query = form_body(params).decode()
        return clients[role].get(f"{reverse(name, args=args)}?{query}"), request

    def check(response, request, diff):
        nothing_changed(diff)
        name, args, params = request[1]
        # Only the breakdown chart refuses (404) a breakdown key it does not know.
        assert response.status_code == 200 or (args == ["breakdown"] and response.status_code == 404)
        if request[0] == "district":
            text = squeeze(response_text(response))
            assert not [m for m in markers if m in text], "firm A (another district) appears"
        return True

    cases = [
        ("district", ("manage:firms", [], [("q", "\x00")])),
        ("district", ("manage:firms", [], [("q", "MARKER-A"), ("district", "370112")])),
        ("city", ("manage:firms", [], [("sort", "firm__owner__password"), ("page", "9" * 5000)])),
        ("city", ("manage:dashboard", [], [("year", "9" * 30), ("district", "\x00")])),
        ("district", ("manage:export", ["firms", "csv"], [("district", "370112"), ("q", "\ud800")])),
    ]
    strategy = st.tuples(st.sampled_from(["district", "city"]), manage_request())
    fuzz(world, tally, strategy, send, check, examples=cases)


def test_hostile_values_cover_the_classes_the_plan_names():
    classes = {
        "NUL": any("\x00" in s for s in SPECIAL),
        "lone surrogate": any(re.search("[\ud800-\udfff]", s) for s in SPECIAL),
        "RTL/zero-width": any("\u202e" in s or "\u200b" in s for s in SPECIAL),
        "huge (100 KB)": True,
        "over-long digits": "9" * 5000 in SPECIAL,
    }
    assert all(classes.values()), classes
