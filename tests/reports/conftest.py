"""Fixtures for the report tests: the real questionnaire, submitted rounds built through the services.

The builders are plain functions so that tests outside this folder (tests/test_render_report.py) can
import them; ``rendered`` builds the expensive scenario once for the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import override_settings

from surveys import scoring, services
from surveys.models import Item, Questionnaire
from surveys.reports import render_assessment_pdf
from surveys.selectors.results import AssessmentReport, assessment_report
from surveys.services import AnswerChange
from tests.conftest import load_seed as _load_seed
from tests.model_factories import EnterpriseFactory, MembershipFactory

SEED_PATH = "seeds/questionnaire-2026.1.yaml"
SEED_VERSION = "2026.1"
INDUSTRY = "C34"  # 通用设备制造业
DISTRICT = "370112"  # 历城区
OTHER_DISTRICT = "370102"  # 历下区
PEER_COUNT = 12
# The dimension a firm answers 不清楚 throughout (every item of D5 offers 不清楚).
UNKNOWN_DIMENSION = "D5"

FIRM_NAME = "济南鲁华精密机械制造有限公司"
FIRM_ROUND = "2026 第一轮"
FIRM_NOTES = {
    "P1.1": "二号车间的老设备尚未联网，计划明年改造。",
    "P2.2": "数控设备 18 台，生产设备共 75 台。",
    "P4.1": "IT 部 3 人，其中 1 人兼做设备维护。",
}
HOSTILE_TEXT = '<font color=red>X</font> & <para> <a href="javascript:x">y</a> <b'
HOSTILE_CONTACT = "<b>王</b> & 李"
HOSTILE_ROUND = "R&D <1>"


def load_seed() -> Questionnaire:
    return _load_seed()  # the seed as questionnaire_upsert writes it, without its thousand queries each time


def items_by_dimension(questionnaire: Questionnaire) -> dict[str, list[Item]]:
    grouped: dict[str, list[Item]] = {}
    for item in Item.objects.filter(questionnaire=questionnaire).select_related("dimension").order_by("position"):
        grouped.setdefault(item.dimension.code, []).append(item)
    return grouped


def realistic_answers(
    questionnaire: Questionnaire, *, seed: int = 0, unknown_dimension: str | None = None
) -> dict[str, int | str]:
    """A plausible mix: dimensions at different levels, some spread, one 不适用 where offered."""
    base = {"D1": 2, "D2": 2, "D3": 1, "D4": 3, "D5": 2}
    spread = (0, 1, -1, 1, 0, -2, 2, -1, 1, 0)
    answers: dict[str, int | str] = {}
    for code, items in items_by_dimension(questionnaire).items():
        for n, item in enumerate(items):
            if code == unknown_dimension:
                answers[item.code] = scoring.UNKNOWN
                continue
            value = base[code] + spread[(n + seed) % len(spread)] + (seed % 3) - 1
            answers[item.code] = max(0, min(4, value))
            if item.allows_na and (n + seed) % 4 == 0:
                answers[item.code] = scoring.NOT_APPLICABLE
    return answers


def submit_round(*, enterprise, user, answers, notes=None, label: str = ""):
    notes = notes or {}
    assessment = services.assessment_start(enterprise=enterprise, user=user, label=label)
    changes = [
        AnswerChange(item_code=code, value=value, note=notes.get(code, ""), base_revision=0)
        for code, value in answers.items()
    ]
    outcome = services.answers_save(assessment=assessment, user=user, changes=changes)
    assert outcome.ok, outcome.conflicts
    return services.assessment_submit(assessment=assessment, user=user, pledge=True)


def new_member(**enterprise_fields):
    enterprise = EnterpriseFactory(industry=INDUSTRY, district=DISTRICT, **enterprise_fields)
    return MembershipFactory(enterprise=enterprise).user, enterprise


def create_peer_firms(questionnaire: Questionnaire) -> list:
    """12 submitted firms in the test firm's industry: 8 in its district, 4 elsewhere.

    With the firm itself the industry and the city have 13 firms (shown), its district 9 (hidden).
    """
    firms = []
    for n in range(PEER_COUNT):
        district = DISTRICT if n < 8 else OTHER_DISTRICT
        enterprise = EnterpriseFactory(industry=INDUSTRY, district=district)
        user = MembershipFactory(enterprise=enterprise).user
        submit_round(enterprise=enterprise, user=user, answers=realistic_answers(questionnaire, seed=n + 1))
        firms.append(enterprise)
    return firms


def create_firm_round(questionnaire: Questionnaire):
    """A realistic submitted round with notes, whose D5 is answered 不清楚 throughout."""
    user, enterprise = new_member(name=FIRM_NAME, contact_name="李明", contact_phone="0531-86001234")
    answers = realistic_answers(questionnaire, unknown_dimension=UNKNOWN_DIMENSION)
    return submit_round(enterprise=enterprise, user=user, answers=answers, notes=FIRM_NOTES, label=FIRM_ROUND)


def create_hostile_round(questionnaire: Questionnaire):
    """A round whose firm name, contact, round label and a note carry ReportLab paragraph markup.

    Outside the peers' industry and district, so that it does not change their groups.
    """
    enterprise = EnterpriseFactory(name=HOSTILE_TEXT, contact_name=HOSTILE_CONTACT, industry="C39", district="370105")
    user = MembershipFactory(enterprise=enterprise).user
    answers = realistic_answers(questionnaire, seed=5)
    return submit_round(
        enterprise=enterprise, user=user, answers=answers, notes={"P1.2": HOSTILE_TEXT}, label=HOSTILE_ROUND
    )


@dataclass(frozen=True)
class Rendered:
    """What the report tests inspect: plain report trees and PDF bytes, built once for the package."""

    report_zh: AssessmentReport
    report_en: AssessmentReport
    pdf_zh: tuple[str, str, bytes]
    pdf_en: tuple[str, str, bytes]
    hostile_report: AssessmentReport
    hostile_pdf: tuple[str, str, bytes]
    uscc: str
    item_codes: list[str]


@pytest.fixture(scope="package")
def rendered(django_db_setup, django_db_blocker) -> Rendered:
    """The seed, 12 peers, the realistic firm and the hostile one, reported and rendered, then rolled back.

    Building 14 submitted firms through the services takes seconds; the report tree is plain data (the
    point of the read model, surveys/selectors/results.py), so it is built once and the database is left as it was.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        questionnaire = load_seed()
        create_peer_firms(questionnaire)
        firm = create_firm_round(questionnaire)
        report_zh = assessment_report(assessment=firm, language="zh-hans")
        report_en = assessment_report(assessment=firm, language="en")
        result = {
            "report_zh": report_zh,
            "report_en": report_en,
            "pdf_zh": render_assessment_pdf(report_zh),
            "pdf_en": render_assessment_pdf(report_en),
            "uscc": firm.enterprise.uscc,
            "item_codes": list(
                Item.objects.filter(questionnaire=questionnaire).order_by("position").values_list("code", flat=True)
            ),
        }
        hostile = create_hostile_round(questionnaire)
        result["hostile_report"] = assessment_report(assessment=hostile, language="zh-hans")
        result["hostile_pdf"] = render_assessment_pdf(result["hostile_report"])
        transaction.set_rollback(True)
    return Rendered(**result)


@pytest.fixture
def seed_questionnaire(db) -> Questionnaire:
    return load_seed()


@pytest.fixture
def firm_round(seed_questionnaire):
    return create_firm_round(seed_questionnaire)


@pytest.fixture
def draft_round(seed_questionnaire):
    user, enterprise = new_member()
    return services.assessment_start(enterprise=enterprise, user=user, label="2026 草稿")
