"""The firm's PDF report: an AssessmentReport in, ``(filename, mimetype, bytes)`` out.

ReportLab platypus on A4, on the page of surveys/reports/base.py, in its lean flowables (``Text``, ``Grid``,
``Section``, ``Panel``: plain strings, never parsed as markup, so a firm name or a note appears as typed). No
ORM and no request: everything comes from the round's read model (surveys/selectors/results.py), numbers
formatted by surveys/reports/formatting.py; the fixed wording is translated inside ``override(report.language)``.

The story:

- Page 1, one page: the firm and round, the L1–L5 ladder with the firm's rung and its index, what stands
  between it and the next level (index gap, the blocking gates and items with the option each needs), the
  top actions (titles), the progress since the previous round, the statement that this is a self-assessment.
- 二、得分、对照与门槛: the bars against the comparison groups, the five dimensions, the groups, the gates in
  full (every blocking item with its whole answer and option), the items changed since the previous round.
- 三、各维度分析: one section per dimension (score, comparison, strongest and weakest answers, 不清楚 items).
- 四、行动计划 (rules version 2): the top actions in full with why they rank there and the answers behind
  them, every other action by countermeasure in one compact table each, the count per time frame. Rules
  version 1 keeps its 四、改进建议 and 五、行动计划.
- 附录: every question and answer with its note.

No list is cut without saying how many more there are and where they are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import override
from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, PageBreak, Spacer
from reportlab.platypus.flowables import HRFlowable, _listWrapOn

from ..text import in_brackets, is_chinese, join_list, sentence_gap, with_colon, with_note
from .base import (
    ACCENT,
    DARK_ACCENT,
    FRAME_HEIGHT,
    HEAD_FILL,
    MIMETYPE,
    NOTE_FILL,
    TEXT_WIDTH,
    WARN_FILL,
    WARN_LINE,
    Grid,
    Panel,
    Section,
    Text,
    build_pdf,
    text_heading,
    text_styles,
)
from .charts import report_bars
from .fonts import pdf_font_name
from .formatting import (
    countermeasure_source,
    format_change,
    format_count,
    format_percentile,
    format_score,
    format_share,
    superseded_note,
)

if TYPE_CHECKING:
    from surveys.selectors.results import ActionRow, AssessmentReport, DimensionSection, RecommendationRow


class _Detail(NamedTuple):
    """How much of each text page 1 prints, in characters (a Chinese character counting two; 0: in full); the
    first level whose page fits is used. Texts are shortened, never left out: in full in the chapters."""

    blocking_rows: int  # blocking items listed; the rest are counted and placed in chapter 2
    reason: int  # a blocking gate's reason
    question: int  # a blocking item's question
    title: int  # a top action's title
    done: int  # a top action's done-criterion
    rung: int  # each rung's line on what the level means


SUMMARY_DETAIL = (
    _Detail(6, 0, 80, 0, 60, 84),
    _Detail(5, 160, 60, 100, 60, 52),  # about two lines per cell
    _Detail(4, 110, 60, 100, 60, 0),
    _Detail(3, 110, 56, 100, 60, 0),
    _Detail(2, 80, 40, 100, 44, 0),
    _Detail(3, 110, 56, 60, 30, 0),  # about one line per cell
    _Detail(2, 80, 40, 44, 24, 0),
)
# The summary's tables: cells padded less than the chapters' tables.
COMPACT_PADDING = (2.0, 2.5)
# A dimension's strengths and weaknesses as the read model names them (selectors/results.py): answers at
# option D or above, at option B or below.
STRONG_SCORE = 3
WEAK_SCORE = 1


# --- public -----------------------------------------------------------------------------------------


def render_assessment_pdf(report: AssessmentReport) -> tuple[str, str, bytes]:
    """``(filename, "application/pdf", bytes)``: A4, the CJK font embedded, "page x of y" on every page."""
    with override(report.language):
        styles = text_styles(pdf_font_name())
        data = build_pdf(
            _story(report, styles),
            header_text=f"{report.title} · {report.enterprise_name} · {report.round_label}",
            footer_text=report.footer_note,
            title=f"{report.title} – {report.enterprise_name} – {report.round_label}",
            author=report.enterprise_name,
            subject=report.questionnaire_title,
            keywords=", ".join([report.uscc, report.round_label, report.questionnaire_version]),
            lang=report.pdf_language,
        )
    return report_filename(uscc=report.uscc, round_label=report.round_label), MIMETYPE, data


_UNSAFE_FILENAME_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def report_filename(*, uscc: str, round_label: str) -> str:
    """``<USCC>-<round label>.pdf``, without characters a file system or a header cannot take."""
    name = _UNSAFE_FILENAME_RE.sub("_", f"{uscc}-{round_label}").strip(" .") or "report"
    return f"{name}.pdf"


# --- small helpers ----------------------------------------------------------------------------------


def _dimension_score(dimension: DimensionSection) -> str:
    if dimension.insufficient_data:
        return _("数据不足")
    if dimension.score is None:
        return _("无得分（均为不适用）")
    return format_score(dimension.score)


def _cell(text: object, style) -> list:
    return [([(str(text), None)], style)]


def _grid(rows, widths_mm, styles, *, header=True, compact=False, fills=None, bound=(), **kw) -> Grid:
    """A Grid whose string cells become paragraphs in the cell (or compact) style, the first row the header."""
    body = styles["compact" if compact else "cell"]
    head = styles["compact_head" if compact else "cell_head"]
    cells = [
        [_cell(cell, head if header and r == 0 else body) if isinstance(cell, str) else cell for cell in row]
        for r, row in enumerate(rows)
    ]
    all_fills = {0: HEAD_FILL} if header else {}
    all_fills.update(fills or {})
    return Grid(cells, [w * mm for w in widths_mm], header=1 if header else 0, fills=all_fills, bound=bound, **kw)


def _para(text: object, styles, name: str = "body") -> Text:
    return Text(str(text), styles[name])


def _letter(answer: str) -> str:
    """An answer label shortened to its option letter ("B. 车间…" → "B"); other answers as they are."""
    found = re.match(r"^([A-E])\. ", answer)
    return found.group(1) if found else answer


def _short(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters (a Chinese character counting two) with an ellipsis."""
    used = 0
    for position, char in enumerate(text):
        used += 2 if ord(char) > 0x2E7F else 1
        if used > limit:
            cut = text[:position]
            space = cut.rfind(" ")
            if space > 0 and not is_chinese():  # a Latin text is cut between words, never inside one
                cut = cut[:space]
            return cut.rstrip(" ,;:，；：、") + ("…" if is_chinese() else "...")
    return text


