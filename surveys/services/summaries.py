"""Maintenance of the summary tables (surveys/models.py, "summary tables"; README "Summary tables").

Every change to what the summaries count is applied in the transaction of the write that makes it:

- a submission adds the round to its label's cells and to the "latest" cells, and takes the firm's previous
  latest round out of the "latest" cells (:func:`summaries_add_round`);
- a change of a firm's district, industry, size or chain, or a corrected USCC (which changes the register row,
  hence the sectors, the firm is counted under), takes all the firm's rounds out of its cells before the
  change and puts them back after it (:func:`summaries_enterprise_remove`, :func:`summaries_enterprise_add`);
  so does an import of the business register for the firms whose sectors it changes (sector cells only);
- a new firm counts in the registered firms (:func:`summaries_enterprise_add` with ``rounds=False``);
- each round also counts its previous round (the firm's round submitted before it: label, level, index) for the
  change since the previous round; a round corrected (re-scored: :func:`summaries_round_delete`, then
  :func:`summaries_round_insert`), deleted or written between two others moves the round submitted after it too,
  whose previous round it is or was;
- coverage's grains (SUMMARY_COVERAGE_GRAINS) take the attributes of the firm's register row: a register import
  or deletion moves the firms whose row appears, goes or changes (surveys/services/register.py), with the sector
  grains, and recomputes the register's own counts (SummaryRegister, :func:`summaries_register_recount`).

All of them go through one piece of SQL (:func:`_apply`): the rounds as rows (their selection, sign and the
firm's attributes at that moment), expanded to every grain's cell, grouped, and added to the stored cells with
``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``: a delta, never a read-modify-write, so concurrent
submissions of different firms stay exact on PostgreSQL (each row is locked by its upsert until the commit;
rows are upserted in key order, so two transactions never wait for each other in a circle). Two statements
per change (cells, then their counts), whatever the number of grains and answers.

:func:`summaries_rebuild` recomputes everything from the stored results with the same SQL (the fine grains
from the rounds, the coarser grains summed from them); :func:`summaries_differences` recomputes it without
writing and compares. Rows a removal left at zero are kept (they count nothing) until the next rebuild.

Writes that bypass the services are not followed (the Django admin's firm form and its deletions, rows written
in bulk): call :func:`summaries_enterprise_remove` before deleting firms, :func:`summaries_round_delete` before
deleting a round, :func:`summaries_round_insert` after writing one, or ``rebuild_summaries`` after bulk writes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, ExtractYear, Round

from .. import choices
from ..models import (
    SUMMARY_ANY,
    SUMMARY_ANY_YEAR,
    SUMMARY_COVERAGE_GRAINS,
    SUMMARY_FINE_GRAINS,
    SUMMARY_GRAINS,
    SUMMARY_LATEST,
    SUMMARY_OPTION_LENGTH,
    SUMMARY_REGISTER_GRAINS,
    SUMMARY_WEAK_SCORE,
    Answer,
    Assessment,
    Dimension,
    DimensionResult,
    Enterprise,
    RegisterEntry,
    SummaryCell,
    SummaryCount,
    SummaryFirm,
    SummaryRegister,
    sector_pair,
)
from ..selectors.compiled import Compiled, Slots, compile_once

# The attributes a grain may keep apart, in the order of the cell's key.
ATTRIBUTES = ("year", "district", "industry", "size_class", "leading_chain", "sector")
CELL_KEY = ("grain", "label", "questionnaire_id", "level", *ATTRIBUTES)
COUNT_KEY = ("kind", "code", "option", "value")
FIRM_KEY = ("district", "industry", "size_class", "leading_chain", "sector")
REGISTER_KEY = ("grain", *FIRM_KEY)
ALL_GRAINS = tuple(SUMMARY_GRAINS)
# The grains with SummaryCount rows (the coverage grains only count rounds).
COUNTED_GRAINS = tuple(grain for grain in SUMMARY_GRAINS if grain not in SUMMARY_COVERAGE_GRAINS)


def _rollup_source(grain: str) -> str:
    sector = "sector" in SUMMARY_GRAINS[grain]
    if grain in SUMMARY_COVERAGE_GRAINS:
        return "cov_sec_fine" if sector else "cov_fine"
    return "sector_fine" if sector else "fine"


# The grains the rebuild sums from a fine one: each from the fine grain of its kind.
ROLLUPS = {grain: _rollup_source(grain) for grain in SUMMARY_GRAINS if grain not in SUMMARY_FINE_GRAINS}


def _grain_kind(grain: str) -> str:
    """Where a grain's rows come from (a branch of _rounds_ctes): the firm's profile ("firm"), with the sectors
    of its register row ("sector"), the register row ("register", "register_sector"), or the firm's profile for
    the firms with no register row ("unregistered")."""
    sector = "sector" in SUMMARY_GRAINS[grain]
    if grain == "cov_out":
        return "unregistered"
    if grain in SUMMARY_COVERAGE_GRAINS:
        return "register_sector" if sector else "register"
    return "sector" if sector else "firm"


# How many firms a register import may move one by one; beyond it the summaries are rebuilt.
MOVE_LIMIT = 2000


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# The SQL below is built anew for each submission from a few hundred quoted names; they are kept (both
# databases the project runs on quote a name the same way, in double quotes), and so is each piece of SQL
# that depends on its arguments alone.
@functools.cache
def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(names: Iterable[str], alias: str = "") -> str:
    return _columns_of(tuple(names), alias)


@functools.cache
def _columns_of(names: tuple[str, ...], alias: str) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + _q(name) for name in names)


@dataclass(frozen=True)
class _Sql:
    text: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: _Sql | str) -> _Sql:
        if isinstance(other, str):
            return _Sql(self.text + other, self.params)
        return _Sql(self.text + other.text, self.params + other.params)


def _join(parts: Sequence[_Sql], separator: str) -> _Sql:
    return _Sql(separator.join(p.text for p in parts), tuple(p for part in parts for p in part.params))


# --- the rounds as rows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """Submitted rounds counted (``sign`` 1) or taken out (-1) in the cells of their label, or (``latest``) in
    the "latest" cells: which rounds are their firms' latest is the caller's to say."""

    rounds: QuerySet[Assessment]
    latest: bool
    sign: int
    # A round left out when each round's previous round is looked up: the one being deleted (as its successor is
    # counted once it is gone), or being inserted (as its successor was counted before it came).
    excluded: int | None = None


PART_COLUMNS = (
    "rid",
    "label",
    "sign",
    "qid",
    "level",
    "year",
    "district",
    "industry",
    "size_class",
    "leading_chain",
    "uscc",
    "idx",
    # The firm's previous submitted round (by time of submission, of any version): label, level, index.
    "p_label",
    "p_level",
    "p_idx",
)


def _part_sql(part: _Part) -> _Sql:
    """The rounds' rows (PART_COLUMNS) as the ORM writes them: the firm's attributes as stored now, the year of
    submission in the site's time zone (as the year filter reads it) and the index in hundredths.

    The rows' SELECT is compiled once per kind of part (:func:`_part_template`) around a placeholder for the
    rounds, and each part's own query is put in its place: a submission has three parts, and compiling the
    annotations anew for each cost more than the statement's run."""
    rounds = part.rounds.filter(status=Assessment.STATUS_SUBMITTED).order_by().values("id")
    ids_sql, ids_params = rounds.query.sql_with_params()
    template = _part_template(part.latest, part.sign)
    before, after = template.sql.split(_ROUNDS_PLACEHOLDER)
    params = template.params_for({"excluded": NO_ROUND if part.excluded is None else part.excluded})
    return _Sql(before + ids_sql + after, (*params, *ids_params))


