"""The city report's figures computed the way they were before the summary tables: scans of the per-firm rows
(Assessment, DimensionResult, Answer, the register), copied from surveys/analytics/city.py as it stood.
tests/manage/test_city_report_summaries.py compares every figure of ``city_report_data`` both ways: the summaries
must give exactly these.

Not imported by the application; kept verbatim apart from the imports: the data classes and constants come from
the application (so that the figures compare as equal dataclasses), and the overview and the dimension
statistics, which the report took from aggregates.py, from the row scans of tests/manage/legacy_aggregates.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Lag
from django.utils.translation import gettext as _

from surveys.analytics.aggregates import (
    BREAKDOWNS,
    WEAK_DIMENSION_SCORE,
    WEAK_ITEM_SCORE,
    CountermeasureRef,
    DimensionInfo,
    DimensionStats,
    LevelInfo,
    WeakItem,
    _cm_ref,
    _unique_countermeasures,
    breakdown_title,
    dimension_infos,
    dimension_stat,
    level_infos,
    reference_questionnaire,
    weak_items_from_counts,
)
from surveys.analytics.city import (
    _LABELS,
    CITY_LEVERS,
    CONTEXT_USED_BY_CITY_REPORT,
    HIGH_OPTION_SCORE,
    LEVEL_THRESHOLD,
    LOW_OPTION_SCORE,
    OVERLAPPING,
    PREVALENCE_KEYS,
    TOP_GROUPS,
    TOP_INDUSTRIES,
    TOP_WEAKNESSES,
    Change,
    CityProblem,
    CityReportData,
    ContextOptionRow,
    ContextSummary,
    CountermeasureSummary,
    LevelShare,
    Prevalence,
    PrevalenceRow,
    ProblemArea,
    RelatedItem,
    WeakShareRow,
)
from surveys.analytics.coverage import coverage
from surveys.analytics.histograms import histogram_summary
from surveys.choices import label_of
from surveys.models import (
    Answer,
    Assessment,
    ContextQuestion,
    Countermeasure,
    Dimension,
    DimensionResult,
    Item,
    Problem,
    Programme,
    Questionnaire,
    RecommendationRule,
    RegisterEntry,
    sectors_decode,
)
from surveys.scopes import AdminScope
from surveys.selectors.administrators import Filters, all_assessments_queryset, assessment_queryset
from surveys.selectors.assessments import context_options
from surveys.suppression import SMALL, partition_reasons, share, shown_count

from .legacy_aggregates import dimension_stats, overview

# --- the report's data ------------------------------------------------------------------------------


def city_report_data(scope: AdminScope, filters: Filters) -> CityReportData:
    """The city report's figures for the scope and filters, by row scans (city.py before the summaries)."""
    questionnaire = reference_questionnaire()
    dimensions = dimension_infos(questionnaire)
    levels = level_infos(questionnaire)
    rounds = assessment_queryset(scope, filters)
    answers = _answer_counts(rounds)
    figures = _round_figures(scope, filters, rounds, levels)
    weak_total, items = _weak_items(figures.per_version, answers)
    called_for = _countermeasures_by_dimension(questionnaire)
    codes = {d.id: d.code for d in Dimension.objects.filter(code__in=_codes(dimensions))}
    counts, histogram = _prevalence_counts(rounds, codes)
    if histogram is None:
        stats = dimension_stats(scope, filters, dimensions=dimensions)
    else:
        stats = _dimension_stats(histogram, dimensions)
    shares = {key: _weak_shares(counts[key], key) for key in PREVALENCE_KEYS}
    areas = [_problem_area(stat, shares, items, called_for.get(stat.info.code, [])) for stat in stats]
    return CityReportData(
        scope_label=scope.label,
        filters=filters,
        dimensions=dimensions,
        levels=levels,
        overview=overview(scope, filters, levels=levels),
        dimension_stats=stats,
        problem_areas=areas,
        countermeasures=_countermeasure_summaries(questionnaire, dimensions, called_for),
        questionnaire_version=questionnaire.version if questionnaire else "",
        context=_context_summaries(rounds, questionnaire),
        at_or_above=figures.at_or_above,
        change=figures.change,
        coverage=coverage(scope, filters),
        weak_rounds=weak_total,
        top_weak_items=_top_weak_items(items),
        prevalence=[_prevalence(key, counts[key], shares[key], dimensions, stats) for key in PREVALENCE_KEYS],
        city_problems=_city_problems(answers, questionnaire, dimensions),
    )


