"""The data of the city-level report: problem areas, their spread by district and industry, countermeasures."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Avg, Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from ..choices import DISTRICTS, label_of, normalize_language
from ..models import (
    ContextQuestion,
    Countermeasure,
    Item,
    Questionnaire,
    RecommendationRule,
)
from ..scopes import AdminScope
from ..selectors.administrators import Filters, assessment_queryset, dimension_results
from ..selectors.assessments import context_options
from ..suppression import SMALL, min_group_size, partition_reasons, share, shown_count
from ..text import join_list, with_colon
from .aggregates import (
    BREAKDOWNS,
    WEAK_DIMENSION_SCORE,
    CountermeasureRef,
    DimensionInfo,
    DimensionStats,
    LevelInfo,
    Overview,
    WeakItem,
    _cm_ref,
    _unique_countermeasures,
    dimension_infos,
    dimension_stats,
    level_infos,
    overview,
    reference_questionnaire,
    weak_items,
)


@dataclass(frozen=True)
class WeakShareRow:
    label: str
    firms: int | None  # firms with a usable score in this group (None: hidden)
    weak_share: float | None  # percent weak (None: hidden)
    mean: float | None
    hidden_reason: str | None = None  # suppression.SMALL or PROTECTED when hidden


@dataclass(frozen=True)
class ProblemArea:
    """One of the paper's five problem areas (a dimension): how widespread, where, and what it calls for."""

    stats: DimensionStats
    by_district: list[WeakShareRow]
    by_industry: list[WeakShareRow]
    hidden_industries: int
    weak_items: list[WeakItem]  # this dimension's items, most frequent first (at most five)
    countermeasures: list[CountermeasureRef]  # the countermeasures its rules belong to


@dataclass(frozen=True)
class CountermeasureSummary:
    ref: CountermeasureRef
    description: str
    dimensions: list[DimensionInfo]  # the problem areas that call for it


@dataclass(frozen=True)
class ContextOptionRow:
    label: str
    firms: int | None  # firms that chose the option (None: hidden)
    share: float | None  # percent of the firms that answered the question (None: hidden)
    hidden_reason: str | None = None  # suppression.SMALL or PROTECTED when hidden


@dataclass(frozen=True)
class ContextSummary:
    """How often each option of an unscored context question (the barriers question) was chosen, over the
    selected rounds that answered it. Counts only: the firms' own "other" texts are never in the report."""

    code: str
    text: str
    multiple: bool
    max_choices: int | None
    answered: int | None  # firms whose round answered the question (None: hidden, and no rows)
    rows: list[ContextOptionRow]  # the most chosen first, hidden ones last


@dataclass(frozen=True)
class CityReportData:
    scope_label: str
    filters: Filters
    dimensions: list[DimensionInfo]
    levels: list[LevelInfo]
    overview: Overview
    dimension_stats: list[DimensionStats]
    problem_areas: list[ProblemArea]
    countermeasures: list[CountermeasureSummary]
    questionnaire_version: str
    context: list[ContextSummary] = field(default_factory=list)  # the questions used by the city report


def city_report_data(scope: AdminScope, filters: Filters) -> CityReportData:
    """The city report's figures for the scope and filters: plain data for surveys/reports/city.py."""
    questionnaire = reference_questionnaire()
    dimensions = dimension_infos(questionnaire)
    levels = level_infos(questionnaire)
    stats = dimension_stats(scope, filters, dimensions=dimensions)
    by_district = _weak_shares(scope, filters, "district")
    by_industry = _weak_shares(scope, filters, "industry")
    _total, items = weak_items(scope, filters, limit=None)
    called_for = _countermeasures_by_dimension(questionnaire)
    areas = []
    for stat in stats:
        code = stat.info.code
        industries = by_industry.get(code, [])
        areas.append(
            ProblemArea(
                stats=stat,
                by_district=by_district.get(code, []),
                by_industry=[r for r in industries if r.firms is not None],
                hidden_industries=sum(1 for r in industries if r.firms is None),
                weak_items=[i for i in items if i.dimension_code == code][:5],
                countermeasures=called_for.get(code, []),
            )
        )
    summaries = []
    if questionnaire is not None:
        for cm in Countermeasure.objects.filter(questionnaire=questionnaire).order_by("position"):
            summaries.append(
                CountermeasureSummary(
                    ref=_cm_ref(cm),
                    description=cm.description,
                    dimensions=[d for d in dimensions if any(r.code == cm.code for r in called_for.get(d.code, []))],
                )
            )
    return CityReportData(
        scope_label=scope.label,
        filters=filters,
        dimensions=dimensions,
        levels=levels,
        overview=overview(scope, filters, levels=levels),
        dimension_stats=stats,
        problem_areas=areas,
        countermeasures=summaries,
        questionnaire_version=questionnaire.version if questionnaire else "",
        context=_context_summaries(scope, filters, questionnaire),
    )