_ROUNDS_PLACEHOLDER = "__jinan_rounds__"
NO_ROUND = -1  # no round has this id


@functools.cache
def _part_template(latest: bool, sign: int) -> Compiled:
    """The SQL of a part's rows with ``_ROUNDS_PLACEHOLDER`` where the rounds' ids go, and its parameters, which
    all come before the placeholder (they are the SELECT's; the WHERE has no other condition); the round left
    out of the previous-round lookups is the slot "excluded" (selectors/compiled.py)."""
    template = compile_once(functools.partial(_part_rows, latest, sign))
    if template.sql.count(_ROUNDS_PLACEHOLDER) != 1:
        raise AssertionError("the rounds' placeholder must appear once in the part's SQL")
    return template


def _part_rows(latest: bool, sign: int, slots: Slots) -> QuerySet[Assessment, Any]:
    year = ExtractYear("submitted_at", tzinfo=ZoneInfo(settings.TIME_ZONE))
    # The previous round as LAG over the firm's submitted rounds ordered by (submitted_at, id) finds it.
    earlier = Q(submitted_at__lt=OuterRef("submitted_at")) | Q(
        submitted_at=OuterRef("submitted_at"), id__lt=OuterRef("id")
    )
    previous = (
        Assessment.objects.filter(earlier, enterprise_id=OuterRef("enterprise_id"), status=Assessment.STATUS_SUBMITTED)
        .exclude(id=slots.integer("excluded"))
        .order_by("-submitted_at", "-id")
    )
    previous_index = previous.annotate(h=Cast(Round(F("index") * Value(100)), IntegerField()))
    rows = (
        Assessment.objects.filter(id__in=RawSQL(_ROUNDS_PLACEHOLDER, ()))
        .order_by()
        .annotate(
            s_label=Value(SUMMARY_LATEST) if latest else F("label"),
            s_sign=Value(sign),
            s_year=Coalesce(Cast(year, IntegerField()), Value(SUMMARY_ANY_YEAR)),
            s_district=F("enterprise__district"),
            s_industry=F("enterprise__industry"),
            s_size=F("enterprise__size_class"),
            s_chain=F("enterprise__leading_chain"),
            s_uscc=F("enterprise__uscc"),
            s_index=Cast(Round(F("index") * Value(100)), IntegerField()),
            s_p_label=Subquery(previous.values("label")[:1]),
            s_p_level=Subquery(previous.values("level")[:1]),
            s_p_index=Subquery(previous_index.values("h")[:1]),
        )
        .values_list(
            "id",
            "s_label",
            "s_sign",
            "questionnaire_id",
            "level",
            "s_year",
            "s_district",
            "s_industry",
            "s_size",
            "s_chain",
            "s_uscc",
            "s_index",
            "s_p_label",
            "s_p_level",
            "s_p_index",
        )
    )
    return rows


# A sector code as the summaries' SQL writes it, as a literal (_sectors_sql).
_SECTOR_CODE = re.compile(r"[a-z0-9_]+")


@functools.cache
def _sectors_sql() -> _Sql:
    """The codes of the summaries' sector column as rows (code, tag_a, tag_b, pair): each key sector (both tags
    the sector, ``pair`` 0) and each pair of them (models.sector_pair, ``pair`` 1); a register row carries a code
    when it holds both tags.

    One VALUES list of literals, written once: the codes are the constants of choices.SECTORS (checked here),
    and as parameters their 165 values cost a submission more to bind than the statement to run."""
    codes = [code for code, _label in choices.SECTORS]
    if not all(_SECTOR_CODE.fullmatch(code) for code in codes):
        raise ValueError("a sector code the summaries' SQL cannot write as a literal")
    rows = [(code, code, code, 0) for code in codes]
    rows += [(sector_pair(a, b), a, b, 1) for n, a in enumerate(codes) for b in codes[n + 1 :]]
    values = ", ".join(f"('{code}', '{a}', '{b}', {pair})" for code, a, b, pair in rows)
    # A VALUES list's columns are column1, column2 … on both databases.
    names = f"column1 AS {_q('code')}, column2 AS {_q('tag_a')}, column3 AS {_q('tag_b')}, column4 AS {_q('pair')}"
    return _Sql(f"SELECT {names} FROM (VALUES {values}) v")


def _tagged(register: str, sectors: str) -> str:
    """The condition that the register row ``register`` carries the code of the row ``sectors`` of
    _sectors_sql: its stored tags (",a,b,") hold ",tag_a," and ",tag_b,"."""
    column = f"{register}.{_q('sectors')}"
    return " AND ".join(f"{column} LIKE '%%,' || {sectors}.{_q(tag)} || ',%%'" for tag in ("tag_a", "tag_b"))


def _grains_sql(grains: Sequence[str]) -> str:
    """The grains as rows: their name, kind (_grain_kind) and a 0/1 flag per attribute they keep apart
    (constants, no input)."""
    rows = []
    for grain in grains:
        flags = ", ".join(f"{int(a in SUMMARY_GRAINS[grain])} AS {_q('g_' + a)}" for a in ATTRIBUTES)
        rows.append(f"SELECT '{grain}' AS {_q('grain')}, '{_grain_kind(grain)}' AS {_q('kind')}, {flags}")
    return " UNION ALL ".join(rows)


