"""The city-level PDF report: the paper's five problem areas across the assessed firms, and what they call for.

Structure (following the policy paper): an overview (firms, levels, index), then for each of the five
problem areas (the dimensions, headed by Dimension.problem) how widespread it is among the assessed firms
(share of firms whose dimension score is below analytics.WEAK_DIMENSION_SCORE, by district and industry),
the items behind it and the countermeasures it calls for; then the four countermeasures (heading_zh) with
the problem areas that call for them. All figures come from surveys.analytics for the administrator's
scope and filters, with small groups hidden. Every page says that the figures are self-assessments.

``city_report_pdf`` is the entry point; ``build_city_report`` (database, inside the target language) and
``render_city_pdf`` (no database) are separate so that the renderer can be tested on plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from surveys import analytics, charts, charts_admin
from surveys.fonts import pdf_font_name
from surveys.scopes import AdminScope

from .context import PDF_LANGUAGE, normalize_language
from .pdf import esc, numbered_canvas

MIMETYPE = "application/pdf"
PAGE_SIZE = A4
MARGIN = 18 * mm
TEXT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#5A5A5A")
ACCENT = colors.HexColor("#0B5CAD")
DARK_ACCENT = colors.HexColor("#0B3D78")
HEAD_FILL = colors.HexColor("#E6EEF7")
RULE = colors.HexColor("#B9C4D0")
WARN_FILL = colors.HexColor("#FFF4E0")
WARN_LINE = colors.HexColor("#D08C1E")
CHINESE_NUMBERS = "一二三四五六七八九十"
TOP_INDUSTRIES = 10
WEAK_ITEMS_NAMED = 3


@dataclass(frozen=True)
class CityReport:
    language: str
    title: str
    subtitle: str
    scope_label: str
    filters: list[tuple[str, str]]
    generated_on: str
    disclaimer: str
    footer_note: str
    hidden_text: str
    data: analytics.CityReportData


def build_city_report(*, scope: AdminScope, filters: analytics.Filters, language: str) -> CityReport:
    language = normalize_language(language)
    with override(language):
        data = analytics.city_report_data(scope, filters)
        return CityReport(
            language=language,
            title=_("济南市制造业企业数实融合自评估汇总报告"),
            subtitle=_("按论文提出的五个问题领域和四项对策汇总"),
            scope_label=data.scope_label,
            filters=filters.describe(),
            generated_on=formats.date_format(timezone.localdate(), "Y-m-d"),
            disclaimer=_(
                "本报告汇总的是企业在线填写的自评估结果，不是工信部、智能制造能力成熟度（CMMM）或山东省的官方评定，"
                "也未经核实。少于 %(n)d 家企业的分组和单元格不显示数据（记为“<%(n)d”），以免推断出个别企业的结果。"
            )
            % {"n": settings.JINAN_MIN_GROUP_SIZE},
            footer_note=_("根据企业自评估汇总，不是官方评定"),
            hidden_text=f"<{settings.JINAN_MIN_GROUP_SIZE}",
            data=data,
        )


def city_report_pdf(*, scope: AdminScope, filters: analytics.Filters, language: str) -> tuple[str, str, bytes]:
    """``(filename, mimetype, bytes)`` of the city report for the scope and filters."""
    return render_city_pdf(build_city_report(scope=scope, filters=filters, language=language))


# --- rendering --------------------------------------------------------------------------------------


def render_city_pdf(report: CityReport) -> tuple[str, str, bytes]:
    with override(report.language):
        font = pdf_font_name()
        styles = _styles(font)
        buffer = BytesIO()
        doc = BaseDocTemplate(
            buffer,
            pagesize=PAGE_SIZE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=20 * mm,
            bottomMargin=20 * mm,
            title=report.title,
            author="jinan_assess",
            subject=report.scope_label,
            creator="jinan_assess",
            lang=PDF_LANGUAGE[report.language],
            initialFontName=font,
        )
        frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, leftPadding=0, rightPadding=0)
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        doc.build(_story(report, styles), canvasmaker=_numbered_canvas(report, font))
        stamp = timezone.localdate().strftime("%Y%m%d")
        filename = f"{_('济南市数实融合自评估汇总报告')}-{stamp}.pdf"
    return filename, MIMETYPE, buffer.getvalue()


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14.5, textColor=INK, wordWrap="CJK")

    def style(name: str, **kw) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "title": style("title", fontSize=21, leading=29, textColor=DARK_ACCENT, spaceAfter=4),
        "subtitle": style("subtitle", fontSize=11, leading=16, textColor=MUTED, spaceAfter=8),
        "h1": style("h1", fontSize=15, leading=21, textColor=DARK_ACCENT, spaceBefore=4, spaceAfter=2, keepWithNext=1),
        "h2": style("h2", fontSize=12.5, leading=18, textColor=ACCENT, spaceBefore=8, spaceAfter=3, keepWithNext=1),
        "h3": style("h3", fontSize=10.5, leading=15, spaceBefore=6, spaceAfter=2, keepWithNext=1),
        "muted": style("muted", fontSize=8.5, leading=12.5, textColor=MUTED),
        "small": style("small", fontSize=8.5, leading=12.5),
        "cell": style("cell", fontSize=8.5, leading=12),
        "cell_head": style("cell_head", fontSize=8.5, leading=12, textColor=DARK_ACCENT),
        "bullet": style("bullet", leftIndent=5 * mm, bulletIndent=1 * mm, spaceAfter=1),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(esc(text), style)


def _table(rows, widths_mm, styles) -> Table:
    cells = [
        [cell if not isinstance(cell, str) else _p(cell, styles["cell_head" if r == 0 else "cell"]) for cell in row]
        for r, row in enumerate(rows)
    ]
    table = Table(cells, colWidths=[w * mm for w in widths_mm], repeatRows=1, hAlign="LEFT", splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _box(flowables, *, fill=WARN_FILL, line=WARN_LINE) -> Table:
    table = Table([[flowables]], colWidths=[TEXT_WIDTH], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
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
    if level == 1:
        return [paragraph, HRFlowable(width="100%", thickness=0.8, color=ACCENT, spaceBefore=1, spaceAfter=6)]
    return [paragraph]


def _num(value, hidden: str, digits: int = 1) -> str:
    return hidden if value is None else f"{float(value):.{digits}f}"


def _count(value, hidden: str) -> str:
    return hidden if value is None else f"{value:,}"


def _pct(value, hidden: str) -> str:
    return hidden if value is None else f"{float(value):.1f}%"


def _chart(drawing):
    drawing.hAlign = "CENTER"
    return drawing


def _story(report: CityReport, styles) -> list:
    story = _cover(report, styles)
    story.append(PageBreak())
    story += _overview(report, styles)
    story.append(PageBreak())
    story += _problem_areas(report, styles)
    story.append(PageBreak())
    story += _countermeasures(report, styles)
    story += _method(report, styles)
    return story


def _cover(report: CityReport, styles) -> list:
    data, hidden = report.data, report.hidden_text
    o = data.overview
    quartiles = o.index.quartiles
    info = [
        (_("范围"), report.scope_label),
        *report.filters,
        (_("问卷版本"), data.questionnaire_version or "–"),
        (_("报告生成日期"), report.generated_on),
    ]
    figures = [
        (_("注册企业"), _count(o.registered, hidden)),
        (_("已提交评估的企业"), _count(o.submitted, hidden)),
        (_("平均综合指数（0–100）"), _num(o.index.mean, hidden)),
        (
            _("中位数（四分位距）"),
            hidden if not quartiles else f"{quartiles[1]:.1f}（{quartiles[0]:.1f}–{quartiles[2]:.1f}）",
        ),
    ]
    info_table = _table([(_("项目"), _("内容")), *info], (45, 129), styles)
    figure_table = _table([(_("指标"), _("数值")), *figures], (75, 99), styles)
    return [
        Spacer(1, 14 * mm),
        _p(report.title, styles["title"]),
        _p(report.subtitle, styles["subtitle"]),
        HRFlowable(width="100%", thickness=1.2, color=ACCENT, spaceBefore=2, spaceAfter=8),
        info_table,
        Spacer(1, 6 * mm),
        figure_table,
        Spacer(1, 8 * mm),
        _box([_p(_("重要说明"), styles["h3"]), _p(report.disclaimer, styles["small"])]),
    ]


def _overview(report: CityReport, styles) -> list:
    data, hidden = report.data, report.hidden_text
    story = _heading(_("一、总体情况"), styles)
    levels = data.overview.levels
    chart = charts_admin.scaled(
        charts_admin.count_bars([f"{c.code} {c.name}" for c in levels], [c.firms for c in levels]), 0.8
    )
    rows = [(_("等级"), _("名称"), _("企业数"), _("占比"))]
    rows += [(c.code, c.name, _count(c.firms, hidden), _pct(c.share, hidden)) for c in levels]
    story.append(
        KeepTogether(
            [
                _p(_("等级分布（各企业所选轮次的最终等级）"), styles["h3"]),
                _chart(chart),
                _table(rows, (20, 64, 45, 45), styles),
            ]
        )
    )
    story.append(Spacer(1, 3 * mm))

    stats = data.dimension_stats
    chart = charts_admin.scaled(
        charts.dimension_bars(
            [s.info.name for s in stats],
            [
                (_("平均分"), [s.mean for s in stats]),
                (_("中位数"), [s.quartiles[1] if s.quartiles else None for s in stats]),
            ],
        ),
        0.8,
    )
    rows = [(_("维度"), _("企业数"), _("平均分"), _("四分位数"), _("低于40分"), _("数据不足"))]
    for s in stats:
        quartiles = hidden if not s.quartiles else " / ".join(f"{q:.1f}" for q in s.quartiles)
        rows.append(
            (
                f"{s.info.code} {s.info.name}",
                _count(s.firms, hidden),
                _num(s.mean, hidden),
                quartiles,
                _pct(s.weak_share, hidden),
                _count(s.insufficient, hidden),
            )
        )
    note = _p(
        _(
            "“低于40分”为本维度得分低于 40 分的企业占比，即该问题在企业中的普遍程度；“数据不足”的企业"
            "（多数题目选择“不清楚”）不计入得分统计。"
        ),
        styles["muted"],
    )
    story.append(
        KeepTogether(
            [
                _p(_("五个问题领域的得分（0–100）"), styles["h3"]),
                _chart(chart),
                _table(rows, (50, 20, 20, 38, 24, 22), styles),
                Spacer(1, 1 * mm),
                note,
            ]
        )
    )
    return story


def _group_table(title: str, rows, hidden: str, styles) -> list:
    """A compact table of one grouping (district or industry) for the side-by-side layout."""
    body = [(title, _("企业数"), _("平均分"), _("低于40分"))]
    body += [(r.label, _count(r.firms, hidden), _num(r.mean, hidden), _pct(r.weak_share, hidden)) for r in rows]
    return _table(body, (37, 14, 14, 19), styles)


def _countermeasure_line(cm: analytics.CountermeasureRef, language: str) -> str:
    if language.startswith("en"):
        return f"{cm.code} {cm.title} ({cm.heading})"
    return f"{cm.heading}（{cm.code}）"


def _problem_areas(report: CityReport, styles) -> list:
    data, hidden = report.data, report.hidden_text
    story = _heading(_("二、五个问题领域的普遍程度"), styles)
    for n, area in enumerate(data.problem_areas):
        s = area.stats
        number = CHINESE_NUMBERS[n] if n < len(CHINESE_NUMBERS) else str(n + 1)
        if n:
            story.append(PageBreak())
        story += _heading(f"（{number}）{s.info.problem}", styles, 2)
        story.append(_p(_("对应维度：%(dimension)s") % {"dimension": f"{s.info.code} {s.info.name}"}, styles["muted"]))
        if s.firms is None:
            story.append(_p(_("有有效得分的企业不足 %(n)d 家，不显示本领域的统计。") % {"n": _min()}, styles["body"]))
        else:
            story.append(
                _p(
                    _(
                        "在 %(firms)s 家有有效得分的企业中，%(share)s 的企业本维度得分低于 40 分；"
                        "平均分 %(mean)s，中位数 %(median)s。"
                    )
                    % {
                        "firms": _count(s.firms, hidden),
                        "share": _pct(s.weak_share, hidden),
                        "mean": _num(s.mean, hidden),
                        "median": hidden if not s.quartiles else f"{s.quartiles[1]:.1f}",
                    },
                    styles["body"],
                )
            )
        shown = [r for r in area.by_district if r.firms is not None]
        if shown:
            chart = charts_admin.scaled(
                charts_admin.share_bars(
                    [r.label for r in shown],
                    [r.weak_share for r in shown],
                    series_name=_("得分低于40分的企业占比（%），按区县"),
                ),
                0.75,
            )
            story.append(_chart(chart))
        tables = []
        if area.by_district:
            tables.append(_group_table(_("区县"), area.by_district, hidden, styles))
        if area.by_industry:
            tables.append(_group_table(_("行业"), area.by_industry[:TOP_INDUSTRIES], hidden, styles))
        if tables:
            side_by_side = Table([tables], colWidths=[TEXT_WIDTH / 2] * len(tables), hAlign="LEFT")
            side_by_side.setStyle(
                TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                    ]
                )
            )
            story.append(Spacer(1, 2 * mm))
            story.append(side_by_side)
            notes = []
            if area.by_industry:
                notes.append(_("行业按企业数列出前 %(n)d 个。") % {"n": TOP_INDUSTRIES})
            if area.hidden_industries:
                notes.append(
                    _("另有 %(count)d 个行业的企业不足 %(n)d 家，未列出。")
                    % {"count": area.hidden_industries, "n": _min()}
                )
            if notes:
                story.append(_p(" ".join(notes), styles["muted"]))
        if area.weak_items:
            rows = [(_("题号"), _("最常见的薄弱题目（选择0–1分或“不清楚”）"), _("企业占比"))]
            rows += [(i.code, i.text, _pct(i.share, hidden)) for i in area.weak_items[:WEAK_ITEMS_NAMED]]
            story.append(Spacer(1, 2 * mm))
            story.append(_table(rows, (16, 134, 24), styles))
        block = [_p(_("本领域对应的对策"), styles["h3"])]
        if area.countermeasures:
            block += [
                _p(f"• {_countermeasure_line(cm, report.language)}", styles["bullet"]) for cm in area.countermeasures
            ]
        else:
            block.append(_p(_("问卷中没有指向本领域的建议规则。"), styles["muted"]))
        story.append(KeepTogether(block))
    return story


def _countermeasures(report: CityReport, styles) -> list:
    data, hidden = report.data, report.hidden_text
    story = _heading(_("三、四项对策与所针对的问题"), styles)
    story.append(
        _p(
            _("每项对策列出问卷中指向它的问题领域，以及这些领域中得分低于 40 分的企业占比（即需要该对策的企业面）。"),
            styles["muted"],
        )
    )
    weak_share = {s.info.code: s.weak_share for s in data.dimension_stats}
    for summary in data.countermeasures:
        block = _heading(_countermeasure_line(summary.ref, report.language), styles, 2)
        block.append(_p(summary.description, styles["body"]))
        if summary.dimensions:
            rows = [(_("针对的问题领域"), _("低于40分的企业占比"))]
            rows += [(f"{d.problem}（{d.code}）", _pct(weak_share.get(d.code), hidden)) for d in summary.dimensions]
            block.append(Spacer(1, 1.5 * mm))
            block.append(_table(rows, (124, 50), styles))
        story.append(KeepTogether(block))
    return story


def _method(report: CityReport, styles) -> list:
    return [
        Spacer(1, 6 * mm),
        *_heading(_("附：统计口径"), styles, 2),
        _p(
            _(
                "每家企业计入一轮已提交的自评估：未选择轮次时为该企业最近一次提交的一轮，选择轮次时为该名称的一轮。"
                "维度得分为 0–100；“低于40分”与问卷中“维度得分低于40分”的建议规则一致。四分位数按线性插值计算。"
                "薄弱题目为选择最低两档（0–1分）或“不清楚”的题目。"
            ),
            styles["small"],
        ),
        Spacer(1, 3 * mm),
        _box([_p(report.disclaimer, styles["small"])]),
    ]


def _min() -> int:
    return analytics.min_group_size()


def _numbered_canvas(report: CityReport, font: str):
    return numbered_canvas(
        header_text=f"{report.title} · {report.scope_label}", footer_text=report.footer_note, font=font
    )