# --- the story --------------------------------------------------------------------------------------


def _story(report: AssessmentReport, styles) -> list:
    story = [_page_one(report, styles), PageBreak()]
    story += _scores(report, styles)
    story += _dimensions(report, styles)
    if report.has_plan:
        story += _plan(report, styles)
    else:
        story += _recommendations(report, styles) + _action_plan(report, styles)
    story += _appendix(report, styles)
    return story


# --- page 1 -----------------------------------------------------------------------------------------


def _page_one(report: AssessmentReport, styles) -> KeepInFrame:
    """The summary at the first level of detail that fits the page (measured); should none fit, the last one
    is scaled down to it."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(None)
    for detail in SUMMARY_DETAIL:
        content = _summary_page(report, styles, detail)
        if _listWrapOn(content, TEXT_WIDTH, canvas)[1] <= FRAME_HEIGHT - 2:
            break
    return KeepInFrame(TEXT_WIDTH, FRAME_HEIGHT - 2, content, mode="shrink")


def _summary_page(report: AssessmentReport, styles, detail: _Detail = SUMMARY_DETAIL[0]) -> list:
    story = [
        _para(report.title, styles, "title"),
        _para(report.questionnaire_title, styles, "subtitle"),
        HRFlowable(width="100%", thickness=1.2, color=ACCENT, spaceBefore=1, spaceAfter=3),
        _para(report.enterprise_name, styles, "firm"),
        _para(_facts_line(report), styles, "muted"),
    ]
    if report.superseded:  # as the results page says it: a printed copy of the old result must not pass for this one
        story.append(Spacer(1, 1.5 * mm))
        story.append(Panel([_para(superseded_note(report.superseded), styles, "small")], fill=NOTE_FILL, line=ACCENT))
    story += text_heading(_("一、评估概要"), styles)
    story += _ladder(report, styles, detail)
    story += _next_level(report, styles, detail)
    story += _summary_actions(report, styles, detail)
    story += _progress(report, styles, names=bool(detail.rung))
    story.append(Spacer(1, 2 * mm))
    story.append(Panel([_para(report.disclaimer, styles, "small_muted")], fill=WARN_FILL, line=WARN_LINE))
    return story


def _facts_line(report: AssessmentReport) -> str:
    contact = " ".join(part for part in (report.contact_name, report.contact_phone) if part)
    pairs = [
        (_("统一社会信用代码"), report.uscc),
        (_("所在区县"), report.district + (f" · {report.zone}" if report.zone else "")),
        (_("所属行业"), report.industry),
        (_("企业规模"), report.size_class),
        (_("联系人"), contact),
        (_("评估轮次"), report.round_label),
        (_("提交日期"), report.submitted_on),
        (_("问卷版本"), report.questionnaire_version),
        (_("报告生成日期"), report.generated_on),
    ]
    return "  ·  ".join(f"{with_colon(label)}{value}" for label, value in pairs if value)


def _ladder(report: AssessmentReport, styles, detail: _Detail) -> list:
    """The L1–L5 ladder: the firm's rung filled, the next one shaded; then the index and level sentence."""
    rungs = report.ladder
    story = []
    if rungs:
        heads, notes, fills = [], [], {}
        for c, rung in enumerate(rungs):
            current = rung.current
            head_style = styles["rung_current" if current else "rung"]
            note_style = styles["rung_note_current" if current else "rung_note"]
            head = f"{rung.code} {rung.name}"
            band = _("%(min)s 分起") % {"min": format_score(rung.min_index)}
            if current:
                band = _("本企业 %(index)s · %(band)s") % {"index": format_score(report.index), "band": band}
            heads.append(_cell(head, head_style))
            summary = _short(rung.summary, detail.rung) if detail.rung else ""
            notes.append([([(band, None)], note_style)] + ([([(summary, None)], note_style)] if summary else []))
            if current:
                fills[(0, c)] = fills[(1, c)] = ACCENT
            elif rung.next:
                fills[(0, c)] = fills[(1, c)] = HEAD_FILL
        width = TEXT_WIDTH / mm / len(rungs)
        story.append(
            _grid([heads, notes], [width] * len(rungs), styles, header=False, fills=fills, padding=COMPACT_PADDING)
        )
        story.append(Spacer(1, 2 * mm))
    sentence = _("综合指数 %(index)s（满分 100），等级 %(level)s。") % {"index": "\x00", "level": "\x01"}
    before, rest = sentence.split("\x00")
    middle, after = rest.split("\x01")
    runs = [
        (before, None),
        (format_score(report.index), ACCENT),
        (middle, None),
        (f"{report.level_code} {report.level_name}", ACCENT),
        (after, None),
    ]
    story.append(Text(runs, styles["body"]))
    if report.provisional_level_code != report.level_code and report.gates:
        setting = [g.code for g in report.gates if g.sets_level] or [g.code for g in report.gates]
        story.append(
            _para(
                _("按综合指数初判为 %(provisional)s，门槛 %(gates)s 使等级定为 %(level)s（见第二章“等级门槛”）。")
                % {
                    "provisional": report.provisional_level_code,
                    "gates": join_list(setting),
                    "level": report.level_code,
                },
                styles,
                "muted",
            )
        )
    return story


