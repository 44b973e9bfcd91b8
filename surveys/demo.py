"""Realistic demo firms: plausible district/industry/size mixes and answers that correlate like real ones.

Each firm gets a latent maturity (larger firms and some industries higher), a profile of strengths by
dimension, and per-item noise; 不清楚 is more common in small firms. Everything is written with
bulk inserts so that 60,000 firms seed in minutes. Scores come from the real engine (scoring.score).
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import Max

from . import scoring, selectors, uscc
from .models import (
    Answer,
    Assessment,
    ContextQuestion,
    Dimension,
    DimensionResult,
    Enterprise,
    Item,
    Membership,
    Questionnaire,
    RegisterEntry,
    sectors_encode,
)
from .services.summaries import summaries_rebuild

TZ = ZoneInfo("Asia/Shanghai")

DISTRICT_WEIGHTS = {
    "370102": 6, "370103": 5, "370104": 8, "370105": 8, "370112": 15, "370113": 8,
    "370114": 13, "370115": 9, "370116": 10, "370117": 7, "370124": 5, "370126": 6,
}  # fmt: skip
INDUSTRY_WEIGHTS = {
    "C34": 12, "C35": 10, "C33": 8, "C38": 8, "C36": 7, "C39": 6, "C26": 6, "C27": 5, "C29": 5,
    "C30": 5, "C13": 5, "C31": 4, "C14": 4, "C32": 2, "C40": 3, "C22": 2, "C17": 2, "C21": 2,
    "C37": 2, "C41": 1, "C42": 1, "OTHER": 2,
}  # fmt: skip
# Steel and materials concentrate in Gangcheng and Laiwu, IT in Lixia and Licheng.
DISTRICT_INDUSTRY_BOOST = {"370117": {"C31": 6, "C32": 3}, "370116": {"C31": 5, "C30": 2}, "370102": {"C39": 5}}
SIZE_WEIGHTS = {"large": 3, "medium": 17, "small": 55, "micro": 25}
SIZE_EFFECT = {"large": 1.0, "medium": 0.45, "small": 0.0, "micro": -0.45}
INDUSTRY_EFFECT = {
    "C39": 0.35,
    "C27": 0.3,
    "C36": 0.3,
    "C38": 0.15,
    "C40": 0.15,
    "C13": -0.2,
    "C21": -0.25,
    "C17": -0.2,
}
DISTRICT_EFFECT = {"370102": 0.2, "370112": 0.1, "370126": -0.2, "370124": -0.15}
CHAIN_OF_INDUSTRY = {
    "C39": "IT", "C34": "EQUIP", "C35": "EQUIP", "C36": "EQUIP", "C37": "EQUIP", "C38": "EQUIP",
    "C40": "EQUIP", "C31": "STEEL", "C32": "STEEL", "C30": "STEEL", "C27": "BIO", "C14": "BIO",
}  # fmt: skip
ZONE_OF_DISTRICT = {
    "370112": "HTZ",
    "370102": "HTZ",
    "370115": "QBQ",
    "370117": "GCKF",
    "370116": "LWGX",
    "370104": "HYKF",
}
# Talent and the data ecosystem lag behind equipment in most firms (the paper's diagnosis).
DIMENSION_OFFSET = {"D1": 0.1, "D2": 0.2, "D3": -0.15, "D4": -0.35, "D5": -0.2}

NAME_HEADS = ["济南", "山东", "泉城", "齐鲁", "鲁中", "黄河", "趵突", "历山", "华山", "千佛"]
NAME_CORES = list("恒瑞博远华通宏达鑫泰嘉诚永兴昌盛金宇天润德力新源瑞丰海川")
NAME_TRADES = {
    "C34": "机械",
    "C35": "装备",
    "C33": "金属制品",
    "C38": "电气",
    "C36": "汽车零部件",
    "C39": "电子科技",
    "C26": "化工",
    "C27": "制药",
    "C29": "塑胶",
    "C30": "建材",
    "C13": "食品",
    "C31": "钢铁",
    "C14": "食品",
    "C32": "有色金属",
    "C40": "仪器仪表",
    "C22": "纸业",
    "C17": "纺织",
    "C21": "家具",
    "C37": "交通装备",
}

DEMO_PASSWORD = "Jinan-demo-2026"
DEMO_ACCOUNTS = [
    ("demo_owner", "owner", "demo firm owner / 演示企业负责人"),
    ("demo_member", "member", "demo firm member / 演示企业成员"),
]
DEMO_ADMINISTRATORS = [
    ("city_admin", "city", (), "city administrator, /manage/ / 市级管理员"),
    ("district_admin", "district", ("370112",), "district administrator of Licheng / 历城区管理员"),
]
ADMIN_ACCOUNT = ("admin", "superuser / 超级管理员")


@dataclass
class DemoSummary:
    firms: int
    submitted: int  # firms with at least one submitted round
    levels: dict[str, int]  # of each firm's latest submitted round
    rounds: int  # submitted rounds in all

    def as_dict(self) -> dict:
        return {"firms": self.firms, "submitted": self.submitted, "levels": self.levels, "rounds": self.rounds}


def _weighted(rnd: random.Random, weights: dict[str, float]) -> str:
    return rnd.choices(list(weights), weights=list(weights.values()))[0]


def _org_code(rnd: random.Random) -> str:
    body = "".join(rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(body, weights, strict=True)) % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def demo_uscc(rnd: random.Random, district: str, taken: set[str]) -> str:
    while True:
        code = uscc.with_check_character("91" + district + _org_code(rnd))
        if code not in taken:
            taken.add(code)
            return code


def _answers(rnd: random.Random, items: list[scoring.ItemDef], maturity: float, unknown_rate: float) -> dict:
    offsets = {code: off + rnd.gauss(0, 0.35) for code, off in DIMENSION_OFFSET.items()}
    answers = {}
    for item in items:
        roll = rnd.random()
        if item.allows_na and roll < 0.08:
            answers[item.code] = scoring.NOT_APPLICABLE
        elif item.allows_unknown and roll > 1 - unknown_rate:
            answers[item.code] = scoring.UNKNOWN
        else:
            value = maturity + offsets.get(item.dimension, 0) + rnd.gauss(0, 0.75)
            answers[item.code] = max(0, min(4, round(value)))
    return answers


ENTERPRISE_COLUMNS = [
    "name", "uscc", "district", "zone", "industry", "size_class", "above_designated_size", "leading_chain",
    "contact_name", "contact_phone", "created_at",
]  # fmt: skip
ANSWER_COLUMNS = ["assessment_id", "item_id", "score", "special", "note", "revision", "updated_at"]
DIMENSION_RESULT_COLUMNS = ["assessment_id", "dimension_id", "score", "unknown_share", "insufficient_data"]
ASSESSMENT_COLUMNS = [
    "enterprise_id", "questionnaire_id", "label", "status", "last_page", "created_at", "updated_at", "submitted_at",
    "index", "provisional_level", "level", "result", "is_latest", "context",
]  # fmt: skip
# How often demo firms name each barrier to digital transformation (context question of 2026.2 and later).
BARRIER_WEIGHTS = {
    "cost": 9, "people": 8, "start": 5, "returns": 6, "equipment": 4, "security": 3, "lockin": 2, "other": 1,
}  # fmt: skip


def _insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Plain multi-row inserts. The ORM's per-field preparation (and, on PostgreSQL, array-escaping every
    quote of the result JSON) made seeding 60,000 firms take many minutes; PostgreSQL gets COPY, SQLite
    executemany."""
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.connection.cursor().copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", rows)


