"""The city-level PDF report: the paper's five problem areas across the assessed firms, and what they call for.

Structure (following the policy paper): an overview (firms, levels, index), then for each of the five
problem areas (the dimensions, headed by Dimension.problem) how widespread it is among the assessed firms
(share of firms whose dimension score is below analytics.WEAK_DIMENSION_SCORE, by district and industry),
the items behind it and the countermeasures it calls for; then the four countermeasures (heading_zh) with
the problem areas that call for them. The overview ends with the unscored context questions the city report
uses (the barriers question): how many firms chose each option, counts only. All figures come from
surveys.analytics for the administrator's scope and filters, with small groups hidden. Every page says that
the figures are self-assessments.

``render_city_pdf`` takes the plain, localized data that ``surveys.analytics.city_report`` reads and only lays
it out. The page, palette, styles and tables are those of every report (surveys/reports/base.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Spacer, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from surveys.choices import PDF_LANGUAGE
from surveys.suppression import footnotes, min_group_size
from surveys.text import in_brackets, is_chinese, with_note

from ..suppression import hidden_count, hidden_value
from . import base, charts
from .base import heading, para, table
from .fonts import pdf_font_name
from .formatting import format_score, round_score

if TYPE_CHECKING:
    from surveys.analytics import CityReport, ContextSummary, CountermeasureRef, DimensionStats, ProblemArea

# The city report's title and headings are set a little differently from the firm's.
STYLE_OVERRIDES = {
    "title": {"fontSize": 21, "leading": 29},
    "subtitle": {"spaceAfter": 8},
    "h2": {"fontSize": 12.5, "leading": 18, "spaceBefore": 8, "spaceAfter": 3},
}
CHINESE_NUMBERS = "一二三四五六七八九十"
TOP_INDUSTRIES = 10
WEAK_ITEMS_NAMED = 3


# --- rendering --------------------------------------------------------------------------------------


def render_city_pdf(report: CityReport) -> tuple[str, str, bytes]:
    with override(report.language):
        styles = base.paragraph_styles(pdf_font_name(), **STYLE_OVERRIDES)
        data = base.build_pdf(
            _story(report, styles),
            header_text=f"{report.title} · {report.place}",
            footer_text=report.footer_note,
            title=report.title,
            author=base.CREATOR,
            subject=report.scope_label,
            lang=PDF_LANGUAGE[report.language],
        )
        stamp = timezone.localdate().strftime("%Y%m%d")
        filename = f"{_('济南市数实融合自评估汇总报告')}-{stamp}.pdf"
    return filename, base.MIMETYPE, data


# A hidden count reads "<N" ("—†" when hidden to protect another cell); a hidden share, mean or quartile
# reads "—*" or "—†" (surveys/suppression.py), and every table that can hold one is followed by _footnotes().


def _num(value, digits: int = 1, reason: str | None = None) -> str:
    return hidden_value(reason) if value is None else str(round_score(value, digits))


def _count(value, reason: str | None = None) -> str:
    return hidden_count(reason) if value is None else f"{value:,}"


def _footnotes(styles):
    return para(" ".join(footnotes()), styles["muted"])


def _median_and_range(quartiles) -> tuple[str, str]:
    return format_score(quartiles[1]), f"{format_score(quartiles[0])}–{format_score(quartiles[2])}"


def _pct(value, reason: str | None = None) -> str:
    return hidden_value(reason) if value is None else f"{format_score(value)}%"


def _chart(drawing):
    drawing.hAlign = "CENTER"
    return drawing


def _story(report: CityReport, styles) -> list:
    return base.chapters(
        _cover(report, styles),
        _overview(report, styles),
        _problem_areas(report, styles),
        _countermeasures(report, styles) + _method(report, styles),
    )


def _cover(report: CityReport, styles) -> list:
    data = report.data
    o = data.overview
    quartiles = o.index.quartiles
    info = [
        (_("范围"), report.scope_label),
        (_("问卷版本"), data.questionnaire_version or "–"),
        (_("报告生成日期"), report.generated_on),
    ]
    figures = [
        (_("注册企业"), _count(o.registered)),
        (_("已提交评估的企业"), _count(o.submitted)),
        (_("平均综合指数（0–100）"), _num(o.index.mean)),
        (
            _("中位数（四分位距）"),
            hidden_value() if not quartiles else with_note(*_median_and_range(quartiles)),
        ),
    ]
    info_table = table([(_("项目"), _("内容")), *info], (45, 129), styles)
    figure_table = table([(_("指标"), _("数值")), *figures], (75, 99), styles)
    return [
        Spacer(1, 14 * mm),
        para(report.title, styles["title"]),
        para(report.subtitle, styles["subtitle"]),
        HRFlowable(width="100%", thickness=1.2, color=base.ACCENT, spaceBefore=2, spaceAfter=8),
        info_table,
        Spacer(1, 6 * mm),
        figure_table,
        _footnotes(styles),
        Spacer(1, 8 * mm),
        base.box(
            [para(_("重要说明"), styles["h3"]), para(report.disclaimer, styles["small"])],
            fill=base.WARN_FILL,
            line=base.WARN_LINE,
        ),
    ]


def _overview(report: CityReport, styles) -> list:
    data = report.data
    story = heading(_("一、总体情况"), styles)
    levels = data.overview.levels
    chart = charts.scaled(
        charts.count_bars(
            [f"{c.code} {c.name}" for c in levels],
            [c.firms for c in levels],
            reasons=[c.hidden_reason for c in levels],
        ),
        0.8,
    )
    rows = [(_("等级"), _("名称"), _("企业数"), _("占比"))]
    rows += [
        (c.code, c.name, _count(c.firms, reason=c.hidden_reason), _pct(c.share, reason=c.hidden_reason)) for c in levels
    ]
    story.append(
        KeepTogether(
            [
                para(_("等级分布（各企业所选轮次的最终等级）"), styles["h3"]),
                _chart(chart),
                table(rows, (20, 64, 45, 45), styles),
                _footnotes(styles),
            ]
        )
    )
    story.append(Spacer(1, 3 * mm))

    stats = data.dimension_stats
    chart = charts.scaled(
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
        quartiles = hidden_value() if not s.quartiles else " / ".join(format_score(q) for q in s.quartiles)
        rows.append(
            (
                f"{s.info.code} {s.info.name}",
                _count(s.firms),
                _num(s.mean),
                quartiles,
                _pct(s.weak_share),
                _count(s.insufficient),
            )
        )
    note = para(
        _(
            "“低于40分”为本维度得分低于 40 分的企业占比，即该问题在企业中的普遍程度；“数据不足”的企业"
            "（多数题目选择“不清楚”）不计入得分统计。"
        ),
        styles["muted"],
    )
    story.append(
        KeepTogether(
            [
                para(_("五个问题领域的得分（0–100）"), styles["h3"]),
                _chart(chart),
                table(rows, (50, 20, 20, 38, 24, 22), styles),
                Spacer(1, 1 * mm),
                note,
                _footnotes(styles),
            ]
        )
    )
    for summary in data.context:
        story.append(Spacer(1, 3 * mm))
        story.append(KeepTogether(_context_block(summary, styles)))
    return story


def _context_block(summary: ContextSummary, styles) -> list:
    """An unscored context question (the barriers question): how many firms chose each option. Counts only;
    the firms' own "other" texts are never shown here."""
    block = [para(_("企业反映的情况：%(question)s") % {"question": summary.text}, styles["h3"])]
    if summary.answered is None:
        block.append(para(_("回答本题的企业不足 %(n)d 家，不显示统计。") % {"n": min_group_size()}, styles["muted"]))
        return block
    rows = [(_("选项"), _("企业数"), _("占回答本题企业的比例"))]
    rows += [
        (r.label, _count(r.firms, reason=r.hidden_reason), _pct(r.share, reason=r.hidden_reason)) for r in summary.rows
    ]
    block.append(table(rows, (104, 30, 40), styles))
    block.append(Spacer(1, 1 * mm))
    block.append(_footnotes(styles))
    if summary.multiple:
        note = _(
            "%(firms)s 家企业回答了本题（背景问题 %(code)s，不计分；可多选，比例之和可超过 100%%）。"
            "企业填写的“其他”说明不在本报告中列出。"
        )
    else:
        note = _("%(firms)s 家企业回答了本题（背景问题 %(code)s，不计分）。企业填写的“其他”说明不在本报告中列出。")
    block.append(para(note % {"firms": _count(summary.answered), "code": summary.code}, styles["muted"]))
    return block