def _rounds_ctes(parts: Sequence[_Part], grains: Sequence[str]) -> _Sql:
    """WITH parts, grains, sectors, expanded: one row per round and cell (CELL_KEY, pair, rid, sign, idx).

    A grain that sums over an attribute has SUMMARY_ANY (year: SUMMARY_ANY_YEAR) in its place; the sector
    grains take the round once per sector of the register row with the firm's USCC and once per pair of them
    (``pair`` 1), the other grains once. The coverage grains take the attributes from that register row (or
    count the rounds of firms without one), with no level and no index."""
    unions = _join([_Sql("SELECT * FROM (") + _part_sql(p) + ") p" for p in parts], " UNION ALL ")
    register, sectors, grain = _table(RegisterEntry), _q("sectors"), _q("grain")
    # A register row's sectors: ",a,b," holds ",a,".
    tagged = f"JOIN {sectors} s ON {_tagged('r', 's')}"
    on_uscc = f"r.{_q('uscc')} = p.{_q('uscc')}"
    sector_code = f"s.{_q('code')} AS {_q('sector')}, s.{_q('pair')}"
    no_sector = f"'' AS {_q('sector')}, 0 AS {_q('pair')}"
    joins = {
        "firm": ("p", no_sector, ""),
        "sector": ("p", sector_code, f"JOIN {register} r ON {on_uscc} {tagged}"),
        "register": ("r", no_sector, f"JOIN {register} r ON {on_uscc}"),
        "register_sector": ("r", sector_code, f"JOIN {register} r ON {on_uscc} {tagged}"),
        "unregistered": ("p", no_sector, ""),
    }
    branches = []
    for kind in sorted({_grain_kind(g) for g in grains}, key=list(joins).index):
        source, sector, join = joins[kind]
        coverage = kind not in ("firm", "sector")
        columns = [f"g.{grain}", f"p.{_q('label')}", f"p.{_q('qid')} AS {_q('questionnaire_id')}"]
        columns.append(f"'{SUMMARY_ANY}' AS {_q('level')}" if coverage else f"p.{_q('level')}")
        for attribute in ATTRIBUTES[:-1]:
            whole = str(SUMMARY_ANY_YEAR) if attribute == "year" else f"'{SUMMARY_ANY}'"
            value = f"{'p' if attribute == 'year' else source}.{_q(attribute)}"
            columns.append(f"CASE WHEN g.{_q('g_' + attribute)} = 1 THEN {value} ELSE {whole} END AS {_q(attribute)}")
        columns += [sector, f"p.{_q('rid')}", f"p.{_q('sign')}"]
        # CAST: a union of coverage branches alone still has an integer index column.
        columns.append(f"CAST(NULL AS INTEGER) AS {_q('idx')}" if coverage else f"p.{_q('idx')}")
        if coverage:  # no counts: the previous round is not needed
            columns += [
                f"CAST(NULL AS VARCHAR(32)) AS {_q('p_label')}",
                f"CAST(NULL AS VARCHAR(8)) AS {_q('p_level')}",
                f"CAST(NULL AS INTEGER) AS {_q('p_idx')}",
            ]
        else:
            columns += [f"p.{_q(c)}" for c in ("p_label", "p_level", "p_idx")]
        where = f"g.{_q('kind')} = '{kind}'"
        if kind == "unregistered":
            where += f" AND NOT EXISTS (SELECT 1 FROM {register} r WHERE {on_uscc})"
        branches.append(
            f"SELECT {', '.join(columns)} FROM {_q('parts')} p {join} CROSS JOIN {_q('grains')} g WHERE {where}"
        )
    return (
        _Sql(f"WITH {_q('parts')}({_columns(PART_COLUMNS)}) AS (")
        + unions
        + f"), {_q('grains')} AS ({_grains_sql(grains)}), {_q('sectors')} AS ("
        + _sectors_sql()
        + f"), {_q('expanded')} AS ({' UNION ALL '.join(branches)})"
    )


@functools.cache
def _cell_rows_sql(source: str) -> str:
    """The cells' figures from the expanded rows of ``source`` (a CTE name), grouped by CELL_KEY."""
    key = _columns(CELL_KEY)
    return (
        f"SELECT {key}, SUM({_q('sign')}) AS {_q('rounds')}, "
        f"SUM(CASE WHEN {_q('idx')} IS NULL THEN 0 ELSE {_q('sign')} END) AS {_q('indexed')}, "
        f"SUM({_q('sign')} * COALESCE({_q('idx')}, 0)) AS {_q('index_total')} "
        f"FROM {_q(source)} WHERE 1 = 1 GROUP BY {key}"
        # A round taken out where another goes in changes nothing there: no write (and no lock).
        f" HAVING SUM({_q('sign')}) <> 0 OR SUM({_q('sign')} * COALESCE({_q('idx')}, 0)) <> 0"
        f" OR SUM(CASE WHEN {_q('idx')} IS NULL THEN {_q('sign')} ELSE 0 END) <> 0"
    )


@functools.cache
def _hundredths(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS INTEGER)"


def _not_pair(alias: str) -> str:
    """The expanded row ``alias`` is not a pair of sectors' (whose cells keep only the dimension counts)."""
    return f"{alias}.{_q('pair')} = 0"


def _context_sql(source: str, key: Sequence[str]) -> str:
    """The rows of the context answers: one per chosen option (each once) and one per question answered."""
    context = f"a.{_q('context')}"
    if connection.vendor == "postgresql":
        chosen = "q.value -> 'choices'"
        questions = (
            f"CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof({context}) = 'object' THEN {context} "
            "ELSE '{}'::jsonb END) q"
        )
        options = (
            f"CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof({chosen}) = 'array' "
            f"THEN {chosen} ELSE '[]'::jsonb END) o(value)"
        )
        answered = f"jsonb_typeof({chosen}) = 'array' AND jsonb_array_length({chosen}) > 0"
    else:
        questions = f", json_each(CASE WHEN json_type({context}) = 'object' THEN {context} ELSE '{{}}' END) q"
        options = ", json_each(q.value, '$.choices') o"
        answered = "json_type(q.value, '$.choices') = 'array' AND json_array_length(q.value, '$.choices') > 0"
    rounds = f"FROM {_q(source)} x JOIN {_table(Assessment)} a ON a.{_q('id')} = x.{_q('rid')} {questions}"
    single = _not_pair("x")
    keys, x = _columns(key), _columns(key, "x")
    option = f"SUBSTR(o.value, 1, {SUMMARY_OPTION_LENGTH})"
    return (
        f"SELECT {keys}, 'context', {_q('question')}, {_q('chosen')}, 0, {_q('sign')}, 0 FROM ("
        f"SELECT DISTINCT {x}, x.{_q('rid')}, x.{_q('sign')}, q.key AS {_q('question')}, "
        f"{option} AS {_q('chosen')} {rounds} {options} WHERE {single}) chosen_options "
        f"UNION ALL SELECT {x}, 'context', q.key, '', 0, x.{_q('sign')}, 0 {rounds} WHERE {answered} AND {single}"
    )