def _next_level(report: AssessmentReport, styles, detail: _Detail) -> list:
    block = report.next_level
    if block is None:
        return []
    level = f"{block.code} {block.name}"
    story = text_heading(_("距 %(level)s 还差什么") % {"level": level}, styles, 2)
    if block.index_gap > 0:
        line = _("综合指数还差 %(gap)s 分（%(level)s 从 %(min)s 分起）。") % {
            "gap": format_score(block.index_gap),
            "level": block.code,
            "min": format_score(block.min_index),
        }
    else:
        line = _("综合指数已在 %(level)s 的区间内（%(min)s 分起）。") % {
            "level": block.code,
            "min": format_score(block.min_index),
        }
    if not block.gates:
        line += sentence_gap() + _("没有门槛挡住 %(level)s。") % {"level": block.code}
    else:
        line += sentence_gap() + _("挡住 %(level)s 的门槛和题目：") % {"level": block.code}
    story.append(_para(line, styles))
    if block.gates:
        rows, shown, total = _blocking_rows(block, styles, short=detail)
        story.append(
            _grid(rows, (30, 14, 90, 40), styles, compact=True, bound=_gate_bound(rows), padding=COMPACT_PADDING)
        )
        if total > shown:
            story.append(
                _para(
                    _("另有 %(n)d 项，全部列在第二章“等级门槛”中。") % {"n": total - shown},
                    styles,
                    "muted",
                )
            )
    return story


def _gate_bound(rows) -> list[int]:
    """The first item row of each gate stays with the gate's row."""
    return [r for r in range(2, len(rows)) if rows[r][0] == "" and rows[r - 1][0] != ""]