class _Ids:
    """Primary keys handed out before the rows exist, so that a batch is built without the database
    and written while the next one is generated."""

    def __init__(self, model):
        self.model = model
        self.next_sqlite = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1

    def take(self, n: int) -> list[int]:
        if n == 0:
            return []
        if connection.vendor == "postgresql":
            sequence = f"{self.model._meta.db_table}_id_seq"
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, n])
                return [row[0] for row in cursor.fetchall()]
        first, self.next_sqlite = self.next_sqlite, self.next_sqlite + n
        return list(range(first, first + n))


@dataclass
class _Batch:
    enterprises: list[tuple]
    assessments: list[tuple]
    answers: list[tuple]
    dimension_results: list[tuple]


def _write_batch(batch: _Batch) -> None:
    with transaction.atomic():
        _insert_rows(Enterprise, ["id", *ENTERPRISE_COLUMNS], batch.enterprises)
        _insert_rows(Assessment, ["id", *ASSESSMENT_COLUMNS], batch.assessments)
        _insert_rows(Answer, ANSWER_COLUMNS, batch.answers)
        _insert_rows(DimensionResult, DIMENSION_RESULT_COLUMNS, batch.dimension_results)


def seed_demo(
    *,
    firms: int,
    questionnaire: Questionnaire,
    previous: Questionnaire | None = None,
    seed: int = 2026,
    batch: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    summaries: bool = True,
) -> DemoSummary:
    """Create ``firms`` firms with submitted rounds on ``questionnaire`` (a quarter with an earlier round
    too, on ``previous`` when given).

    Batches are written by a second thread with its own connection while the next batch is generated;
    inside an enclosing transaction (tests) they are written inline, since another connection could not
    see the uncommitted questionnaire. The rows bypass the services, so the summary tables are rebuilt at
    the end (``summaries=False``: the caller rebuilds them once after more bulk writes).
    """
    generator = _DemoGenerator(random.Random(seed), questionnaire, previous)
    counts = [min(batch, firms - offset) for offset in range(0, firms, batch)]
    if connection.in_atomic_block:
        _write_inline(generator, counts, progress)
    else:
        _write_threaded(generator, counts, progress)
    _refresh_planner_statistics()
    if summaries:
        summaries_rebuild()
    levels = generator.levels
    return DemoSummary(
        firms=firms,
        submitted=sum(levels.values()),
        levels={f"L{k}": levels.get(f"L{k}", 0) for k in range(1, 6)},
        rounds=generator.submitted,
    )


