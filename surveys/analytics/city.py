"""The data of the city-level report (surveys/reports/city.py writes and lays it out): the key figures of its
first page, the paper's five problem areas with their prevalence by district, key sector, size, leading chain
and industry, the city-level problems with the firm data that bears on them and the levers the paper's
countermeasures imply, the four countermeasures and the barriers question.

Every figure starts from the selected rounds (one per firm in scope, surveys.selectors.administrators) and hides
small groups by surveys.suppression. The figures of the selected rounds are read from the summary tables
(surveys/analytics/summaries.py, README "Summary tables"), exactly as the per-firm rows gave them
(tests/manage/test_city_report_summaries.py computes every figure both ways); each read below is one grouped
query over the summaries, whatever the number of firms:

- overview, dimension statistics: the dashboard's reads (aggregates.py: the selected rounds per level and
  version, the index and score histograms, the registered firms, the dimensions' counts);
- prevalence: the dimensions' counts by district, key sector, size, chain and industry, one query for the five
  groupings (summaries.dimension_counts_by);
- the selected rounds per questionnaire version (the weak items' denominators) and the firms at LEVEL_THRESHOLD
  or above (from the rounds per level already read for the overview);
- the answers per item and option, once for the weak items (by the rules of aggregates.weak_items) and the
  related items of the city-level problems (summaries.item_counts);
- each context question the report uses: its answers per option (summaries.context_counts);
- coverage against the business register: surveys.analytics.coverage;
- the change since each firm's previous round (:func:`_change_since_previous`): each submission counts, in the
  cells of its round, the round's previous round (the firm's round submitted before it) by that round's label
  and level with both indexes' sums (kinds "prev" and "prevnow", surveys/services/summaries.py), so the pairs
  of one firm's rounds are read like every other figure (summaries.previous_round_counts).

With a key-sector filter, the table by key sector counts the firms of the chosen sector in each of their other
sectors too: the sector cells keep each pair of sectors as well (models.sector_pair), and those are read.

In all, about twenty queries besides coverage's (18 for the whole city on the 60,000-firm bench, 2026.1 as the
reference), whose number does not depend on the number of firms (tests/manage/test_city_report_summaries.py);
none of them reads per-firm rows.

A context question one of whose stored answers names an option the reference version does not have is counted
from the rows too (:func:`_context_counts_from_rows`, one aggregate): the report counts a firm as having answered
when it chose one of the reference's options, which the summaries' count of firms that answered at all does not
tell apart. That happens only where a version's question offers options the reference's lacks; none does today.

A firm is *weak* in a problem area when its dimension score is below WEAK_DIMENSION_SCORE (the line of the
questionnaire's {dimension: Dx, below: 40} rules); the prevalence of a problem in a group is the share of the
group's firms with a usable score that are weak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from .. import choices
from ..choices import DISTRICTS, label_of, normalize_language
from ..models import (
    SUMMARY_OPTION_LENGTH,
    Assessment,
    ContextQuestion,
    Countermeasure,
    Item,
    Problem,
    Programme,
    Questionnaire,
    RecommendationRule,
)
from ..scopes import AdminScope
from ..selectors.administrators import Filters, assessment_queryset
from ..selectors.assessments import context_options
from ..suppression import SMALL, min_group_size, partition_reasons, share, shown_count
from ..text import join_list, with_colon
from . import aggregates, summaries
from .aggregates import (
    BREAKDOWNS,
    WEAK_ITEM_SCORE,
    CountermeasureRef,
    DimensionInfo,
    DimensionStats,
    LevelInfo,
    Overview,
    WeakItem,
    _cm_ref,
    _unique_countermeasures,
    breakdown_title,
    dimension_infos,
    level_infos,
    reference_questionnaire,
    weak_items_from_counts,
)
from .coverage import Coverage, coverage

# The key figure "firms at L3 or above": the level from which a firm covers its main business digitally
# (单项覆盖级, MIIT 二级); the first page counts the firms at it or above.
LEVEL_THRESHOLD = "L3"
# How many of each list page 1 names, and how many groups a problem area names as where it is most widespread.
TOP_WEAKNESSES = 5
TOP_BARRIERS = 3
TOP_GROUPS = 3
# Industries are many: the prevalence table lists the largest ones.
TOP_INDUSTRIES = 10
# The groupings of the prevalence tables, in the report's order. "sector" is the register's key-sector tags
# (several per firm: a firm counts in each of its sectors); the others partition the firms.
PREVALENCE_KEYS = ("district", "sector", "size", "chain", "industry")
OVERLAPPING = frozenset({"sector"})
_LABELS = {
    "district": choices.DISTRICTS,
    "sector": choices.SECTORS,
    "size": choices.SIZE_CLASSES,
    "chain": choices.LEADING_CHAINS,
    "industry": choices.INDUSTRIES,
}
# A related item of a city-level problem: answered low at options A–B (score ≤ 1), high at D–E (score ≥ 3).
LOW_OPTION_SCORE = WEAK_ITEM_SCORE
HIGH_OPTION_SCORE = 3


# --- plain data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeakShareRow:
    label: str
    firms: int | None  # firms with a usable score in this group (None: hidden)
    weak_share: float | None  # percent weak (None: hidden)
    mean: float | None
    hidden_reason: str | None = None  # suppression.SMALL or PROTECTED when hidden
    key: str = ""  # the group's code ("370112", "steel", "small", …)


@dataclass(frozen=True)
class PrevalenceRow:
    """One group of a prevalence table: its firms and, per problem area, the share of them that are weak."""

    key: str
    label: str
    firms: int | None  # firms of the group in the selection (None: hidden)
    shares: list[float | None]  # per dimension, in the order of CityReportData.dimensions
    reasons: list[str | None]  # per dimension: why the share is hidden (None: shown)
    hidden_reason: str | None = None  # the whole row hidden: suppression.SMALL or PROTECTED


@dataclass(frozen=True)
class Prevalence:
    """The paper's five problems side by side for one grouping (district, sector, size, chain, industry)."""

    key: str
    title: str
    rows: list[PrevalenceRow]
    hidden_groups: int  # groups hidden (listed with their mark, or for industries only counted)
    left_out: int = 0  # shown groups not listed (industries beyond TOP_INDUSTRIES)
    overlapping: bool = False  # a firm counts in each of its groups (sectors)