def _blocking_rows(block, styles, *, short: _Detail | None):
    """(rows, items shown, items in all) of the blocking table: a row per gate (its reason across the
    columns), then a row per item with its answer and the option it needs."""
    body = styles["compact"]
    muted = styles["compact_muted"]
    rows: list[list] = [[_("门槛"), _("题号"), _("题目与本企业的答案") if short is None else _("题目"), _("需要达到")]]
    shown = total = 0
    for gate in block.gates:
        status = gate.status_label or _("未达到")
        reason = _short(gate.reason, short.reason) if short is not None and short.reason else gate.reason
        if gate.more_needed:
            reason += sentence_gap() + _("还需 %(n)d 个答案达到要求。") % {"n": gate.more_needed}
        rows.append(
            [_cell(f"{gate.code} {in_brackets(status)}", styles["compact_head"]), _cell(reason, muted), None, None]
        )
        for item in gate.items:
            total += 1
            if short is not None and shown >= short.blocking_rows:
                continue
            shown += 1
            who = getattr(item, "who", "")
            if item.kind == "verify":
                needed = _("先核实答案") + (in_brackets(who) if who else "")
            else:
                needed = _letter(item.needed) if short is not None else item.needed
            if short is not None:
                now = _("现为 %(answer)s") % {"answer": _letter(item.answer)}
                question = with_note(_short(item.question, short.question), now)
                rows.append(["", item.item_code, _cell(question, body), _cell(needed, body)])
            else:
                rows.append(
                    [
                        "",
                        item.item_code,
                        [([(item.question, None)], body), ([(item.answer, None)], muted)],
                        _cell(needed, body),
                    ]
                )
    return rows, shown, total


def _summary_actions(report: AssessmentReport, styles, detail: _Detail) -> list:
    if not report.has_plan:
        return _summary_priorities(report, styles, detail)
    story = text_heading(_("重点行动"), styles, 2)
    if not report.top_actions:
        story.append(_para(_("本轮没有需要采取的行动：所有题目都已达到最高选项。"), styles))
        return story
    rows: list[list] = [[_("序号"), _("行动"), _("牵头部门"), _("完成标志"), _("期限")]]
    for number, row in enumerate(report.top_actions, start=1):
        rows.append(
            [
                str(number),
                _cell(_summary_title(row, detail.title), styles["compact"]),
                row.lead_label,
                _short(row.done_criterion, detail.done),
                row.horizon_label,
            ]
        )
    widths = (10, 79, 21, 42, 22) if is_chinese() else (8, 76, 22, 44, 24)
    story.append(_grid(rows, widths, styles, compact=True, padding=COMPACT_PADDING))
    note = _("每项行动的做法、排序理由和所依据的答案见第四章“行动计划”。")
    if report.more_action_count:
        more = _("另有 %(n)d 项行动按对策分组列在第四章“其余行动”中。") % {"n": report.more_action_count}
        note += sentence_gap() + more
    story.append(_para(note, styles, "muted"))
    return story


def _summary_title(row: ActionRow, limit: int) -> str:
    """A top action's title on page 1: with its item's code, and when shortened, shortened in the question
    so that the step ("from B to C") stays, and two actions on neighbouring questions never read alike."""
    code = row.answers[0].item_code if row.kind != "path" and row.answers else ""
    title = row.title
    if limit:
        head, separator, step = title.rpartition("：" if is_chinese() else ": ")
        if row.kind == "improve" and separator:
            title = f"{_short(head, max(limit - len(step) - len(code), 24))}{separator}{step}"
        else:
            title = _short(title, limit)
    return f"{code} {title}" if code else title


def _summary_priorities(report: AssessmentReport, styles, detail: _Detail) -> list:
    story = text_heading(_("最优先的三项建议"), styles, 2)
    if not report.top_priorities:
        story.append(_para(_("本轮没有触发任何建议。"), styles))
        return story
    rows: list[list] = [[_("序号"), _("建议"), _("优先级"), _("期限")]]
    for number, row in enumerate(report.top_priorities, start=1):
        action = _short(row.action, detail.title) if detail.title else row.action
        what = [([(row.countermeasure_title, None)], styles["compact_head"]), ([(action, None)], styles["compact"])]
        rows.append([str(number), what, row.priority_label, row.horizon_label])
    story.append(_grid(rows, (10, 122, 20, 22), styles, compact=True, padding=COMPACT_PADDING))
    story.append(_para(_("全部建议及其依据见第四章“改进建议”。"), styles, "muted"))
    return story