def _write_inline(generator: _DemoGenerator, counts: list[int], progress: Callable[[int, int], None] | None) -> None:
    done, total = 0, sum(counts)
    for count in counts:
        _write_batch(generator.batch(count))
        done += count
        if progress is not None:
            progress(done, total)


def _write_threaded(generator: _DemoGenerator, counts: list[int], progress: Callable[[int, int], None] | None) -> None:
    """Generate the next batch while a second thread (with its own connection) writes the previous one."""
    done, total = 0, sum(counts)
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for count in counts:
            generated = generator.batch(count)
            if pending is not None:
                pending.result()  # re-raises a failed write
            pending = writer.submit(_write_batch, generated)
            done += count
            if progress is not None:
                progress(done, total)
        if pending is not None:
            pending.result()
        writer.submit(connections.close_all).result()  # the writer thread's own connection


@dataclass(frozen=True)
class _Version:
    """One questionnaire version as the generator needs it."""

    questionnaire: Questionnaire
    definition: scoring.Definition
    items: list[scoring.ItemDef]
    item_ids: dict[str, int]
    dimension_ids: dict[str, int]
    context_options: dict[str, list[str]]  # context question code → its option codes

    @classmethod
    def of(cls, questionnaire: Questionnaire) -> _Version:
        definition = selectors.questionnaire_definition(questionnaire=questionnaire)
        return cls(
            questionnaire=questionnaire,
            definition=definition,
            items=[item for dim in definition.dimensions for item in dim.items],
            item_ids=dict(Item.objects.filter(questionnaire=questionnaire).values_list("code", "id")),
            dimension_ids=dict(Dimension.objects.filter(questionnaire=questionnaire).values_list("code", "id")),
            context_options={
                q.code: [o["code"] for o in q.options]
                for q in ContextQuestion.objects.filter(questionnaire=questionnaire)
            },
        )


