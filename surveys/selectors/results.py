"""The read model of a submitted round: what the results page, the firm's PDF and the administrators'
drill-down show, read from the stored result (never recomputed).

``assessment_report()`` reads everything once and localizes it inside ``translation.override(language)``:
the tree it returns (``AssessmentReport`` and the rows below it) holds strings and numbers only, no model
instance and no lazy translation, so that surveys/reports renders it without the ORM and the pages show
exactly the numbers the PDF prints. A score is kept to the two decimals the database stores
(Assessment.index, DimensionResult.score); how it is rounded for display is surveys/reports/formatting.py.

A round scored by rules version 2 also carries its plan (``top_actions``, ``more_actions``, ``plan_periods``,
read from the stored ranked actions, "the plan" below), which replaces the rule recommendations on the page
and in the PDF; a version 1 round has none and reads exactly as before.

Every round, either rules version, also carries the frame of its plan, read from stored data: ``ladder``
(the L1–L5 rungs, the round's and the next one marked), ``next_level`` (the index points still missing and
exactly the stored gates guarding the next level that did not pass, with their answers and the option each
needs; None at the top level) and ``progress`` (against the firm's previous submitted round: index, level,
dimension scores, and on the same questionnaire version the answers that went up or down; None for a first
round).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from .. import scoring
from ..choices import (
    DEPARTMENTS,
    DISTRICTS,
    INDUSTRIES,
    PDF_LANGUAGE,
    SIZE_CLASSES,
    ZONES,
    label_of,
    normalize_language,
)
from ..models import (
    Answer,
    Assessment,
    Countermeasure,
    Dimension,
    Gate,
    Item,
    Level,
    Problem,
    Programme,
    RecognitionPath,
    RecommendationRule,
)
from ..scopes import AdminScope
from ..suppression import min_group_size
from ..text import join_list, option_letter, option_text, sentence_gap, without_final_stop
from .assessments import answer_label, answer_short
from .revisions import SupersededResult, superseded_result
from .structure import QuestionnaireStructure, questionnaire_structure
from .summaries import database_mean, peer_dimension_totals, peer_figures

NEXT_STEP_MARKERS = ("下一步：", "下一步:", "Next step:", "Next steps:")
SHORT_HORIZON = "short"
# A dimension's strengths are its answers at this option or above; its weaknesses those at or below
# scoring.WEAK_SCORE. The report names at most ANSWERS_NAMED of each.
STRONG_SCORE = 3
ANSWERS_NAMED = 3
# The comparison groups, in the order they are shown, and those that stay inside a district
# administrator's scope (the industry across the city and the whole city reach outside it).
PEER_GROUPS = ("industry", "district", "city")
IN_DISTRICT_PEERS = ("district",)
# Scores and indexes are kept to the two decimals the database stores.
STORED_DECIMALS = 2


class ReportNotAvailable(Assessment.DoesNotExist):
    """The round has no report: it is still a draft (only submitted rounds are scored)."""


# --- the tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    item_code: str
    question: str
    answer: str  # localized, e.g. "3 – …", "不清楚", "不适用", "未作答"
    score: int | None  # 0–4 for a chosen option, None otherwise
    special: str  # "" (an option), "unknown", "na" or "missing"
    note: str = ""


@dataclass(frozen=True)
class ProblemRow:
    code: str
    text: str
    item_codes: tuple[str, ...] = ()  # the dimension's items that measure it


@dataclass(frozen=True)
class PeerValue:
    label: str
    value: float | None


@dataclass(frozen=True)
class DimensionSection:
    code: str
    name: str
    problem: str  # the paper's heading of the problem area
    description: str
    weight: float  # share of the index, 0–1
    score: float | None  # None when nothing is scorable (all 不适用)
    insufficient_data: bool  # too many 不清楚: reported as "insufficient data", not as a low score
    unknown_share: float
    answered: int  # answers that count (不清楚 included, 不适用 excluded)
    unknown: int
    not_applicable: int
    strongest: list[AnswerRow]
    weakest: list[AnswerRow]
    unknown_items: list[AnswerRow]
    problems: list[ProblemRow]  # the paper's problems its items measure
    peers: list[PeerValue]  # the shown peer groups' means for this dimension
    peer_means: list[float | None]  # every group's mean, in AssessmentReport.peers order (None: hidden)
    answers: list[AnswerRow]  # every item, for the appendix


@dataclass(frozen=True)
class GateRow:
    code: str
    reason: str  # for an unverified gate (rules version 2) the verify wording, never its failure text
    items: list[str]  # the item codes that made it fail
    # The gate guards the level just above the final one: it alone explains the level. The other failed gates
    # guard higher levels that this one already rules out, and would repeat its explanation on the page.
    sets_level: bool = True
    # Rules version 2: "failed" or "unverified" (held only by 不清楚 answers: to verify, not a finding).
    status: str = scoring.STATUS_FAILED
    status_label: str = ""  # "待核实" for an unverified gate, else ""
    unverified: list[str] = field(default_factory=list)  # the 不清楚 answers to verify to lift it


@dataclass(frozen=True)
class TriggerRow:
    item_code: str
    question: str
    answer: str


@dataclass(frozen=True)
class RecommendationRow:
    rule_code: str
    countermeasure_code: str
    countermeasure_title: str
    priority: int  # 1 high … 3 low
    priority_label: str
    horizon: str  # short | medium | long
    horizon_label: str
    text: str  # the whole recommendation
    body: str  # the text before its concrete next step
    next_step: str  # "下一步：…" / "Next step: …", or "" when the text has no marker
    action: str  # the next step without its marker (the whole text when there is none): the action plan's entry
    triggers: list[TriggerRow]
    kind: str = scoring.KIND_IMPROVE  # rules version 2 keeps only these (a verify rule is a verify action)


@dataclass(frozen=True)
class CountermeasureSection:
    code: str
    title: str
    heading: str  # the paper's heading, e.g. （一）…
    description: str
    recommendations: list[RecommendationRow]


@dataclass(frozen=True)
class ActionPeriod:
    title: str
    rows: list[RecommendationRow]


# --- the plan (rules version 2): ranked next-rung actions -----------------------------------------------


@dataclass(frozen=True)
class TextPart:
    """A piece of a sentence: its text, then a number (when given) that the renderer shows rounded by the
    one display rule (surveys/reports/formatting.py ``format_score``): the read model keeps numbers."""

    text: str
    number: float | None = None


@dataclass(frozen=True)
class ProgrammeRow:
    code: str
    name: str
    level_label: str  # 国家级 / 山东省 / 济南市
    url: str  # only an address the questionnaire stores, else ""


@dataclass(frozen=True)
class ActionRow:
    """One action of the plan: an ``improve`` step (one option up), a ``verify`` (find out a 不清楚 answer;
    never a finding) or a recognition ``path``."""

    key: str  # unique in the round: the item code, verify:<item> or the path code
    kind: str  # improve | verify | path
    kind_label: str
    rank: int  # 1-based, among all the round's actions (the stored ranking)
    top: bool  # in the top list
    title: str
    what: str
    done_criterion: str  # observable: the next option (with its letter), the verified answer, the path's done text
    lead: str  # department code (choices.DEPARTMENTS), "" when the questionnaire names none
    lead_label: str
    horizon: str  # short | medium | long
    horizon_label: str  # the title of its period in the plan by horizon
    countermeasure_code: str  # "" when no rule places the action
    countermeasure_title: str
    dimension_code: str  # "" for a path
    dimension_name: str
    programmes: list[ProgrammeRow]
    why: list[TextPart]  # one sentence from the stored score components
    answers: list[TriggerRow]  # the firm's answers behind it (none for a path)
    gain: float
    bonus: float
    priority: float
    blocks: list[str]  # gate codes


@dataclass(frozen=True)
class ActionGroup:
    """The actions outside the top list under one countermeasure (or, for actions no rule places, under
    their dimension), in rank order."""

    code: str
    title: str
    actions: list[ActionRow]


@dataclass(frozen=True)
class PlanPeriod:
    code: str  # short | medium | long
    title: str
    actions: list[ActionRow]  # every action of that horizon, in rank order


@dataclass(frozen=True)
class PeerSummary:
    key: str  # industry | district | city
    label: str  # the group, e.g. 通用设备制造业
    series_name: str  # its name in the charts' legends
    size: int
    shown: bool  # False below settings.JINAN_MIN_GROUP_SIZE: no averages are given
    mean_index: float | None
    percentile: float | None  # share of the group at or below the firm's index
    dimension_means: list[float | None]  # in dimension order


@dataclass(frozen=True)
class LevelRow:
    code: str
    name: str
    min_index: float


@dataclass(frozen=True)
class HistoryCell:
    score: float | None
    change: float | None  # against the previous submitted round; None for the first or a missing score
    # Too many 不清楚 in that round: shown as "insufficient data", never as its score, and no change is given.
    insufficient_data: bool = False


@dataclass(frozen=True)
class HistoryRow:
    """One submitted round of the firm (the report's own included)."""

    assessment_id: int
    label: str
    questionnaire_version: str
    index: float
    index_change: float | None  # against the previous submitted round
    cells: list[HistoryCell]  # in the report's dimension order


# --- the plan's frame: the ladder, what blocks the next level, progress since the previous round --------


@dataclass(frozen=True)
class LadderRung:
    code: str
    name: str
    min_index: float
    summary: str  # one line on what the level means: the first sentence of its description
    current: bool  # the round's level
    next: bool  # the level above it


@dataclass(frozen=True)
class BlockingItem:
    item_code: str
    question: str
    answer: str  # the firm's answer label (with its option letter), e.g. "B. …", "不清楚"
    needed: str  # the option the gate needs, e.g. "C. …"; "" for a 不清楚 answer (verify it first)
    kind: str  # "improve" (a known answer below the option) | "verify" (a 不清楚 answer)
    who: str = ""  # verify: the department that usually knows the answer (its label); "" for improve


@dataclass(frozen=True)
class BlockingGate:
    code: str
    status: str  # "failed" | "unverified"
    status_label: str  # "待核实" for an unverified gate, else ""
    reason: str
    items: list[BlockingItem]
    more_needed: int | None  # area floors: how many more answers must reach the option; None otherwise
    option: str = ""  # area floors: the letter of the option their answers must reach ("C"); "" otherwise


@dataclass(frozen=True)
class NextLevelBlock:
    code: str
    name: str
    min_index: float
    index_gap: float  # index points still needed to reach the band; 0.0 when the index reaches it
    gates: list[BlockingGate]  # the stored gates guarding this level that did not pass


@dataclass(frozen=True)
class DimensionDelta:
    code: str
    name: str
    before: float | None  # None: insufficient data or no such dimension in that round
    after: float | None
    change: float | None  # None when either side is None


@dataclass(frozen=True)
class ItemChange:
    item_code: str
    question: str
    before: str  # answer labels
    after: str
    before_short: str = ""  # the option's letter, or 不清楚 / 不适用 / 未作答 (selectors.answer_short)
    after_short: str = ""


@dataclass(frozen=True)
class Progress:
    previous_label: str
    previous_version: str
    same_version: bool  # item changes are only compared on the same questionnaire version
    index_before: float
    index_after: float
    index_change: float
    level_before: str  # level codes
    level_after: str
    level_change: int  # rungs, + up
    dimensions: list[DimensionDelta]
    improved: list[ItemChange]  # empty across versions
    regressed: list[ItemChange]

    @property
    def level_steps(self) -> int:
        """The level change in rungs without its sign (the page words the direction)."""
        return abs(self.level_change)


@dataclass(frozen=True)
class AssessmentReport:
    assessment_id: int
    language: str  # "zh-hans" | "en"
    pdf_language: str  # "zh-CN" | "en"
    title: str
    questionnaire_title: str
    questionnaire_version: str
    enterprise_name: str
    uscc: str
    district: str
    zone: str
    industry: str
    size_class: str
    contact_name: str  # "" when the reader may not see it
    contact_phone: str
    round_label: str
    submitted_on: str  # in the language's date format (the PDF)
    submitted_date: str  # YYYY-MM-DD (the pages)
    generated_on: str
    index: float
    level_code: str
    level_name: str
    level_description: str
    provisional_level_code: str
    provisional_level_name: str
    levels: list[LevelRow]
    gates: list[GateRow]  # the gates that capped the level
    top_priorities: list[RecommendationRow]
    dimensions: list[DimensionSection]
    peers: list[PeerSummary]
    min_group_size: int
    countermeasures: list[CountermeasureSection]
    action_plan: list[ActionPeriod]
    history: list[HistoryRow]  # the firm's submitted rounds, newest first
    firm_series_name: str
    disclaimer: str
    footer_note: str
    # Rules version 2: the plan, which replaces the rule recommendations on the page and in the PDF (under
    # it top_priorities and action_plan are empty, and countermeasures keep the "improve" rules only).
    # Empty under version 1.
    rules_version: int = scoring.RULES_VERSION_1
    top_actions: list[ActionRow] = field(default_factory=list)  # in the stored (rank) order
    more_actions: list[ActionGroup] = field(default_factory=list)  # every other action
    plan_periods: list[PlanPeriod] = field(default_factory=list)  # every action, by horizon
    # Every round, either rules version: the L1–L5 ladder, what stands between the round and the next level
    # (None at the top level) and the change since the firm's previous submitted round (None for its first).
    ladder: list[LadderRung] = field(default_factory=list)
    next_level: NextLevelBlock | None = None
    progress: Progress | None = None
    # A re-scored round: its previous result, now superseded (selectors/revisions.py); None otherwise.
    superseded: SupersededResult | None = None

    @property
    def insufficient_dimensions(self) -> list[DimensionSection]:
        return [d for d in self.dimensions if d.insufficient_data]

    @property
    def has_plan(self) -> bool:
        return self.rules_version >= scoring.RULES_VERSION_2

    @property
    def more_action_count(self) -> int:
        return sum(len(group.actions) for group in self.more_actions)


# --- building ---------------------------------------------------------------------------------------


def assessment_report(*, assessment: Assessment, language: str, scope: AdminScope | None = None) -> AssessmentReport:
    """The read model of a submitted round in ``language``; ReportNotAvailable for a draft.

    ``scope``: an administrator's (surveys/scopes.py), for the administrators' copy: the contact person
    and phone only with ``view_contact_details``, and for a district administrator only the comparison
    group inside the scope (the firm's district). Without it, the firm's own copy.
    """
    if assessment.status != Assessment.STATUS_SUBMITTED or not assessment.result:
        raise ReportNotAvailable(_("本轮评估尚未提交，没有报告。"))
    language = normalize_language(language)
    with override(language):
        return _build(assessment, language, scope)


def _build(assessment: Assessment, language: str, scope: AdminScope | None) -> AssessmentReport:
    stored: dict[str, Any] = assessment.result or {}
    enterprise = assessment.enterprise
    questionnaire_id = assessment.questionnaire_id
    structure = questionnaire_structure(questionnaire=assessment.questionnaire)
    dimensions = structure.dimensions_by_code
    stored_dimensions = [d for d in stored["dimensions"] if d["code"] in dimensions]
    codes = [d["code"] for d in stored_dimensions]
    rounds = _firm_rounds(assessment)
    previous = _previous_round(rounds, assessment.pk)
    same_version = previous is not None and previous.questionnaire_id == questionnaire_id
    answers_by_dimension, answers_by_item, items, previous_answers = _answer_rows(
        assessment, structure, previous.assessment_id if previous and same_version else None
    )
    rules_version = int(stored.get("rules_version", scoring.RULES_VERSION_1))
    version_2 = rules_version >= scoring.RULES_VERSION_2
    problems_by_dimension = _covered_problems(structure)

    all_districts = scope is None or scope.all_districts
    peers = _peer_summaries(assessment, PEER_GROUPS if all_districts else IN_DISTRICT_PEERS, codes)
    shown_peers = [p for p in peers if p.shown]

    sections = []
    for position, stored_dimension in enumerate(stored_dimensions):
        dimension = dimensions[stored_dimension["code"]]
        rows = answers_by_dimension.get(dimension.id, [])
        sections.append(
            _dimension_section(
                dimension,
                stored_dimension,
                rows,
                problems=problems_by_dimension.get(dimension.id, []),
                peers=[PeerValue(p.series_name, p.dimension_means[position]) for p in shown_peers],
                peer_means=[p.dimension_means[position] for p in peers],
            )
        )

    countermeasure_list = list(structure.countermeasures)
    recommendations = _recommendation_rows(
        structure.recommendation_rules,
        stored["recommendations"],
        {cm.id: cm for cm in countermeasure_list},
        answers_by_item,
    )
    countermeasures = [
        CountermeasureSection(
            code=cm.code,
            title=cm.title,
            heading=cm.heading_zh,
            description=cm.description,
            recommendations=[r for r in recommendations if r.countermeasure_code == cm.code],
        )
        for cm in countermeasure_list
    ]
    ordered = sorted(recommendations, key=lambda r: (r.priority, r.rule_code))

    levels = list(structure.levels)
    level_by_code = {lv.code: lv for lv in levels}
    level, provisional = level_by_code[stored["level"]], level_by_code[stored["provisional_level"]]
    gates = structure.gates
    contacts = scope is None or scope.can_view_contacts
    questionnaire = assessment.questionnaire
    top_actions: list[ActionRow] = []
    more_actions: list[ActionGroup] = []
    plan_periods: list[PlanPeriod] = []
    if version_2:
        top_actions, more_actions, plan_periods = _plan(
            stored,
            _PlanData.load(structure, items, dimensions, countermeasure_list),
            answers_by_item,
        )
    index = _stored_score(assessment.index if assessment.index is not None else stored["index"])
    answered = _Answers(items, answers_by_item, answers_by_dimension, dimensions)
    return AssessmentReport(
        assessment_id=assessment.pk,
        language=language,
        pdf_language=PDF_LANGUAGE[language],
        title=_("数实融合自评估报告"),
        questionnaire_title=questionnaire.title,
        questionnaire_version=questionnaire.version,
        enterprise_name=enterprise.name,
        uscc=enterprise.uscc,
        district=label_of(DISTRICTS, enterprise.district),
        zone=label_of(ZONES, enterprise.zone) if enterprise.zone else "",
        industry=f"{enterprise.industry} {label_of(INDUSTRIES, enterprise.industry)}",
        size_class=label_of(SIZE_CLASSES, enterprise.size_class),
        contact_name=enterprise.contact_name if contacts else "",
        contact_phone=enterprise.contact_phone if contacts else "",
        round_label=assessment.label,
        submitted_on=_date(assessment.submitted_at, "DATE_FORMAT"),
        submitted_date=_date(assessment.submitted_at, "Y-m-d"),
        generated_on=formats.date_format(timezone.localdate(), "DATE_FORMAT"),
        index=index,
        level_code=level.code,
        level_name=level.name,
        level_description=level.description,
        provisional_level_code=provisional.code,
        provisional_level_name=provisional.name,
        levels=[LevelRow(lv.code, lv.name, float(lv.min_index)) for lv in levels],
        gates=_gate_rows(stored, gates, _next_level_code(levels, level.code)),
        top_priorities=[] if version_2 else recommendations[:3],
        dimensions=sections,
        peers=peers,
        min_group_size=min_group_size(),
        countermeasures=countermeasures,
        action_plan=[]
        if version_2
        else [
            ActionPeriod(_("未来90天"), [r for r in ordered if r.horizon == SHORT_HORIZON]),
            ActionPeriod(_("未来一年及更长"), [r for r in ordered if r.horizon != SHORT_HORIZON]),
        ],
        history=_history(rounds, codes),
        firm_series_name=_("本企业"),
        disclaimer=_(
            "本报告是企业根据自身填报的答案生成的自评估结果，仅供企业内部改进参考；不是工业和信息化部（MIIT）"
            "中小企业数字化水平评测、智能制造能力成熟度（GB/T 39116，CMMM）评估，也不是山东省或济南市的任何官方评定。"
        ),
        footer_note=_("自评估结果，非工信部（MIIT）、CMMM 或山东省官方评定"),
        rules_version=rules_version,
        top_actions=top_actions,
        more_actions=more_actions,
        plan_periods=plan_periods,
        ladder=_ladder(levels, level.code),
        next_level=_next_level(stored, levels, level.code, index, gates, answered),
        progress=_progress(rounds, previous, index, [lv.code for lv in levels], answered, previous_answers),
        superseded=superseded_result(assessment=assessment),
    )


def _gate_rows(stored: dict[str, Any], gates: dict[str, Gate], next_level: str | None) -> list[GateRow]:
    """The gates that capped the level, in definition order; those guarding ``next_level`` set it (all of
    them do when a stored result predates the guarded level's code)."""
    capped = [g for g in stored["gates"] if g["code"] in stored["capped_by"] and g["code"] in gates]
    setting = {g["code"] for g in capped if g.get("guards_level") == next_level} or {g["code"] for g in capped}
    return [_gate_row(g, gates[g["code"]], sets_level=g["code"] in setting) for g in capped]


def _gate_row(stored: dict[str, Any], gate: Gate, *, sets_level: bool) -> GateRow:
    """A capping gate as shown. Rules version 2: a gate held only by 不清楚 answers ("unverified") is to
    verify, never a finding: its text says which answers to find out. The unknown-share gate's own reason
    is about those answers; a floor's or key item's reason states a shortfall, so it is not quoted."""
    if stored.get("status") != scoring.STATUS_UNVERIFIED:
        return GateRow(stored["code"], gate.reason, list(stored["items"]), sets_level=sets_level)
    unverified = list(stored.get("unverified", []))
    if stored["kind"] == scoring.GATE_UNKNOWN_SHARE:
        explanation = without_final_stop(gate.reason)
    else:
        explanation = _("能否达到 %(level)s 取决于答了“不清楚”的题目，核实之前这项门槛暂按未达到计") % {
            "level": stored["guards_level"]
        }
    return GateRow(
        stored["code"],
        _("%(explanation)s。请先核实：%(items)s。") % {"explanation": explanation, "items": join_list(unverified)},
        list(stored["items"]),
        sets_level=sets_level,
        status=scoring.STATUS_UNVERIFIED,
        status_label=_("待核实"),
        unverified=unverified,
    )


def _next_level_code(levels: list[Level], code: str) -> str | None:
    """The code of the level after ``code`` (levels in order), None for the highest."""
    codes = [lv.code for lv in levels]
    return codes[codes.index(code) + 1] if code in codes[:-1] else None


# --- the ladder, the next level and progress ------------------------------------------------------


@dataclass(frozen=True)
class _Answers:
    """The round's items and answers as the report reads them once (``_answer_rows``), for the next-level
    block and the progress section."""

    items: dict[str, Item]  # by code, in the questionnaire's order, options prefetched
    by_item: dict[str, AnswerRow]
    by_dimension: dict[int, list[AnswerRow]]  # by dimension id
    dimensions: dict[str, Dimension]  # by code


def _ladder(levels: list[Level], code: str) -> list[LadderRung]:
    """Every level of the questionnaire, lowest first, with the round's level and the one above marked."""
    next_code = _next_level_code(levels, code)
    return [
        LadderRung(
            code=lv.code,
            name=lv.name,
            min_index=float(lv.min_index),
            summary=_first_sentence(lv.description),
            current=lv.code == code,
            next=lv.code == next_code,
        )
        for lv in levels
    ]


def _next_level(
    stored: dict[str, Any], levels: list[Level], code: str, index: float, gates: dict[str, Gate], answered: _Answers
) -> NextLevelBlock | None:
    """What stands between the round and the level above its own (None at the top): the index points still
    missing to reach that level's band, and the stored gates guarding it that did not pass (failed, or held
    unverified by 不清楚 answers) with exactly their stored answers. A rules-version-1 result has no status:
    a gate that did not pass failed."""
    next_code = _next_level_code(levels, code)
    if next_code is None:
        return None
    target = next(lv for lv in levels if lv.code == next_code)
    blocking = []
    for entry in stored["gates"]:
        gate = gates.get(entry["code"])
        if gate is None or entry.get("passed", True) or entry.get("guards_level", gate.guards_level) != next_code:
            continue
        blocking.append(_blocking_gate(entry, gate, answered))
    return NextLevelBlock(
        code=target.code,
        name=target.name,
        min_index=float(target.min_index),
        index_gap=max(0.0, round(float(target.min_index) - index, STORED_DECIMALS)),
        gates=blocking,
    )


def _blocking_gate(entry: dict[str, Any], gate: Gate, answered: _Answers) -> BlockingGate:
    row = _gate_row(entry, gate, sets_level=True)
    needed_scores: dict[str, int] = {}
    if gate.kind == scoring.GATE_AREA_FLOOR:
        needed_scores = dict.fromkeys(answered.items, int(gate.params.get("min_score", 0)))
    elif gate.kind == scoring.GATE_KEY_ITEMS:
        needed_scores = {str(r["item"]): int(r["min_score"]) for r in gate.params.get("requirements", [])}
    codes = list(dict.fromkeys([*entry.get("items", []), *entry.get("unverified", [])]))
    items = [_blocking_item(code, needed_scores.get(code), answered) for code in codes if code in answered.by_item]
    more_needed, option = None, ""
    if gate.kind == scoring.GATE_AREA_FLOOR:
        option = option_letter(int(gate.params.get("min_score", 0)))
        more_needed = sum(
            _more_to_reach(answered.by_dimension.get(answered.dimensions[d].id, []), gate.params)
            for d in entry.get("dimensions", [])
            if d in answered.dimensions
        )
    return BlockingGate(
        code=row.code,
        status=row.status,
        status_label=row.status_label,
        reason=row.reason,
        items=items,
        more_needed=more_needed,
        option=option,
    )


def _blocking_item(code: str, needed_score: int | None, answered: _Answers) -> BlockingItem:
    """One answer a blocking gate counts: a known answer below the gate's option (improve: the option it
    needs) or a 不清楚 answer (verify first: who usually knows; no option named)."""
    row, item = answered.by_item[code], answered.items[code]
    if row.special == scoring.UNKNOWN or needed_score is None:
        owner = item.owner or item.lead
        return BlockingItem(
            item_code=code,
            question=row.question,
            answer=row.answer,
            needed="",
            kind=scoring.KIND_VERIFY,
            who=_department_label(owner),
        )
    options = {option.score: option for option in item.options.all()}
    needed = option_text(needed_score, options[needed_score].label) if needed_score in options else ""
    return BlockingItem(code, row.question, row.answer, needed or option_letter(needed_score), scoring.KIND_IMPROVE)


def _more_to_reach(rows: list[AnswerRow], params: dict[str, Any]) -> int:
    """How many more of a dimension's counted answers (不清楚 included, 不适用 excluded) must reach the area
    floor's option for the floor to pass there (0 when it does), by the engine's own comparison."""
    counted = [r for r in rows if r.score is not None or r.special == scoring.UNKNOWN]
    if not counted:
        return 0
    min_score, min_share = int(params.get("min_score", 0)), float(params.get("min_share", 0))
    reached = sum(1 for r in counted if r.score is not None and r.score >= min_score)
    more = 0
    while reached + more < len(counted) and (reached + more) / len(counted) < min_share:
        more += 1
    return more


@dataclass(frozen=True)
class _Round:
    """One submitted round of the firm, as ``_firm_rounds`` reads it."""

    assessment_id: int
    label: str
    version: str
    questionnaire_id: int
    index: float
    level: str
    scores: dict[str, float | None]  # by dimension code; None for insufficient data
    insufficient: set[str]


def _firm_rounds(assessment: Assessment) -> list[_Round]:
    """The firm's submitted rounds, oldest first, with their dimension scores (one query)."""
    rows = (
        Assessment.objects.filter(enterprise_id=assessment.enterprise_id, status=Assessment.STATUS_SUBMITTED)
        .order_by("submitted_at", "id")
        .values_list(
            "id",
            "label",
            "questionnaire__version",
            "questionnaire_id",
            "index",
            "level",
            "dimension_results__dimension__code",
            "dimension_results__score",
            "dimension_results__insufficient_data",
        )
    )
    rounds: dict[int, _Round] = {}
    for round_id, label, version, questionnaire_id, index, level, code, score, insufficient in rows:
        entry = rounds.get(round_id)
        if entry is None:
            entry = rounds[round_id] = _Round(
                round_id, label, version, questionnaire_id, _stored_score(index or 0), level, {}, set()
            )
        if code is not None:
            entry.scores[code] = None if insufficient else _optional_score(score)
            if insufficient:
                entry.insufficient.add(code)
    return list(rounds.values())


def _previous_round(rounds: list[_Round], assessment_id: int) -> _Round | None:
    """The firm's submitted round before ``assessment_id`` (rounds oldest first), None for its first."""
    position = next((i for i, r in enumerate(rounds) if r.assessment_id == assessment_id), 0)
    return rounds[position - 1] if position > 0 else None


def _progress(
    rounds: list[_Round],
    before: _Round | None,
    index: float,
    level_codes: list[str],
    answered: _Answers,
    previous_answers: dict[str, scoring.AnswerValue | None],
) -> Progress | None:
    """The change since the firm's submitted round ``before`` this one (None when there is none): the index,
    the level in rungs, each dimension's score, and, when both rounds are on the same questionnaire version,
    the answers that went up or down (``previous_answers``, by item code). Across versions only the dimension
    scores compare (D1–D5 are the same in every version)."""
    if before is None:
        return None
    after = rounds[rounds.index(before) + 1]
    same_version = before.questionnaire_id == after.questionnaire_id
    rank = {code: i for i, code in enumerate(level_codes)}
    deltas = []
    for code, dimension in answered.dimensions.items():
        old, new = before.scores.get(code), after.scores.get(code)
        change = None if old is None or new is None else round(new - old, STORED_DECIMALS)
        deltas.append(DimensionDelta(code, dimension.name, old, new, change))
    improved, regressed = _item_changes(previous_answers, answered) if same_version else ([], [])
    return Progress(
        previous_label=before.label,
        previous_version=before.version,
        same_version=same_version,
        index_before=before.index,
        index_after=index,
        index_change=round(index - before.index, STORED_DECIMALS),
        level_before=before.level,
        level_after=after.level,
        level_change=rank.get(after.level, 0) - rank.get(before.level, 0),
        dimensions=deltas,
        improved=improved,
        regressed=regressed,
    )


def _item_changes(
    previous: dict[str, scoring.AnswerValue | None], answered: _Answers
) -> tuple[list[ItemChange], list[ItemChange]]:
    """(improved, regressed) answers against the previous round of the same version, in the questionnaire's
    order. Two options compare by score. An answer that became an option from 不清楚, 不适用 or none improved
    (it is now known and counted); an option that became one of those regressed; 不清楚 or none that became
    不适用 improved (now known), and the reverse regressed."""
    improved: list[ItemChange] = []
    regressed: list[ItemChange] = []
    for code, item in answered.items.items():
        row = answered.by_item[code]
        old = previous.get(code)
        new: scoring.AnswerValue | None = row.score if row.score is not None else (row.special or None)
        if new == "missing":
            new = None
        direction = _direction(old, new)
        if old == new or direction == 0:
            continue
        options = {o.score: o for o in item.options.all()}
        change = ItemChange(
            code, row.question, answer_label(item, options, old), row.answer, answer_short(old), answer_short(new)
        )
        (improved if direction > 0 else regressed).append(change)
    return improved, regressed


def _direction(old: scoring.AnswerValue | None, new: scoring.AnswerValue | None) -> int:
    """+1 when an answer improved from ``old`` to ``new``, -1 when it regressed, 0 when neither."""
    if isinstance(old, int) and isinstance(new, int):
        return (new > old) - (new < old)
    if isinstance(new, int):
        return 1
    if isinstance(old, int):
        return -1
    known = {scoring.NOT_APPLICABLE: 1}  # 不适用 is a known answer; 不清楚 and none are not
    return known.get(str(new), 0) - known.get(str(old), 0)


def _stored_score(value: Any) -> float:
    """A score or index as the database stores it (two decimals), whether read from a column or from
    the result's JSON (six decimals), so that every page agrees with the columns the aggregates read."""
    return round(float(value), STORED_DECIMALS)


def _optional_score(value: Any) -> float | None:
    return None if value is None else _stored_score(value)


def _date(value: datetime | None, format_name: str) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), format_name)


