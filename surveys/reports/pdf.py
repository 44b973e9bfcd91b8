"""The firm's PDF report: an AssessmentReport in, ``(filename, mimetype, bytes)`` out.

ReportLab platypus on A4, measured in mm, on the page, styles and tables of surveys/reports/base.py. No ORM
and no request: everything comes from the round's read model (surveys/selectors/results.py), numbers
formatted by surveys/reports/formatting.py; the fixed wording is translated inside ``override(report.language)``.

Every dynamic string goes through ``esc()`` (base.py) before it reaches a Paragraph: a firm name or a note
must appear as typed, never as ReportLab markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import override
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, NextPageTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from ..text import in_brackets, is_chinese, join_list, with_note
from .base import (
    ACCENT,
    HEAD_FILL,
    MIMETYPE,
    NOTE_FILL,
    RULE,
    TEXT_WIDTH,
    WARN_FILL,
    WARN_LINE,
    box,
    build_pdf,
    chapters,
    esc,
    heading,
    markup,
    para,
    paragraph_styles,
    table,
)
from .charts import chart_drawings
from .fonts import pdf_font_name
from .formatting import format_percentile, format_score, format_share

if TYPE_CHECKING:
    from surveys.selectors.results import ActionRow, AssessmentReport, DimensionSection, RecommendationRow


# --- public -----------------------------------------------------------------------------------------


def render_assessment_pdf(report: AssessmentReport) -> tuple[str, str, bytes]:
    """``(filename, "application/pdf", bytes)``: A4, the CJK font embedded, "page x of y" on every page."""
    with override(report.language):
        styles = paragraph_styles(pdf_font_name())
        data = build_pdf(
            _story(report, styles),
            header_text=f"{report.title} · {report.enterprise_name} · {report.round_label}",
            footer_text=report.footer_note,
            title=f"{report.title} – {report.enterprise_name} – {report.round_label}",
            author=report.enterprise_name,
            subject=report.questionnaire_title,
            keywords=", ".join([report.uscc, report.round_label, report.questionnaire_version]),
            lang=report.pdf_language,
            templates=("cover", "body"),
        )
    return report_filename(uscc=report.uscc, round_label=report.round_label), MIMETYPE, data


_UNSAFE_FILENAME_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def report_filename(*, uscc: str, round_label: str) -> str:
    """``<USCC>-<round label>.pdf``, without characters a file system or a header cannot take."""
    name = _UNSAFE_FILENAME_RE.sub("_", f"{uscc}-{round_label}").strip(" .") or "report"
    return f"{name}.pdf"


# --- text helpers -----------------------------------------------------------------------------------


def _dimension_score(dimension: DimensionSection) -> str:
    if dimension.insufficient_data:
        return _("数据不足")
    if dimension.score is None:
        return _("无得分（均为不适用）")
    return format_score(dimension.score)


def _percent(share: float) -> str:
    return format_share(share)


# --- the story --------------------------------------------------------------------------------------


def _story(report: AssessmentReport, styles) -> list:
    return [NextPageTemplate("body")] + chapters(
        _cover(report, styles),
        _summary(report, styles) + _charts(report, styles),
        _dimensions(report, styles),
        (
            _plan(report, styles) + _plan_by_horizon(report, styles)
            if report.has_plan
            else _recommendations(report, styles) + _action_plan(report, styles)
        ),
        _appendix(report, styles) + [Spacer(1, 6 * mm), box([para(report.disclaimer, styles["small"])])],
    )


def _cover(report: AssessmentReport, styles) -> list:
    rows = [
        (_("统一社会信用代码"), report.uscc),
        (_("所在区县"), report.district + (f" · {report.zone}" if report.zone else "")),
        (_("所属行业"), report.industry),
        (_("企业规模"), report.size_class),
        (_("联系人"), " ".join(part for part in (report.contact_name, report.contact_phone) if part)),
        (_("评估轮次"), report.round_label),
        (_("提交日期"), report.submitted_on),
        (_("问卷版本"), report.questionnaire_version),
        (_("报告生成日期"), report.generated_on),
    ]
    info = table(
        [(label, value) for label, value in rows],
        (42, 132),
        styles,
        header=False,
        extra=[("BACKGROUND", (0, 0), (0, -1), HEAD_FILL), ("GRID", (0, 0), (-1, -1), 0.4, RULE)],
    )
    result = Table(
        [
            [para(_("综合指数（0–100）"), styles["big_label"]), para(_("等级"), styles["big_label"])],
            [
                para(format_score(report.index), styles["big"]),
                para(f"{report.level_code} {report.level_name}", styles["level"]),
            ],
        ],
        colWidths=[TEXT_WIDTH / 2] * 2,
        hAlign="LEFT",
    )
    result.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles["big"].fontName),
                ("BOX", (0, 0), (-1, -1), 0.8, ACCENT),
                ("LINEAFTER", (0, 0), (0, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return [
        Spacer(1, 18 * mm),
        para(report.title, styles["title"]),
        para(report.questionnaire_title, styles["subtitle"]),
        HRFlowable(width="100%", thickness=1.2, color=ACCENT, spaceBefore=2, spaceAfter=8),
        para(report.enterprise_name, styles["firm"]),
        info,
        Spacer(1, 10 * mm),
        result,
        Spacer(1, 10 * mm),
        box(
            [
                para(_("重要说明"), styles["h3"]),
                para(report.disclaimer, styles["small"]),
            ],
            fill=WARN_FILL,
            line=WARN_LINE,
        ),
    ]


def _summary(report: AssessmentReport, styles) -> list:
    story = heading(_("一、评估概要"), styles)
    story.append(
        markup(
            _("综合指数 %(index)s（满分 100），等级 %(level)s。")
            % {
                "index": f'<font color="#0B5CAD">{esc(format_score(report.index))}</font>',
                "level": f'<font color="#0B5CAD">{esc(report.level_code)} {esc(report.level_name)}</font>',
            },
            styles["body"],
        )
    )
    story.append(para(report.level_description, styles["body"]))

    story += heading(_("等级门槛"), styles, 2)
    if report.gates and report.has_plan:
        story += _gates_v2(report, styles)
    elif report.gates:
        if report.provisional_level_code != report.level_code:
            story.append(
                para(
                    _("按综合指数初判为 %(provisional)s，下列门槛未达到，等级因此限定为 %(level)s：")
                    % {
                        "provisional": f"{report.provisional_level_code} {report.provisional_level_name}",
                        "level": f"{report.level_code} {report.level_name}",
                    },
                    styles["body"],
                )
            )
        rows = [(_("门槛"), _("原因"), _("相关题目"))]
        rows += [(g.code, g.reason, join_list(g.items) or "–") for g in report.gates]
        story.append(table(rows, (28, 110, 36), styles))
    else:
        story.append(para(_("没有门槛限制等级：等级即按综合指数确定的等级。"), styles["body"]))

    story += heading(_("五个维度"), styles, 2)
    shown = [p for p in report.peers if p.shown]
    head = [_("维度"), _("权重"), _("得分"), _("不清楚")] + [p.series_name for p in shown[:2]]
    rows = [head]
    for d in report.dimensions:
        row = [f"{d.code} {d.name}", _percent(d.weight), _dimension_score(d), f"{d.unknown}/{d.answered}"]
        row += [format_score(v.value) for v in d.peers[:2]]
        rows.append(row)
    fixed = (56, 16, 26, 18)
    rest = (TEXT_WIDTH / mm - sum(fixed)) / max(len(shown[:2]), 1)
    story.append(table(rows, fixed + (rest,) * len(shown[:2]), styles))
    if report.insufficient_dimensions:
        story.append(Spacer(1, 2 * mm))
        story.append(
            box(
                [
                    para(
                        _("数据不足：%(names)s 选择“不清楚”的题目过多，得分不能反映真实水平，不按低分解读。")
                        % {
                            "names": join_list(
                                with_note(f"{d.code} {d.name}", _percent(d.unknown_share))
                                for d in report.insufficient_dimensions
                            )
                        },
                        styles["small"],
                    )
                ],
                fill=WARN_FILL,
                line=WARN_LINE,
            )
        )

    if report.has_plan:
        return story + _top_actions_table(report, styles)
    story += heading(_("最优先的三项建议"), styles, 2)
    if report.top_priorities:
        for number, row in enumerate(report.top_priorities, start=1):
            story.append(
                markup(
                    f'<font color="#0B5CAD">{number}.</font> {esc(row.countermeasure_title)}',
                    styles["h3"],
                )
            )
            story.append(para(_recommendation_label(row), styles["muted"]))
            story.append(para(row.body, styles["body"]))
            if row.next_step:
                story.append(para(row.next_step, styles["next_step"]))
    else:
        story.append(para(_("本轮没有触发任何建议。"), styles["body"]))
    return story


def _charts(report: AssessmentReport, styles) -> list:
    drawings = chart_drawings(report)
    story = [CondPageBreak(120 * mm)]
    story += heading(_("二、得分图"), styles)
    radar = drawings["radar"]
    radar.hAlign = "CENTER"
    if drawings["reference"]:
        caption = _("五个维度得分（0–100），与%(group)s对照") % {"group": drawings["reference"]}
    else:
        caption = _("五个维度得分（0–100）")
    story.append(para(caption, styles["h3"]))
    story.append(radar)
    bars = drawings["bars"]
    bars.hAlign = "CENTER"
    story.append(KeepTogether([para(_("与行业、区县和全市平均比较（各组最新一轮已提交的评估）"), styles["h3"]), bars]))

    rows = [(_("对照组"), _("企业数"), _("平均指数"), _("本企业指数不低于组内"))]
    for p in report.peers:
        if p.shown:
            rows.append((p.series_name, str(p.size), format_score(p.mean_index), f"{format_percentile(p.percentile)}%"))
        else:
            rows.append(
                (
                    p.series_name,
                    str(p.size),
                    _("不足 %(n)d 家，不显示") % {"n": report.min_group_size},
                    "–",
                )
            )
    note = para(
        _("对照组少于 %(n)d 家企业时不显示平均值，以免推断出个别企业的结果。") % {"n": report.min_group_size},
        styles["muted"],
    )
    story.append(KeepTogether([Spacer(1, 3 * mm), table(rows, (72, 22, 40, 40), styles), Spacer(1, 1 * mm), note]))
    return story


def _recommendation_label(row: RecommendationRow) -> str:
    return _("优先级：%(priority)s · %(horizon)s · 规则 %(rule)s") % {
        "priority": row.priority_label,
        "horizon": row.horizon_label,
        "rule": row.rule_code,
    }


def _answer_line(row) -> str:
    return f"{row.item_code} {row.question} — {row.answer}"


def _dimensions(report: AssessmentReport, styles) -> list:
    story = heading(_("三、各维度分析"), styles)
    for d in report.dimensions:
        block = heading(
            _("%(dimension)s：%(score)s") % {"dimension": f"{d.code} {d.name}", "score": _dimension_score(d)}, styles, 2
        )
        block.append(
            markup(
                esc(_("对应论文问题：%(problem)s")).replace(
                    "%(problem)s", f'<font color="#0B3D78">{esc(d.problem)}</font>'
                ),
                styles["body"],
            )
        )
        block.append(para(d.description, styles["muted"]))
        facts = _("权重 %(weight)s；计分题 %(answered)d 题，其中“不清楚” %(unknown)d 题；“不适用” %(na)d 题。") % {
            "weight": _percent(d.weight),
            "answered": d.answered,
            "unknown": d.unknown,
            "na": d.not_applicable,
        }
        if d.peers:
            facts += " " + join_list((f"{v.label} {format_score(v.value)}" for v in d.peers), strong=True)
        block.append(Spacer(1, 1.5 * mm))
        block.append(para(facts, styles["body"]))
        story.append(KeepTogether(block))
        if d.insufficient_data:
            story.append(Spacer(1, 1.5 * mm))
            story.append(
                box(
                    [
                        para(_("数据不足"), styles["h3"]),
                        para(
                            _(
                                "本维度 %(share)s 的计分题选择了“不清楚”，超过可信度门槛，得分不能反映真实水平，"
                                "不应理解为低分。建议向设备、信息、财务、人事等部门核实后在下一轮重新填写。"
                            )
                            % {"share": _percent(d.unknown_share)},
                            styles["small"],
                        ),
                    ],
                    fill=WARN_FILL,
                    line=WARN_LINE,
                )
            )
        if d.strongest:
            story.append(para(_("较强的方面（3–4 分）"), styles["h3"]))
            story += [para(_answer_line(r), styles["bullet"]) for r in d.strongest]
        if d.weakest:
            story.append(para(_("较弱的方面（0–1 分）"), styles["h3"]))
            story += [para(_answer_line(r), styles["bullet"]) for r in d.weakest]
        if d.unknown_items:
            story.append(para(_("选择“不清楚”的题目"), styles["h3"]))
            story.append(para(join_list(r.item_code for r in d.unknown_items), styles["body"]))
        if not (d.strongest or d.weakest or d.unknown_items):
            story.append(para(_("各题得分均为 2 分左右，没有特别突出的强项或短板。"), styles["body"]))
        if d.problems:
            story.append(para(_("本维度题目涉及的论文所列问题"), styles["h3"]))
            story += [para(f"• {p.text}", styles["bullet"]) for p in d.problems]
        story.append(Spacer(1, 3 * mm))
    return story


def _recommendation_block(row: RecommendationRow, styles) -> KeepTogether:
    parts = [para(_recommendation_label(row), styles["h3"]), para(row.body, styles["body"])]
    if row.next_step:
        parts.append(para(row.next_step, styles["next_step"]))
    if row.triggers:
        rows = [(_("题号"), _("触发此建议的题目"), _("本企业的答案"))]
        rows += [(t.item_code, t.question, t.answer) for t in row.triggers]
        parts.append(Spacer(1, 1.5 * mm))
        parts.append(table(rows, (16, 96, 62), styles))
    parts.append(Spacer(1, 3 * mm))
    return KeepTogether(parts)


def _recommendations(report: AssessmentReport, styles) -> list:
    story = heading(_("四、改进建议（按论文的四项对策）"), styles)
    for cm in report.countermeasures:
        story += heading(f"{cm.code} {cm.title}", styles, 2)
        story.append(para(cm.heading, styles["muted"]))
        story.append(para(cm.description, styles["body"]))
        story.append(Spacer(1, 2 * mm))
        if not cm.recommendations:
            story.append(para(_("本对策下没有触发的建议。"), styles["muted"]))
        for row in cm.recommendations:
            story.append(_recommendation_block(row, styles))
    return story


def _action_plan(report: AssessmentReport, styles) -> list:
    story = [CondPageBreak(60 * mm)]
    story += heading(_("五、行动计划"), styles)
    story.append(para(_("按期限和优先级排列；每一行是相应建议的下一步行动。"), styles["muted"]))
    for period in report.action_plan:
        story += heading(period.title, styles, 2)
        if not period.rows:
            story.append(para(_("无。"), styles["muted"]))
            continue
        rows = [(_("优先级"), _("行动"), _("对策"), _("期限"), _("依据"))]
        for r in period.rows:
            basis = r.rule_code + (" · " + join_list(t.item_code for t in r.triggers) if r.triggers else "")
            rows.append(
                (
                    r.priority_label,
                    r.action,
                    f"{r.countermeasure_code} {r.countermeasure_title}",
                    r.horizon_label,
                    basis,
                )
            )
        story.append(table(rows, (14, 80, 32, 22, 26), styles))
    return story


def _appendix(report: AssessmentReport, styles) -> list:
    story = heading(_("附录：全部题目与答案"), styles)
    for d in report.dimensions:
        story += heading(f"{d.code} {d.name}", styles, 2)
        rows = [(_("题号"), _("题目"), _("本企业的答案"))]
        spans = []
        for a in d.answers:
            rows.append((a.item_code, a.question, a.answer))
            if a.note:
                # The note gets a row of its own under the answer, across the question and answer columns.
                spans.append(("SPAN", (1, len(rows)), (2, len(rows))))
                spans.append(("BACKGROUND", (1, len(rows)), (2, len(rows)), NOTE_FILL))
                spans.append(("LINEABOVE", (1, len(rows)), (2, len(rows)), 0.2, NOTE_FILL))
                rows.append(("", para(_("备注：%(note)s") % {"note": a.note}, styles["cell"]), ""))
        story.append(table(rows, (14, 92, 68), styles, extra=spans))
    return story


# --- the plan (rules version 2) ---------------------------------------------------------------------


def _gates_v2(report: AssessmentReport, styles) -> list:
    """The capping gates with their status: a gate held only by 不清楚 answers is "to verify" (its text
    names the answers to find out), never a shortfall."""
    story = []
    if report.provisional_level_code != report.level_code:
        story.append(
            para(
                _("按综合指数初判为 %(provisional)s，等级因下列门槛调整为 %(level)s：")
                % {
                    "provisional": f"{report.provisional_level_code} {report.provisional_level_name}",
                    "level": f"{report.level_code} {report.level_name}",
                },
                styles["body"],
            )
        )
    rows = [(_("门槛"), _("状态"), _("说明"), _("相关题目"))]
    for g in report.gates:
        items = g.unverified if g.status_label else g.items
        rows.append((g.code, g.status_label or _("未达到"), g.reason, join_list(items) or "–"))
    story.append(table(rows, (28, 18, 94, 34), styles))
    return story


def _why_text(row: ActionRow) -> str:
    """The action's why-sentence, its number rounded by the display rule."""
    return "".join(part.text + ("" if part.number is None else format_score(part.number)) for part in row.why)


