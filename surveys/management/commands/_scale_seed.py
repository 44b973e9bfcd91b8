"""The bulk seeding of `make bench-scale`: a million demo firms on PostgreSQL by COPY and set-based SQL.

The firms, their rounds and the business register follow seed_demo's distributions (surveys/demo.py: the same
generator draws each firm's district, industry, size, chain, latent maturity and rounds). What would cost
most per round is not done per round: answering and scoring (about 0.25 ms a round, five minutes for a
million firms) is done for a pool of answer sets, a few dozen per (version, share of 不清楚, maturity band of
0.1), and each round takes one set of its band. The pool's answers, dimension results and scored results go
into temporary tables; the rounds are COPYed as (round, firm, pool set) rows, and one INSERT … SELECT per table
writes the assessments, answers and dimension results. So every stored level and index is what the scoring
engine gives for the stored answers, and the rows cost PostgreSQL's time, not Python's.

Secondary indexes and unique constraints of the loaded tables are dropped for the load and built afterwards
(one sort each instead of 50 million index insertions), and the foreign keys are not checked row by row
(``session_replication_role = replica``): every reference is made by this module, and the test
(tests/test_bench_scale.py) checks the result.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction

from surveys import demo, scoring, services
from surveys.models import (
    Answer,
    Assessment,
    DimensionResult,
    Enterprise,
    Membership,
    Questionnaire,
    RegisterEntry,
    SummaryCell,
    SummaryCount,
    SummaryFirm,
)

# Answer sets per (version, share of 不清楚, maturity band): enough that firms of one band differ, few enough to
# score in seconds (about 60 bands × 3 shares × 96 ≈ 17,000 sets for one version).
POOL_PER_BAND = 96
BAND = 0.1
MATURITY_RANGE = (-2.0, 5.5)  # beyond it every answer is 0 or 4 anyway (demo._answers clamps)
CONTEXTS_PER_VERSION = 500
BATCH = 20_000  # firms generated and COPYed at a time
LOADED_MODELS = (Enterprise, RegisterEntry, Assessment, Answer, DimensionResult)


@dataclass
class ScaleSeedReport:
    firms: int
    rounds: int = 0
    pool_sets: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # phase → seconds
    reused: bool = False

    @property
    def total(self) -> float:
        return sum(self.phases.values())


def scale_seeded(firms: int) -> bool:
    """Whether the database already holds exactly ``firms`` seeded firms with their summaries."""
    return Enterprise.objects.count() == firms and SummaryCell.objects.exists()


class _Phases:
    def __init__(self, report: ScaleSeedReport, say: Callable[[str], None]):
        self.report, self.say = report, say

    def run(self, name: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = fn()
        self.report.phases[name] = time.perf_counter() - start
        self.say(f"  {name}: {self.report.phases[name]:.1f} s")
        return result


def scale_seed(
    *,
    firms: int,
    questionnaire: Questionnaire,
    previous: Questionnaire | None = None,
    seed: int = 2026,
    say: Callable[[str], None] = lambda line: None,
    pool_per_band: int = POOL_PER_BAND,
) -> ScaleSeedReport:
    """Replace every firm, round and register row with ``firms`` demo firms (PostgreSQL only), rebuild the
    summaries, and (outside a transaction) VACUUM ANALYZE. Returns the time of each phase."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the scale seeding uses COPY and PostgreSQL's catalogue: set DATABASE_URL to PostgreSQL")
    report = ScaleSeedReport(firms=firms)
    phases = _Phases(report, say)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # For this transaction: memory for the index builds and the summaries' grouping, no JIT (it compiles
            # the big INSERT … SELECTs for seconds and saves nothing), and unchecked foreign keys (see above).
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL synchronous_commit = off")
        phases.run("empty the tables, drop secondary indexes", _empty)
        indexes = _secondary_indexes()
        _drop(indexes)
        generator = demo._DemoGenerator(random.Random(seed), questionnaire, previous)
        pool = _Pool(generator, random.Random(seed + 1), pool_per_band)
        phases.run("generate and COPY firms and rounds", lambda: _firms_and_rounds(generator, pool, firms, report))
        report.pool_sets = pool.size
        phases.run("write assessments, answers, results (INSERT … SELECT)", _expand_rounds)
        phases.run("business register (COPY)", lambda: demo.register_seed(seed=seed, summaries=False))
        phases.run("build indexes and constraints", lambda: _create(indexes))
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")
            for model in LOADED_MODELS:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, "
                    "false)",
                    [table],
                )
        phases.run("ANALYZE loaded tables", _analyze)
        phases.run("summaries_rebuild()", services.summaries_rebuild)
    phases.run("VACUUM ANALYZE", services.summaries_vacuum_analyze)
    return report