def _dimension_section(
    dimension: Dimension,
    stored: dict[str, Any],
    rows: list[AnswerRow],
    *,
    problems: list[ProblemRow],
    peers: list[PeerValue],
    peer_means: list[float | None],
) -> DimensionSection:
    scored = [(r.score, r) for r in rows if r.score is not None]
    # Stable sorts: among equal scores the questionnaire's order is kept.
    strongest = [r for s, r in sorted(scored, key=lambda pair: -pair[0]) if s >= STRONG_SCORE][:ANSWERS_NAMED]
    weakest = [r for s, r in sorted(scored, key=lambda pair: pair[0]) if s <= scoring.WEAK_SCORE][:ANSWERS_NAMED]
    return DimensionSection(
        code=dimension.code,
        name=dimension.name,
        problem=dimension.problem,
        description=dimension.description,
        weight=float(dimension.weight),
        score=_optional_score(stored["score"]),
        insufficient_data=bool(stored["insufficient_data"]),
        unknown_share=float(stored["unknown_share"]),
        answered=int(stored.get("answered", len(rows))),
        unknown=int(stored.get("unknown", sum(r.special == scoring.UNKNOWN for r in rows))),
        not_applicable=int(stored.get("not_applicable", sum(r.special == scoring.NOT_APPLICABLE for r in rows))),
        strongest=strongest,
        weakest=weakest,
        unknown_items=[r for r in rows if r.special == scoring.UNKNOWN],
        problems=problems,
        peers=peers,
        peer_means=peer_means,
        answers=rows,
    )