def _progress(report: AssessmentReport, styles, *, names: bool = True) -> list:
    progress = report.progress
    if progress is None:
        return []
    story = text_heading(_("与上一轮相比（%(label)s）") % {"label": progress.previous_label}, styles, 2)
    if progress.level_change > 0:
        level = _("等级 %(before)s → %(after)s，升 %(n)d 级。")
    elif progress.level_change < 0:
        level = _("等级 %(before)s → %(after)s，降 %(n)d 级。")
    else:
        level = _("等级 %(before)s → %(after)s，不变。")
    line = _("综合指数 %(before)s → %(after)s（%(change)s）；") % {
        "before": format_score(progress.index_before),
        "after": format_score(progress.index_after),
        "change": format_change(progress.index_change),
    } + level % {"before": progress.level_before, "after": progress.level_after, "n": abs(progress.level_change)}
    story.append(_para(line, styles))
    if progress.dimensions:
        head = [""] + [f"{d.code} {d.name}" if names else d.code for d in progress.dimensions]
        rows = [
            head,
            [_("上一轮")] + [format_score(d.before, missing=_("数据不足")) for d in progress.dimensions],
            [_("本轮")]
            + [
                format_score(d.after, missing=_("数据不足")) + sentence_gap() + in_brackets(format_change(d.change))
                for d in progress.dimensions
            ],
        ]
        width = (TEXT_WIDTH / mm - 20) / len(progress.dimensions)
        widths = (20,) + (width,) * len(progress.dimensions)
        story.append(_grid(rows, widths, styles, compact=True, padding=COMPACT_PADDING))
    if progress.same_version:
        items = _("题目：%(improved)d 题提升，%(regressed)d 题下降（逐题见第二章“与上一轮相比的题目变化”）。") % {
            "improved": len(progress.improved),
            "regressed": len(progress.regressed),
        }
        if not (progress.improved or progress.regressed):
            items = _("各题答案与上一轮相同。")
    else:
        items = _("上一轮使用问卷 %(version)s，题目不同，不逐题比较。") % {"version": progress.previous_version}
    story.append(_para(items, styles, "muted"))
    return story


# --- 二、得分、对照与门槛 ------------------------------------------------------------------------------


def _scores(report: AssessmentReport, styles) -> list:
    story = text_heading(_("二、得分、对照与门槛"), styles)
    bars = report_bars(report)
    bars.hAlign = "CENTER"
    caption = _para(_("与行业、区县和全市平均比较（各组最新一轮已提交的评估）"), styles, "h3")
    story = [Section(story + [caption, bars], keep=4)]

    shown = [p for p in report.peers if p.shown]
    head = [_("维度"), _("权重"), _("得分"), _("不清楚")] + [p.series_name for p in shown[:3]]
    rows = [head]
    for d in report.dimensions:
        row = [f"{d.code} {d.name}", format_share(d.weight), _dimension_score(d), f"{d.unknown}/{d.answered}"]
        row += [format_score(v.value) for v in d.peers[:3]]
        rows.append(row)
    fixed = (52, 14, 22, 16)
    rest = (TEXT_WIDTH / mm - sum(fixed)) / max(len(shown[:3]), 1)
    block = text_heading(_("五个维度"), styles, 2) + [_grid(rows, fixed + (rest,) * len(shown[:3]), styles)]
    if report.insufficient_dimensions:
        names = join_list(
            with_note(f"{d.code} {d.name}", format_share(d.unknown_share)) for d in report.insufficient_dimensions
        )
        block.append(Spacer(1, 2 * mm))
        block.append(
            Panel(
                [
                    _para(
                        _("数据不足：%(names)s 选择“不清楚”的题目过多，得分不能反映真实水平，不按低分解读。")
                        % {"names": names},
                        styles,
                        "small",
                    )
                ],
                fill=WARN_FILL,
                line=WARN_LINE,
            )
        )
    story.append(Section(block))

    rows = [[_("对照组"), _("企业数"), _("平均指数"), _("本企业指数不低于组内")]]
    for p in report.peers:
        if p.shown:
            rows.append(
                [p.series_name, format_count(p.size), format_score(p.mean_index), f"{format_percentile(p.percentile)}%"]
            )
        else:
            rows.append([p.series_name, str(p.size), _("不足 %(n)d 家，不显示") % {"n": report.min_group_size}, "–"])
    note = _("对照组少于 %(n)d 家企业时不显示平均值，以免推断出个别企业的结果。") % {"n": report.min_group_size}
    story.append(
        Section(
            text_heading(_("对照组"), styles, 2) + [_grid(rows, (78, 22, 37, 37), styles), _para(note, styles, "muted")]
        )
    )
    story += _gates(report, styles)
    story += _item_changes(report, styles)
    return story


def _gates(report: AssessmentReport, styles) -> list:
    block = text_heading(_("等级门槛"), styles, 2)
    block.append(
        _para(
            f"{report.level_code} {report.level_name}："
            if is_chinese()
            else f"{report.level_code} {report.level_name}: ",
            styles,
        )
    )
    block[-1] = Text([(block[-1].plain(), ACCENT), (report.level_description, None)], styles["body"])
    if report.gates:
        if report.provisional_level_code != report.level_code:
            block.append(
                _para(
                    _("按综合指数初判为 %(provisional)s，等级因下列门槛调整为 %(level)s：")
                    % {
                        "provisional": f"{report.provisional_level_code} {report.provisional_level_name}",
                        "level": f"{report.level_code} {report.level_name}",
                    },
                    styles,
                )
            )
        rows = [[_("门槛"), _("状态"), _("说明"), _("相关题目")]]
        for g in report.gates:
            items = g.unverified if g.status_label else g.items
            rows.append([g.code, g.status_label or _("未达到"), g.reason, join_list(items) or "–"])
        block.append(_grid(rows, (28, 18, 94, 34), styles))
    else:
        block.append(_para(_("没有门槛限制等级：等级即按综合指数确定的等级。"), styles))
    story = [Section(block, keep=2)]
    nxt = report.next_level
    if nxt is not None and nxt.gates:
        rows, _shown, _total = _blocking_rows(nxt, styles, short=None)
        intro = _para(
            _("达到 %(level)s 需要的答案（全部题目、本企业的答案和每题需要达到的选项）：")
            % {"level": f"{nxt.code} {nxt.name}"},
            styles,
            "muted",
        )
        story.append(Section([intro, _grid(rows, (30, 14, 80, 50), styles, compact=True, bound=_gate_bound(rows))]))
    return story