def _codes(dimensions: list[DimensionInfo]) -> list[str]:
    return [d.code for d in dimensions]


def _problem_area(stat: DimensionStats, shares, items: list[WeakItem], countermeasures) -> ProblemArea:
    code = stat.info.code
    industries = shares["industry"].get(code, [])
    by_district = shares["district"].get(code, [])
    by_sector = shares["sector"].get(code, [])
    return ProblemArea(
        stats=stat,
        by_district=by_district,
        by_industry=[r for r in industries if r.firms is not None],
        hidden_industries=sum(1 for r in industries if r.firms is None),
        weak_items=[i for i in items if i.dimension_code == code][:5],
        countermeasures=countermeasures,
        by_sector=by_sector,
        by_size=shares["size"].get(code, []),
        by_chain=shares["chain"].get(code, []),
        top_districts=_most_widespread(by_district),
        top_sectors=_most_widespread(by_sector),
    )


def _most_widespread(rows: list[WeakShareRow]) -> list[WeakShareRow]:
    shown = [r for r in rows if r.weak_share is not None]
    return sorted(shown, key=lambda r: -(r.weak_share or 0))[:TOP_GROUPS]


def _top_weak_items(items: list[WeakItem]) -> list[WeakItem]:
    """The most frequent weak items, one per item code (rounds of several versions count an item once per
    version; the most frequent of them stands for the code)."""
    seen: dict[str, WeakItem] = {}
    for item in items:
        seen.setdefault(item.code, item)
    return list(seen.values())[:TOP_WEAKNESSES]


def _countermeasure_summaries(questionnaire, dimensions, called_for) -> list[CountermeasureSummary]:
    if questionnaire is None:
        return []
    return [
        CountermeasureSummary(
            ref=_cm_ref(cm),
            description=cm.description,
            dimensions=[d for d in dimensions if any(r.code == cm.code for r in called_for.get(d.code, []))],
        )
        for cm in Countermeasure.objects.filter(questionnaire=questionnaire).order_by("position")
    ]


# --- prevalence -------------------------------------------------------------------------------------


@dataclass
class _Counts:
    firms: int = 0  # rounds with a result for the dimension
    n: int = 0  # of them, with a usable score
    weak: int = 0  # of them, below WEAK_DIMENSION_SCORE
    total: Decimal = Decimal(0)  # sum of the usable scores

    def add(self, firms: int, n: int, weak: int, total) -> None:
        self.firms += int(firms)
        self.n += int(n or 0)
        self.weak += int(weak or 0)
        self.total += Decimal(str(total or 0))


_Grouped = dict[tuple[str, str], _Counts]  # (group code, dimension code) → counts
# The firm's attribute each partitioning grouping reads (BREAKDOWNS); sectors come from the register.
_ATTRIBUTES = {key: BREAKDOWNS[key][0] for key in ("district", "industry", "size", "chain")}


_Histogram = list[tuple[str, Decimal | None, bool, int]]  # (dimension code, score, insufficient data, results)


