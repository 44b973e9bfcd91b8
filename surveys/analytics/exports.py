"""The tables of the CSV and XLSX exports, built from the database for a scope and filters.

``tables_for(dataset, scope, filters)`` gives the tables of a dataset (``DATASETS``): the firm-level results,
the answers, or the dashboard's aggregate tables; ``audit_table`` the audit log. Writing them as CSV or
XLSX is surveys/reports/exports.py's job.

Rows are produced by generators over ``values_list(...).iterator(chunk_size=...)``: memory does not grow
with the number of firms. Cells are plain values (text, numbers, datetimes, None, booleans); a figure hidden
by the small-group rule is a count's suppression.hidden_count() ("<10", or "—†" when hidden to protect another
cell) or a share's, mean's or quartile's suppression.hidden_value() ("—*" or "—†"), the marks explained in a
last table "注"; a dimension with insufficient data
insufficient_data_label() ("数据不足"). Rows of rounds carry the round's questionnaire version.

Scores, indexes, means and shares are given at full precision; a table names its ``display_columns``, which
the writer rounds by the display rule of the pages and PDFs (surveys/reports/formatting.py: one decimal, a half
up). A column that keeps the stored value for analysis says so in its header (``raw_header()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit.models import AuditEvent
from ..audit.selectors import audit_events, audit_rows_iter
from ..choices import DISTRICTS, INDUSTRIES, LEADING_CHAINS, SIZE_CLASSES, ZONES
from ..models import Answer, Assessment, ContextQuestion, Dimension, DimensionResult
from ..scopes import AdminScope
from ..selectors.administrators import Filters, assessment_queryset, enterprises_with_selected_assessment
from ..selectors.assessments import ContextOption, context_options
from ..suppression import footnotes, hidden_count, hidden_value
from ..text import join_list, with_colon
from .aggregates import (
    BREAKDOWNS,
    breakdown_page,
    dashboard,
    dimension_infos,
    reference_questionnaire,
    trend_page,
    weaknesses_page,
)

CHUNK_SIZE = 2000
DATASETS = ("firms", "answers", "aggregates")


@dataclass(frozen=True)
class Table:
    """One exported table: a title (the XLSX sheet name, a CSV section heading), headers and rows."""

    title: str
    headers: list[str]
    rows: Iterable[list[Any]]
    count: Callable[[], int] | None = None  # the number of rows, when it is cheap to know in advance
    # Positions of the columns shown as on the pages: their fractional numbers are written rounded by the
    # display rule; counts and texts in them pass unchanged.
    display_columns: frozenset[int] = frozenset()


def insufficient_data_label() -> str:
    return _("数据不足")


def raw_header(name: str) -> str:
    """The header of a column of stored values at full precision (not rounded for display)."""
    return _("%(name)s（原始值，未舍入）") % {"name": name}


# --- firm-level results -----------------------------------------------------------------------------


def _labels(pairs) -> dict[str, str]:
    return {code: str(label) for code, label in pairs}


def firms_table(scope: AdminScope, filters: Filters) -> Table:  # noqa: C901 (above the complexity limit; to be split by the file's owner)
    """One row per firm of the firm list (same scope and filters) with its selected round and dimension scores.

    The index and the dimension scores are display columns (one decimal, "数据不足" for a dimension with
    insufficient data); the same values at full precision follow at the end, under headers that say so
    (empty for insufficient data, which is no score). Two streams read in step: the firms ordered by their
    selected round (firms without one last) and the rounds' dimension results in the same order, so the work
    and the memory per row stay constant.
    """
    dimensions = dimension_infos(reference_questionnaire())
    codes = [d.code for d in dimensions]
    firms = enterprises_with_selected_assessment(scope, filters)
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
    first_dimension = len(headers)
    headers += [f"{d.code} {d.name}" for d in dimensions]
    headers += [_("数据不足的维度数")]
    headers += [raw_header(_("综合指数"))] + [raw_header(d.code) for d in dimensions]
    display_columns = frozenset(
        [headers.index(_("综合指数"))] + list(range(first_dimension, first_dimension + len(codes)))
    )
    insufficient_label = insufficient_data_label()
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
            DimensionResult.objects.filter(assessment__in=assessment_queryset(scope, filters))
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
                        entry[code_of.get(dimension_id)] = insufficient_label
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
            scores = [entry.get(code) if entry is not None else None for code in codes]
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
                *scores,
                entry["insufficient"] if entry is not None else None,
                rest[index_at],
                *[None if score == insufficient_label else score for score in scores],
            ]

    return Table(title=_("企业结果"), headers=headers, rows=rows(), count=firms.count, display_columns=display_columns)


# --- answers ----------------------------------------------------------------------------------------


def answers_table(scope: AdminScope, filters: Filters) -> Table:
    """One row per answer of the selected rounds, notes included, then the round's answers to the context
    questions (one column per question code: ``_context_columns``)."""
    answers = Answer.objects.filter(assessment__in=assessment_queryset(scope, filters))
    columns = [
        "assessment__enterprise__uscc",
        "assessment__enterprise__name",
        "assessment__label",
        "item__dimension__code",
        "item__code",
        "score",
        "special",
        "note",
        "assessment__questionnaire__version",
    ]
    headers = [_("统一社会信用代码"), _("企业名称"), _("轮次"), _("维度"), _("题号"), _("分值")]
    headers += [_("特殊选项"), _("备注"), _("问卷版本")]
    specials = {"unknown": _("不清楚"), "na": _("不适用"), "": ""}
    context_headers, context_cells = _context_columns(assessment_queryset(scope, filters))
    headers += context_headers

    def rows() -> Iterator[list[Any]]:
        queryset = answers.order_by("assessment_id", "item_id").values_list(*columns, "assessment_id")
        for *values, round_id in queryset.iterator(chunk_size=CHUNK_SIZE * 10):
            values[6] = specials.get(values[6], values[6])
            yield values + context_cells(round_id)

    return Table(title=_("答案"), headers=headers, rows=rows(), count=answers.count)


def _context_columns(rounds: QuerySet[Assessment]) -> tuple[list[str], Callable[[int], list[str]]]:
    """The headers of the context questions of the rounds' versions (one per question code, named as in the
    newest version that asks it), and a function giving a round's cells, called in round-id order: the labels
    of the options chosen, joined (；in Chinese), the "other" option as "label: the firm's text". That text is
    the firm's own: like every text cell it is neutralised when written (surveys/reports/exports.py).

    The rounds' contexts are read as one stream in round order, in step with the answers."""
    questions = ContextQuestion.objects.filter(
        questionnaire_id__in=rounds.order_by().values("questionnaire_id").distinct()
    ).order_by("-questionnaire__created_at", "-questionnaire_id", "position")
    headers: dict[str, str] = {}
    options: dict[tuple[int, str], dict[str, ContextOption]] = {}
    for question in questions:
        headers.setdefault(question.code, f"{question.code} {question.text}")
        options[question.questionnaire_id, question.code] = {o.code: o for o in context_options(question)}
    if not headers:
        return [], lambda _round_id: []
    contexts = rounds.exclude(context={}).order_by("id").values_list("id", "questionnaire_id", "context")
    return list(headers.values()), _ContextCells(contexts, list(headers), options)


