"""The firm's PDF report: an AssessmentReport in, ``(filename, mimetype, bytes)`` out.

ReportLab platypus on A4, measured in mm. No ORM and no request: everything comes from the report tree
(surveys/reports/context.py); the fixed wording is translated inside ``override(report.language)``.

Every dynamic string goes through ``esc()`` before it reaches a Paragraph: ReportLab's paragraph parser
understands a markup of its own (``<font>``, ``<para>``, ``<a href>``, entities), and a firm name or a
note must appear as typed, never as markup.
"""

from __future__ import annotations

import re
import unicodedata
from io import BytesIO
from xml.sax.saxutils import escape

from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as rl_paragraph
from reportlab.platypus.flowables import HRFlowable

from surveys import charts
from surveys.fonts import pdf_font_name

from .context import AssessmentReport, DimensionSection, RecommendationRow

MIMETYPE = "application/pdf"
CREATOR = "jinan_assess"

PAGE_SIZE = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
TEXT_WIDTH = PAGE_SIZE[0] - MARGIN_LEFT - MARGIN_RIGHT  # 174 mm

INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#5A5A5A")
ACCENT = colors.HexColor("#0B5CAD")
DARK_ACCENT = colors.HexColor("#0B3D78")
HEAD_FILL = colors.HexColor("#E6EEF7")
RULE = colors.HexColor("#B9C4D0")
NOTE_FILL = colors.HexColor("#F4F6F8")
WARN_FILL = colors.HexColor("#FFF4E0")
WARN_LINE = colors.HexColor("#D08C1E")

# ReportLab's CJK line breaking keeps Japanese closing punctuation off the start of a line (it hangs in
# the margin instead) but its list lacks the Chinese full-width comma, semicolon, colon, question and
# exclamation marks, closing book-title marks and quotes. Add them (process-wide, idempotent).
# Both modules hold their own copy: textsplit breaks single-style paragraphs, paragraph the others.
_CHINESE_CANNOT_START = "，；：？！》〉”’…"
for _module in (rl_paragraph, rl_textsplit):
    _module.ALL_CANNOT_START += "".join(c for c in _CHINESE_CANNOT_START if c not in _module.ALL_CANNOT_START)
del _module


# --- public -----------------------------------------------------------------------------------------


def render_assessment_pdf(report: AssessmentReport) -> tuple[str, str, bytes]:
    """``(filename, "application/pdf", bytes)``: A4, the CJK font embedded, "page x of y" on every page."""
    with override(report.language):
        buffer = BytesIO()
        font = pdf_font_name()
        styles = _styles(font)
        doc = _ReportDocument(
            buffer,
            pagesize=PAGE_SIZE,
            leftMargin=MARGIN_LEFT,
            rightMargin=MARGIN_RIGHT,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=f"{report.title} – {report.enterprise_name} – {report.round_label}",
            author=report.enterprise_name,
            subject=report.questionnaire_title,
            creator=CREATOR,
            keywords=", ".join([report.uscc, report.round_label, report.questionnaire_version]),
            lang=report.pdf_language,
            initialFontName=font,
        )
        story = _story(report, styles)
        doc.build(story, canvasmaker=_numbered_canvas(report, font))
    return report_filename(uscc=report.uscc, round_label=report.round_label), MIMETYPE, buffer.getvalue()


_UNSAFE_FILENAME_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_NON_ASCII_FILENAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def report_filename(*, uscc: str, round_label: str) -> str:
    """``<USCC>-<round label>.pdf``, without characters a file system or a header cannot take."""
    name = _UNSAFE_FILENAME_RE.sub("_", f"{uscc}-{round_label}").strip(" .") or "report"
    return f"{name}.pdf"