def _answer_rows(
    assessment: Assessment, structure: QuestionnaireStructure, previous_id: int | None = None
) -> tuple[dict[int, list[AnswerRow]], dict[str, AnswerRow], dict[str, Item], dict[str, scoring.AnswerValue | None]]:
    """Every item of the round's questionnaire with the firm's answer and note: per dimension id (in the
    questionnaire's order) and per item code; the items by code (their options prefetched); and, read in the
    same query, the answers of round ``previous_id`` (same questionnaire) by item code, for the progress."""
    answers: dict[int, tuple[scoring.AnswerValue | None, str]] = {}  # item id: (value, note)
    previous_by_id: dict[int, scoring.AnswerValue | None] = {}
    round_ids = [assessment.pk] if previous_id is None else [assessment.pk, previous_id]
    columns = ("assessment_id", "item_id", "score", "special", "note")
    for round_id, item_id, score, special, note in Answer.objects.filter(assessment_id__in=round_ids).values_list(
        *columns
    ):
        value = special or score  # Answer.value, without building the model
        if round_id == assessment.pk:
            answers[item_id] = (value, note)
        else:
            previous_by_id[item_id] = value
    by_dimension: dict[int, list[AnswerRow]] = {}
    by_item: dict[str, AnswerRow] = {}
    item_by_code: dict[str, Item] = {}
    for item in structure.items:
        item_by_code[item.code] = item
        value, note = answers.get(item.id, (None, ""))
        if value in scoring.SPECIAL_ANSWERS:
            special = str(value)
        elif value is None:
            special = "missing"
        else:
            special = ""
        row = AnswerRow(
            item_code=item.code,
            question=item.text,
            answer=answer_label(item, {o.score: o for o in structure.options[item.id]}, value),
            score=value if type(value) is int else None,
            special=special,
            note=note,
        )
        by_dimension.setdefault(item.dimension_id, []).append(row)
        by_item[item.code] = row
    previous = {item.code: previous_by_id[item.id] for item in item_by_code.values() if item.id in previous_by_id}
    return by_dimension, by_item, item_by_code, previous