class _DemoGenerator:
    """The rows of batches of demo firms, their rounds, answers and dimension results, from one random stream.
    A firm's latest round is on ``questionnaire``; an earlier round on ``previous`` when given (the version
    in use before it), so that the demo shows rounds of two versions side by side."""

    start_time = datetime(2025, 3, 1, 9, tzinfo=TZ)

    def __init__(self, rnd: random.Random, questionnaire: Questionnaire, previous: Questionnaire | None = None):
        self.rnd = rnd
        self.current = _Version.of(questionnaire)
        self.previous = _Version.of(previous) if previous is not None else self.current
        self.taken = set(Enterprise.objects.values_list("uscc", flat=True))
        self.enterprise_ids, self.assessment_ids = _Ids(Enterprise), _Ids(Assessment)
        self.levels: Counter = Counter()  # level of each firm's latest round
        self.submitted = 0
        self.now = datetime.now(tz=TZ)

    def batch(self, count: int) -> _Batch:
        enterprises, profiles = [], []
        for enterprise_id in self.enterprise_ids.take(count):
            row, profile = self._enterprise(enterprise_id)
            enterprises.append(row)
            profiles.append(profile)
        planned = [rounds for profile in profiles for rounds in self._plan_rounds(*profile)]
        batch = _Batch(enterprises, [], [], [])
        for assessment_id, plan in zip(self.assessment_ids.take(len(planned)), planned, strict=True):
            self._add_round(batch, assessment_id, *plan)
        self.submitted += len(planned)
        return batch

    def _enterprise(self, enterprise_id: int) -> tuple[tuple, tuple[int, float, float]]:
        """The firm's row, and its profile: (id, latent maturity, share of 不清楚 answers)."""
        rnd = self.rnd
        district = _weighted(rnd, DISTRICT_WEIGHTS)
        weights = dict(INDUSTRY_WEIGHTS)
        for code, boost in DISTRICT_INDUSTRY_BOOST.get(district, {}).items():
            weights[code] += boost
        industry = _weighted(rnd, weights)
        size = _weighted(rnd, SIZE_WEIGHTS)
        trade = NAME_TRADES.get(industry, "制造")
        name = f"{rnd.choice(NAME_HEADS)}{rnd.choice(NAME_CORES)}{rnd.choice(NAME_CORES)}{trade}有限公司"
        row = (
            enterprise_id,
            name,
            demo_uscc(rnd, district, self.taken),
            district,
            ZONE_OF_DISTRICT.get(district, "") if rnd.random() < 0.4 else "",
            industry,
            size,
            size in {"large", "medium"} or (size == "small" and rnd.random() < 0.5),
            CHAIN_OF_INDUSTRY.get(industry, "OTHER"),
            rnd.choice("王李张刘陈杨赵黄周吴") + rnd.choice(["经理", "主任", "工程师", "女士", "先生"]),
            f"1{rnd.choice('3589')}{rnd.randrange(10**9):09d}",
            self.now,
        )
        maturity = (
            1.5 + SIZE_EFFECT[size] + INDUSTRY_EFFECT.get(industry, 0) + DISTRICT_EFFECT.get(district, 0)
        ) + rnd.gauss(0, 0.7)
        return row, (enterprise_id, maturity, 0.1 if size == "micro" else 0.05 if size == "small" else 0.02)

    def _plan_rounds(self, enterprise_id: int, maturity: float, unknown_rate: float) -> list[tuple]:
        """(enterprise_id, label, maturity, when, latest, unknown_rate) of the firm's rounds, oldest first."""
        rnd = self.rnd
        day = self.start_time + timedelta(days=rnd.randrange(0, 600), minutes=rnd.randrange(0, 600))
        history = []
        if rnd.random() < 0.25:
            history.append(("2025 T0", maturity - abs(rnd.gauss(0.35, 0.2)), day - timedelta(days=300)))
        history.append(("2026 T0" if history else f"{day.year} T0", maturity, day))
        return [
            (enterprise_id, label, round_maturity, when, n == len(history) - 1, unknown_rate)
            for n, (label, round_maturity, when) in enumerate(history)
        ]

    def _add_round(
        self,
        batch: _Batch,
        assessment_id: int,
        enterprise_id: int,
        label: str,
        maturity: float,
        when: datetime,
        latest: bool,
        unknown_rate: float,
    ) -> None:
        """A submitted round scored by the real engine: its row, its answers' rows, its dimension results."""
        version = self.current if latest else self.previous
        answers = _answers(self.rnd, version.items, maturity, unknown_rate)
        result = scoring.score(version.definition, answers)
        if latest:
            self.levels[result.level] += 1
        batch.assessments.append(
            (
                assessment_id,
                enterprise_id,
                version.questionnaire.id,
                label,
                Assessment.STATUS_SUBMITTED,
                1,
                when,
                when,
                when,
                Decimal(str(round(result.index, 2))),
                result.provisional_level,
                result.level,
                json.dumps(result.as_dict(), ensure_ascii=False),
                latest,
                json.dumps(self._context(version), ensure_ascii=False),
            )
        )
        for code, value in answers.items():
            score, special = (value, "") if type(value) is int else (None, value)
            batch.answers.append((assessment_id, version.item_ids[code], score, special, "", 1, when))
        for dim in result.dimensions:
            batch.dimension_results.append(
                (
                    assessment_id,
                    version.dimension_ids[dim.code],
                    None if dim.score is None else Decimal(str(round(dim.score, 2))),
                    Decimal(str(round(dim.unknown_share, 4))),
                    dim.insufficient_data,
                )
            )

    def _context(self, version: _Version) -> dict:
        """Answers to the version's context questions: one to three barriers, or none (a firm may skip)."""
        context = {}
        for code, options in version.context_options.items():
            if self.rnd.random() < 0.1:
                continue
            weights = {option: BARRIER_WEIGHTS.get(option, 1) for option in options}
            chosen = {_weighted(self.rnd, weights) for _ in range(self.rnd.randint(1, 3))}
            answer: dict = {"choices": [option for option in options if option in chosen]}
            if "other" in chosen:
                answer["other"] = self.rnd.choice(["订单波动大，难以安排改造停机时间", "集团统一规划，本厂无决定权"])
            context[code] = answer
        return context


