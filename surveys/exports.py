"""CSV and XLSX exports of firm-level results, answers and the aggregate tables, for a scope and filters.

Rows are produced by generators over ``values_list(...).iterator(chunk_size=...)``: memory does not grow
with the number of firms. CSV is written with a UTF-8 byte-order mark so that Excel reads Chinese
correctly; XLSX with openpyxl's write-only mode.

Every text cell, headers included, goes through :func:`neutralise` (CWE-1236, ASVS 5.0 1.2.10): a value
starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or NUL gets a leading ``'`` so that a
spreadsheet shows it as text instead of evaluating it. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from . import analytics
from .choices import DISTRICTS, INDUSTRIES, LEADING_CHAINS, SIZE_CLASSES, ZONES
from .models import Answer, Dimension, DimensionResult
from .scopes import AdminScope

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
CHUNK_SIZE = 2000
# Excel's sheet limit is 1,048,576 rows, one of them the header.
XLSX_MAX_ROWS = 1_048_575

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)
DATASETS = ("firms", "answers", "aggregates")
FORMATS = ("csv", "xlsx")
SUPPRESSED = "<10"


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet cannot take for a formula; numbers, dates and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """A value ready for either writer: Decimal → float, aware datetimes → local naive, text neutralised."""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_STARTS else value
    if value is None or kind is int or kind is float:
        return value
    if kind is Decimal:
        return float(value)
    if kind is bool:
        return _("是") if value else _("否")
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.replace(tzinfo=None, microsecond=0)
    return neutralise(str(value))


class TooManyRowsError(Exception):
    """The export does not fit in one XLSX sheet."""


@dataclass(frozen=True)
class Table:
    """One exported table: a title (the XLSX sheet name, a CSV section heading), headers and rows."""

    title: str
    headers: list[str]
    rows: Iterable[list[Any]]
    count: Callable[[], int] | None = None  # the number of rows, when it is cheap to know in advance


# --- firm-level results -----------------------------------------------------------------------------


def _labels(pairs) -> dict[str, str]:
    return {code: str(label) for code, label in pairs}


def firms_table(scope: AdminScope, filters: analytics.Filters) -> Table:
    """One row per firm of the firm list (same scope and filters) with its selected round and dimension scores.

    Two streams read in step: the firms ordered by their selected round (firms without one last) and the
    rounds' dimension results in the same order, so the work and the memory per row stay constant.
    """
    dimensions = analytics.dimension_infos(analytics.reference_questionnaire())
    codes = [d.code for d in dimensions]
    firms = analytics.firms_with_round(scope, filters)
    contacts = scope.can_view_contacts
    columns = ["uscc", "name", "district", "zone", "industry", "size_class", "above_designated_size", "leading_chain"]
    if contacts:
        columns += ["contact_name", "contact_phone"]
    columns += [
        "selected__label",
        "selected__submitted_at",
        "selected__questionnaire__version",
        "selected__index",
        "selected__provisional_level",
        "selected__level",
        "selected__id",
    ]
    headers = [_("统一社会信用代码"), _("企业名称"), _("所在区县"), _("功能区/园区"), _("行业代码"), _("所属行业")]
    headers += [_("企业规模"), _("规模以上"), _("主导产业链")]
    if contacts:
        headers += [_("联系人"), _("联系电话")]
    headers += [_("轮次"), _("提交时间"), _("问卷版本"), _("综合指数"), _("初判等级"), _("等级")]
    headers += [f"{d.code} {d.name}" for d in dimensions]
    headers += [_("数据不足的维度数")]
    districts, zones, industries = _labels(DISTRICTS), _labels(ZONES), _labels(INDUSTRIES)
    sizes, chains = _labels(SIZE_CLASSES), _labels(LEADING_CHAINS)
    code_of = dict(Dimension.objects.values_list("id", "code"))
    yes, no = _("是"), _("否")
    local = timezone.get_current_timezone()
    submitted_at = columns.index("selected__submitted_at")
    index_at = columns.index("selected__index") - 8

    def rows() -> Iterator[list[Any]]:
        firm_rows = (
            firms.order_by(F("selected__id").asc(nulls_last=True), "id").values_list(*columns).iterator(CHUNK_SIZE)
        )
        results = iter(
            DimensionResult.objects.filter(assessment__in=analytics.round_queryset(scope, filters))
            .order_by("assessment_id")
            .values_list("assessment_id", "dimension_id", "score", "insufficient_data")
            .iterator(CHUNK_SIZE * 5)
        )
        pending = next(results, None)
        for values in firm_rows:
            round_id = values[-1]
            entry = None
            if round_id is not None:
                entry = {"insufficient": 0}
                while pending is not None and pending[0] < round_id:
                    pending = next(results, None)
                while pending is not None and pending[0] == round_id:
                    _round, dimension_id, score, insufficient = pending
                    if insufficient:
                        entry["insufficient"] += 1
                    else:
                        entry[code_of.get(dimension_id)] = None if score is None else float(score)
                    pending = next(results, None)
            uscc, name, district, zone, industry, size, above, chain = values[:8]
            rest = list(values[8:-1])
            when = values[submitted_at]
            if when is not None:
                rest[submitted_at - 8] = when.astimezone(local).replace(tzinfo=None, microsecond=0)
            if rest[index_at] is not None:
                rest[index_at] = float(rest[index_at])
            yield [
                uscc,
                name,
                districts.get(district, district),
                zones.get(zone, zone),
                industry,
                industries.get(industry, industry),
                sizes.get(size, size),
                yes if above else no,
                chains.get(chain, chain),
                *rest,
                *[entry.get(code) if entry is not None else None for code in codes],
                entry["insufficient"] if entry is not None else None,
            ]

    return Table(title=_("企业结果"), headers=headers, rows=rows(), count=firms.count)


# --- answers ----------------------------------------------------------------------------------------


def answers_table(scope: AdminScope, filters: analytics.Filters) -> Table:
    """One row per answer of the selected rounds, notes included."""
    answers = Answer.objects.filter(assessment__in=analytics.round_queryset(scope, filters))
    columns = [
        "assessment__enterprise__uscc",
        "assessment__enterprise__name",
        "assessment__label",
        "item__dimension__code",
        "item__code",
        "score",
        "special",
        "note",
    ]
    headers = [_("统一社会信用代码"), _("企业名称"), _("轮次"), _("维度"), _("题号"), _("分值")]
    headers += [_("特殊选项"), _("备注")]
    specials = {"unknown": _("不清楚"), "na": _("不适用"), "": ""}

    def rows() -> Iterator[list[Any]]:
        queryset = answers.order_by("assessment_id", "item_id").values_list(*columns)
        for values in queryset.iterator(chunk_size=CHUNK_SIZE * 10):
            values = list(values)
            values[6] = specials.get(values[6], values[6])
            yield values

    return Table(title=_("答案"), headers=headers, rows=rows(), count=answers.count)


# --- aggregate tables -------------------------------------------------------------------------------


def _figure(value: float | int | None, *, hidden: bool = False, digits: int = 1) -> Any:
    if hidden:
        return SUPPRESSED
    if value is None:
        return SUPPRESSED
    if isinstance(value, float):
        return round(value, digits)
    return value


def aggregate_tables(scope: AdminScope, filters: analytics.Filters) -> list[Table]:
    """The dashboard's tables, with hidden cells as "<10"."""
    board = analytics.dashboard(scope, filters)
    dimensions = board.dimensions
    o = board.overview
    tables = [
        Table(
            title=_("总体"),
            headers=[_("指标"), _("数值")],
            rows=[
                [_("范围"), scope.label],
                *[[label, value] for label, value in filters.describe()],
                [_("注册企业"), _figure(o.registered)],
                [_("已提交评估的企业"), _figure(o.submitted)],
                [_("平均综合指数"), _figure(o.index.mean)],
                [_("下四分位数"), _figure(o.index.quartiles[0] if o.index.quartiles else None)],
                [_("中位数"), _figure(o.index.quartiles[1] if o.index.quartiles else None)],
                [_("上四分位数"), _figure(o.index.quartiles[2] if o.index.quartiles else None)],
            ],
        ),
        Table(
            title=_("等级分布"),
            headers=[_("等级"), _("名称"), _("企业数"), _("占比（%）")],
            rows=[[c.code, c.name, _figure(c.firms), _figure(c.share)] for c in o.levels],
        ),
        Table(
            title=_("维度统计"),
            headers=[
                _("维度"),
                _("对应问题"),
                _("企业数"),
                _("平均分"),
                _("下四分位数"),
                _("中位数"),
                _("上四分位数"),
                _("低于40分的企业"),
                _("低于40分的占比（%）"),
                _("数据不足的企业"),
            ],
            rows=[
                [
                    f"{s.info.code} {s.info.name}",
                    s.info.problem,
                    _figure(s.firms),
                    _figure(s.mean),
                    *([_figure(q) for q in s.quartiles] if s.quartiles else [SUPPRESSED] * 3),
                    _figure(s.weak),
                    _figure(s.weak_share),
                    _figure(s.insufficient),
                ]
                for s in board.dimension_stats
            ],
        ),
    ]
    for key in analytics.BREAKDOWNS:
        _dimensions, result = analytics.breakdown_page(scope, filters, key)
        tables.append(
            Table(
                title=_("按%(group)s") % {"group": result.title},
                headers=[result.title, _("企业数"), _("平均综合指数")] + [f"{d.code} {d.name}" for d in dimensions],
                rows=[
                    [row.label, _figure(row.firms), _figure(row.mean_index, hidden=row.hidden)]
                    + [_figure(v, hidden=row.hidden) for v in (row.dimension_means or [None] * len(dimensions))]
                    for row in result.rows
                ],
            )
        )
    _total, items = analytics.weaknesses_page(scope, filters)
    tables.append(
        Table(
            title=_("常见短板"),
            headers=[_("题号"), _("题目"), _("维度"), _("企业数"), _("占比（%）"), _("建议规则"), _("对应对策")],
            rows=[
                [
                    i.code,
                    i.text,
                    f"{i.dimension_code} {i.dimension_name}",
                    _figure(i.firms),
                    _figure(i.share),
                    "、".join(i.rules),
                    "；".join(f"{c.code} {c.title}" for c in i.countermeasures),
                ]
                for i in items
            ],
        )
    )
    _dimensions, trend = analytics.trend_page(scope, filters)
    tables.append(
        Table(
            title=_("轮次变化"),
            headers=[_("轮次"), _("企业数"), _("平均综合指数")] + [f"{d.code} {d.name}" for d in dimensions],
            rows=[
                [row.label, row.firms, _figure(row.mean_index)] + [_figure(v) for v in row.dimension_means]
                for row in trend.by_label
            ],
        )
    )
    return tables