def _covered_problems(structure: QuestionnaireStructure) -> dict[int, list[ProblemRow]]:
    """The paper's problems measured by each dimension's items, in the paper's order."""
    covered: dict[int, dict[int, Problem]] = {}
    items: dict[tuple[int, int], list[str]] = {}
    for item, problem in structure.covers:
        covered.setdefault(item.dimension_id, {})[problem.id] = problem
        items.setdefault((item.dimension_id, problem.id), []).append(item.code)
    return {
        dimension_id: [
            ProblemRow(p.code, p.text, tuple(sorted(items[dimension_id, p.id])))
            for p in sorted(problems.values(), key=lambda p: p.position)
        ]
        for dimension_id, problems in covered.items()
    }


def _recommendation_rows(
    rules: dict[str, RecommendationRule],
    stored: list[dict[str, Any]],
    countermeasures: dict[int, Countermeasure],
    answers: dict[str, AnswerRow],
) -> list[RecommendationRow]:
    """The round's recommendations in the stored order (priority first), each with the answers behind it.

    Rules version 2 leaves out those of kind "verify": they rest on 不清楚 answers, and each of those answers
    is a verify action of the plan (worded as "find out first", with the department that knows), so the
    rule's text, which states a shortfall, is never shown as a finding."""
    priority_labels = {value: str(label) for value, label in RecommendationRule.PRIORITY_CHOICES}
    horizon_labels = {value: str(label) for value, label in RecommendationRule.HORIZON_CHOICES}
    rows = []
    for entry in stored:
        if entry.get("kind", scoring.KIND_IMPROVE) == scoring.KIND_VERIFY:
            continue
        rule = rules.get(entry["rule"])
        countermeasure = countermeasures.get(rule.countermeasure_id) if rule else None
        if rule is None or countermeasure is None:
            continue
        body, next_step, action = _split_next_step(rule.text)
        rows.append(
            RecommendationRow(
                rule_code=rule.code,
                countermeasure_code=countermeasure.code,
                countermeasure_title=countermeasure.title,
                priority=int(entry["priority"]),
                priority_label=priority_labels.get(entry["priority"], str(entry["priority"])),
                horizon=str(entry["horizon"]),
                horizon_label=horizon_labels.get(entry["horizon"], str(entry["horizon"])),
                text=rule.text,
                body=body,
                next_step=next_step,
                action=action,
                triggers=[
                    TriggerRow(answers[code].item_code, answers[code].question, answers[code].answer)
                    for code in entry["items"]
                    if code in answers
                ],
            )
        )
    return rows