@dataclass(frozen=True)
class ProblemArea:
    """One of the paper's five problem areas (a dimension): how widespread, where, and what it calls for."""

    stats: DimensionStats
    by_district: list[WeakShareRow]
    by_industry: list[WeakShareRow]
    hidden_industries: int
    weak_items: list[WeakItem]  # this dimension's items, most frequent first (at most five)
    countermeasures: list[CountermeasureRef]  # the countermeasures its rules belong to
    by_sector: list[WeakShareRow] = field(default_factory=list)
    by_size: list[WeakShareRow] = field(default_factory=list)
    by_chain: list[WeakShareRow] = field(default_factory=list)
    top_districts: list[WeakShareRow] = field(default_factory=list)  # shown, most widespread first
    top_sectors: list[WeakShareRow] = field(default_factory=list)


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
class LevelShare:
    """The firms of the selection at ``level`` or above."""

    level: str  # LEVEL_THRESHOLD
    level_name: str
    firms: int | None  # None: hidden
    total: int | None  # firms in the selection (None: hidden)
    share: float | None  # percent (None: hidden)
    hidden_reason: str | None = None


@dataclass(frozen=True)
class Change:
    """Change since the previous round, firm by firm: each selected round against the same firm's latest
    round submitted before it (of any version), over the firms that have one."""

    firms: int | None  # firms of the selection with an earlier round (None: hidden)
    previous_mean: float | None  # their mean index then and now
    current_mean: float | None
    previous_share: float | None  # percent of them at LEVEL_THRESHOLD or above then and now
    current_share: float | None
    previous_reason: str | None = None  # why previous_share is hidden
    current_reason: str | None = None
    previous_label: str = ""  # the label most of the previous rounds carry
    previous_labels: int = 0  # how many different labels the previous rounds carry