def _prevalence_counts(
    rounds: QuerySet[Assessment], dimension_codes: dict[int, str]
) -> tuple[dict[str, _Grouped], _Histogram | None]:
    """Per grouping of PREVALENCE_KEYS, the counts of each (group, dimension), in one query; on PostgreSQL also
    the histogram of the dimension scores that aggregates.dimension_stats reads (None elsewhere).

    The selected rounds (their SQL as the ORM writes it, scope included) are joined to their dimension results
    and, by USCC, to the register row that carries the firm's sectors. PostgreSQL aggregates the five
    groupings and the histogram in one pass (GROUPING SETS); other databases group by the five columns
    together and the rows are rolled up here. A register row's sectors (",steel,biomed,") count the firm in
    each of its sectors.
    """
    selected = (
        rounds.order_by()
        .annotate(**{f"g_{key}": F(f"enterprise__{attribute}") for key, attribute in _ATTRIBUTES.items()})
        .annotate(g_uscc=F("enterprise__uscc"))
        .values("id", "g_uscc", *(f"g_{key}" for key in _ATTRIBUTES))
    )
    inner, inner_params = selected.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = {key: f"s.g_{key}" for key in _ATTRIBUTES} | {"sector": "r.sectors"}
    ordered = [columns[key] for key in PREVALENCE_KEYS]
    grouping_sets = connection.vendor == "postgresql"
    if grouping_sets:
        scored = ["dr.score", "dr.insufficient_data"]
        sets = [f"({column}, dr.dimension_id)" for column in ordered] + [f"(dr.dimension_id, {', '.join(scored)})"]
        group_by = f"GROUPING SETS ({', '.join(sets)})"
        mask = f", GROUPING({', '.join(ordered + scored)})"
    else:
        scored = ["NULL", "NULL"]
        group_by, mask = ", ".join([*ordered, "dr.dimension_id"]), ""
    usable = "NOT dr.insufficient_data AND dr.score IS NOT NULL"
    sql = (
        f"SELECT {', '.join(ordered + scored)}, dr.dimension_id, COUNT(*), "
        f"SUM(CASE WHEN {usable} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {usable} AND dr.score < %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {usable} THEN dr.score END){mask} "
        f"FROM ({inner}) s "
        f"JOIN {quote(DimensionResult._meta.db_table)} dr ON dr.assessment_id = s.id "
        f"LEFT JOIN {quote(RegisterEntry._meta.db_table)} r ON r.uscc = s.g_uscc "
        f"GROUP BY {group_by}"
    )
    grouped: dict[str, _Grouped] = {key: {} for key in PREVALENCE_KEYS}
    histogram: dict[tuple[str, Decimal | None, bool], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [WEAK_DIMENSION_SCORE, *inner_params])
        rows = cursor.fetchall()
    width = len(PREVALENCE_KEYS)
    for row in rows:
        values, (score, flagged, dimension_id, firms, n, weak, total) = row[:width], row[width : width + 7]
        code = dimension_codes.get(dimension_id)
        if code is None:
            continue
        set_mask = row[-1] if grouping_sets else 0
        if grouping_sets and not set_mask & 0b11:  # GROUPING(): 1 where a column is not grouped
            key = (code, None if score is None else Decimal(str(score)), bool(flagged))
            histogram[key] = histogram.get(key, 0) + int(firms)
            continue
        for position, key in enumerate(PREVALENCE_KEYS):
            if set_mask & (1 << (width + 1 - position)):
                continue
            value = values[position]
            for group in sectors_decode(value or "") if key in OVERLAPPING else ([value] if value else []):
                grouped[key].setdefault((group, code), _Counts()).add(firms, n, weak, total)
    rows_out = [(code, score, flagged, n) for (code, score, flagged), n in histogram.items()]
    return grouped, rows_out if grouping_sets else None


def _dimension_stats(histogram: _Histogram, dimensions: list[DimensionInfo]) -> list[DimensionStats]:
    """aggregates.dimension_stats from the histogram of (dimension code, score, insufficient data) read with the
    prevalence: the same figures by the same rules."""
    usable: dict[str, list[tuple[Decimal, int]]] = {}
    insufficient: dict[str, int] = {}
    for code, score, flagged, n in histogram:
        if flagged:
            insufficient[code] = insufficient.get(code, 0) + n
        elif score is not None:
            usable.setdefault(code, []).append((score, n))
    stats = []
    for info in dimensions:
        weak_count = sum(n for score, n in usable.get(info.code, []) if score < WEAK_DIMENSION_SCORE)
        summary = histogram_summary(usable.get(info.code, []))
        stats.append(dimension_stat(info, summary, weak_count, insufficient.get(info.code, 0)))
    return stats