def _count_rows_sql(source: str, key: Sequence[str]) -> str:
    """Every SummaryCount figure of the expanded rows of ``source`` (a CTE with ``key``, pair, rid, sign, idx),
    grouped by ``key`` and COUNT_KEY: the index and score histograms, the dimension counts, the answers per item
    and option, the context answers, the previous rounds. A pair of sectors' cells keep only the dimension
    counts: what the tables by sector under a sector filter read (surveys/selectors/summaries.py
    sector_codes_with)."""
    x = _columns(key, "x")
    single = _not_pair("x")
    results = (
        f"JOIN {_table(DimensionResult)} r ON r.{_q('assessment_id')} = x.{_q('rid')} "
        f"JOIN {_table(Dimension)} d ON d.{_q('id')} = r.{_q('dimension_id')}"
    )
    usable = f"NOT r.{_q('insufficient_data')} AND r.{_q('score')} IS NOT NULL"
    score = _hundredths(f"r.{_q('score')}")
    sign = f"x.{_q('sign')}"
    stats = " UNION ALL ".join(
        f"SELECT '{name}' AS {_q('stat')}" for name in ("results", "usable", "weak", "insufficient")
    )
    stat = f"st.{_q('stat')}"
    special, answer_score = f"a.{_q('special')}", f"a.{_q('score')}"
    named = ", ".join(f"{_q(c)}" for c in key)
    first = ", ".join(f"x.{_q(c)} AS {_q(c)}" for c in key)
    rows = [
        # The first branch names the columns of the union.
        f"SELECT {first}, 'index' AS {_q('kind')}, '' AS {_q('code')}, '' AS {_q('option')}, "
        f"x.{_q('idx')} AS {_q('value')}, {sign} AS {_q('rounds')}, 0 AS {_q('total')} "
        f"FROM {_q(source)} x WHERE x.{_q('idx')} IS NOT NULL AND {single}",
        f"SELECT {x}, 'score', d.{_q('code')}, '', {score}, {sign}, 0 FROM {_q(source)} x {results} "
        f"WHERE {usable} AND {single}",
        f"SELECT {x}, 'dim', d.{_q('code')}, {stat}, 0, {sign}, "
        f"CASE WHEN {stat} = 'usable' THEN {sign} * {score} ELSE 0 END FROM {_q(source)} x {results} "
        f"JOIN ({stats}) st ON ({stat} = 'results' OR ({stat} = 'usable' AND {usable}) "
        f"OR ({stat} = 'weak' AND {usable} AND r.{_q('score')} < {int(SUMMARY_WEAK_SCORE)}) "
        f"OR ({stat} = 'insufficient' AND r.{_q('insufficient_data')}))",
        f"SELECT {x}, 'item', '', CASE WHEN {special} = '' THEN CAST({answer_score} AS VARCHAR(8)) "
        f"ELSE {special} END, a.{_q('item_id')}, {sign}, 0 FROM {_q(source)} x "
        f"JOIN {_table(Answer)} a ON a.{_q('assessment_id')} = x.{_q('rid')} "
        f"WHERE {single} AND ({special} IN ('unknown', 'na') OR ({special} = '' AND {answer_score} IS NOT NULL))",
        _context_sql(source, key),
        # The change since each round's previous round: per label of the previous round, the rounds (``rounds``)
        # with the previous round's level (``option``) and index sum (``total``, "prev"), and with their own
        # index sum ("prevnow"; their own level is the cell's).
        f"SELECT {x}, 'prev', x.{_q('p_label')}, COALESCE(x.{_q('p_level')}, ''), 0, {sign}, "
        f"{sign} * COALESCE(x.{_q('p_idx')}, 0) FROM {_q(source)} x WHERE x.{_q('p_label')} IS NOT NULL AND {single}",
        f"SELECT {x}, 'prevnow', x.{_q('p_label')}, '', 0, {sign}, {sign} * COALESCE(x.{_q('idx')}, 0) "
        f"FROM {_q(source)} x WHERE x.{_q('p_label')} IS NOT NULL AND {single}",
    ]
    grouped = f"{named}, {_columns(COUNT_KEY)}"
    return (
        f"SELECT {grouped}, SUM({_q('rounds')}) AS {_q('rounds')}, SUM({_q('total')}) AS {_q('total')} FROM ("
        + " UNION ALL ".join(rows)
        + f") counted WHERE 1 = 1 GROUP BY {grouped} HAVING SUM({_q('rounds')}) <> 0 OR SUM({_q('total')}) <> 0"
    )


@functools.cache
def _cell_match(left: str, right: str) -> str:
    return " AND ".join(f"{left}.{_q(c)} = {right}.{_q(c)}" for c in CELL_KEY)


def _upsert(
    model: type[Model], columns: Sequence[str], conflict: Sequence[str], added: Sequence[str]
) -> tuple[str, str]:
    """(INSERT INTO … (columns), ON CONFLICT … DO UPDATE adding ``added``): a delta, never an overwrite."""
    table = _table(model)
    head = f"INSERT INTO {table} ({_columns(columns)}) "
    updates = ", ".join(f"{_q(c)} = {table}.{_q(c)} + excluded.{_q(c)}" for c in added)
    return head, f" ON CONFLICT ({_columns(conflict)}) DO UPDATE SET {updates}"