def _weak_shares(scope: AdminScope, filters: Filters, key: str) -> dict[str, list[WeakShareRow]]:
    """Per dimension code: share of firms below WEAK_DIMENSION_SCORE in each group (one GROUP BY)."""
    attribute, labels = BREAKDOWNS[key]
    group = f"assessment__enterprise__{attribute}"
    rows = list(
        dimension_results(assessment_queryset(scope, filters))
        .values(group, "dimension__code")
        .annotate(n=Count("id"), weak=Count("id", filter=Q(score__lt=WEAK_DIMENSION_SCORE)), mean=Avg("score"))
        .order_by()
    )
    by_code: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_code.setdefault(row["dimension__code"], {})[row[group]] = row
    order = {code: n for n, (code, _label) in enumerate(labels)}
    result = {}
    for code, groups in by_code.items():
        hidden = partition_reasons({k: r["n"] for k, r in groups.items()})
        out = []
        for value, row in sorted(groups.items(), key=lambda kv: (-kv[1]["n"], order.get(kv[0], 999))):
            if value in hidden:
                out.append(WeakShareRow(label_of(labels, value), None, None, None, hidden[value]))
                continue
            weak = shown_count(row["weak"])
            out.append(
                WeakShareRow(
                    label=label_of(labels, value),
                    firms=row["n"],
                    weak_share=share(weak, row["n"]) if weak is not None else None,
                    mean=float(row["mean"]),
                )
            )
        result[code] = sorted(out, key=lambda r: r.firms is None)
    return result


CONTEXT_USED_BY_CITY_REPORT = "city_report"


def _context_summaries(
    scope: AdminScope, filters: Filters, questionnaire: Questionnaire | None
) -> list[ContextSummary]:
    """The reference version's context questions used by the city report, counted over the selected rounds
    (one per firm) that answered them, whatever their version (labels: the reference version's, by option
    code). A count below the minimum group size is hidden; for a single-choice question, whose options
    partition the firms, with secondary suppression."""
    if questionnaire is None:
        return []
    questions = ContextQuestion.objects.filter(questionnaire=questionnaire).order_by("position")
    summaries = []
    for question in questions:
        if CONTEXT_USED_BY_CITY_REPORT not in question.used_by:
            continue
        options = context_options(question)
        counts = dict.fromkeys((o.code for o in options), 0)
        answered = 0
        rounds = assessment_queryset(scope, filters).filter(context__has_key=question.code)
        for context in rounds.values_list("context", flat=True).iterator(chunk_size=2000):
            answer = context.get(question.code) if isinstance(context, dict) else None
            choices = answer.get("choices") if isinstance(answer, dict) else None
            chosen = {code for code in choices or () if code in counts}
            if not chosen:
                continue
            answered += 1
            for code in chosen:
                counts[code] += 1
        if not answered:
            continue
        summaries.append(_context_summary(question, options, counts, answered))
    return summaries