def _split_next_step(text: str) -> tuple[str, str, str]:
    """(body, next step with its marker, next step without it); the seed's texts end in "下一步：…"."""
    for marker in NEXT_STEP_MARKERS:
        position = text.find(marker)
        if position > 0:
            next_step = text[position:].strip()
            return text[:position].rstrip(), next_step, next_step[len(marker) :].strip()
    return text, "", text


# --- the plan (rules version 2) ---------------------------------------------------------------------
# Read from the stored result's ``actions`` (ranked) and ``top_actions`` (keys), never recomputed. The texts
# come from the questionnaire: the item's ``action`` (the step one option up), the next option's label (the
# done-criterion), ``lead``/``owner`` and ``horizons``; a path's text, done text, lead and horizon.

PLAN_HORIZONS = ("short", "medium", "long")
VERIFY_HORIZON = "short"  # finding out an answer is a task for the next 90 days
_NUMBER = "\x00"  # where a why-sentence's number goes (TextPart)


def _horizon_labels() -> dict[str, str]:
    """The plan's three periods; an action's horizon label is the title of its period. Kept per language: a
    plan asks for them for each of its forty actions, and each translation lookup reads the active language."""
    language = get_language() or ""
    labels = _HORIZONS.get(language)
    if labels is None:
        labels = _HORIZONS[language] = {"short": _("未来90天"), "medium": _("一年内"), "long": _("一年以上")}
    return labels