def _empty() -> None:
    tables = [
        m._meta.db_table
        for m in (SummaryCount, SummaryCell, SummaryFirm, Membership, DimensionResult, Answer, Assessment)
    ]
    tables += [RegisterEntry._meta.db_table, Enterprise._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run over pending deferred checks
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute("SET LOCAL session_replication_role = replica")


@dataclass(frozen=True)
class _Index:
    table: str
    name: str
    constraint: bool  # a UNIQUE constraint (dropped and added with ALTER TABLE), else a plain index
    definition: str


def _secondary_indexes() -> list[_Index]:
    """The loaded tables' indexes other than their primary keys, and their unique constraints, as PostgreSQL
    would write them again."""
    tables = [m._meta.db_table for m in LOADED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'u' AND t.relname = ANY(%s) "
            "AND t.relnamespace = 'public'::regnamespace ORDER BY 1, 2",
            [tables],
        )
        found = [_Index(table, name, True, definition) for table, name, definition in cursor.fetchall()]
        cursor.execute(
            "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.indexname))::regclass AND c.contype IN ('p', 'u')) ORDER BY 1, 2",
            [tables],
        )
        found += [_Index(table, name, False, definition) for table, name, definition in cursor.fetchall()]
    return found


def _drop(indexes: list[_Index]) -> None:
    _execute_all(
        f'ALTER TABLE "{i.table}" DROP CONSTRAINT "{i.name}"' if i.constraint else f'DROP INDEX "{i.name}"'
        for i in indexes
    )


def _create(indexes: list[_Index]) -> None:
    _execute_all(
        f'ALTER TABLE "{i.table}" ADD CONSTRAINT "{i.name}" {i.definition}' if i.constraint else i.definition
        for i in indexes
    )


def _execute_all(statements: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _analyze() -> None:
    with connection.cursor() as cursor:
        for model in LOADED_MODELS:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


# --- the pool of scored answer sets ---------------------------------------------------------------------


class _Pool:
    """Scored answer sets, made on first use of their (version, share of 不清楚, maturity band) and written to
    the temporary tables scale_pool, scale_pool_answer, scale_pool_result; contexts to scale_context."""

    def __init__(self, generator: demo._DemoGenerator, rnd: random.Random, per_band: int):
        self.generator, self.rnd, self.per_band = generator, rnd, per_band
        self.bands: dict[tuple[int, float, int], range] = {}
        self.contexts: dict[int, range] = {}
        self.size = 0
        self.context_rows = 0
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE scale_pool (id integer PRIMARY KEY, index numeric(6, 2), "
                "provisional_level varchar(8), level varchar(8), result jsonb) ON COMMIT DROP"
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE scale_pool_answer (pool_id integer, item_id integer, score smallint, "
                "special varchar(8)) ON COMMIT DROP"
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE scale_pool_result (pool_id integer, dimension_id integer, "
                "score numeric(6, 2), unknown_share numeric(5, 4), insufficient_data boolean) ON COMMIT DROP"
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE scale_context (id integer PRIMARY KEY, context jsonb) ON COMMIT DROP"
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE scale_round (id integer, enterprise_id integer, questionnaire_id integer, "
                "label varchar(32), at timestamptz, latest boolean, pool_id integer, context_id integer) "
                "ON COMMIT DROP"
            )

    def pick(self, version: demo._Version, unknown_rate: float, maturity: float) -> int:
        low, high = MATURITY_RANGE
        band = int((min(max(maturity, low), high - 1e-9) - low) / BAND)
        key = (version.questionnaire.id, unknown_rate, band)
        ids = self.bands.get(key)
        if ids is None:
            ids = self.bands[key] = self._make(version, unknown_rate, low + band * BAND)
        return self.rnd.choice(ids)

    def context(self, version: demo._Version) -> int:
        ids = self.contexts.get(version.questionnaire.id)
        if ids is None:
            first = self.context_rows + 1
            rows = [
                (first + n, json.dumps(self.generator._context(version), ensure_ascii=False))
                for n in range(CONTEXTS_PER_VERSION)
            ]
            _copy("scale_context", ["id", "context"], rows)
            self.context_rows += len(rows)
            ids = self.contexts[version.questionnaire.id] = range(first, first + len(rows))
        return self.rnd.choice(ids)

    def _make(self, version: demo._Version, unknown_rate: float, band_low: float) -> range:
        first = self.size + 1
        sets, answers, results = [], [], []
        for pool_id in range(first, first + self.per_band):
            maturity = band_low + self.rnd.random() * BAND
            given = demo._answers(self.rnd, version.items, maturity, unknown_rate)
            result = scoring.score(version.definition, given)
            sets.append(
                (
                    pool_id,
                    Decimal(str(round(result.index, 2))),
                    result.provisional_level,
                    result.level,
                    json.dumps(result.as_dict(), ensure_ascii=False),
                )
            )
            for code, value in given.items():
                score, special = (value, "") if type(value) is int else (None, value)
                answers.append((pool_id, version.item_ids[code], score, special))
            for dim in result.dimensions:
                results.append(
                    (
                        pool_id,
                        version.dimension_ids[dim.code],
                        None if dim.score is None else Decimal(str(round(dim.score, 2))),
                        Decimal(str(round(dim.unknown_share, 4))),
                        dim.insufficient_data,
                    )
                )
        _copy("scale_pool", ["id", "index", "provisional_level", "level", "result"], sets)
        _copy("scale_pool_answer", ["pool_id", "item_id", "score", "special"], answers)
        _copy("scale_pool_result", ["pool_id", "dimension_id", "score", "unknown_share", "insufficient_data"], results)
        self.size += self.per_band
        return range(first, first + self.per_band)


def _copy(table: str, columns: list[str], rows: Iterable[tuple[object, ...]]) -> None:
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.connection.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


# --- firms and rounds -----------------------------------------------------------------------------------


def _firms_and_rounds(generator: demo._DemoGenerator, pool: _Pool, firms: int, report: ScaleSeedReport) -> None:
    """The firms' rows (COPY into the firm table) and their rounds' rows (COPY into scale_round), BATCH at a
    time, with ids handed out here (the tables were emptied and their sequences restarted)."""
    round_id = 0
    for start in range(0, firms, BATCH):
        enterprises, rounds = [], []
        for enterprise_id in range(start + 1, min(start + BATCH, firms) + 1):
            row, profile = generator._enterprise(enterprise_id)
            enterprises.append(row)
            for _firm, label, maturity, when, latest, unknown_rate in generator._plan_rounds(*profile):
                version = generator.current if latest else generator.previous
                round_id += 1
                rounds.append(
                    (
                        round_id,
                        enterprise_id,
                        version.questionnaire.id,
                        label,
                        when,
                        latest,
                        pool.pick(version, unknown_rate, maturity),
                        pool.context(version),
                    )
                )
        _copy(Enterprise._meta.db_table, ["id", *demo.ENTERPRISE_COLUMNS], enterprises)
        _copy(
            "scale_round",
            ["id", "enterprise_id", "questionnaire_id", "label", "at", "latest", "pool_id", "context_id"],
            rounds,
        )
    report.rounds = round_id


def _expand_rounds() -> None:
    """The assessments, answers and dimension results of every round, from its pool set: one statement each."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Assessment._meta.db_table} (id, enterprise_id, questionnaire_id, label, status, "
            "last_page, created_at, updated_at, submitted_at, index, provisional_level, level, result, is_latest, "
            "context) SELECT r.id, r.enterprise_id, r.questionnaire_id, r.label, %s, 1, r.at, r.at, r.at, p.index, "
            "p.provisional_level, p.level, p.result, r.latest, c.context FROM scale_round r "
            "JOIN scale_pool p ON p.id = r.pool_id JOIN scale_context c ON c.id = r.context_id ORDER BY r.id",
            [Assessment.STATUS_SUBMITTED],
        )
        cursor.execute(
            f"INSERT INTO {Answer._meta.db_table} (assessment_id, item_id, score, special, note, revision, "
            "updated_at) SELECT r.id, a.item_id, a.score, a.special, '', 1, r.at FROM scale_round r "
            "JOIN scale_pool_answer a ON a.pool_id = r.pool_id"
        )
        cursor.execute(
            f"INSERT INTO {DimensionResult._meta.db_table} (assessment_id, dimension_id, score, unknown_share, "
            "insufficient_data) SELECT r.id, d.dimension_id, d.score, d.unknown_share, d.insufficient_data "
            "FROM scale_round r JOIN scale_pool_result d ON d.pool_id = r.pool_id"
        )