class _ContextCells:
    """A round's context cells, for rounds asked in increasing id order (the stream is read once, lazily)."""

    def __init__(self, contexts, codes: list[str], options: dict[tuple[int, str], dict[str, ContextOption]]):
        self.contexts = contexts
        self.codes = codes
        self.options = options
        self.stream: Iterator[tuple[int, int, Any]] | None = None
        self.pending: tuple[int, int, Any] | None = None
        self.last: tuple[int | None, list[str]] = (None, [])

    def __call__(self, round_id: int) -> list[str]:
        if self.last[0] == round_id:
            return self.last[1]
        if self.stream is None:
            self.stream = self.contexts.iterator(chunk_size=CHUNK_SIZE)
            self.pending = next(self.stream, None)
        while self.pending is not None and self.pending[0] < round_id:
            self.pending = next(self.stream, None)
        if self.pending is not None and self.pending[0] == round_id:
            _id, questionnaire_id, context = self.pending
            cells = [
                _context_cell(context.get(code), self.options.get((questionnaire_id, code), {})) for code in self.codes
            ]
        else:
            cells = [""] * len(self.codes)
        self.last = (round_id, cells)
        return cells


def _context_cell(answer: Any, options: dict[str, ContextOption]) -> str:
    if not isinstance(answer, dict) or not options:
        return ""
    parts = []
    for code in answer.get("choices") or []:
        option = options.get(code)
        if option is None:
            parts.append(str(code))
        elif option.other and answer.get("other"):
            parts.append(f"{with_colon(option.label)}{answer['other']}")
        else:
            parts.append(option.label)
    return join_list(parts, strong=True)


# --- aggregate tables -------------------------------------------------------------------------------