def _item_changes(report: AssessmentReport, styles) -> list:
    progress = report.progress
    if progress is None or not (progress.improved or progress.regressed):
        return []
    rows: list[list] = [[_("题号"), _("题目"), _("上一轮"), _("本轮")]]
    fills = {}
    for title, changes in ((_("提升的题目"), progress.improved), (_("下降的题目"), progress.regressed)):
        if not changes:
            continue
        fills[len(rows)] = HEAD_FILL
        rows.append(
            [
                _cell(with_note(title, len(changes)), styles["cell_strong"]),
                None,
                None,
                None,
            ]
        )
        rows += [[c.item_code, c.question, c.before_short, c.after_short] for c in changes]
    heading = _("与上一轮相比的题目变化（%(label)s）") % {"label": progress.previous_label}
    # Option letters only: the rows stay one or two lines each, and the options' texts of this round are in
    # the appendix (a firm that changed half its answers had two pages of repeated option texts here).
    note = _para(_("A–E 为选项字母（A 最低，E 最高）；本轮各题的完整答案见附录。"), styles, "muted")
    grid = _grid(rows, (14, 130, 15, 15), styles, fills=fills)
    return [Section(text_heading(heading, styles, 2) + [note, grid], keep=2)]


# --- 三、各维度分析 ------------------------------------------------------------------------------------


def _answer_line(row) -> str:
    return f"{row.item_code} {row.question} — {row.answer}"


def _dimensions(report: AssessmentReport, styles) -> list:
    story = []
    for n, d in enumerate(report.dimensions):
        heading = _("%(dimension)s：%(score)s") % {"dimension": f"{d.code} {d.name}", "score": _dimension_score(d)}
        block = (text_heading(_("三、各维度分析"), styles) if n == 0 else []) + text_heading(heading, styles, 2)
        keep = len(block)
        problem = _("对应论文问题：%(problem)s") % {"problem": "\x00"}
        before, after = problem.split("\x00")
        block.append(Text([(before, None), (d.problem, DARK_ACCENT), (after, None)], styles["body"]))
        block.append(_para(d.description, styles, "muted"))
        facts = _("权重 %(weight)s；计分题 %(answered)d 题，其中“不清楚” %(unknown)d 题；“不适用” %(na)d 题。") % {
            "weight": format_share(d.weight),
            "answered": d.answered,
            "unknown": d.unknown,
            "na": d.not_applicable,
        }
        if d.peers:
            facts += " " + join_list((f"{v.label} {format_score(v.value)}" for v in d.peers), strong=True)
        block.append(_para(facts, styles))
        if d.insufficient_data:
            block.append(Spacer(1, 1.5 * mm))
            block.append(
                Panel(
                    [
                        _para(_("数据不足"), styles, "h3"),
                        _para(
                            _(
                                "本维度 %(share)s 的计分题选择了“不清楚”，超过可信度门槛，得分不能反映真实水平，"
                                "不应理解为低分。建议向设备、信息、财务、人事等部门核实后在下一轮重新填写。"
                            )
                            % {"share": format_share(d.unknown_share)},
                            styles,
                            "small",
                        ),
                    ],
                    fill=WARN_FILL,
                    line=WARN_LINE,
                )
            )
        story.append(Section(block, keep=keep + 1))
        story += _dimension_lists(d, styles)
    return story