def _weak_shares(counts: _Grouped, key: str) -> dict[str, list[WeakShareRow]]:
    """Per dimension code: the share of firms below WEAK_DIMENSION_SCORE in each group of ``key``, the
    largest group first and hidden ones last. A group of fewer firms with a usable score than the minimum is
    hidden; in a partition (every grouping but sectors, where a firm counts in each of its sectors) the next
    smallest is hidden with it."""
    by_code: dict[str, dict[str, _Counts]] = {}
    for (group, code), c in counts.items():
        by_code.setdefault(code, {})[group] = c
    labels = _LABELS[key]
    order = {code: n for n, (code, _label) in enumerate(labels)}
    result = {}
    for code, groups in by_code.items():
        sizes = {group: c.n for group, c in groups.items()}
        hidden = _hidden_groups(sizes, key)
        rows = []
        for group, c in sorted(groups.items(), key=lambda kv: (-kv[1].n, order.get(kv[0], 999))):
            if c.n == 0:
                continue
            label = label_of(labels, group)
            if group in hidden:
                rows.append(WeakShareRow(label, None, None, None, hidden[group], key=group))
                continue
            weak = shown_count(c.weak)
            rows.append(
                WeakShareRow(
                    label=label,
                    firms=c.n,
                    weak_share=share(weak, c.n) if weak is not None else None,
                    mean=float(c.total / c.n),
                    key=group,
                )
            )
        result[code] = sorted(rows, key=lambda r: r.firms is None)
    return result


def _hidden_groups(sizes: dict[str, int], key: str) -> dict[str, str]:
    if key in OVERLAPPING:
        return {group: SMALL for group, n in sizes.items() if shown_count(n) is None}
    return partition_reasons(sizes)


def _prevalence(
    key: str,
    counts: _Grouped,
    shares: dict[str, list[WeakShareRow]],
    dimensions: list[DimensionInfo],
    stats: list[DimensionStats],
) -> Prevalence:
    """The grouping's table: one row per group (firms, and per dimension the weak share or why it is hidden),
    in the list's order (industries: the largest TOP_INDUSTRIES shown ones, by size)."""
    firms: dict[str, int] = {}
    for (group, _code), c in counts.items():
        firms[group] = max(firms.get(group, 0), c.firms)
    hidden = _hidden_groups(firms, key)
    cells = {(row.key, code): row for code, rows in shares.items() for row in rows}
    labels = _LABELS[key]
    order = {code: n for n, (code, _label) in enumerate(labels)}
    rows = []
    for group, n in firms.items():
        if n == 0:
            continue
        if group in hidden:
            reasons: list[str | None] = [hidden[group]] * len(dimensions)
            rows.append(
                PrevalenceRow(group, label_of(labels, group), None, [None] * len(dimensions), reasons, hidden[group])
            )
            continue
        found = [cells.get((group, d.code)) for d in dimensions]
        rows.append(
            PrevalenceRow(
                key=group,
                label=label_of(labels, group),
                firms=n,
                shares=[cell.weak_share if cell else None for cell in found],
                reasons=[_cell_reason(cell) for cell in found],
            )
        )
    left_out = 0
    if key == "industry":
        shown = sorted((r for r in rows if r.firms is not None), key=lambda r: (-(r.firms or 0), order.get(r.key, 999)))
        left_out = max(len(shown) - TOP_INDUSTRIES, 0)
        rows = shown[:TOP_INDUSTRIES]
    else:
        rows.sort(key=lambda r: order.get(r.key, 999))
    return Prevalence(
        key=key,
        title=str(_("重点产业领域")) if key == "sector" else str(breakdown_title(key)),
        rows=rows,
        hidden_groups=len(hidden),
        left_out=left_out,
        overlapping=key in OVERLAPPING,
    )


def _cell_reason(cell: WeakShareRow | None) -> str | None:
    """Why a prevalence cell is hidden: its group's (per dimension), else SMALL (no usable score, or fewer
    weak firms than the minimum); None when it is shown."""
    if cell is not None and cell.weak_share is not None:
        return None
    return (cell.hidden_reason if cell is not None else None) or SMALL


# --- answers: the weak items and the related items of the city-level problems ---------------------------


@dataclass
class _ItemCounts:
    weak: int = 0  # at score ≤ WEAK_ITEM_SCORE or 不清楚
    answered: int = 0  # an option or 不清楚
    low: int = 0  # score ≤ LOW_OPTION_SCORE
    high: int = 0  # score ≥ HIGH_OPTION_SCORE


