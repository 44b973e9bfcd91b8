"""Random cities for the summary tables' tests: firms, register rows with key sectors, rounds of several labels
and questionnaire versions (drafts among them), answers, results and context answers, written in bulk.

Scores and indexes lie on a grid: 0.01 on PostgreSQL (its AVG sums exactly), 0.25 elsewhere, where SQLite's
AVG() adds floating values in row order and only a binary grid makes that sum exact (the summaries' means are
then exactly SQLite's too; see selectors.summaries.database_mean).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection

from surveys.models import (
    Answer,
    Assessment,
    Dimension,
    DimensionResult,
    Enterprise,
    Item,
    Questionnaire,
    RegisterEntry,
    sectors_encode,
)
from tests.model_factories import register_uscc

DISTRICTS = ("370112", "370102", "370104", "370105")
INDUSTRIES = ("C34", "C35", "C39", "C27")
SIZES = ("large", "medium", "small", "micro")
CHAINS = ("EQUIP", "IT", "BIO")
SECTORS = ("steel", "cnc_robot", "biomed")
LABELS = ("2024 T0", "2025 T0", "2025 T1", "2026 T0")
LEVELS = ("L1", "L2", "L3", "L4", "L5")
BARRIERS = ("cost", "people", "start", "returns", "other")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class City:
    firms: list[Enterprise]
    versions: list[Questionnaire]
    labels: tuple[str, ...] = LABELS


def grid() -> Decimal:
    return Decimal("0.01") if connection.vendor == "postgresql" else Decimal("0.25")


def _score(rnd: random.Random) -> Decimal:
    step = grid()
    # Clustered values: ties in the histograms, and quartiles between different values.
    value = Decimal(rnd.randrange(0, int(100 / step) + 1)) * step
    if rnd.random() < 0.3:
        value = Decimal(rnd.choice((25, 40, 39.75 if step == Decimal("0.25") else 39.99, 62.5)))
    return value.quantize(Decimal("0.01"))


def _when(rnd: random.Random) -> datetime:
    """A moment of 2024–2026; a tenth of them around a new year, where UTC and Shanghai disagree on the year."""
    year = rnd.choice((2024, 2025, 2026))
    if rnd.random() < 0.1:
        return datetime(year, 12, 31, 15, 30, tzinfo=ZoneInfo("UTC")) + timedelta(hours=rnd.choice((-1, 1)))
    return datetime(year, 1, 1, tzinfo=SHANGHAI) + timedelta(minutes=rnd.randrange(0, 360 * 24 * 60))


def random_city(versions: list[Questionnaire], *, seed: int, firms: int = 120) -> City:
    """``firms`` firms in bulk, about three in four with submitted rounds (up to three labels, on random
    versions; the latest flagged), some with a draft; most in the register, with 0–2 key sectors."""
    rnd = random.Random(seed)
    Enterprise.objects.bulk_create(
        Enterprise(
            name=f"随机企业{seed}-{n}",
            uscc=register_uscc(seed * 10_000 + n),
            district=rnd.choice(DISTRICTS),
            industry=rnd.choice(INDUSTRIES),
            size_class=rnd.choice(SIZES),
            leading_chain=rnd.choice(CHAINS),
            contact_name="张三",
            contact_phone="0531-88888888",
        )
        for n in range(firms)
    )
    made = list(Enterprise.objects.filter(name__startswith=f"随机企业{seed}-").order_by("id"))
    register = [
        RegisterEntry(
            uscc=firm.uscc,
            name=firm.name,
            district=firm.district,
            industry=firm.industry,
            size_class=firm.size_class,
            leading_chain=firm.leading_chain,
            sectors=sectors_encode(rnd.sample(SECTORS, rnd.choice((0, 1, 1, 2)))),
        )
        for firm in made
        if rnd.random() < 0.8
    ]
    RegisterEntry.objects.bulk_create(register)
    items = {
        v.id: list(Item.objects.filter(questionnaire=v).values_list("id", "allows_unknown", "allows_na"))
        for v in versions
    }
    dimensions = {v.id: list(Dimension.objects.filter(questionnaire=v).values_list("id", flat=True)) for v in versions}
    planned = []
    for firm in made:
        labels = rnd.sample(LABELS, rnd.choice((0, 1, 1, 2, 3)))
        moments = sorted(_when(rnd) for _label in labels)
        for n, (label, when) in enumerate(zip(labels, moments, strict=True)):
            planned.append((firm, label, when, n == len(labels) - 1))
        if rnd.random() < 0.15:
            planned.append((firm, "草稿", None, False))
    Assessment.objects.bulk_create(
        Assessment(
            enterprise=firm,
            questionnaire=rnd.choice(versions),
            label=label,
            status=Assessment.STATUS_DRAFT if when is None else Assessment.STATUS_SUBMITTED,
            submitted_at=when,
            index=None if when is None else _score(rnd),
            level="" if when is None else rnd.choice(LEVELS),
            is_latest=latest,
            context=_context(rnd),
        )
        for firm, label, when, latest in planned
    )
    rounds = list(Assessment.objects.filter(enterprise__in=made).order_by("id"))
    results, answers = [], []
    for assessment in rounds:
        if assessment.status == Assessment.STATUS_SUBMITTED:
            results.extend(_results(rnd, assessment, dimensions[assessment.questionnaire_id]))
            answers.extend(_answers(rnd, assessment, items[assessment.questionnaire_id]))
    DimensionResult.objects.bulk_create(results)
    Answer.objects.bulk_create(answers)
    return City(firms=made, versions=versions)


def _results(rnd: random.Random, assessment: Assessment, dimension_ids: list[int]) -> list[DimensionResult]:
    """A result per dimension: a tenth with insufficient data, a twentieth without a score."""
    return [
        DimensionResult(
            assessment=assessment,
            dimension_id=dimension_id,
            score=None if rnd.random() < 0.05 else _score(rnd),
            unknown_share=Decimal("0.1000"),
            insufficient_data=rnd.random() < 0.1,
        )
        for dimension_id in dimension_ids
    ]


def _answers(rnd: random.Random, assessment: Assessment, items: list[tuple[int, bool, bool]]) -> list[Answer]:
    """Most items answered: options 0–4, 不清楚 and 不适用 where offered, a few notes without an option."""
    answers = []
    for item_id, allows_unknown, allows_na in items:
        roll = rnd.random()
        if roll < 0.1:
            continue
        if roll < 0.13:
            answers.append(Answer(assessment=assessment, item_id=item_id, note="只有备注"))
        elif allows_unknown and roll < 0.25:
            answers.append(Answer(assessment=assessment, item_id=item_id, special="unknown"))
        elif allows_na and roll < 0.35:
            answers.append(Answer(assessment=assessment, item_id=item_id, special="na"))
        else:
            answers.append(Answer(assessment=assessment, item_id=item_id, score=rnd.choice((0, 1, 1, 2, 3, 4))))
    return answers


def _context(rnd: random.Random) -> dict:
    context = {}
    for question in ("C1", "C2"):
        if rnd.random() < 0.7:
            chosen = rnd.sample(BARRIERS, rnd.choice((0, 1, 2, 3)))
            context[question] = {"choices": chosen, "other": ""}
    return context