@dataclass(frozen=True)
class RelatedItem:
    """How the selected firms answered an item that bears on a city-level problem."""

    code: str
    text: str
    answered: int | None  # firms that chose an option or 不清楚 (None: hidden)
    low_share: float | None  # percent at options A–B (score ≤ LOW_OPTION_SCORE)
    high_share: float | None  # percent at options D–E (score ≥ HIGH_OPTION_SCORE)
    low_reason: str | None = None
    high_reason: str | None = None


@dataclass(frozen=True)
class CityProblem:
    """A problem the paper places with government or the city (Problem.scope == "city")."""

    code: str
    text: str
    dimension: DimensionInfo | None
    items: list[RelatedItem]
    levers: list[str]  # what the city can do, in the active language (CITY_LEVERS)
    countermeasures: list[CountermeasureRef]  # those whose rules the related items trigger
    programmes: list[str]  # names of the public schemes the related items name


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
    at_or_above: LevelShare | None = None
    change: Change | None = None
    coverage: Coverage | None = None  # surveys.analytics.coverage (has_register False: no register imported)
    weak_rounds: int | None = None  # rounds the weak items are counted over (None: hidden)
    top_weak_items: list[WeakItem] = field(default_factory=list)  # the most frequent, one per item code
    prevalence: list[Prevalence] = field(default_factory=list)
    city_problems: list[CityProblem] = field(default_factory=list)


# --- the report's data ------------------------------------------------------------------------------