def _dimension_lists(d: DimensionSection, styles) -> list:
    story = []
    strong = sum(1 for a in d.answers if a.score is not None and a.score >= STRONG_SCORE)
    weak = sum(1 for a in d.answers if a.score is not None and a.score <= WEAK_SCORE)
    for title, rows, count in (
        (_("较强的方面（3–4 分）"), d.strongest, strong),
        (_("较弱的方面（0–1 分）"), d.weakest, weak),
    ):
        if not rows:
            continue
        block = [_para(title, styles, "h3")] + [_para("• " + _answer_line(r), styles, "bullet") for r in rows]
        if count > len(rows):
            block.append(
                _para(
                    _("另有 %(n)d 题，见附录“%(dimension)s”。")
                    % {"n": count - len(rows), "dimension": f"{d.code} {d.name}"},
                    styles,
                    "muted",
                )
            )
        story.append(Section(block))
    if d.unknown_items:
        codes = join_list(r.item_code for r in d.unknown_items)
        story.append(
            Section(
                [
                    _para(_("选择“不清楚”的题目"), styles, "h3"),
                    _para(_("%(codes)s（共 %(n)d 题）") % {"codes": codes, "n": len(d.unknown_items)}, styles),
                ]
            )
        )
    if not (d.strongest or d.weakest or d.unknown_items):
        story.append(_para(_("各题得分均为 2 分左右，没有特别突出的强项或短板。"), styles))
    # The paper's problems that this firm's weak answers point to (not every problem the dimension measures:
    # the same list for every firm would say nothing about this one).
    weak_codes = {a.item_code for a in d.answers if a.score is not None and a.score <= WEAK_SCORE}
    problems = [p for p in d.problems if weak_codes.intersection(p.item_codes)]
    if problems:
        block = [_para(_("较弱的答案对应的论文所列问题"), styles, "h3")]
        block += [
            _para("• " + with_note(p.text, join_list(sorted(weak_codes.intersection(p.item_codes)))), styles, "bullet")
            for p in problems
        ]
        story.append(Section(block))
    story.append(Spacer(1, 2 * mm))
    return story


# --- 四、行动计划 (rules version 2) ---------------------------------------------------------------------


def _why_text(row: ActionRow) -> str:
    """The action's why-sentence, its number rounded by the display rule."""
    return "".join(part.text + ("" if part.number is None else format_score(part.number)) for part in row.why)


def _action_cell(row: ActionRow, styles, *, full: bool) -> list:
    """The action column: its title, then what to do (a path whose text is its title: not repeated)."""
    cell = [([(row.title, None)], styles["cell_strong"])]
    if full and row.what != row.title:
        cell.append(([(row.what, None)], styles["cell"]))
    return cell


def _reasons_cell(row: ActionRow, styles) -> list:
    """Under a top action: why it ranks there, the answers behind it, the programmes it can use."""
    muted = styles["cell_muted"]
    cell = [([(_why_text(row), None)], muted)]
    if row.countermeasure_code:
        cell.append(([(_("对策：%(countermeasure)s") % {"countermeasure": row.countermeasure_title}, None)], muted))
    for answer in row.answers:
        basis = _("依据的答案：%(answer)s") % {"answer": f"{answer.item_code} {answer.question} — {answer.answer}"}
        cell.append(([(basis, None)], muted))
    if row.programmes:
        names = join_list(
            (with_note(p.name, join_list([p.level_label, p.url]) if p.url else p.level_label) for p in row.programmes),
            strong=True,
        )
        cell.append(([(_("可利用的政策项目：%(programmes)s") % {"programmes": names}, None)], muted))
    return cell


ACTION_WIDTHS = (11, 81, 22, 42, 18)


def _plan(report: AssessmentReport, styles) -> list:
    intro = _(
        "行动按优先分排序：提升一档能为综合指数增加多少分，以及它是否卡住下一等级。“待核实”的行动来自答了"
        "“不清楚”的题目，它们不是短板：查明后请更新答案。"
    )
    block = text_heading(_("四、行动计划"), styles) + [_para(intro, styles, "muted")]
    block += text_heading(_("重点行动"), styles, 2)
    if not report.top_actions:
        block.append(_para(_("本轮没有需要采取的行动：所有题目都已达到最高选项。"), styles))
        return [Section(block, keep=len(block))]
    rows: list[list] = [[_("序号"), _("行动"), _("牵头部门"), _("完成标志"), _("期限")]]
    bound = []
    for number, row in enumerate(report.top_actions, start=1):
        rows.append(
            [str(number), _action_cell(row, styles, full=True), row.lead_label, row.done_criterion, row.horizon_label]
        )
        bound.append(len(rows))
        rows.append(["", _reasons_cell(row, styles), None, None, None])
    fills = dict.fromkeys(bound, NOTE_FILL)
    block.append(_grid(rows, ACTION_WIDTHS, styles, fills=fills, bound=bound))
    story = [Section(block, keep=len(block) - 1)]
    if report.more_actions:
        more = _("另有 %(n)d 项行动，按对策分组，各组内按排序先后；“排序”是在全部行动中的位次。") % {
            "n": report.more_action_count
        }
        story.append(
            Section(text_heading(_("其余行动（按对策分组）"), styles, 2) + [_para(more, styles, "muted")], keep=2)
        )
        for group in report.more_actions:
            rows = [[_("排序"), _("行动"), _("牵头部门"), _("完成标志"), _("期限")]]
            rows += [
                [
                    str(row.rank),
                    _action_cell(row, styles, full=True),
                    row.lead_label,
                    row.done_criterion,
                    row.horizon_label,
                ]
                for row in group.actions
            ]
            story.append(
                Section(text_heading(f"{group.code} {group.title}", styles, 3) + [_grid(rows, ACTION_WIDTHS, styles)])
            )
    story += _periods(report, styles)
    return story