def ascii_filename(filename: str) -> str:
    """An ASCII-only stand-in for ``filename`` (the ``filename=`` fallback of Content-Disposition)."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"_{2,}", "_", _NON_ASCII_FILENAME_RE.sub("_", folded)).strip("._-") or "report"
    extension = _NON_ASCII_FILENAME_RE.sub("", extension)
    return f"{folded}.{extension}" if extension else folded


# --- text helpers -----------------------------------------------------------------------------------


def esc(text: object) -> str:
    """Escape a dynamic string for a Paragraph; line breaks become <br/>."""
    value = escape(str(text if text is not None else ""))
    return value.replace("\r\n", "\n").replace("\n", "<br/>")


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(esc(text), style)


def _markup(markup: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph from markup built here, whose dynamic parts went through esc()."""
    return Paragraph(markup, style)


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _dimension_score(dimension: DimensionSection) -> str:
    if dimension.insufficient_data:
        return _("数据不足")
    if dimension.score is None:
        return _("无得分（均为不适用）")
    return _score(dimension.score)


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


# --- styles -----------------------------------------------------------------------------------------


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14.5, textColor=INK, wordWrap="CJK")

    def style(name: str, **kw) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "title": style("title", fontSize=22, leading=30, textColor=DARK_ACCENT, spaceAfter=4),
        "subtitle": style("subtitle", fontSize=11, leading=16, textColor=MUTED, spaceAfter=10),
        "firm": style("firm", fontSize=17, leading=24, spaceBefore=10, spaceAfter=8),
        # keepWithNext: a heading never ends a page without the first lines of what it introduces.
        "h1": style("h1", fontSize=15, leading=21, textColor=DARK_ACCENT, spaceBefore=4, spaceAfter=2, keepWithNext=1),
        "h2": style("h2", fontSize=12, leading=17, textColor=ACCENT, spaceBefore=10, spaceAfter=4, keepWithNext=1),
        "h3": style("h3", fontSize=10.5, leading=15, textColor=INK, spaceBefore=6, spaceAfter=2, keepWithNext=1),
        "muted": style("muted", fontSize=8.5, leading=12.5, textColor=MUTED),
        "small": style("small", fontSize=8.5, leading=12.5),
        "cell": style("cell", fontSize=8.5, leading=12),
        "cell_head": style("cell_head", fontSize=8.5, leading=12, textColor=DARK_ACCENT),
        "cell_center": style("cell_center", fontSize=8.5, leading=12, alignment=TA_CENTER),
        "big": style("big", fontSize=26, leading=32, textColor=ACCENT, alignment=TA_CENTER),
        "big_label": style("big_label", fontSize=9, leading=13, textColor=MUTED, alignment=TA_CENTER),
        "level": style("level", fontSize=15, leading=21, textColor=ACCENT, alignment=TA_CENTER),
        "next_step": style("next_step", textColor=DARK_ACCENT, leftIndent=3 * mm),
        "bullet": style("bullet", leftIndent=5 * mm, bulletIndent=1 * mm, spaceAfter=1),
    }


def _table(rows, widths_mm, styles, *, header: bool = True, extra=()) -> Table:
    """A table whose cells are Paragraphs; the header row repeats on every page the table spans."""
    cells = []
    for r, row in enumerate(rows):
        cells.append(
            [
                cell
                if not isinstance(cell, str)
                else _p(cell, styles["cell_head"] if header and r == 0 else styles["cell"])
                for cell in row
            ]
        )
    # splitInRow: a row taller than what is left of the page (a long note) continues on the next one
    # instead of raising LayoutError.
    table = Table(
        cells,
        colWidths=[w * mm for w in widths_mm],
        repeatRows=1 if header else 0,
        splitInRow=1,
        hAlign="LEFT",
    )
    commands = [
        # Cells are Paragraphs with their own font; the table's font only keeps Helvetica out of the file.
        ("FONTNAME", (0, 0), (-1, -1), styles["cell"].fontName),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL))
    table.setStyle(TableStyle(commands + list(extra)))
    return table


def _box(flowables, *, fill=NOTE_FILL, line=RULE) -> Table:
    table = Table([[flowables]], colWidths=[TEXT_WIDTH], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), flowables[0].style.fontName),
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("BOX", (0, 0), (-1, -1), 0.6, line),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    return table