def _apply(parts: Sequence[_Part], grains: Sequence[str] = ALL_GRAINS, *, empty: bool = False) -> None:
    """Add the rounds of ``parts`` (with their signs) to the cells of ``grains``: two statements.

    Rows are upserted in key order, so that concurrent writers lock the rows they share in the same order (and a
    bulk insert fills the unique index from one end). ``empty``: the tables are (the rebuild), plain inserts."""
    ctes = _rounds_ctes(parts, grains)
    cell_order = f" ORDER BY {_columns(CELL_KEY)}"
    count_order = f" ORDER BY {_columns(['cell_id', *COUNT_KEY])}"
    head, tail = _upsert(
        SummaryCell, [*CELL_KEY, "rounds", "indexed", "index_total"], CELL_KEY, ["rounds", "indexed", "index_total"]
    )
    if empty:
        tail = ""
    cells = ctes + f" {head}SELECT * FROM ({_cell_rows_sql('expanded')}) c WHERE 1 = 1{cell_order}{tail}"
    located = _located_sql()
    head, tail = _upsert(
        SummaryCount, ["cell_id", *COUNT_KEY, "rounds", "total"], ["cell_id", *COUNT_KEY], ["rounds", "total"]
    )
    if empty:
        tail = ""
    rows = _count_rows_sql("located", ["cell_id"])
    counts = ctes + located + f" {head}SELECT * FROM ({rows}) k WHERE 1 = 1{count_order}{tail}"
    # The coverage grains have no SummaryCount rows: a move of only those needs no second statement.
    statements = [cells, counts] if set(grains) & set(COUNTED_GRAINS) else [cells]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.text, statement.params)


# --- registered firms -------------------------------------------------------------------------------


def _firm_rows_sql(firms: QuerySet[Enterprise], *, sign: int, sectors_only: bool = False) -> _Sql:
    """The firms' rows of SummaryFirm (FIRM_KEY, firms), their own and one per sector of their register row (not
    per pair of sectors)."""
    ids_sql, ids_params = firms.order_by().values("id").query.sql_with_params()
    ids = _Sql(f" WHERE e.{_q('id')} IN ({ids_sql})", tuple(ids_params))
    attributes = ", ".join(f"e.{_q(c)} AS {_q(c)}" for c in FIRM_KEY[:-1])
    branches = []
    if not sectors_only:
        own = f"SELECT {attributes}, '' AS {_q('sector')}, {int(sign)} AS {_q('firms')} FROM {_table(Enterprise)} e"
        branches.append(_Sql(own) + ids)
    tagged = (
        f"SELECT {attributes}, s.{_q('code')} AS {_q('sector')}, {int(sign)} AS {_q('firms')} "
        f"FROM {_table(Enterprise)} e JOIN {_table(RegisterEntry)} r ON r.{_q('uscc')} = e.{_q('uscc')} JOIN ("
    )
    # One row per sector, no pairs: the registered firms are read for one sector at a time (analytics.summaries).
    like = f") s ON {_tagged('r', 's')} AND s.{_q('pair')} = 0"
    branches.append(_Sql(tagged) + _sectors_sql() + like + ids)
    key = _columns(FIRM_KEY)
    head = _Sql(f"SELECT {key}, SUM({_q('firms')}) AS {_q('firms')} FROM (")
    return head + _join(branches, " UNION ALL ") + f") f WHERE 1 = 1 GROUP BY {key}"


def _apply_firms(firms: QuerySet[Enterprise], *, sign: int, sectors_only: bool = False) -> None:
    head, tail = _upsert(SummaryFirm, [*FIRM_KEY, "firms"], FIRM_KEY, ["firms"])
    rows = _firm_rows_sql(firms, sign=sign, sectors_only=sectors_only)
    statement = _Sql(head + "SELECT * FROM (") + rows + f") f WHERE 1 = 1 ORDER BY {_columns(FIRM_KEY)}{tail}"
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)


# --- the business register's counts (coverage's registered firms) ----------------------------------------


def _register_rows_sql() -> _Sql:
    """The rows of SummaryRegister (REGISTER_KEY, firms) the register gives: "fine" by every attribute of the row
    (and per sector tag and pair of tags), "district" summed from those."""
    register, attributes = _table(RegisterEntry), _columns(FIRM_KEY[:-1], "r")
    kept = _columns(FIRM_KEY[:-1])
    own = (
        f"SELECT {attributes}, '' AS {_q('sector')}, COUNT(*) AS {_q('firms')} FROM {register} r GROUP BY {attributes}"
    )
    tagged = (
        f"SELECT {attributes}, s.{_q('code')}, COUNT(*) FROM {register} r JOIN {_q('sectors')} s "
        f"ON {_tagged('r', 's')} GROUP BY {attributes}, s.{_q('code')}"
    )
    whole = f"'{SUMMARY_ANY}'"
    return (
        _Sql(f"WITH {_q('sectors')} AS (") + _sectors_sql() + f"), {_q('fine')} AS ({own} UNION ALL {tagged}) "
        f"SELECT 'fine' AS {_q('grain')}, {kept}, {_q('sector')}, {_q('firms')} FROM {_q('fine')} "
        f"UNION ALL SELECT 'district', {_q('district')}, {whole}, {whole}, {whole}, {_q('sector')}, "
        f"SUM({_q('firms')}) FROM {_q('fine')} GROUP BY {_q('district')}, {_q('sector')}"
    )


def _register_counts_insert() -> None:
    statement = _register_rows_sql()
    insert = f"INSERT INTO {_table(SummaryRegister)} ({_columns([*REGISTER_KEY, 'firms'])}) SELECT * FROM ("
    with connection.cursor() as cursor:
        cursor.execute(insert + statement.text + f") x WHERE 1 = 1 ORDER BY {_columns(REGISTER_KEY)}", statement.params)