def _group_table(title: str, rows, styles) -> list:
    """A compact table of one grouping (district or industry) for the side-by-side layout."""
    body = [(title, _("企业数"), _("平均分"), _("低于40分"))]
    body += [
        (
            r.label,
            _count(r.firms, reason=r.hidden_reason),
            _num(r.mean, reason=r.hidden_reason),
            _pct(r.weak_share, reason=r.hidden_reason),
        )
        for r in rows
    ]
    return table(body, (37, 14, 14, 19), styles)


def _countermeasure_line(cm: CountermeasureRef, language: str) -> str:
    if language.startswith("en"):
        return f"{cm.code} {cm.title} ({cm.heading})"
    return with_note(cm.heading, cm.code)


def _area_heading(n: int, problem: str) -> str:
    """The heading of problem area n: "（一）…" in Chinese, "(1) …" in English."""
    if is_chinese() and n < len(CHINESE_NUMBERS):
        return f"{in_brackets(CHINESE_NUMBERS[n])}{problem}"
    return f"{in_brackets(n + 1)} {problem}"


def _problem_areas(report: CityReport, styles) -> list:
    story = heading(_("二、五个问题领域的普遍程度"), styles)
    for n, area in enumerate(report.data.problem_areas):
        if n:
            story.append(PageBreak())
        story += heading(_area_heading(n, area.stats.info.problem), styles, 2)
        story += _area_summary(area.stats, styles)
        story += _area_groups(area, styles)
        story += _area_items_and_countermeasures(area, report, styles)
    return story