def _context_summary(question: ContextQuestion, options, counts: dict[str, int], answered: int) -> ContextSummary:
    shown_answered = shown_count(answered)
    rows: list[ContextOptionRow] = []
    if shown_answered is not None:
        hidden = (
            {code: SMALL for code, n in counts.items() if shown_count(n) is None}
            if question.multiple
            else partition_reasons(counts)
        )
        order = {o.code: n for n, o in enumerate(options)}
        # Shown options by how often they were chosen; hidden ones last, in the question's order (their order
        # by count would tell something about counts that are not shown).
        ranked = sorted(
            options, key=lambda o: (o.code in hidden, 0 if o.code in hidden else -counts[o.code], order[o.code])
        )
        rows = [
            ContextOptionRow(label=o.label, firms=None, share=None, hidden_reason=hidden[o.code])
            if o.code in hidden
            else ContextOptionRow(label=o.label, firms=counts[o.code], share=share(counts[o.code], answered))
            for o in ranked
        ]
    return ContextSummary(
        code=question.code,
        text=question.text,
        multiple=question.multiple,
        max_choices=question.max_choices,
        answered=shown_answered,
        rows=rows,
    )


def _countermeasures_by_dimension(questionnaire: Questionnaire | None) -> dict[str, list[CountermeasureRef]]:
    """Dimension code → the countermeasures whose rules are triggered by the dimension or one of its items."""
    if questionnaire is None:
        return {}
    item_dimension = dict(Item.objects.filter(questionnaire=questionnaire).values_list("code", "dimension__code"))
    found: dict[str, list[CountermeasureRef]] = {}
    rules = RecommendationRule.objects.filter(questionnaire=questionnaire).select_related("countermeasure")
    for rule in rules.order_by("countermeasure__position", "position"):
        trigger = rule.trigger if isinstance(rule.trigger, dict) else {}
        code = trigger.get("dimension") or item_dimension.get(trigger.get("item", ""))
        if code:
            found.setdefault(code, []).append(_cm_ref(rule.countermeasure))
    return {code: _unique_countermeasures(refs) for code, refs in found.items()}


@dataclass(frozen=True)
class CityReport:
    """Everything the city PDF shows, localized: the renderer (surveys/reports/city.py) only lays it out."""

    language: str
    title: str
    subtitle: str
    scope_label: str  # the whole scope line: place (city, district(s)) and every filter
    place: str  # the place alone (the page header)
    generated_on: str
    disclaimer: str
    footer_note: str
    data: CityReportData


def scope_line(scope: AdminScope, filters: Filters) -> str:
    """What the report covers, truthfully, in the active language: the place (the district filter, else the
    administrator's scope: "济南全市", "All of Jinan", or their districts) and every other filter in use,
    e.g. "历城区；行业：…；企业规模：…；轮次：2025年度"."""
    place = label_of(DISTRICTS, filters.district) if filters.district else scope.label
    district_label = str(_("区县"))
    parts = [str(place)] + [
        f"{with_colon(label)}{value}" for label, value in filters.describe() if str(label) != district_label
    ]
    return join_list(parts, strong=True)


def city_report(*, scope: AdminScope, filters: Filters, language: str) -> CityReport:
    """The city report's figures for the scope and filters, with its texts in ``language``."""
    language = normalize_language(language)
    with override(language):
        data = city_report_data(scope, filters)
        return CityReport(
            language=language,
            title=_("济南市制造业企业数实融合自评估汇总报告"),
            subtitle=_("按论文提出的五个问题领域和四项对策汇总"),
            scope_label=scope_line(scope, filters),
            place=label_of(DISTRICTS, filters.district) if filters.district else scope.label,
            generated_on=formats.date_format(timezone.localdate(), "Y-m-d"),
            disclaimer=_(
                "本报告汇总的是企业在线填写的自评估结果，不是工信部、智能制造能力成熟度（CMMM）或山东省的官方评定，"
                "也未经核实。少于 %(n)d 家企业的分组和单元格不显示数据（企业数记为“<%(n)d”，比例和平均值记为“—*”；"
                "为防止由合计推算出其他组而隐藏的记为“—†”），以免推断出个别企业的结果。"
            )
            % {"n": min_group_size()},
            footer_note=_("根据企业自评估汇总，不是官方评定"),
            data=data,
        )