def _answer_counts(rounds: QuerySet[Assessment]) -> dict[int, _ItemCounts]:
    """Per item id, the selected rounds' answers counted as the weak items and the city-level problems need them:
    one COUNT … GROUP BY (item, score, special) over the answers (a few hundred rows)."""
    counts: dict[int, _ItemCounts] = {}
    rows = (
        Answer.objects.filter(assessment__in=rounds)
        .values_list("item_id", "score", "special")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item_id, score, special, n in rows:
        c = counts.setdefault(item_id, _ItemCounts())
        unknown = special == "unknown"
        if unknown or (score is not None and score <= WEAK_ITEM_SCORE):
            c.weak += n
        if unknown or score is not None:
            c.answered += n
        if score is not None and score <= LOW_OPTION_SCORE:
            c.low += n
        if score is not None and score >= HIGH_OPTION_SCORE:
            c.high += n
    return counts


def _weak_items(per_version: dict[int, int], answers: dict[int, _ItemCounts]) -> tuple[int | None, list[WeakItem]]:
    """aggregates.weak_items (the dashboard's weaknesses) from the counts already read (selected rounds per
    questionnaire version, answers per item): (rounds counted, items by frequency), by the same rules."""
    total = sum(per_version.values())
    if shown_count(total) is None:
        return None, []
    result = weak_items_from_counts({item_id: c.weak for item_id, c in answers.items()}, per_version)
    return shown_count(total), result


# --- the selected rounds: levels, change since the previous round, versions; the barriers question ------


@dataclass(frozen=True)
class _Rounds:
    at_or_above: LevelShare | None
    change: Change | None
    per_version: dict[int, int]  # questionnaire id → selected rounds on it


def _round_figures(
    scope: AdminScope, filters: Filters, rounds: QuerySet[Assessment], levels: list[LevelInfo]
) -> _Rounds:
    """The firms at LEVEL_THRESHOLD or above, the change since each firm's previous round and the rounds per
    questionnaire version, in one GROUP BY over the selected rounds.

    The previous round of a selected round is the same firm's latest round submitted before it, of any
    questionnaire version (LAG over the firm's submitted rounds in the order of submission); the selected
    rounds are grouped by the previous round's label (none: no earlier round) and their version."""
    codes = [lv.code for lv in levels]
    upper = codes[codes.index(LEVEL_THRESHOLD) :] if LEVEL_THRESHOLD in codes else []
    window = {"partition_by": [F("enterprise_id")], "order_by": [F("submitted_at").asc(), F("id").asc()]}
    history = (
        all_assessments_queryset(scope, dataclasses.replace(filters, version=""))
        .order_by()
        .annotate(
            p_index=Window(Lag("index"), **window),
            p_level=Window(Lag("level"), **window),
            p_label=Window(Lag("label"), **window),
        )
        .values("id", "p_index", "p_level", "p_label")
    )
    selected = (
        rounds.order_by()
        .annotate(c_index=F("index"), c_level=F("level"), c_version=F("questionnaire_id"))
        .values("id", "c_index", "c_level", "c_version")
    )
    selected_sql, selected_params = selected.query.sql_with_params()
    history_sql, history_params = history.query.sql_with_params()
    marks = ", ".join(["%s"] * len(upper))
    above = f"SUM(CASE WHEN s.c_level IN ({marks}) THEN 1 ELSE 0 END)" if upper else "0"
    above_then = f"SUM(CASE WHEN h.p_level IN ({marks}) THEN 1 ELSE 0 END)" if upper else "0"
    sql = (
        f"SELECT h.p_label, s.c_version, COUNT(*), {above}, SUM(s.c_index), SUM(h.p_index), {above_then} "
        f"FROM ({selected_sql}) s LEFT JOIN ({history_sql}) h ON h.id = s.id GROUP BY h.p_label, s.c_version"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*upper, *upper, *selected_params, *history_params])
        rows = cursor.fetchall()
    per_version: dict[int, int] = {}
    by_label: dict[str, list] = {}
    for label, version, n, now_above, now_sum, then_sum, then_above in rows:
        per_version[version] = per_version.get(version, 0) + int(n)
        if label is not None:
            totals = by_label.setdefault(label, [0, 0, Decimal(0), Decimal(0), 0])
            totals[0] += int(n)
            totals[1] += int(now_above or 0)
            totals[2] += Decimal(str(now_sum or 0))
            totals[3] += Decimal(str(then_sum or 0))
            totals[4] += int(then_above or 0)
    at_or_above = None
    if upper:
        name = next(lv.name for lv in levels if lv.code == LEVEL_THRESHOLD)
        total = sum(per_version.values())
        at_or_above = _level_share(LEVEL_THRESHOLD, name, sum(int(row[3] or 0) for row in rows), total)
    return _Rounds(at_or_above=at_or_above, change=_change(by_label) if upper else None, per_version=per_version)