# --- the audit log ----------------------------------------------------------------------------------


def audit_table(filters) -> Table:
    """The audit log (surveys.audit.selectors.AuditFilters), newest first, for city administrators."""
    from .audit.models import AuditEvent
    from .audit.selectors import audit_events, audit_rows_iter

    actions = _labels(AuditEvent.ACTION_CHOICES)
    sides = {"manage": _("管理端"), "firm": _("企业端"), "": ""}
    events = audit_events(filters=filters)

    def rows():
        for row in audit_rows_iter(events):
            event = row.event
            yield [
                event.at,
                event.username,
                actions.get(event.action, event.action),
                _("成功") if event.success else _("失败"),
                sides[row.side],
                event.enterprise_id,
                row.firm_name,
                event.target,
                event.ip,
                "; ".join(f"{key}: {value}" for key, value in row.details),
            ]

    headers = [_("时间"), _("用户名"), _("操作"), _("结果"), _("端"), _("企业ID"), _("企业名称"), _("对象")]
    headers += [_("IP地址"), _("详情")]
    return Table(title=_("审计日志"), headers=headers, rows=rows(), count=events.count)


def tables_for(dataset: str, scope: AdminScope, filters: analytics.Filters) -> list[Table]:
    if dataset == "firms":
        return [firms_table(scope, filters)]
    if dataset == "answers":
        return [answers_table(scope, filters)]
    if dataset == "aggregates":
        return aggregate_tables(scope, filters)
    raise ValueError(dataset)