_HORIZONS: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class _PlanData:
    """The questionnaire rows the plan's texts come from (two queries besides what the report reads)."""

    items: dict[str, Item]
    dimensions: dict[str, Dimension]
    countermeasures: dict[str, Countermeasure]
    programmes: dict[str, Programme]
    paths: dict[str, RecognitionPath]

    @classmethod
    def load(
        cls,
        structure: QuestionnaireStructure,
        items: dict[str, Item],
        dimensions: dict[str, Dimension],
        countermeasures: list[Countermeasure],
    ) -> _PlanData:
        return cls(
            items=items,
            dimensions=dimensions,
            countermeasures={cm.code: cm for cm in countermeasures},
            programmes=structure.programmes,
            paths=structure.paths,
        )

    def knows(self, entry: dict[str, Any]) -> bool:
        if entry.get("kind") == scoring.KIND_PATH:
            return entry.get("path") in self.paths
        return entry.get("item") in self.items


def _plan(
    stored: dict[str, Any], data: _PlanData, answers: dict[str, AnswerRow]
) -> tuple[list[ActionRow], list[ActionGroup], list[PlanPeriod]]:
    """(the top actions in the stored order, every other action grouped, every action by horizon)."""
    ranked = list(enumerate(stored.get("actions", []), start=1))
    total = len(ranked)
    top_keys = [str(key) for key in stored.get("top_actions", [])]
    last_top_rank = max((rank for rank, entry in ranked if entry["key"] in top_keys), default=0)
    weakest = _weakest_pick(stored, [entry for _rank, entry in ranked])
    guarded = {str(gate["code"]): str(gate["guards_level"]) for gate in stored["gates"]}
    rows = []
    for rank, entry in ranked:
        if not data.knows(entry):
            continue
        top = entry["key"] in top_keys
        if top and entry["key"] == weakest and rank > len(top_keys):
            note = "weakest"
        elif not top and rank < last_top_rank:
            note = "limit"
        else:
            note = ""
        why = _why(entry, rank, total, note, data.dimensions.get(entry.get("dimension") or ""), guarded)
        rows.append(_action_row(entry, rank, why, top=top, data=data, answers=answers))
    by_key = {row.key: row for row in rows}
    labels = _horizon_labels()
    return (
        [by_key[key] for key in top_keys if key in by_key],
        _action_groups([row for row in rows if not row.top], data),
        [PlanPeriod(code, labels[code], [row for row in rows if row.horizon == code]) for code in PLAN_HORIZONS],
    )