def _context_questions(questionnaire: Questionnaire | None) -> list[tuple[ContextQuestion, list]]:
    """The reference version's context questions the city report uses, with their options (labels in the active
    language; counted by option code over the rounds of every version)."""
    if questionnaire is None:
        return []
    questions = ContextQuestion.objects.filter(questionnaire=questionnaire).order_by("position")
    return [(q, context_options(q)) for q in questions if CONTEXT_USED_BY_CITY_REPORT in q.used_by]


def _level_share(level: str, name: str, above: int, total: int) -> LevelShare:
    """The firms at the level or above, hidden like a partition of two cells (at or above, below)."""
    shown_total = shown_count(total)
    hidden = partition_reasons({"above": above, "below": total - above}) if shown_total else {"above": SMALL}
    if "above" in hidden:
        return LevelShare(level, name, None, shown_total, None, hidden["above"])
    return LevelShare(level, name, above, shown_total, share(above, total) if total else None)


def _change(by_label: dict[str, list]) -> Change:
    """``by_label``: previous round label → [firms, at or above now, index sum now, index sum then, at or above
    then]."""
    firms = sum(totals[0] for totals in by_label.values())
    labels = len(by_label)
    if shown_count(firms) is None or not firms:
        return Change(firms=None if firms else 0, previous_mean=None, current_mean=None, previous_share=None,
                      current_share=None, previous_labels=labels)  # fmt: skip
    now_above = sum(totals[1] for totals in by_label.values())
    then_above = sum(totals[4] for totals in by_label.values())
    now_hidden = partition_reasons({"above": now_above, "below": firms - now_above})
    then_hidden = partition_reasons({"above": then_above, "below": firms - then_above})
    label = max(by_label, key=lambda key: (by_label[key][0], key))
    return Change(
        firms=firms,
        previous_mean=float(sum(totals[3] for totals in by_label.values()) / firms),
        current_mean=float(sum(totals[2] for totals in by_label.values()) / firms),
        previous_share=None if "above" in then_hidden else share(then_above, firms),
        current_share=None if "above" in now_hidden else share(now_above, firms),
        previous_reason=then_hidden.get("above"),
        current_reason=now_hidden.get("above"),
        previous_label=str(label),
        previous_labels=labels,
    )


def _context_summaries(rounds: QuerySet[Assessment], questionnaire: Questionnaire | None) -> list[ContextSummary]:
    """The context questions the city report uses, counted over the selected rounds (one per firm) that
    answered them, whatever their version (labels: the reference version's, by option code). A count below
    the minimum group size is hidden; for a single-choice question, whose options partition the firms, with
    secondary suppression.

    One aggregate per question: the stored choices (a JSON list) as text and a filtered COUNT per option
    ('"cost"' in '["cost", "people"]'); a round answered the question when it chose a known option."""
    summaries = []
    for question, options in _context_questions(questionnaire):
        chosen = [Q(chosen__contains=f'"{o.code}"') for o in options]
        answered = Q()
        for condition in chosen:
            answered |= condition
        figures = (
            rounds.order_by()
            .annotate(chosen=KT(f"context__{question.code}__choices"))
            .aggregate(
                answered=Count("id", filter=answered),
                **{f"option_{n}": Count("id", filter=condition) for n, condition in enumerate(chosen)},
            )
        )
        if figures["answered"]:
            counts = {o.code: int(figures[f"option_{n}"] or 0) for n, o in enumerate(options)}
            summaries.append(_context_summary(question, options, counts, int(figures["answered"])))
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