def _title_markup(row: ActionRow, number: object = None) -> str:
    """ "1. （待核实）核实：…": the top list's number, the kind, the title."""
    head = f"{number}. " if number is not None else ""
    gap = "" if is_chinese() else " "
    return f'<font color="#0B5CAD">{esc(head)}{esc(in_brackets(row.kind_label))}</font>{gap}{esc(row.title)}'


def _top_actions_table(report: AssessmentReport, styles) -> list:
    """The summary's top actions: what, who leads it, when it is done, by when; the rest counted and placed."""
    story = heading(_("重点行动"), styles, 2)
    if not report.top_actions:
        story.append(para(_("本轮没有需要采取的行动：所有题目都已达到最高选项。"), styles["body"]))
        return story
    rows: list[tuple] = [(_("序号"), _("行动"), _("牵头部门"), _("完成标志"), _("期限"))]
    for number, row in enumerate(report.top_actions, start=1):
        rows.append(
            (
                str(number),
                markup(f'<font color="#0B3D78">{esc(row.title)}</font>{_what_markup(row)}', styles["cell"]),
                row.lead_label,
                row.done_criterion,
                row.horizon_label,
            )
        )
    story.append(table(rows, (10, 78, 24, 42, 20), styles))
    story.append(Spacer(1, 1.5 * mm))
    note = _("每项行动的排序理由和所依据的答案见第四章“行动计划”。")
    if report.more_action_count:
        note += _("另有 %(n)d 项行动按对策分组列在第四章“其余行动”中，并全部列入第五章按期限的行动计划。") % {
            "n": report.more_action_count
        }
    story.append(para(note, styles["muted"]))
    return story