def _weakest_pick(stored: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """The key of the action the top list takes first (scoring._top_actions): the best-ranked one on the
    dimension with the lowest score among those with actions (ties by code); "" when there is none."""
    with_actions = {entry.get("dimension") for entry in entries}
    scored = [
        (d["score"], d["code"]) for d in stored["dimensions"] if d["score"] is not None and d["code"] in with_actions
    ]
    if not scored:
        return ""
    weakest = min(scored)[1]
    return str(next(entry["key"] for entry in entries if entry.get("dimension") == weakest))


def _action_row(
    entry: dict[str, Any],
    rank: int,
    why: list[TextPart],
    *,
    top: bool,
    data: _PlanData,
    answers: dict[str, AnswerRow],
) -> ActionRow:
    kind = entry["kind"]
    countermeasure = data.countermeasures.get(entry.get("countermeasure") or "")
    dimension = data.dimensions.get(entry.get("dimension") or "")
    if kind == scoring.KIND_PATH:
        path = data.paths[entry["path"]]
        title = _first_sentence(path.text)
        what, done = path.text[len(title) :].strip() or title, path.done
        lead, horizon, programmes = path.lead, path.horizon, list(path.programmes)
        behind: list[TriggerRow] = []
        kind_label = _("认定与引领")
    else:
        item = data.items[entry["item"]]
        if kind == scoring.KIND_VERIFY:
            lead = item.owner or item.lead
            department = _department_label(lead)
            title = _("核实：%(question)s") % {"question": item.text}
            what = _(
                "该题答了“不清楚”。请%(department)s查明实际情况后更新答案；在此之前，本报告不把它当作企业的短板。"
            ) % {"department": department}
            done = _("答案已由%(department)s核实并更新为具体选项") % {"department": department}
            horizon, programmes = VERIFY_HORIZON, []
            kind_label = _("待核实")
        else:
            current, step = int(entry["current"]), int(entry["next"])
            options = {option.score: option for option in item.options.all()}
            title = _("%(question)s：从 %(current)s 提升到 %(next)s") % {
                "question": item.text.rstrip().rstrip("？?。.：:"),
                "current": option_letter(current),
                "next": option_letter(step),
            }
            what = item.action
            done = option_text(step, options[step].label) if step in options else ""
            lead = item.lead or item.owner
            horizons = list(item.horizons or [])
            horizon = horizons[step - 1] if len(horizons) >= step else ""
            programmes = list(item.programmes)
            kind_label = _("提升")
        answer = answers.get(item.code)
        behind = [TriggerRow(answer.item_code, answer.question, answer.answer)] if answer else []
    if horizon not in PLAN_HORIZONS:
        horizon = "medium"  # (the questionnaire's validation allows no other value)
    return ActionRow(
        key=str(entry["key"]),
        kind=kind,
        kind_label=kind_label,
        rank=rank,
        top=top,
        title=title,
        what=what,
        done_criterion=done,
        lead=lead,
        lead_label=_department_label(lead),
        horizon=horizon,
        horizon_label=_horizon_labels()[horizon],
        countermeasure_code=countermeasure.code if countermeasure else "",
        countermeasure_title=countermeasure.title if countermeasure else "",
        dimension_code=dimension.code if dimension else "",
        dimension_name=dimension.name if dimension else "",
        programmes=[_programme_row(data.programmes[code]) for code in programmes if code in data.programmes],
        why=why,
        answers=behind,
        gain=float(entry.get("gain") or 0.0),
        bonus=float(entry.get("bonus") or 0.0),
        priority=float(entry.get("priority") or 0.0),
        blocks=[str(code) for code in entry.get("blocks", [])],
    )


def _department_label(code: str) -> str:
    """A department (choices.DEPARTMENTS) in the active language; "相关部门" when the version names none."""
    language = get_language() or ""
    labels = _DEPARTMENTS.get(language)
    if labels is None:
        labels = _DEPARTMENTS[language] = {code: str(label) for code, label in DEPARTMENTS} | {"": str(_("相关部门"))}
    return labels.get(code, code)


_DEPARTMENTS: dict[str, dict[str, str]] = {}  # per language, as _HORIZONS


def _first_sentence(text: str) -> str:
    """A path's title: its text up to the first full stop (the whole text when it has one sentence)."""
    for stop in ("。", ". "):
        position = text.find(stop)
        if 0 < position < len(text.rstrip()) - len(stop.strip()):
            return text[: position + 1].strip()
    return text.strip()


def _programme_row(programme: Programme) -> ProgrammeRow:
    return ProgrammeRow(
        code=programme.code,
        name=programme.name,
        level_label=label_of(Programme.LEVEL_CHOICES, programme.level),
        url=programme.url,
    )


def _why(
    entry: dict[str, Any],
    rank: int,
    total: int,
    note: str,
    dimension: Dimension | None,
    guarded: dict[str, str],
) -> list[TextPart]:
    """Why the action ranks where it does, from its stored components (seeds/README.md "Actions and their
    ranking"): the index points one option up adds, its dimension's weight, the gates it unblocks (with the
    levels they guard, ``guarded``) and their bonus; a path's priority from the questionnaire. ``note``:
    "limit" (left out of the top list by the per-group limit) or "weakest" (taken into it as the best action
    on the weakest dimension). The number is left to the renderer to round."""
    kind = entry["kind"]
    values = {"rank": rank, "total": total, "gain": _NUMBER}
    if kind == scoring.KIND_PATH:
        sentence = _(
            "排第 %(rank)d（共 %(total)d 项）：企业已达到这条认定与引领路径的起点等级；它的优先分 %(gain)s "
            "由问卷设定，与提升一档所加的指数分同一尺度。"
        )
        parts = _with_number(sentence % values, float(entry.get("priority") or 0.0))
    else:
        values["dimension"] = dimension.name if dimension else ""
        values["weight"] = _weight_text(dimension.weight) if dimension else "–"
        blocks = [str(code) for code in entry.get("blocks", [])]
        if blocks:
            values["gates"] = join_list(blocks)
            values["levels"] = join_list(dict.fromkeys(guarded.get(code, "") for code in blocks))
            values["bonus"] = _exact(entry.get("bonus") or 0)
        if kind == scoring.KIND_VERIFY and blocks:
            sentence = _(
                "排第 %(rank)d（共 %(total)d 项）：查明后只要答案高于 A，综合指数至少 +%(gain)s 分；它所在的"
                "“%(dimension)s”维度权重 %(weight)s；并且这项答案使达到 %(levels)s 的门槛（%(gates)s）待核实，"
                "加 %(bonus)s 分优先。"
            )
        elif kind == scoring.KIND_VERIFY:
            sentence = _(
                "排第 %(rank)d（共 %(total)d 项）：查明后只要答案高于 A，综合指数至少 +%(gain)s 分；它所在的"
                "“%(dimension)s”维度权重 %(weight)s。"
            )
        elif blocks:
            sentence = _(
                "排第 %(rank)d（共 %(total)d 项）：提升一档约使综合指数 +%(gain)s 分；它所在的“%(dimension)s”"
                "维度权重 %(weight)s；并且是达到 %(levels)s 的门槛（%(gates)s）所卡的答案，加 %(bonus)s 分优先。"
            )
        else:
            sentence = _(
                "排第 %(rank)d（共 %(total)d 项）：提升一档约使综合指数 +%(gain)s 分；它所在的“%(dimension)s”"
                "维度权重 %(weight)s。"
            )
        parts = _with_number(sentence % values, float(entry.get("gain") or 0.0))
    if note == "limit":
        parts.append(
            TextPart(
                sentence_gap()
                + _("同一对策或同一维度已有 %(n)d 项列入重点行动，所以它列在其余行动中。")
                % {"n": scoring.TOP_ACTIONS_PER_GROUP}
            )
        )
    elif note == "weakest":
        parts.append(
            TextPart(
                sentence_gap()
                + _("“%(dimension)s”是得分最低的维度，这是它排名最前的行动，所以列入重点行动。")
                % {"dimension": dimension.name if dimension else ""}
            )
        )
    return parts


def _with_number(sentence: str, number: float) -> list[TextPart]:
    before, _marker, after = sentence.partition(_NUMBER)
    return [TextPart(before, number), TextPart(after)] if after else [TextPart(before, number)]


def _weight_text(weight: Any) -> str:
    """A dimension's weight (stored to four decimals) as an exact percentage: "30%", "22.5%"."""
    return f"{_exact(Decimal(str(weight)) * 100)}%"


def _exact(value: Any) -> str:
    """A number stored exactly (a weight, the blocking bonus) without trailing zeros: "10", "22.5"."""
    return format(Decimal(str(value)).normalize(), "f")


def _action_groups(rows: list[ActionRow], data: _PlanData) -> list[ActionGroup]:
    """The actions under their countermeasure (in the questionnaire's order), then those no rule places
    under their dimension (in its order); in rank order inside each group, empty groups left out."""
    groups = [
        ActionGroup(cm.code, cm.title, [row for row in rows if row.countermeasure_code == cm.code])
        for cm in data.countermeasures.values()
    ]
    groups += [
        ActionGroup(
            dimension.code,
            dimension.name,
            [row for row in rows if not row.countermeasure_code and row.dimension_code == dimension.code],
        )
        for dimension in data.dimensions.values()
    ]
    return [group for group in groups if group.actions]


def _peer_summaries(assessment: Assessment, keys: tuple[str, ...], codes: list[str]) -> list[PeerSummary]:
    """The firm against the groups ``keys`` of its industry, its district and all of Jinan (each firm's
    latest submitted round of the same questionnaire).

    Read from the summary tables (selectors/summaries.py): the groups' cells of the latest rounds with their
    index histograms (the percentile), then the shown groups' dimension counts, two queries whatever the
    number of firms. Groups smaller than JINAN_MIN_GROUP_SIZE are reported with their size only.
    """
    enterprise = assessment.enterprise
    # key: (label, series name pattern, the summaries' grain and the firm's values of its attributes)
    every: dict[str, tuple[str, str, tuple[str, dict[str, str]]]] = {
        "industry": (
            label_of(INDUSTRIES, enterprise.industry),
            _("行业平均（%(group)s）"),
            ("industry", {"industry": enterprise.industry}),
        ),
        "district": (
            label_of(DISTRICTS, enterprise.district),
            _("区县平均（%(group)s）"),
            ("district", {"district": enterprise.district}),
        ),
        "city": (_("济南全市"), _("全市平均（%(group)s）"), ("all", {})),
    }
    groups = {key: every[key][2] for key in keys}
    minimum = min_group_size()
    figures = peer_figures(
        questionnaire_id=assessment.questionnaire_id, groups=groups, index=Decimal(assessment.index or 0)
    )
    shown = [key for key in keys if figures[key].size >= minimum]
    # Like the administrators' figures: a result with insufficient data (or no score) is left out of the means.
    totals = (
        peer_dimension_totals(questionnaire_id=assessment.questionnaire_id, groups={key: groups[key] for key in shown})
        if shown
        else {}
    )

    summaries_out = []
    for key in keys:
        label, series, _group = every[key]
        group = figures[key]
        visible = key in shown
        dimensions = totals.get(key, {})
        summaries_out.append(
            PeerSummary(
                key=key,
                label=label,
                series_name=series % {"group": label},
                size=group.size,
                shown=visible,
                mean_index=database_mean(group.index_total, group.indexed) if visible else None,
                # Unrounded: the display rounds it once (formatting.format_percentile), never twice.
                percentile=100.0 * group.at_or_below / group.size if visible else None,
                dimension_means=[
                    database_mean(*reversed(dimensions[code])) if visible and code in dimensions else None
                    for code in codes
                ],
            )
        )
    return summaries_out


def _history(rounds: list[_Round], codes: list[str]) -> list[HistoryRow]:
    """The firm's submitted rounds (``_firm_rounds``), newest first, each with its questionnaire version, its
    dimension scores in ``codes`` order (the codes D1–D5 are the same in every version) and the changes against
    the round before it. A dimension with insufficient data has no score and no change, before or after."""
    history = []
    previous: dict[str, float | None] = {}
    previous_index: float | None = None
    for entry in rounds:
        cells = []
        for code in codes:
            value, before = entry.scores.get(code), previous.get(code)
            change = None if value is None or before is None else round(value - before, STORED_DECIMALS)
            cells.append(HistoryCell(score=value, change=change, insufficient_data=code in entry.insufficient))
        history.append(
            HistoryRow(
                assessment_id=entry.assessment_id,
                label=entry.label,
                questionnaire_version=entry.version,
                index=entry.index,
                index_change=None if previous_index is None else round(entry.index - previous_index, STORED_DECIMALS),
                cells=cells,
            )
        )
        previous, previous_index = entry.scores, entry.index
    return list(reversed(history))