@transaction.atomic
def summaries_register_recount() -> None:
    """Recompute the register's counts (SummaryRegister) from the register rows: one grouped statement, in the
    transaction of the import or deletion that changed the register. The new rows' ids are coverage's cache
    marker (surveys/analytics/coverage.py, register_fingerprint), so it changes with every recount."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(SummaryRegister)}")
    _register_counts_insert()


# --- the services -----------------------------------------------------------------------------------


@transaction.atomic
def summaries_add_round(*, assessment: Assessment) -> None:
    """Count a round just submitted (and flagged latest): in its label's cells and in the "latest" cells, out
    of which goes the firm's previous latest round (its latest submission before this one, by time of
    submission: the round assessment_submit has just unflagged)."""
    previous = (
        Assessment.objects.filter(enterprise_id=assessment.enterprise_id, status=Assessment.STATUS_SUBMITTED)
        .exclude(id=assessment.id)
        .order_by("-submitted_at", "-id")
        .values("id")[:1]
    )
    this = Assessment.objects.filter(id=assessment.id)
    _apply(
        [
            _Part(this, latest=False, sign=1),
            _Part(this, latest=True, sign=1),
            _Part(Assessment.objects.filter(id__in=previous), latest=True, sign=-1),
        ]
    )


def _round_parts(rounds: QuerySet[Assessment], sign: int, excluded: int | None = None) -> list[_Part]:
    return [
        _Part(rounds, latest=False, sign=sign, excluded=excluded),
        _Part(rounds.filter(is_latest=True), latest=True, sign=sign, excluded=excluded),
    ]


def _next_round(assessment: Assessment) -> QuerySet[Assessment] | None:
    """The firm's round submitted next after ``assessment`` (None when there is none), locked until the
    caller's transaction ends: the round whose previous round it is, so its counts change with it. Locked after
    the round itself (the caller holds it), always in the order of submission, so that a submission of the firm
    (which takes out its latest round) or the re-scoring of a neighbouring round waits rather than counting from
    what this change is replacing. A round without a time of submission (written in bulk) is no round's previous
    one, as the lookup in :func:`_part_template` compares times."""
    if assessment.submitted_at is None:
        return None
    later = Q(submitted_at__gt=assessment.submitted_at) | Q(submitted_at=assessment.submitted_at, id__gt=assessment.id)
    following = list(
        Assessment.objects.filter(later, enterprise_id=assessment.enterprise_id, status=Assessment.STATUS_SUBMITTED)
        .exclude(id=assessment.id)
        .order_by("submitted_at", "id")
        .select_for_update()
        .values_list("id", flat=True)[:1]
    )
    return Assessment.objects.filter(id__in=following) if following else None


@transaction.atomic
def summaries_round_insert(*, assessment: Assessment) -> None:
    """Count a submitted round as it is stored (its label's cells, and the "latest" cells if it is flagged so),
    for rounds written without assessment_submit; call it after its answers and results are stored. The round
    the firm submitted next, if any, now has this one as its previous round: it is counted again with it."""
    this = Assessment.objects.filter(id=assessment.id)
    following = _next_round(assessment)
    if following is None:
        _apply(_round_parts(this, 1))
        return
    _apply(
        [
            *_round_parts(following, -1, excluded=assessment.id),
            *_round_parts(this, 1),
            *_round_parts(following, 1),
        ]
    )


@transaction.atomic
def summaries_round_delete(*, assessment: Assessment) -> None:
    """Take a submitted round out of the summaries as it is stored: call it before deleting the round (its
    firm then has no latest round until the next submission, as Assessment.is_latest says), or before changing
    its result, label or level (then :func:`summaries_round_insert` after). The round the firm submitted next,
    if any, is counted again with the round before this one as its previous round. Deleting several rounds of
    one firm: delete each round before the next call (the next call must not find it)."""
    this = Assessment.objects.filter(id=assessment.id)
    following = _next_round(assessment)
    if following is None:
        _apply(_round_parts(this, -1))
        return
    _apply(
        [
            *_round_parts(this, -1),
            *_round_parts(following, -1),
            *_round_parts(following, 1, excluded=assessment.id),
        ]
    )


def _firm_parts(firms: QuerySet[Enterprise], sign: int) -> list[_Part]:
    rounds = Assessment.objects.filter(enterprise__in=firms.values("id"))
    return [_Part(rounds, latest=False, sign=sign), _Part(rounds.filter(is_latest=True), latest=True, sign=sign)]


def _chunks(ids: Sequence[int], size: int = 1000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


@transaction.atomic
def summaries_enterprise_remove(
    *, enterprise_ids: Sequence[int], rounds: bool = True, sectors_only: bool = False
) -> None:
    """Take the firms (and with ``rounds`` all their submitted rounds) out of the summaries, as their district,
    industry, size, chain, USCC and register row say now: call it before changing any of these (and add them
    back after), or before deleting the firms. ``sectors_only``: only the cells that read the firm's register
    row (the sector and the coverage grains, SUMMARY_REGISTER_GRAINS): a change of the register or the USCC."""
    _move(enterprise_ids, -1, rounds=rounds, sectors_only=sectors_only)


@transaction.atomic
def summaries_enterprise_add(*, enterprise_ids: Sequence[int], rounds: bool = True, sectors_only: bool = False) -> None:
    """Count the firms (and with ``rounds`` all their submitted rounds) in the summaries as they are now: after a
    change :func:`summaries_enterprise_remove` was called before, or for a new firm (``rounds=False``)."""
    _move(enterprise_ids, 1, rounds=rounds, sectors_only=sectors_only)


def _move(enterprise_ids: Sequence[int], sign: int, *, rounds: bool, sectors_only: bool) -> None:
    grains = SUMMARY_REGISTER_GRAINS if sectors_only else ALL_GRAINS
    for chunk in _chunks(sorted(set(enterprise_ids))):
        firms = Enterprise.objects.filter(id__in=chunk)
        _apply_firms(firms, sign=sign, sectors_only=sectors_only)
        if rounds:
            _apply(_firm_parts(firms, sign), grains)


def summaries_enterprise_lock(*, enterprise_id: int) -> Enterprise:
    """The firm's row as stored, locked with its rounds until the caller's transaction ends (call it inside one):
    a submission of the firm, which holds its round, waits for a change of the firm's cells, or the change for
    the submission, so that neither misses the other; a new draft waits too (assessment_start locks the firm)."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    list(Assessment.objects.select_for_update().filter(enterprise_id=enterprise_id).values_list("id", flat=True))
    return enterprise


def register_sector_firms(usccs: Iterable[str]) -> list[int]:
    """The firms with these USCCs (those whose register cells a register change moves)."""
    codes = sorted(set(usccs))
    ids: list[int] = []
    for start in range(0, len(codes), 1000):
        ids.extend(Enterprise.objects.filter(uscc__in=codes[start : start + 1000]).values_list("id", flat=True))
    return ids


# --- rebuild and check ------------------------------------------------------------------------------


def _every_round_parts() -> list[_Part]:
    rounds = Assessment.objects.all()
    return [_Part(rounds, latest=False, sign=1), _Part(rounds.filter(is_latest=True), latest=True, sign=1)]


def _rollup_select(source: str, grain: str, extra: Sequence[str], sums: Sequence[str], key: Sequence[str] = ()) -> str:
    """The rows of ``grain`` summed from the rows of its fine grain in ``source`` (a table or CTE with
    CELL_KEY, ``extra`` and ``sums`` columns)."""
    kept = SUMMARY_GRAINS[grain]
    columns = [f"'{grain}' AS {_q('grain')}", _q("label"), _q("questionnaire_id"), _q("level")]
    for attribute in ATTRIBUTES:
        if attribute in kept:
            columns.append(_q(attribute))
        elif attribute == "year":
            columns.append(f"{SUMMARY_ANY_YEAR} AS {_q('year')}")
        elif attribute == "sector":
            columns.append(f"'' AS {_q('sector')}")
        else:
            columns.append(f"'{SUMMARY_ANY}' AS {_q(attribute)}")
    grouped = [_q(c) for c in ("label", "questionnaire_id", "level", *[a for a in ATTRIBUTES if a in kept], *extra)]
    summed = [f"SUM({_q(c)}) AS {_q(c)}" for c in sums]
    return (
        f"SELECT {', '.join(columns + [_q(c) for c in extra] + summed)} FROM {source} "
        f"WHERE {_q('grain')} = '{ROLLUPS[grain]}' GROUP BY {', '.join(grouped)}"
    )


@transaction.atomic
def summaries_rebuild() -> None:
    """Recompute every summary from the stored rounds, answers, results and register: the fine grains in two
    grouped statements over the stored rows, the others summed from them, the registered firms in one."""
    _bulk_settings()
    tables = [_table(model) for model in (SummaryCount, SummaryCell, SummaryFirm, SummaryRegister)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No dead rows left behind (autovacuum may be off); the pages wait for the rebuild's commit. The foreign
            # keys' deferred checks of earlier writes in this transaction run first (TRUNCATE refuses to run over
            # pending ones).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    _apply(_every_round_parts(), SUMMARY_FINE_GRAINS, empty=True)
    cell_columns = [*CELL_KEY, "rounds", "indexed", "index_total"]
    cells = " UNION ALL ".join(
        _rollup_select(_table(SummaryCell), grain, [], ["rounds", "indexed", "index_total"]) for grain in ROLLUPS
    )
    counted = _columns(COUNT_KEY, "k")
    counts = (
        f"WITH {_q('mapping')} AS ({_rollup_map_sql()}) "
        f"INSERT INTO {_table(SummaryCount)} ({_columns(['cell_id', *COUNT_KEY, 'rounds', 'total'])}) "
        f"SELECT m.{_q('cell_id')}, {counted}, SUM(k.{_q('rounds')}), SUM(k.{_q('total')}) "
        f"FROM {_table(SummaryCount)} k JOIN {_q('mapping')} m ON m.{_q('fine_id')} = k.{_q('cell_id')} "
        f"GROUP BY m.{_q('cell_id')}, {counted} ORDER BY m.{_q('cell_id')}, {counted}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_table(SummaryCell)} ({_columns(cell_columns)}) {cells}")
        cursor.execute(counts)
    _apply_firms(Enterprise.objects.all(), sign=1)
    _register_counts_insert()
    _drop_zero_rows()


def _drop_zero_rows() -> None:
    """Rows that count nothing (raw DELETEs: the ORM's would first read every cell for the cascade)."""
    count, cell = _table(SummaryCount), _table(SummaryCell)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {count} WHERE {_q('rounds')} = 0 AND {_q('total')} = 0")
        cursor.execute(
            f"DELETE FROM {cell} WHERE {_q('rounds')} = 0 AND {_q('indexed')} = 0 AND {_q('index_total')} = 0 "
            f"AND NOT EXISTS (SELECT 1 FROM {count} k WHERE k.{_q('cell_id')} = {cell}.{_q('id')})"
        )
        cursor.execute(f"DELETE FROM {_table(SummaryFirm)} WHERE {_q('firms')} = 0")


# Memory for the rebuild's and the check's grouping and sorting (PostgreSQL's default of 4 MB sends millions of
# rows to disk); for this transaction only.
BULK_WORK_MEM = "512MB"


def _bulk_settings() -> None:
    """For the rest of the transaction on PostgreSQL: no JIT (it compiles a query it estimates as expensive,
    jit_above_cost, which costs these grouped statements seconds and saves them nothing) and BULK_WORK_MEM."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")


@dataclass(frozen=True)
class SummaryDifference:
    table: str  # cells | counts | firms | register
    key: tuple[Any, ...]  # the row's key (a cell's key, then a count's)
    expected: tuple[Any, ...]  # what the stored results give (zeros: no row)
    stored: tuple[Any, ...]  # what is stored (zeros: no row)


@dataclass(frozen=True)
class SummaryCheck:
    differences: int  # rows whose figures differ, over all tables
    examples: list[SummaryDifference]

    @property
    def ok(self) -> bool:
        return self.differences == 0


def _compare(
    table: str, expected: _Sql, stored: str, key: Sequence[str], values: Sequence[str], examples: int
) -> tuple[int, list[SummaryDifference]]:
    """The keys whose figures differ between ``expected`` and ``stored`` (a missing row counts as zeros): one
    FULL JOIN on PostgreSQL, so each side is computed once; on SQLite (development, tests), whose joins are
    nested loops, both sides are read and compared here."""
    if connection.vendor != "postgresql":
        return _compare_here(table, expected, stored, len(key), len(values), examples)
    on = " AND ".join(f"e.{_q(c)} = s.{_q(c)}" for c in key)
    keys = ", ".join(f"COALESCE(e.{_q(c)}, s.{_q(c)})" for c in key)
    pairs = [(f"COALESCE(e.{_q(c)}, 0)", f"COALESCE(s.{_q(c)}, 0)") for c in values]
    differ = " OR ".join(f"{left} <> {right}" for left, right in pairs)
    columns = ", ".join([keys, *(left for left, _right in pairs), *(right for _left, right in pairs)])
    statement = (
        _Sql(f"SELECT {columns}, COUNT(*) OVER () FROM (")
        + expected
        + f") e FULL JOIN ({stored}) s ON {on} WHERE {differ} LIMIT {int(examples)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)
        rows = cursor.fetchall()
    n, width = len(key), len(values)
    found = [
        SummaryDifference(table, tuple(row[:n]), tuple(row[n : n + width]), tuple(row[n + width : n + 2 * width]))
        for row in rows
    ]
    return (int(rows[0][-1]) if rows else 0), found


def _compare_here(
    table: str, expected: _Sql, stored: str, n: int, width: int, examples: int
) -> tuple[int, list[SummaryDifference]]:
    sides = []
    with connection.cursor() as cursor:
        for statement in (expected, _Sql(stored)):
            cursor.execute(statement.text, statement.params)
            sides.append({tuple(row[:n]): tuple(int(v or 0) for v in row[n:]) for row in cursor.fetchall()})
    zero = (0,) * width
    found = [
        SummaryDifference(table, key, sides[0].get(key, zero), sides[1].get(key, zero))
        for key in sorted(set(sides[0]) | set(sides[1]), key=repr)
        if sides[0].get(key, zero) != sides[1].get(key, zero)
    ]
    return len(found), found[:examples]


@functools.cache
def _located_sql() -> str:
    """The expanded rows of the grains with counts, with the id of their stored cell (rows of a cell not stored
    are left out: the cells' comparison finds that cell)."""
    counted = ", ".join(f"'{grain}'" for grain in COUNTED_GRAINS)
    return (
        f", {_q('located')} AS (SELECT c.{_q('id')} AS {_q('cell_id')}, e.{_q('pair')}, e.{_q('rid')}, e.{_q('sign')}, "
        f"e.{_q('idx')}, e.{_q('p_label')}, e.{_q('p_level')}, e.{_q('p_idx')} "
        f"FROM {_q('expanded')} e JOIN {_table(SummaryCell)} c ON {_cell_match('c', 'e')} "
        f"WHERE e.{_q('grain')} IN ({counted}))"
    )


@functools.cache
def _rollup_map_sql() -> str:
    """(fine cell id, id of each coarser stored cell it is summed into), by the cells' keys."""
    cell = _table(SummaryCell)
    mappings = []
    for grain, source in ROLLUPS.items():
        if grain not in COUNTED_GRAINS:
            continue
        kept = SUMMARY_GRAINS[grain]
        match = [f"r.{_q(c)} = f.{_q(c)}" for c in ("label", "questionnaire_id", "level")]
        for attribute in ATTRIBUTES:
            whole = {"year": str(SUMMARY_ANY_YEAR), "sector": "''"}.get(attribute, f"'{SUMMARY_ANY}'")
            match.append(f"r.{_q(attribute)} = " + (f"f.{_q(attribute)}" if attribute in kept else whole))
        mappings.append(
            f"SELECT f.{_q('id')} AS {_q('fine_id')}, r.{_q('id')} AS {_q('cell_id')} FROM {cell} f "
            f"JOIN {cell} r ON r.{_q('grain')} = '{grain}' AND {' AND '.join(match)} WHERE f.{_q('grain')} = '{source}'"
        )
    return " UNION ALL ".join(mappings)


def _expected_counts_sql() -> _Sql:
    """Every SummaryCount row the stored results give, by stored cell id: the fine grains' from the rounds, the
    coarser ones summed from those (never from the stored counts)."""
    ctes = _rounds_ctes(_every_round_parts(), SUMMARY_FINE_GRAINS)
    fine = _count_rows_sql("located", ["cell_id"])
    counted = _columns(COUNT_KEY, "k")
    return ctes + (
        f"{_located_sql()}, {_q('fine_counts')} AS ({fine}), {_q('mapping')} AS ({_rollup_map_sql()}) "
        f"SELECT * FROM {_q('fine_counts')} UNION ALL SELECT m.{_q('cell_id')}, {counted}, "
        f"SUM(k.{_q('rounds')}), SUM(k.{_q('total')}) FROM {_q('fine_counts')} k "
        f"JOIN {_q('mapping')} m ON m.{_q('fine_id')} = k.{_q('cell_id')} GROUP BY m.{_q('cell_id')}, {counted}"
    )


@transaction.atomic
def summaries_differences(*, examples: int = 20) -> SummaryCheck:
    """What a rebuild would change, without writing: the summaries recomputed from the stored results (every
    grain from the rounds themselves, not from the stored fine cells) against the stored ones."""
    _bulk_settings()
    ctes = _rounds_ctes(_every_round_parts(), SUMMARY_FINE_GRAINS)
    cell_sums = ["rounds", "indexed", "index_total"]
    rollups = " UNION ALL ".join(_rollup_select(_q("fine_cells"), g, [], cell_sums) for g in ROLLUPS)
    cells = ctes + (
        f", {_q('fine_cells')} AS ({_cell_rows_sql('expanded')}) SELECT * FROM {_q('fine_cells')} UNION ALL {rollups}"
    )
    stored_cells = f"SELECT {_columns([*CELL_KEY, *cell_sums])} FROM {_table(SummaryCell)}"
    count_sums = ["rounds", "total"]
    counts = _expected_counts_sql()
    stored_counts = f"SELECT {_columns(['cell_id', *COUNT_KEY, *count_sums])} FROM {_table(SummaryCount)}"
    firms = _firm_rows_sql(Enterprise.objects.all(), sign=1)
    stored_firms = f"SELECT {_columns([*FIRM_KEY, 'firms'])} FROM {_table(SummaryFirm)}"
    stored_register = f"SELECT {_columns([*REGISTER_KEY, 'firms'])} FROM {_table(SummaryRegister)}"
    total, found = 0, list[SummaryDifference]()
    for table, expected, stored, key, values in (
        ("cells", cells, stored_cells, CELL_KEY, cell_sums),
        ("counts", counts, stored_counts, ["cell_id", *COUNT_KEY], count_sums),
        ("firms", firms, stored_firms, FIRM_KEY, ["firms"]),
        ("register", _register_rows_sql(), stored_register, REGISTER_KEY, ["firms"]),
    ):
        n, rows = _compare(table, expected, stored, key, values, examples)
        total += n
        found.extend(rows[: max(examples - len(found), 0)])
    return SummaryCheck(differences=total, examples=found)


def summaries_vacuum_analyze() -> None:
    """VACUUM ANALYZE on PostgreSQL (outside a transaction): bulk-loaded tables get their visibility map and
    planner statistics now, not whenever autovacuum comes round (or never, where it is off)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


__all__ = [
    "MOVE_LIMIT",
    "SummaryCheck",
    "SummaryDifference",
    "register_sector_firms",
    "summaries_add_round",
    "summaries_differences",
    "summaries_enterprise_add",
    "summaries_enterprise_lock",
    "summaries_enterprise_remove",
    "summaries_rebuild",
    "summaries_register_recount",
    "summaries_round_delete",
    "summaries_round_insert",
    "summaries_vacuum_analyze",
]