def _what_markup(row: ActionRow) -> str:
    """The action's text under its title (a path whose text is one sentence is its title: not repeated)."""
    return "" if row.what == row.title else f"<br/>{esc(row.what)}"


def _action_block(row: ActionRow, styles, number: object = None) -> KeepTogether:
    parts = [markup(_title_markup(row, number), styles["h3"])]
    if row.what != row.title:
        parts.append(para(row.what, styles["body"]))
    parts.append(para(_("完成标志：%(done)s") % {"done": row.done_criterion}, styles["body"]))
    facts = [
        _("牵头部门：%(lead)s") % {"lead": row.lead_label},
        _("期限：%(horizon)s") % {"horizon": row.horizon_label},
    ]
    if row.countermeasure_code:
        facts.append(_("对策：%(countermeasure)s") % {"countermeasure": row.countermeasure_title})
    parts.append(para(" · ".join(facts), styles["muted"]))
    parts.append(para(_why_text(row), styles["muted"]))
    if row.programmes:
        names = join_list(
            (with_note(p.name, join_list([p.level_label, p.url]) if p.url else p.level_label) for p in row.programmes),
            strong=True,
        )
        parts.append(para(_("可利用的政策项目：%(programmes)s") % {"programmes": names}, styles["muted"]))
    if row.answers:
        rows = [(_("题号"), _("依据的题目"), _("本企业的答案"))]
        rows += [(a.item_code, a.question, a.answer) for a in row.answers]
        parts.append(Spacer(1, 1.5 * mm))
        parts.append(table(rows, (16, 96, 62), styles))
    parts.append(Spacer(1, 3 * mm))
    return KeepTogether(parts)