# --- writers ----------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write() returns what it is given (csv.writer into a generator)."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(tables: list[Table], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text piece by piece: BOM, then each table (several separated by a title line and a blank).

    Rows are sent in pieces of ``rows_per_chunk`` lines: one piece per row would spend more time passing
    pieces through the response than writing them.
    """
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM
    several = len(tables) > 1
    for n, table in enumerate(tables):
        lines = []
        if several:
            if n:
                lines.append("\r\n")
            lines.append(writer.writerow([neutralise(f"# {table.title}")]))
        lines.append(writer.writerow([_cell(h) for h in table.headers]))
        for row in table.rows:
            lines.append(writer.writerow([_cell(v) for v in row]))
            if len(lines) >= rows_per_chunk:
                yield "".join(lines)
                lines = []
        if lines:
            yield "".join(lines)


def write_csv(tables: list[Table], stream: IO[str]) -> None:
    """Write the CSV to a text stream (the export_results command)."""
    for chunk in csv_chunks(tables):
        stream.write(chunk)


def write_xlsx(tables: list[Table], stream: IO[bytes]) -> None:
    """An XLSX workbook in write-only mode, one sheet per table; text cells neutralised and kept as text."""
    for table in tables:
        if table.count is not None and table.count() > XLSX_MAX_ROWS:
            raise TooManyRowsError(table.title)
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(title=_sheet_title(table.title, used))
        sheet.append([_xlsx_value(h) for h in table.headers])
        for n, row in enumerate(table.rows, start=1):
            if n > XLSX_MAX_ROWS:
                raise TooManyRowsError(table.title)
            sheet.append([_xlsx_value(v) for v in row])
    workbook.save(stream)


def _xlsx_value(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, str):
        # openpyxl refuses control characters; a string starting with "=" would become a formula, which
        # neutralise() has already prevented.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


_SHEET_UNSAFE = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_SHEET_UNSAFE)[:28] or "Sheet"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}-{n}"
        n += 1
    used.add(name)
    return name


def xlsx_file(tables: list[Table]) -> IO[bytes]:
    """The workbook in a temporary file (rewound), for a FileResponse or a copy to disk."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    try:
        write_xlsx(tables, handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def export_filename(dataset: str, fmt: str) -> tuple[str, str]:
    """(file name, ASCII fallback), e.g. ("济南企业评估-企业结果-20261201.csv", "jinan-firms-20261201.csv")."""
    stamp = timezone.localdate().strftime("%Y%m%d")
    titles = {"firms": _("企业结果"), "answers": _("答案"), "aggregates": _("汇总表"), "audit": _("审计日志")}
    return f"{_('济南企业自评估')}-{titles[dataset]}-{stamp}.{fmt}", f"jinan-{dataset}-{stamp}.{fmt}"


def text_stream_of(buffer: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(buffer, encoding="utf-8", newline="")