def _area_summary(s: DimensionStats, styles) -> list:
    story = [para(_("对应维度：%(dimension)s") % {"dimension": f"{s.info.code} {s.info.name}"}, styles["muted"])]
    if s.firms is None:
        text = _("有有效得分的企业不足 %(n)d 家，不显示本领域的统计。") % {"n": min_group_size()}
    else:
        text = _(
            "在 %(firms)s 家有有效得分的企业中，%(share)s 的企业本维度得分低于 40 分；"
            "平均分 %(mean)s，中位数 %(median)s。"
        ) % {
            "firms": _count(s.firms),
            "share": _pct(s.weak_share),
            "mean": _num(s.mean),
            "median": hidden_value() if not s.quartiles else format_score(s.quartiles[1]),
        }
    story.append(para(text, styles["body"]))
    return story


def _area_groups(area: ProblemArea, styles) -> list:
    """The area's weak share by district (chart) and the district and industry tables side by side."""
    story: list = []
    shown = [r for r in area.by_district if r.firms is not None]
    if shown:
        chart = charts.share_bars(
            [r.label for r in shown],
            [r.weak_share for r in shown],
            series_name=_("得分低于40分的企业占比（%），按区县"),
        )
        story.append(_chart(charts.scaled(chart, 0.75)))
    tables = []
    if area.by_district:
        tables.append(_group_table(_("区县"), area.by_district, styles))
    if area.by_industry:
        tables.append(_group_table(_("行业"), area.by_industry[:TOP_INDUSTRIES], styles))
    if not tables:
        return story
    side_by_side = Table([tables], colWidths=[base.TEXT_WIDTH / 2] * len(tables), hAlign="LEFT")
    side_by_side.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles["cell"].fontName),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    story += [Spacer(1, 2 * mm), side_by_side]
    notes = []
    if area.by_industry:
        notes.append(_("行业按企业数列出前 %(n)d 个。") % {"n": TOP_INDUSTRIES})
    if area.hidden_industries:
        notes.append(
            _("另有 %(count)d 个行业的企业不足 %(n)d 家，未列出。")
            % {"count": area.hidden_industries, "n": min_group_size()}
        )
    if any(r.firms is None for r in area.by_district + area.by_industry):
        notes += footnotes()
    if notes:
        story.append(para(" ".join(notes), styles["muted"]))
    return story


def _area_items_and_countermeasures(area: ProblemArea, report: CityReport, styles) -> list:
    story: list = []
    if area.weak_items:
        rows = [(_("题号"), _("最常见的薄弱题目（选择0–1分或“不清楚”）"), _("企业占比"))]
        rows += [(i.code, i.text, _pct(i.share)) for i in area.weak_items[:WEAK_ITEMS_NAMED]]
        story += [Spacer(1, 2 * mm), table(rows, (16, 134, 24), styles)]
    block = [para(_("本领域对应的对策"), styles["h3"])]
    if area.countermeasures:
        block += [
            para(f"• {_countermeasure_line(cm, report.language)}", styles["bullet"]) for cm in area.countermeasures
        ]
    else:
        block.append(para(_("问卷中没有指向本领域的建议规则。"), styles["muted"]))
    story.append(KeepTogether(block))
    return story


def _countermeasures(report: CityReport, styles) -> list:
    data = report.data
    story = heading(_("三、四项对策与所针对的问题"), styles)
    story.append(
        para(
            _("每项对策列出问卷中指向它的问题领域，以及这些领域中得分低于 40 分的企业占比（即需要该对策的企业面）。"),
            styles["muted"],
        )
    )
    weak_share = {s.info.code: s.weak_share for s in data.dimension_stats}
    for summary in data.countermeasures:
        block = heading(_countermeasure_line(summary.ref, report.language), styles, 2)
        block.append(para(summary.description, styles["body"]))
        if summary.dimensions:
            rows = [(_("针对的问题领域"), _("低于40分的企业占比"))]
            rows += [(with_note(d.problem, d.code), _pct(weak_share.get(d.code))) for d in summary.dimensions]
            block.append(Spacer(1, 1.5 * mm))
            block.append(table(rows, (124, 50), styles))
        story.append(KeepTogether(block))
    return story


def _method(report: CityReport, styles) -> list:
    return [
        Spacer(1, 6 * mm),
        *heading(_("附：统计口径"), styles, 2),
        para(
            _(
                "每家企业计入一轮已提交的自评估：未选择轮次时为该企业最近一次提交的一轮，选择轮次时为该名称的一轮。"
                "维度得分为 0–100；“低于40分”与问卷中“维度得分低于40分”的建议规则一致。四分位数按线性插值计算。"
                "薄弱题目为选择最低两档（0–1分）或“不清楚”的题目。"
            ),
            styles["small"],
        ),
        Spacer(1, 3 * mm),
        base.box([para(report.disclaimer, styles["small"])], fill=base.WARN_FILL, line=base.WARN_LINE),
    ]