def _refresh_planner_statistics() -> None:
    """Fresh PostgreSQL planner statistics for the bulk-loaded tables now, not when autovacuum comes round:
    planned for the empty tables, the dashboard's aggregation over 60,000 firms took 3× as long."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Enterprise, Assessment, Answer, DimensionResult):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@transaction.atomic
def demo_accounts_ensure() -> list[tuple[str, str, str]]:
    """The demo logins (created once): the owner and a member of the first demo firm, and a superuser."""
    User = get_user_model()
    enterprise = Enterprise.objects.order_by("id").first()
    logins = []
    for username, role, description in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, email=f"{username}@example.com", password=DEMO_PASSWORD)
        if enterprise is not None and not Membership.objects.filter(user=user).exists():
            Membership.objects.create(user=user, enterprise=enterprise, role=role)
        logins.append((username, DEMO_PASSWORD, description))
    from .scopes import ROLE_CITY, ROLE_DISTRICT
    from .services import administrator_grant

    for username, role, districts, description in DEMO_ADMINISTRATORS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, email=f"{username}@example.com", password=DEMO_PASSWORD)
            administrator_grant(user=user, role=ROLE_CITY if role == "city" else ROLE_DISTRICT, districts=districts)
        logins.append((username, DEMO_PASSWORD, description))
    username, description = ADMIN_ACCOUNT
    if not User.objects.filter(username=username).exists():
        User.objects.create_superuser(username=username, email="admin@example.com", password=DEMO_PASSWORD)
    logins.append((username, DEMO_PASSWORD, description))
    return logins


def demo_summary() -> DemoSummary:
    latest = Assessment.objects.filter(is_latest=True)
    counts = Counter(latest.values_list("level", flat=True))
    return DemoSummary(
        firms=Enterprise.objects.count(),
        submitted=latest.count(),
        levels={f"L{k}": counts.get(f"L{k}", 0) for k in range(1, 6)},
        rounds=Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED).count(),
    )


def questionnaire_before(questionnaire: Questionnaire) -> Questionnaire | None:
    """The published version new rounds used before ``questionnaire`` (the demo's earlier rounds), if any."""
    return (
        Questionnaire.objects.filter(is_published=True)
        .exclude(pk=questionnaire.pk)
        .filter(created_at__lte=questionnaire.created_at)
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass
class PlanStatistics:
    """What the action plans of the firms' latest rounds look like (rules version 2 rounds only)."""

    firms: int
    top_actions_median: dict[str, float]  # level → median number of top actions
    weakest_addressed: dict[str, tuple[int, int]]  # level → (firms whose top list has an action on their
    # weakest dimension, firms with any action on that dimension)

    def lines(self) -> list[str]:
        medians = ", ".join(f"{level} {value:g}" for level, value in self.top_actions_median.items())
        lines = [
            f"Action plans of {self.firms} latest rounds (rules version 2): median top actions by level: {medians}"
        ]
        for level, (addressed, eligible) in self.weakest_addressed.items():
            lines.append(f"  {level}: top actions address the weakest dimension in {addressed} of {eligible} firms")
        return lines


def plan_statistics() -> PlanStatistics:
    """Per level, the median size of the top list and how often it addresses the firm's weakest dimension
    (the lowest dimension score among dimensions with actions), read from the stored results."""
    sizes: dict[str, list[int]] = {}
    weakest: dict[str, list[int]] = {}
    firms = 0
    for level, result in Assessment.objects.filter(is_latest=True).values_list("level", "result").iterator():
        if not result or result.get("rules_version", 1) < scoring.RULES_VERSION_2:
            continue
        firms += 1
        actions = {a["key"]: a for a in result["actions"]}
        top = [actions[key] for key in result["top_actions"]]
        sizes.setdefault(level, []).append(len(top))
        with_actions = {a["dimension"] for a in actions.values() if a["dimension"]}
        scored = [
            (d["score"], d["code"])
            for d in result["dimensions"]
            if d["score"] is not None and d["code"] in with_actions
        ]
        if scored:
            weakest_code = min(scored)[1]
            weakest.setdefault(level, [0, 0])
            weakest[level][1] += 1
            weakest[level][0] += any(a["dimension"] == weakest_code for a in top)
    order = sorted(set(sizes) | set(weakest))
    return PlanStatistics(
        firms=firms,
        top_actions_median={level: statistics.median(sizes[level]) for level in order if level in sizes},
        weakest_addressed={level: (weakest[level][0], weakest[level][1]) for level in order if level in weakest},
    )


# --- the business register of the demo ------------------------------------------------------------------

# The city's key sectors (choices.SECTORS) a firm of a division may carry; demo firms carry one or two.
SECTORS_OF_INDUSTRY = {
    "C31": ["steel"], "C32": ["materials"], "C30": ["materials"], "C26": ["materials"], "C34": ["cnc_robot"],
    "C35": ["cnc_robot", "power_equip"], "C36": ["truck", "nev"], "C38": ["power_equip", "nev"],
    "C39": ["computing", "ic"], "C27": ["biomed", "health"], "C14": ["health"],
}  # fmt: skip
REGISTER_EXTRA_SHARE = 0.3  # register firms that have not signed up, per demo firm
REGISTER_COLUMNS = ["uscc", "name", "district", "industry", "size_class", "leading_chain", "sectors"]


def _register_sectors(rnd: random.Random, industry: str) -> str:
    options = SECTORS_OF_INDUSTRY.get(industry, [])
    if not options or rnd.random() < 0.35:
        return ""
    return sectors_encode(rnd.sample(options, 2 if len(options) > 1 and rnd.random() < 0.25 else 1))


@transaction.atomic
def register_seed(*, extra_share: float = REGISTER_EXTRA_SHARE, seed: int = 2026, summaries: bool = True) -> int:
    """A demo business register (coverage's denominator): every firm not in it yet, plus ``extra_share`` as
    many firms that have not signed up (so the demo shows firms "not yet assessed"). Returns the rows added.

    The demo writes the register directly, like its firms; a real register comes through import_register. The
    sectors it gives the firms are in the summary tables after their rebuild at the end (``summaries=False``:
    the caller rebuilds them)."""
    rnd = random.Random(seed)
    now = datetime.now(tz=TZ)
    taken = set(RegisterEntry.objects.values_list("uscc", flat=True))
    rows = []
    firms = Enterprise.objects.exclude(uscc__in=taken).order_by("id")
    for code, name, district, industry, size, chain in firms.values_list(
        "uscc", "name", "district", "industry", "size_class", "leading_chain"
    ).iterator(chunk_size=2000):
        taken.add(code)
        rows.append((code, name[:100], district, industry, size, chain, _register_sectors(rnd, industry), now, now))
    taken |= set(Enterprise.objects.values_list("uscc", flat=True))
    for _n in range(round(len(rows) * extra_share)):
        district = _weighted(rnd, DISTRICT_WEIGHTS)
        industry = _weighted(rnd, INDUSTRY_WEIGHTS)
        name = (
            f"{rnd.choice(NAME_HEADS)}{rnd.choice(NAME_CORES)}{rnd.choice(NAME_CORES)}"
            f"{NAME_TRADES.get(industry, '制造')}有限公司"
        )
        size = _weighted(rnd, SIZE_WEIGHTS)
        rows.append(
            (
                demo_uscc(rnd, district, taken),
                name,
                district,
                industry,
                size,
                CHAIN_OF_INDUSTRY.get(industry, "OTHER"),
                _register_sectors(rnd, industry),
                now,
                now,
            )
        )
    for start in range(0, len(rows), 2000):
        _insert_rows(RegisterEntry, [*REGISTER_COLUMNS, "imported_at", "updated_at"], rows[start : start + 2000])
    if summaries:
        summaries_rebuild()
    return len(rows)