def _periods(report: AssessmentReport, styles) -> list:
    """Every action once more, by time frame, as its rank only (the texts are above)."""
    rows = [[_("期限"), _("行动数"), _("行动（排序；* 为重点行动）")]]
    for period in report.plan_periods:
        ranks = join_list(f"{row.rank}*" if row.top else str(row.rank) for row in period.actions) or "–"
        rows.append([period.title, str(len(period.actions)), ranks])
    return [Section(text_heading(_("按期限汇总"), styles, 2) + [_grid(rows, (30, 18, 126), styles)])]


# --- 四、改进建议 and 五、行动计划 (rules version 1) -------------------------------------------------------


def _recommendation_label(row: RecommendationRow) -> str:
    return _("优先级：%(priority)s · %(horizon)s · 规则 %(rule)s") % {
        "priority": row.priority_label,
        "horizon": row.horizon_label,
        "rule": row.rule_code,
    }


def _recommendation_block(row: RecommendationRow, styles) -> Section:
    parts = [_para(_recommendation_label(row), styles, "h3"), _para(row.body, styles)]
    if row.next_step:
        parts.append(Text([(row.next_step, DARK_ACCENT)], styles["body"]))
    if row.triggers:
        rows = [[_("题号"), _("触发此建议的题目"), _("本企业的答案")]]
        rows += [[t.item_code, t.question, t.answer] for t in row.triggers]
        parts.append(_grid(rows, (16, 96, 62), styles))
    parts.append(Spacer(1, 2 * mm))
    return Section(parts, keep=2)


def _recommendations(report: AssessmentReport, styles) -> list:
    story = []
    for n, cm in enumerate(report.countermeasures):
        block = text_heading(_("四、改进建议（按论文的四项对策）"), styles) if n == 0 else []
        block += text_heading(f"{cm.code} {cm.title}", styles, 2)
        keep = len(block)
        block += [_para(countermeasure_source(cm.heading), styles, "muted"), _para(cm.description, styles)]
        if not cm.recommendations:
            block.append(_para(_("本对策下没有触发的建议。"), styles, "muted"))
        story.append(Section(block, keep=keep + 1))
        story += [_recommendation_block(row, styles) for row in cm.recommendations]
    return story


def _action_plan(report: AssessmentReport, styles) -> list:
    story = []
    for n, period in enumerate(report.action_plan):
        block = text_heading(_("五、行动计划"), styles) if n == 0 else []
        if n == 0:
            block.append(_para(_("按期限和优先级排列；每一行是相应建议的下一步行动。"), styles, "muted"))
        block += text_heading(period.title, styles, 2)
        if not period.rows:
            block.append(_para(_("无。"), styles, "muted"))
            story.append(Section(block, keep=len(block)))
            continue
        rows = [[_("优先级"), _("行动"), _("对策"), _("期限"), _("依据")]]
        for r in period.rows:
            basis = r.rule_code + (" · " + join_list(t.item_code for t in r.triggers) if r.triggers else "")
            rows.append(
                [
                    r.priority_label,
                    r.action,
                    f"{r.countermeasure_code} {r.countermeasure_title}",
                    r.horizon_label,
                    basis,
                ]
            )
        block.append(_grid(rows, (16, 80, 32, 20, 26), styles))
        story.append(Section(block, keep=len(block) - 1))
    return story


# --- 附录 -------------------------------------------------------------------------------------------


def _appendix(report: AssessmentReport, styles) -> list:
    story = []
    for n, d in enumerate(report.dimensions):
        block = text_heading(_("附录：全部题目与答案"), styles) if n == 0 else []
        block += text_heading(f"{d.code} {d.name}", styles, 2)
        rows: list[list] = [[_("题号"), _("题目"), _("本企业的答案")]]
        bound, fills = [], {}
        for a in d.answers:
            rows.append([a.item_code, a.question, a.answer])
            if a.note:
                # The note gets a row of its own under the answer, across the question and answer columns.
                bound.append(len(rows))
                fills[(len(rows), 1)] = NOTE_FILL
                rows.append(["", _("备注：%(note)s") % {"note": a.note}, None])
        block.append(_grid(rows, (14, 96, 64), styles, fills=fills, bound=bound))
        story.append(Section(block, keep=len(block) - 1))
    return story