def _heading(text: str, styles, level: int = 1) -> list:
    paragraph = _p(text, styles[f"h{level}"])
    paragraph._outline_level = level - 1  # read by _ReportDocument.afterFlowable
    if level == 1:
        return [paragraph, HRFlowable(width="100%", thickness=0.8, color=ACCENT, spaceBefore=1, spaceAfter=6)]
    return [paragraph]


# --- the story --------------------------------------------------------------------------------------


def _story(report: AssessmentReport, styles) -> list:
    story: list = [NextPageTemplate("body")]
    story += _cover(report, styles)
    story.append(PageBreak())
    story += _summary(report, styles)
    story += _charts(report, styles)
    story.append(PageBreak())
    story += _dimensions(report, styles)
    story.append(PageBreak())
    story += _recommendations(report, styles)
    story += _action_plan(report, styles)
    story.append(PageBreak())
    story += _appendix(report, styles)
    story += [Spacer(1, 6 * mm), _box([_p(report.disclaimer, styles["small"])])]
    return story


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
    info = _table(
        [(label, value) for label, value in rows],
        (42, 132),
        styles,
        header=False,
        extra=[("BACKGROUND", (0, 0), (0, -1), HEAD_FILL), ("GRID", (0, 0), (-1, -1), 0.4, RULE)],
    )
    result = Table(
        [
            [_p(_("综合指数（0–100）"), styles["big_label"]), _p(_("等级"), styles["big_label"])],
            [
                _p(_score(report.index), styles["big"]),
                _p(f"{report.level_code} {report.level_name}", styles["level"]),
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
        _p(report.title, styles["title"]),
        _p(report.questionnaire_title, styles["subtitle"]),
        HRFlowable(width="100%", thickness=1.2, color=ACCENT, spaceBefore=2, spaceAfter=8),
        _p(report.enterprise_name, styles["firm"]),
        info,
        Spacer(1, 10 * mm),
        result,
        Spacer(1, 10 * mm),
        _box(
            [
                _p(_("重要说明"), styles["h3"]),
                _p(report.disclaimer, styles["small"]),
            ],
            fill=WARN_FILL,
            line=WARN_LINE,
        ),
    ]


def _summary(report: AssessmentReport, styles) -> list:
    story = _heading(_("一、评估概要"), styles)
    story.append(
        _markup(
            _("综合指数 %(index)s（满分 100），等级 %(level)s。")
            % {
                "index": f'<font color="#0B5CAD">{esc(_score(report.index))}</font>',
                "level": f'<font color="#0B5CAD">{esc(report.level_code)} {esc(report.level_name)}</font>',
            },
            styles["body"],
        )
    )
    story.append(_p(report.level_description, styles["body"]))

    story += _heading(_("等级门槛"), styles, 2)
    if report.gates:
        if report.provisional_level_code != report.level_code:
            story.append(
                _p(
                    _("按综合指数初判为 %(provisional)s，下列门槛未达到，等级因此限定为 %(level)s：")
                    % {
                        "provisional": f"{report.provisional_level_code} {report.provisional_level_name}",
                        "level": f"{report.level_code} {report.level_name}",
                    },
                    styles["body"],
                )
            )
        rows = [(_("门槛"), _("原因"), _("相关题目"))]
        rows += [(g.code, g.reason, _join(g.items) or "–") for g in report.gates]
        story.append(_table(rows, (28, 110, 36), styles))
    else:
        story.append(_p(_("没有门槛限制等级：等级即按综合指数确定的等级。"), styles["body"]))

    story += _heading(_("五个维度"), styles, 2)
    shown = [p for p in report.peers if p.shown]
    head = [_("维度"), _("权重"), _("得分"), _("不清楚")] + [p.series_name for p in shown[:2]]
    rows = [head]
    for d in report.dimensions:
        row = [f"{d.code} {d.name}", _percent(d.weight), _dimension_score(d), f"{d.unknown}/{d.answered}"]
        row += [_score(v.value) for v in d.peers[:2]]
        rows.append(row)
    fixed = (56, 16, 26, 18)
    rest = (TEXT_WIDTH / mm - sum(fixed)) / max(len(shown[:2]), 1)
    story.append(_table(rows, fixed + (rest,) * len(shown[:2]), styles))
    if report.insufficient_dimensions:
        story.append(Spacer(1, 2 * mm))
        story.append(
            _box(
                [
                    _p(
                        _("数据不足：%(names)s 选择“不清楚”的题目过多，得分不能反映真实水平，不按低分解读。")
                        % {
                            "names": _join(
                                f"{d.code} {d.name}（{_percent(d.unknown_share)}）"
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

    story += _heading(_("最优先的三项建议"), styles, 2)
    if report.top_priorities:
        for number, row in enumerate(report.top_priorities, start=1):
            story.append(
                _markup(
                    f'<font color="#0B5CAD">{number}.</font> {esc(row.countermeasure_title)}',
                    styles["h3"],
                )
            )
            story.append(_p(_recommendation_label(row), styles["muted"]))
            story.append(_p(row.body, styles["body"]))
            if row.next_step:
                story.append(_p(row.next_step, styles["next_step"]))
    else:
        story.append(_p(_("本轮没有触发任何建议。"), styles["body"]))
    return story


def chart_drawings(report: AssessmentReport) -> dict[str, object]:
    """The radar and the bars of a report, exactly as the results page shows them (it calls this too)."""
    labels = [
        _("%(name)s（数据不足）") % {"name": d.name} if d.insufficient_data else d.name for d in report.dimensions
    ]
    firm = [None if d.insufficient_data else d.score for d in report.dimensions]
    comparisons = [(p.series_name, p.dimension_means if p.shown else None) for p in report.peers]
    # The radar compares with one group only (the first shown: the industry when it is large enough).
    reference = next((c for c in comparisons if c[1] is not None), None)
    return {
        "radar": charts.dimension_radar(labels, [(report.firm_series_name, firm)] + ([reference] if reference else [])),
        "bars": charts.dimension_bars(labels, [(report.firm_series_name, firm)] + comparisons),
        "reference": reference[0] if reference else None,
    }


def _charts(report: AssessmentReport, styles) -> list:
    drawings = chart_drawings(report)
    story = [CondPageBreak(120 * mm)]
    story += _heading(_("二、得分图"), styles)
    radar = drawings["radar"]
    radar.hAlign = "CENTER"
    if drawings["reference"]:
        caption = _("五个维度得分（0–100），与%(group)s对照") % {"group": drawings["reference"]}
    else:
        caption = _("五个维度得分（0–100）")
    story.append(_p(caption, styles["h3"]))
    story.append(radar)
    bars = drawings["bars"]
    bars.hAlign = "CENTER"
    story.append(KeepTogether([_p(_("与行业、区县和全市平均比较（各组最新一轮已提交的评估）"), styles["h3"]), bars]))

    rows = [(_("对照组"), _("企业数"), _("平均指数"), _("本企业指数不低于组内"))]
    for p in report.peers:
        if p.shown:
            rows.append((p.series_name, str(p.size), _score(p.mean_index), f"{p.percentile:.0f}%"))
        else:
            rows.append(
                (
                    p.series_name,
                    str(p.size),
                    _("不足 %(n)d 家，不显示") % {"n": report.min_group_size},
                    "–",
                )
            )
    note = _p(
        _("对照组少于 %(n)d 家企业时不显示平均值，以免推断出个别企业的结果。") % {"n": report.min_group_size},
        styles["muted"],
    )
    story.append(KeepTogether([Spacer(1, 3 * mm), _table(rows, (72, 22, 40, 40), styles), Spacer(1, 1 * mm), note]))
    return story


def _join(parts, *, strong: bool = False) -> str:
    """A list in the active language's punctuation: 、/； in Chinese, commas/semicolons in English."""
    english = (get_language() or "").startswith("en")
    if strong:
        return ("; " if english else "；").join(parts)
    return (", " if english else "、").join(parts)


def _recommendation_label(row: RecommendationRow) -> str:
    return _("优先级：%(priority)s · %(horizon)s · 规则 %(rule)s") % {
        "priority": row.priority_label,
        "horizon": row.horizon_label,
        "rule": row.rule_code,
    }


def _answer_line(row) -> str:
    return f"{row.item_code} {row.question} — {row.answer}"


def _dimensions(report: AssessmentReport, styles) -> list:
    story = _heading(_("三、各维度分析"), styles)
    for d in report.dimensions:
        block = _heading(
            _("%(dimension)s：%(score)s") % {"dimension": f"{d.code} {d.name}", "score": _dimension_score(d)}, styles, 2
        )
        block.append(
            _markup(
                esc(_("对应论文问题：%(problem)s")).replace(
                    "%(problem)s", f'<font color="#0B3D78">{esc(d.problem)}</font>'
                ),
                styles["body"],
            )
        )
        block.append(_p(d.description, styles["muted"]))
        facts = _("权重 %(weight)s；计分题 %(answered)d 题，其中“不清楚” %(unknown)d 题；“不适用” %(na)d 题。") % {
            "weight": _percent(d.weight),
            "answered": d.answered,
            "unknown": d.unknown,
            "na": d.not_applicable,
        }
        if d.peers:
            facts += " " + _join((f"{v.label} {_score(v.value)}" for v in d.peers), strong=True)
        block.append(Spacer(1, 1.5 * mm))
        block.append(_p(facts, styles["body"]))
        story.append(KeepTogether(block))
        if d.insufficient_data:
            story.append(Spacer(1, 1.5 * mm))
            story.append(
                _box(
                    [
                        _p(_("数据不足"), styles["h3"]),
                        _p(
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
            story.append(_p(_("较强的方面（3–4 分）"), styles["h3"]))
            story += [_p(_answer_line(r), styles["bullet"]) for r in d.strongest]
        if d.weakest:
            story.append(_p(_("较弱的方面（0–1 分）"), styles["h3"]))
            story += [_p(_answer_line(r), styles["bullet"]) for r in d.weakest]
        if d.unknown_items:
            story.append(_p(_("选择“不清楚”的题目"), styles["h3"]))
            story.append(_p(_join(r.item_code for r in d.unknown_items), styles["body"]))
        if not (d.strongest or d.weakest or d.unknown_items):
            story.append(_p(_("各题得分均为 2 分左右，没有特别突出的强项或短板。"), styles["body"]))
        if d.problems:
            story.append(_p(_("本维度题目涉及的论文所列问题"), styles["h3"]))
            story += [_p(f"• {p.text}", styles["bullet"]) for p in d.problems]
        story.append(Spacer(1, 3 * mm))
    return story


def _recommendation_block(row: RecommendationRow, styles) -> KeepTogether:
    parts = [_p(_recommendation_label(row), styles["h3"]), _p(row.body, styles["body"])]
    if row.next_step:
        parts.append(_p(row.next_step, styles["next_step"]))
    if row.triggers:
        rows = [(_("题号"), _("触发此建议的题目"), _("本企业的答案"))]
        rows += [(t.item_code, t.question, t.answer) for t in row.triggers]
        parts.append(Spacer(1, 1.5 * mm))
        parts.append(_table(rows, (16, 96, 62), styles))
    parts.append(Spacer(1, 3 * mm))
    return KeepTogether(parts)


def _recommendations(report: AssessmentReport, styles) -> list:
    story = _heading(_("四、改进建议（按论文的四项对策）"), styles)
    for cm in report.countermeasures:
        story += _heading(f"{cm.code} {cm.title}", styles, 2)
        story.append(_p(cm.heading, styles["muted"]))
        story.append(_p(cm.description, styles["body"]))
        story.append(Spacer(1, 2 * mm))
        if not cm.recommendations:
            story.append(_p(_("本对策下没有触发的建议。"), styles["muted"]))
        for row in cm.recommendations:
            story.append(_recommendation_block(row, styles))
    return story


def _action_plan(report: AssessmentReport, styles) -> list:
    story = [CondPageBreak(60 * mm)]
    story += _heading(_("五、行动计划"), styles)
    story.append(_p(_("按期限和优先级排列；每一行是相应建议的下一步行动。"), styles["muted"]))
    for period in report.action_plan:
        story += _heading(period.title, styles, 2)
        if not period.rows:
            story.append(_p(_("无。"), styles["muted"]))
            continue
        rows = [(_("优先级"), _("行动"), _("对策"), _("期限"), _("依据"))]
        for r in period.rows:
            basis = r.rule_code + (" · " + _join(t.item_code for t in r.triggers) if r.triggers else "")
            rows.append(
                (
                    r.priority_label,
                    r.action,
                    f"{r.countermeasure_code} {r.countermeasure_title}",
                    r.horizon_label,
                    basis,
                )
            )
        story.append(_table(rows, (14, 80, 32, 22, 26), styles))
    return story


def _appendix(report: AssessmentReport, styles) -> list:
    story = _heading(_("附录：全部题目与答案"), styles)
    for d in report.dimensions:
        story += _heading(f"{d.code} {d.name}", styles, 2)
        rows = [(_("题号"), _("题目"), _("本企业的答案"))]
        spans = []
        for a in d.answers:
            rows.append((a.item_code, a.question, a.answer))
            if a.note:
                # The note gets a row of its own under the answer, across the question and answer columns.
                spans.append(("SPAN", (1, len(rows)), (2, len(rows))))
                spans.append(("BACKGROUND", (1, len(rows)), (2, len(rows)), NOTE_FILL))
                spans.append(("LINEABOVE", (1, len(rows)), (2, len(rows)), 0.2, NOTE_FILL))
                rows.append(("", _p(_("备注：%(note)s") % {"note": a.note}, styles["cell"]), ""))
        story.append(_table(rows, (14, 92, 68), styles, extra=spans))
    return story


# --- document and pages -----------------------------------------------------------------------------


class _ReportDocument(BaseDocTemplate):
    def __init__(self, filename, **kwargs):
        super().__init__(filename, **kwargs)
        frame = Frame(
            self.leftMargin, self.bottomMargin, self.width, self.height, id="body", leftPadding=0, rightPadding=0
        )
        self.addPageTemplates([PageTemplate(id="cover", frames=[frame]), PageTemplate(id="body", frames=[frame])])
        self._outline_count = 0

    def afterFlowable(self, flowable):
        level = getattr(flowable, "_outline_level", None)
        if level is None:
            return
        self._outline_count += 1
        key = f"h{self._outline_count}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=level > 0)


def _numbered_canvas(report: AssessmentReport, font: str):
    return numbered_canvas(
        header_text=f"{report.title} · {report.enterprise_name} · {report.round_label}",
        footer_text=report.footer_note,
        font=font,
    )


def numbered_canvas(*, header_text: str, footer_text: str, font: str):
    """A canvas class (A4, 18 mm side margins; shared by the firm and city reports) that draws the running
    header after the first page and a footer with ``footer_text`` and "page x of y" once the count is known."""
    page_pattern = _("第 %(page)d 页，共 %(pages)d 页")

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._page_states: list[dict] = []

        def showPage(self):
            self._page_states.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._page_states)
            for state in self._page_states:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            page = self._pageNumber
            width, _height = PAGE_SIZE
            self.saveState()
            self.setFillColor(MUTED)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            if page > 1:
                self.setFont(font, 8)
                self.drawString(MARGIN_LEFT, PAGE_SIZE[1] - 12 * mm, _fit(header_text, font, 8, TEXT_WIDTH))
                self.line(MARGIN_LEFT, PAGE_SIZE[1] - 13.5 * mm, width - MARGIN_RIGHT, PAGE_SIZE[1] - 13.5 * mm)
            self.line(MARGIN_LEFT, 14 * mm, width - MARGIN_RIGHT, 14 * mm)
            self.setFont(font, 7.5)
            number = page_pattern % {"page": page, "pages": total}
            number_width = stringWidth(number, font, 7.5)
            self.drawRightString(width - MARGIN_RIGHT, 10 * mm, number)
            self.drawString(MARGIN_LEFT, 10 * mm, _fit(footer_text, font, 7.5, TEXT_WIDTH - number_width - 8 * mm))
            self.restoreState()

    return NumberedCanvas


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (canvas strings are drawn as they are, never parsed)."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