def _plan(report: AssessmentReport, styles) -> list:
    story = heading(_("四、行动计划"), styles)
    story.append(
        para(
            _(
                "行动按优先分排序：提升一档能为综合指数增加多少分，以及它是否卡住下一等级。“待核实”的行动来自答了"
                "“不清楚”的题目，它们不是短板：查明后请更新答案。"
            ),
            styles["muted"],
        )
    )
    story += heading(_("重点行动"), styles, 2)
    if not report.top_actions:
        story.append(para(_("本轮没有需要采取的行动：所有题目都已达到最高选项。"), styles["body"]))
    for number, row in enumerate(report.top_actions, start=1):
        story.append(_action_block(row, styles, number))
    if report.more_actions:
        story += heading(_("其余行动（按对策分组）"), styles, 2)
        more = _("另有 %(n)d 项行动，按对策分组，各组内按排序先后。") % {"n": report.more_action_count}
        story.append(para(more, styles["muted"]))
        for group in report.more_actions:
            story += heading(f"{group.code} {group.title}", styles, 2)
            story += [_action_block(row, styles) for row in group.actions]
    return story


def _plan_by_horizon(report: AssessmentReport, styles) -> list:
    story = [CondPageBreak(60 * mm)]
    story += heading(_("五、按期限的行动计划"), styles)
    story.append(para(_("全部行动按期限分为三段，各段内按排序先后；标“重点”的是重点行动。"), styles["muted"]))
    for period in report.plan_periods:
        story += heading(period.title, styles, 2)
        if not period.actions:
            story.append(para(_("无。"), styles["muted"]))
            continue
        rows = [(_("排序"), _("行动"), _("牵头部门"), _("完成标志"))]
        rows += [
            (f"{row.rank} {_('重点')}" if row.top else str(row.rank), row.title, row.lead_label, row.done_criterion)
            for row in period.actions
        ]
        story.append(table(rows, (14, 80, 26, 54), styles))
    return story