# --- countermeasures and the city-level problems ----------------------------------------------------


def _countermeasures_by_dimension(questionnaire: Questionnaire | None) -> dict[str, list[CountermeasureRef]]:
    """Dimension code → the countermeasures whose rules are triggered by the dimension or one of its items."""
    if questionnaire is None:
        return {}
    item_dimension = dict(Item.objects.filter(questionnaire=questionnaire).values_list("code", "dimension__code"))
    found: dict[str, list[CountermeasureRef]] = {}
    for rule in _rules(questionnaire):
        trigger = rule.trigger if isinstance(rule.trigger, dict) else {}
        code = trigger.get("dimension") or item_dimension.get(trigger.get("item", ""))
        if code:
            found.setdefault(code, []).append(_cm_ref(rule.countermeasure))
    return {code: _unique_countermeasures(refs) for code, refs in found.items()}


def _rules(questionnaire: Questionnaire) -> list[RecommendationRule]:
    rules = RecommendationRule.objects.filter(questionnaire=questionnaire).select_related("countermeasure")
    return list(rules.order_by("countermeasure__position", "position"))


def _city_problems(
    answers: dict[int, _ItemCounts], questionnaire: Questionnaire | None, dimensions: list[DimensionInfo]
) -> list[CityProblem]:
    """The reference version's city-level problems, each with the selected firms' answers to its related items
    (counted by item code over every version's item of that code), the countermeasures those items' rules
    belong to, the programmes the items name, and the levers of CITY_LEVERS."""
    if questionnaire is None:
        return []
    problems = list(
        Problem.objects.filter(questionnaire=questionnaire, scope=Problem.SCOPE_CITY)
        .select_related("dimension")
        .order_by("position")
    )
    if not problems:
        return []
    codes = sorted({code for p in problems for code in p.related_items or []})
    items = {i.code: i for i in Item.objects.filter(questionnaire=questionnaire, code__in=codes)}
    by_code: dict[str, _ItemCounts] = {}
    for item_id, code in Item.objects.filter(id__in=list(answers), code__in=codes).values_list("id", "code"):
        total = by_code.setdefault(code, _ItemCounts())
        for name in ("weak", "answered", "low", "high"):
            setattr(total, name, getattr(total, name) + getattr(answers[item_id], name))
    programmes = {p.code: p.name for p in Programme.objects.filter(questionnaire=questionnaire)}
    by_item: dict[str, list[CountermeasureRef]] = {}
    for rule in _rules(questionnaire):
        item = rule.trigger.get("item") if isinstance(rule.trigger, dict) else None
        if item:
            by_item.setdefault(item, []).append(_cm_ref(rule.countermeasure))
    dimension_of = {d.code: d for d in dimensions}
    result = []
    for problem in problems:
        related = [code for code in problem.related_items or [] if code in items]
        named = [programmes[c] for code in related for c in items[code].programmes or [] if c in programmes]
        result.append(
            CityProblem(
                code=problem.code,
                text=problem.text,
                dimension=dimension_of.get(problem.dimension.code),
                items=[_related_item(items[code], by_code.get(code)) for code in related],
                levers=[str(lever) for lever in CITY_LEVERS.get(problem.code, [])],
                countermeasures=_unique_countermeasures(cm for code in related for cm in by_item.get(code, [])),
                programmes=list(dict.fromkeys(named)),
            )
        )
    return result


def _related_item(item: Item, counts: _ItemCounts | None) -> RelatedItem:
    answered = counts.answered if counts else 0
    if counts is None or shown_count(answered) is None or not answered:
        return RelatedItem(item.code, item.text, None if answered else 0, None, None, SMALL, SMALL)
    low, high = counts.low, counts.high
    hidden = partition_reasons({"low": low, "high": high, "rest": answered - low - high})
    return RelatedItem(
        code=item.code,
        text=item.text,
        answered=answered,
        low_share=None if "low" in hidden else share(low, answered),
        high_share=None if "high" in hidden else share(high, answered),
        low_reason=hidden.get("low"),
        high_reason=hidden.get("high"),
    )