def _figure(value: float | int | None, *, hidden: bool = False, reason: str | None = None) -> Any:
    """A share, mean or quartile of an aggregate table (rounded by the writer: every numeric column of these
    tables is a display column), or suppression.hidden_value(): "—*" (small group) or "—†" (hidden to protect
    another), never "<N"."""
    if hidden or value is None:
        return hidden_value(reason)
    return value


def _count(value: int | None, reason: str | None = None) -> Any:
    """A count of an aggregate table, or suppression.hidden_count(): "<N" (small group) or "—†"."""
    return hidden_count(reason) if value is None else value


def _notes_table() -> Table:
    """What the marks of hidden cells mean (suppression.footnotes()), the last table of the export."""
    return Table(
        title=_("注"),
        headers=[_("标记"), _("含义")],
        rows=[[note.split(" ", 1)[0], note.split(" ", 1)[1]] for note in footnotes()],
    )


def _shown(table: Table) -> Table:
    """The table with every column but the first (the row's label) as a display column."""
    return replace(table, display_columns=frozenset(range(1, len(table.headers))))


def aggregate_tables(scope: AdminScope, filters: Filters) -> list[Table]:
    """The dashboard's tables, with hidden cells as suppression.hidden_label()."""
    board = dashboard(scope, filters)
    dimensions = board.dimensions
    o = board.overview
    tables = [
        Table(
            title=_("总体"),
            headers=[_("指标"), _("数值")],
            rows=[
                [_("范围"), scope.label],
                *[[label, value] for label, value in filters.describe()],
                [_("注册企业"), _count(o.registered)],
                [_("已提交评估的企业"), _count(o.submitted)],
                [_("平均综合指数"), _figure(o.index.mean)],
                [_("下四分位数"), _figure(o.index.quartiles[0] if o.index.quartiles else None)],
                [_("中位数"), _figure(o.index.quartiles[1] if o.index.quartiles else None)],
                [_("上四分位数"), _figure(o.index.quartiles[2] if o.index.quartiles else None)],
            ],
        ),
        Table(
            title=_("等级分布"),
            headers=[_("等级"), _("名称"), _("企业数"), _("占比（%）")],
            rows=[
                [c.code, c.name, _count(c.firms, c.hidden_reason), _figure(c.share, reason=c.hidden_reason)]
                for c in o.levels
            ],
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
                    _count(s.firms),
                    _figure(s.mean),
                    *([_figure(q) for q in s.quartiles] if s.quartiles else [hidden_value()] * 3),
                    _count(s.weak),
                    _figure(s.weak_share),
                    _count(s.insufficient),
                ]
                for s in board.dimension_stats
            ],
        ),
    ]
    for key in BREAKDOWNS:
        _dimensions, result = breakdown_page(scope, filters, key)
        tables.append(
            Table(
                title=_("按%(group)s") % {"group": result.title},
                headers=[result.title, _("企业数"), _("平均综合指数")] + [f"{d.code} {d.name}" for d in dimensions],
                rows=[
                    [
                        row.label,
                        _count(row.firms, row.hidden_reason),
                        _figure(row.mean_index, hidden=row.hidden, reason=row.hidden_reason),
                    ]
                    + [
                        _figure(v, hidden=row.hidden, reason=row.hidden_reason)
                        for v in (row.dimension_means or [None] * len(dimensions))
                    ]
                    for row in result.rows
                ],
            )
        )
    _total, items = weaknesses_page(scope, filters)
    tables.append(
        Table(
            title=_("常见短板"),
            headers=[_("题号"), _("题目"), _("维度"), _("企业数"), _("占比（%）"), _("建议规则"), _("对应对策")],
            rows=[
                [
                    i.code,
                    i.text,
                    f"{i.dimension_code} {i.dimension_name}",
                    _count(i.firms),
                    _figure(i.share),
                    join_list(i.rules),
                    join_list((f"{c.code} {c.title}" for c in i.countermeasures), strong=True),
                ]
                for i in items
            ],
            display_columns=frozenset({3, 4}),
        )
    )
    _dimensions, trend = trend_page(scope, filters)
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
    return [table if table.display_columns else _shown(table) for table in tables] + [_notes_table()]


# --- the audit log ----------------------------------------------------------------------------------


def audit_table(filters) -> Table:
    """The audit log (surveys.audit.selectors.AuditFilters), newest first, for city administrators."""
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


def tables_for(dataset: str, scope: AdminScope, filters: Filters) -> list[Table]:
    if dataset == "firms":
        return [firms_table(scope, filters)]
    if dataset == "answers":
        return [answers_table(scope, filters)]
    if dataset == "aggregates":
        return aggregate_tables(scope, filters)
    raise ValueError(dataset)
