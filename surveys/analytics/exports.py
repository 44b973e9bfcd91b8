"""The tables of the CSV and XLSX exports, built from the database for a scope and filters.

``tables_for(dataset, scope, filters)`` gives the tables of a dataset (``DATASETS``): the firm-level results,
the answers, or the dashboard's aggregate tables; ``audit_table`` the audit log. Writing them as CSV or
XLSX is surveys/reports/exports.py's job.

Rows are produced by generators over ``values_list(...).iterator(chunk_size=...)``: memory does not grow
with the number of firms. Cells are plain values (text, numbers, datetimes, None, booleans); a figure hidden
by the small-group rule is suppression.hidden_label() ("<10").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit.models import AuditEvent
from ..audit.selectors import audit_events, audit_rows_iter
from ..choices import DISTRICTS, INDUSTRIES, LEADING_CHAINS, SIZE_CLASSES, ZONES
from ..models import Answer, Dimension, DimensionResult
from ..scopes import AdminScope
from ..selectors.administrators import Filters, assessment_queryset, enterprises_with_selected_assessment
from ..suppression import hidden_label
from ..text import join_list
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


# --- firm-level results -----------------------------------------------------------------------------


def _labels(pairs) -> dict[str, str]:
    return {code: str(label) for code, label in pairs}


def firms_table(scope: AdminScope, filters: Filters) -> Table:  # noqa: C901 (above the complexity limit; to be split by the file's owner)
    """One row per firm of the firm list (same scope and filters) with its selected round and dimension scores.

    Two streams read in step: the firms ordered by their selected round (firms without one last) and the
    rounds' dimension results in the same order, so the work and the memory per row stay constant.
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


def answers_table(scope: AdminScope, filters: Filters) -> Table:
    """One row per answer of the selected rounds, notes included."""
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
    if hidden or value is None:
        return hidden_label()
    if isinstance(value, float):
        return round(value, digits)
    return value


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
                    *([_figure(q) for q in s.quartiles] if s.quartiles else [hidden_label()] * 3),
                    _figure(s.weak),
                    _figure(s.weak_share),
                    _figure(s.insufficient),
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
                    [row.label, _figure(row.firms), _figure(row.mean_index, hidden=row.hidden)]
                    + [_figure(v, hidden=row.hidden) for v in (row.dimension_means or [None] * len(dimensions))]
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
                    _figure(i.firms),
                    _figure(i.share),
                    join_list(i.rules),
                    join_list((f"{c.code} {c.title}" for c in i.countermeasures), strong=True),
                ]
                for i in items
            ],
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
    return tables


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