def city_report_data(scope: AdminScope, filters: Filters) -> CityReportData:
    """The city report's figures for the scope and filters: plain data for surveys/reports/city.py."""
    questionnaire = reference_questionnaire()
    dimensions = dimension_infos(questionnaire)
    levels = level_infos(questionnaire)
    chosen = summaries.selected(scope, filters)
    distributions = aggregates.score_distributions(scope, filters, kinds=("index", "score"))
    stats = aggregates.dimension_stats_from(scope, filters, dimensions, distributions)
    answers = _answer_counts(scope, filters)
    weak_total, items = _weak_items(summaries.rounds_per_version(scope, filters), answers)
    called_for = _countermeasures_by_dimension(questionnaire)
    counts = _prevalence_counts(scope, filters, set(_codes(dimensions)))
    shares = {key: _weak_shares(counts[key], key) for key in PREVALENCE_KEYS}
    areas = [_problem_area(stat, shares, items, called_for.get(stat.info.code, [])) for stat in stats]
    return CityReportData(
        scope_label=scope.label,
        filters=filters,
        dimensions=dimensions,
        levels=levels,
        overview=aggregates.overview_from(scope, filters, levels, chosen, distributions),
        dimension_stats=stats,
        problem_areas=areas,
        countermeasures=_countermeasure_summaries(questionnaire, dimensions, called_for),
        questionnaire_version=questionnaire.version if questionnaire else "",
        context=_context_summaries(scope, filters, questionnaire),
        at_or_above=_at_or_above(chosen, levels),
        change=_change_since_previous(scope, filters, levels),
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
# The cell attribute each grouping reads (BREAKDOWNS; sectors are the register's tags, kept by the sector grains).
_ATTRIBUTES = {key: BREAKDOWNS[key][0] for key in ("district", "industry", "size", "chain")} | {"sector": "sector"}


def _prevalence_counts(scope: AdminScope, filters: Filters, dimension_codes: set[str]) -> dict[str, _Grouped]:
    """Per grouping of PREVALENCE_KEYS, the counts of each (group, dimension) of the reference version's
    dimensions: one read of the summaries for the five groupings. A firm counts in each of its key sectors (with
    a sector filter, the chosen sector's firms in each of their sectors: the cells of the sector's pairs)."""
    found = summaries.dimension_counts_by(scope, filters, [_ATTRIBUTES[key] for key in PREVALENCE_KEYS])
    grouped: dict[str, _Grouped] = {key: {} for key in PREVALENCE_KEYS}
    for key in PREVALENCE_KEYS:
        for (group, code), c in found[_ATTRIBUTES[key]].items():
            if group and code in dimension_codes:
                grouped[key][group, code] = _Counts(c.results, c.usable, c.weak, Decimal(c.total).scaleb(-2))
    return grouped


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


# The options of the summaries' answer counts (summaries.ITEM_OPTIONS) each figure counts.
_SCORED = [str(score) for score in range(5)]
_WEAK_OPTIONS = [*_SCORED[: WEAK_ITEM_SCORE + 1], "unknown"]
_LOW_OPTIONS = _SCORED[: LOW_OPTION_SCORE + 1]
_HIGH_OPTIONS = _SCORED[HIGH_OPTION_SCORE:]


def _answer_counts(scope: AdminScope, filters: Filters) -> dict[int, _ItemCounts]:
    """Per item id, the selected rounds' answers counted as the weak items and the city-level problems need them:
    one read of the summaries' answers per item and option."""
    counts = {}
    for item_id, c in summaries.item_counts(scope, filters).items():
        counts[item_id] = _ItemCounts(
            weak=c.at(*_WEAK_OPTIONS), answered=c.answered, low=c.at(*_LOW_OPTIONS), high=c.at(*_HIGH_OPTIONS)
        )
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


CONTEXT_USED_BY_CITY_REPORT = "city_report"


def _at_or_above(chosen: summaries.Selected, levels: list[LevelInfo]) -> LevelShare | None:
    """The selected firms at LEVEL_THRESHOLD or above (None: the reference version has no such level), from the
    selected rounds per level."""
    codes = [lv.code for lv in levels]
    if LEVEL_THRESHOLD not in codes:
        return None
    upper = codes[codes.index(LEVEL_THRESHOLD) :]
    name = next(lv.name for lv in levels if lv.code == LEVEL_THRESHOLD)
    above = sum(chosen.levels.get(code, 0) for code in upper)
    return _level_share(LEVEL_THRESHOLD, name, above, chosen.rounds)


def _change_since_previous(scope: AdminScope, filters: Filters, levels: list[LevelInfo]) -> Change | None:
    """The change since each firm's previous round (None: the reference version has no LEVEL_THRESHOLD), read
    from the summaries (summaries.previous_round_counts).

    The previous round of a selected round is the same firm's latest round submitted before it, of any
    questionnaire version (as LAG over the firm's submitted rounds in the order of submission would find it);
    the selected rounds with one are grouped by its label."""
    codes = [lv.code for lv in levels]
    if LEVEL_THRESHOLD not in codes:
        return None
    upper = codes[codes.index(LEVEL_THRESHOLD) :]
    counts = summaries.previous_round_counts(scope, filters, levels=upper)
    by_label = {
        label: [
            c.rounds,
            c.now_above,
            Decimal(c.now_total).scaleb(-2),
            Decimal(c.then_total).scaleb(-2),
            c.then_above,
        ]
        for label, c in counts.items()
    }
    return _change(by_label)


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


def _context_summaries(
    scope: AdminScope, filters: Filters, questionnaire: Questionnaire | None
) -> list[ContextSummary]:
    """The context questions the city report uses, counted over the selected rounds (one per firm) that
    answered them, whatever their version (labels: the reference version's, by option code). A count below
    the minimum group size is hidden; for a single-choice question, whose options partition the firms, with
    secondary suppression.

    One read of the summaries per question: the rounds per option chosen and the rounds that answered at all.
    A round answered the question when it chose one of the reference version's options: the rounds that
    answered at all, as long as no round chose another option (else :func:`_context_counts_from_rows`)."""
    found = []
    for question, options in _context_questions(questionnaire):
        answered, chosen = summaries.context_counts(scope, filters, question=question.code)
        known = {o.code for o in options}
        if set(chosen) <= known and all(len(code) <= SUMMARY_OPTION_LENGTH for code in known):
            counts = {o.code: chosen.get(o.code, 0) for o in options}
        else:
            answered, counts = _context_counts_from_rows(assessment_queryset(scope, filters), question, options)
        if answered:
            found.append(_context_summary(question, options, counts, answered))
    return found


def _context_counts_from_rows(
    rounds: QuerySet[Assessment], question: ContextQuestion, options
) -> tuple[int, dict[str, int]]:
    """(rounds that chose one of ``options``, rounds per option) over the rows: one aggregate with a filtered
    COUNT per option over the stored choices (a JSON list) as text ('"cost"' in '["cost", "people"]')."""
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
    counts = {o.code: int(figures[f"option_{n}"] or 0) for n, o in enumerate(options)}
    return int(figures["answered"] or 0), counts


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


# What the city can do about each city-level problem of the paper (Problem.scope == "city"), by problem code:
# the levers its four countermeasures imply at city level. The questionnaire's Problem rows carry no such
# text, and the seed of a version in use is frozen (seeds/README.md), so they live here; a city-level problem
# of another code is shown with its data, countermeasures and programmes only.
CITY_LEVERS = {
    "PB-CORE-NARROW": [
        gettext_lazy(
            "把扶持政策向数字经济核心产业倾斜：支持制造企业开发数字化产品和服务，支持自主掌握关键控制系统和工业软件的企业"
            "及其本地配套。"
        ),
    ],
    "PB-INFO-SVC-LOW": [
        gettext_lazy(
            "培育面向制造业的软件和信息服务：按“企业出一点、服务商让一点、政府补一点”的方式降低企业购买软件、数据和服务的"
            "成本，提高数字化投入中软件和服务的比重。"
        ),
    ],
    "PB-NO-PLATFORM": [
        gettext_lazy(
            "依托“工赋泉城”行动培育本地工业互联网平台和链主企业，推动园区、产业集群和链主企业带动中小企业上平台、"
            "接入供应链协同。"
        ),
    ],
    "PB-DATA-SILO": [
        gettext_lazy(
            "打通各级政府部门的信息系统，扩大公共数据开放平台的数据集和接口，给企业一个统一的公共数据获取渠道。"
        ),
    ],
    "PB-GOV-DATA-RESP": [
        gettext_lazy(
            "明确政府与企业之间数据共享的权利和责任：发布数据共享和授权使用协议的范本，推进公共数据授权运营。"
        ),
    ],
    "PB-SEC-SUPERVISION": [
        gettext_lazy(
            "健全数据安全监督机制：组织等级保护测评和工业控制系统安全评估的辅导，推动企业建立数据分类分级制度，并开展监督"
            "检查。"
        ),
    ],
}


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


# --- localized ----------------------------------------------------------------------------------------


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


def scope_line(scope: AdminScope, filters: Filters, ignored: Sequence[object] = ()) -> str:
    """What the report covers, truthfully, in the active language: the place (the district filter, else the
    administrator's scope: "济南全市", "All of Jinan", or their districts) and every other filter in use,
    e.g. "历城区；行业：…；企业规模：…；轮次：2025年度". ``ignored``: the labels of filters whose value was
    invalid (a hand-edited link, a district outside the scope); the line names them, so that a report of the
    whole scope is not taken for the one asked for."""
    place = label_of(DISTRICTS, filters.district) if filters.district else scope.label
    district_label = str(_("区县"))
    parts = [str(place)] + [
        f"{with_colon(label)}{value}" for label, value in filters.describe() if str(label) != district_label
    ]
    if ignored:
        parts.append(f"{with_colon(_('已忽略无效的筛选条件'))}{join_list([str(label) for label in ignored])}")
    return join_list(parts, strong=True)


def city_report(*, scope: AdminScope, filters: Filters, language: str, ignored: Sequence[object] = ()) -> CityReport:
    """The city report's figures for the scope and filters, with its texts in ``language``; ``ignored``: the
    labels of the filters given with an invalid value (scope_line)."""
    language = normalize_language(language)
    with override(language):
        data = city_report_data(scope, filters)
        return CityReport(
            language=language,
            title=_("济南市制造业企业数实融合自评估汇总报告"),
            subtitle=_("按论文提出的五个问题领域和四项对策汇总"),
            scope_label=scope_line(scope, filters, ignored),
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
