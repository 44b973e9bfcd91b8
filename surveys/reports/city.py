"""The city-level PDF report, for a briefing: what the assessed firms say about the paper's problems, where,
and what the city can do.

The story (Chinese first, English too; any scope and filter):

- Page 1, one page: the scope line, four headline figures, the key findings written from the data, each
  with its number (:func:`key_findings`: coverage against the business register, the firms at L3 or above,
  the weakest dimension and the paper's problem behind it, the five most frequent weaknesses, the barriers
  firms name most, the change since each firm's previous round), the five problems at a glance, and the
  statement that these are self-assessments.
- 一、总体情况: coverage by district and key sector, the level distribution, the five problem areas' scores
  (a prevalence chart and the table), the barriers question, the change since the previous round.
- 二、五个问题的普遍程度: the paper's five problems side by side by district, key sector, size, leading chain
  and industry (the share of firms weak in each: a firm's dimension score below analytics.WEAK_DIMENSION_SCORE),
  then each problem with where it is most widespread, its most frequent weak items and its countermeasures.
- 三、城市层面的问题: the problems the paper places with government or the city, each with the firm data that
  bears on it and the city-level levers the countermeasures imply.
- 四、四项对策与所针对的问题, and the method.

A figure hidden by surveys/suppression.py reads "<N" (a count), "—*" or "—†" (a share or mean) in tables,
each table followed by the footnotes of its marks; in a sentence it reads "withheld" with the reason, never
the number. Tables and charts read the same in black and white: one grey per chart with the value on every
bar, prevalence cells shaded by grey level with the value printed.

``render_city_pdf`` takes the plain, localized data of ``surveys.analytics.city_report`` and only lays it out,
in the lean flowables of surveys/reports/base.py (``Text``, ``Grid``, ``Section``, ``Panel``). Chapters after
page 1 flow on without forced page breaks, and every heading starts with what follows it, so that no page but
the last is nearly empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepInFrame, PageBreak, Spacer
from reportlab.platypus.flowables import HRFlowable, _listWrapOn

from surveys.choices import PDF_LANGUAGE
from surveys.suppression import PROTECTED, footnotes, hidden_count, hidden_value, min_group_size, shown_count
from surveys.text import in_brackets, is_chinese, join_list, sentence_gap, with_colon, with_note

from . import base, charts, city_charts
from .base import FRAME_HEIGHT, HEAD_FILL, TEXT_WIDTH, WARN_FILL, WARN_LINE, Grid, Panel, Section, Text, TextStyle
from .fonts import pdf_font_name
from .formatting import format_change, format_count, format_score

if TYPE_CHECKING:
    from surveys.analytics import (
        CityProblem,
        CityReport,
        ContextSummary,
        CountermeasureRef,
        DimensionStats,
        Prevalence,
        ProblemArea,
    )

CHINESE_NUMBERS = "一二三四五六七八九十"
WEAK_ITEMS_NAMED = 3
# Prevalence cells are shaded by how widespread the problem is (the value is printed in every cell): grey
# levels that a black-and-white printer keeps apart, light enough for black text.
SHADES = ((60.0, colors.HexColor("#A8A8A8")), (40.0, colors.HexColor("#C8C8C8")), (20.0, colors.HexColor("#E6E6E6")))
COMPACT_PADDING = (2.0, 2.5)


# --- rendering --------------------------------------------------------------------------------------


def render_city_pdf(report: CityReport) -> tuple[str, str, bytes]:
    with override(report.language):
        styles = _styles(pdf_font_name())
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


def _styles(font: str) -> dict[str, TextStyle]:
    """The firm report's text styles (base.text_styles, shared: copied, never changed) and the city report's."""
    styles = dict(base.text_styles(font))
    styles["title"] = TextStyle(font, 20, 27, base.DARK_ACCENT)
    styles["subtitle"] = TextStyle(font, 10.5, 15, base.MUTED, space_after=2)
    styles["figure"] = TextStyle(font, 17, 21, base.ACCENT, align="center")
    styles["figure_label"] = TextStyle(font, 8, 10.5, base.MUTED, align="center")
    styles["finding"] = TextStyle(font, 9.5, 13.5, base.INK)
    styles["finding_topic"] = TextStyle(font, 9.5, 13.5, base.DARK_ACCENT)
    styles["finding_item"] = TextStyle(font, 8.5, 12, base.INK, indent=3 * mm)
    styles["number"] = TextStyle(font, 9.5, 13.5, base.DARK_ACCENT, align="right")
    return styles


# --- figures as text ---------------------------------------------------------------------------------
# A hidden count reads "<N" ("—†" when hidden to protect another cell); a hidden share, mean or quartile
# reads "—*" or "—†" (surveys/suppression.py), and every table that can hold one is followed by its
# footnotes. In a sentence a hidden figure is "withheld", with why.


def _num(value, reason: str | None = None) -> str:
    return hidden_value(reason) if value is None else format_score(value)


def _count(value, reason: str | None = None) -> str:
    return hidden_count(reason) if value is None else format_count(value)


def _pct(value, reason: str | None = None) -> str:
    return hidden_value(reason) if value is None else f"{format_score(value)}%"


def _withheld(reason: str | None = None) -> str:
    """A hidden figure in a sentence: never the number, and why."""
    if reason == PROTECTED:
        return _("不予显示（防止由合计推算出其他组）")
    return _("不予显示（涉及企业不足%(n)d家）") % {"n": min_group_size()}


def _said_pct(value, reason: str | None = None) -> str:
    return _withheld(reason) if value is None else f"{format_score(value)}%"


def _said_count(value, reason: str | None = None) -> str:
    return _withheld(reason) if value is None else format_count(value)


def _quoted(text: object) -> str:
    return f"“{text}”" if is_chinese() else f'"{text}"'


# --- page 1: key findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One key finding of page 1: its topic, the sentence with its number, and the list it introduces."""

    topic: str
    text: str
    items: list[str] = field(default_factory=list)


def key_findings(report: CityReport) -> list[Finding]:
    """Page 1's findings, written from the report's data in the active language (call inside the report's
    language). Every number comes from the data as it is shown elsewhere in the report; a hidden one is
    said to be withheld."""
    data = report.data
    findings = [_coverage_finding(report), _level_finding(report), _weakest_finding(report)]
    findings.append(_weaknesses_finding(report))
    findings.append(_barriers_finding(data.context[0] if data.context else None))
    if data.change is not None:
        findings.append(_change_finding(report))
    return [f for f in findings if f is not None]


def _coverage_finding(report: CityReport) -> Finding:
    data = report.data
    coverage = data.coverage
    topic = _("覆盖面")
    if coverage is None or not coverage.has_register:
        return Finding(
            topic,
            _("尚未导入工商登记名录，无法计算覆盖率；目前有 %(assessed)s 家企业提交了自评估。")
            % {"assessed": _said_count(data.overview.submitted)},
        )
    total = coverage.total
    if total.assessed is None:
        text = _("工商登记名录中有 %(registered)s 家企业；其中已提交自评估的企业数%(withheld)s，覆盖率不予显示。") % {
            "registered": _count(total.registered),
            "withheld": _withheld(total.hidden_reason),
        }
        return Finding(topic, text)
    text = _(
        "工商登记名录中的 %(registered)s 家企业里，%(assessed)s 家已提交自评估，覆盖率 %(share)s；"
        "尚有 %(missing)s 家未参加。"
    ) % {
        "registered": _count(total.registered),
        "assessed": _count(total.assessed),
        "share": _said_pct(total.share),
        "missing": _count((total.registered or 0) - total.assessed),
    }
    shown = [row for row in coverage.by_district if row.share is not None]
    if len(shown) > 1:
        lowest = min(shown, key=lambda row: (row.share or 0, row.key))
        text += sentence_gap() + _("覆盖率最低的区县是%(district)s（%(share)s）。") % {
            "district": lowest.label,
            "share": _pct(lowest.share),
        }
    return Finding(topic, text)


def _level_finding(report: CityReport) -> Finding | None:
    share = report.data.at_or_above
    if share is None:
        return None
    topic = _("等级")
    level = f"{share.level} {share.level_name}"
    if share.total == 0:
        return Finding(topic, _("所选范围内没有已提交的评估。"))
    if share.firms is None:
        text = _("达到 %(level)s及以上的企业数%(withheld)s。") % {
            "level": level,
            "withheld": _withheld(share.hidden_reason),
        }
        return Finding(topic, text)
    text = _("%(total)s 家已评估企业中，%(firms)s 家（%(share)s）达到 %(level)s及以上。") % {
        "total": _count(share.total),
        "firms": _count(share.firms),
        "share": _said_pct(share.share),
        "level": level,
    }
    return Finding(topic, text)


def weakest_dimension(stats: list[DimensionStats]) -> DimensionStats | None:
    """The dimension with the lowest mean among those shown (the first in order on a tie)."""
    shown = [s for s in stats if s.mean is not None]
    return min(shown, key=lambda s: s.mean or 0.0) if shown else None


def _weakest_finding(report: CityReport) -> Finding:
    topic = _("最薄弱的维度")
    weakest = weakest_dimension(report.data.dimension_stats)
    if weakest is None:
        return Finding(topic, _("各维度有有效得分的企业均不足 %(n)d 家，不作比较。") % {"n": min_group_size()})
    text = _(
        "平均分最低的是 %(dimension)s（平均 %(mean)s 分，低于 40 分的企业占 %(share)s），对应论文指出的问题："
        "%(problem)s。"
    ) % {
        "dimension": f"{weakest.info.code} {weakest.info.name}",
        "mean": format_score(weakest.mean),
        "share": _said_pct(weakest.weak_share),
        "problem": _quoted(weakest.info.problem),
    }
    return Finding(topic, text)


def _weaknesses_finding(report: CityReport) -> Finding:
    topic = _("最常见的薄弱题目")
    items = report.data.top_weak_items
    if not items:
        return Finding(topic, _("已评估企业不足 %(n)d 家，不列出薄弱题目。") % {"n": min_group_size()})
    text = _("选择最低两档（A、B）或“不清楚”的企业最多的 %(count)d 道题（括号内为选择这些答案的企业占比）：") % {
        "count": len(items)
    }
    return Finding(topic, text, [with_note(f"{i.code} {i.text}", _said_pct(i.share)) for i in items])


def _barriers_finding(summary: ContextSummary | None) -> Finding:
    topic = _("企业反映的困难")
    if summary is None:
        return Finding(topic, _("所选轮次的问卷中没有困难调查题，或没有企业回答。"))
    if summary.answered is None:
        return Finding(topic, _("回答困难调查题的企业不足 %(n)d 家，不予显示。") % {"n": min_group_size()})
    top = [row for row in summary.rows if row.firms is not None][:3]
    if not top:
        return Finding(
            topic, _("困难调查题各选项的企业数均不予显示（涉及企业不足%(n)d家）。") % {"n": min_group_size()}
        )
    named = join_list(with_note(_quoted(row.label), _pct(row.share)) for row in top)
    text = _("在回答困难调查题（%(code)s）的 %(answered)s 家企业中，选得最多的困难是：%(named)s。") % {
        "code": summary.code,
        "answered": _count(summary.answered),
        "named": named,
    }
    return Finding(topic, text)


def _change_finding(report: CityReport) -> Finding:
    change = report.data.change
    assert change is not None
    topic = _("与上一轮相比")
    if change.firms == 0:
        return Finding(topic, _("所选企业都没有更早提交的评估轮次，暂无变化可比。"))
    if change.firms is None:
        return Finding(topic, _("有更早评估轮次的企业不足 %(n)d 家，不作比较。") % {"n": min_group_size()})
    label = _("上一轮为%(label)s") if change.previous_labels == 1 else _("上一轮多为%(label)s")
    level = report.data.at_or_above.level if report.data.at_or_above else ""
    text = _(
        "在 %(firms)s 家此前提交过评估的企业中（各与本企业的上一轮比较，%(label)s），平均综合指数由 %(before)s 变为"
        " %(after)s（%(change)s）；达到 %(level)s及以上的占比：上一轮%(share_before)s，本轮%(share_after)s。"
    ) % {
        "firms": _count(change.firms),
        "label": label % {"label": _quoted(change.previous_label)},
        "before": format_score(change.previous_mean),
        "after": format_score(change.current_mean),
        "change": format_change(
            None
            if change.current_mean is None or change.previous_mean is None
            else change.current_mean - change.previous_mean
        ),
        "level": level,
        "share_before": _said_pct(change.previous_share, change.previous_reason),
        "share_after": _said_pct(change.current_share, change.current_reason),
    }
    return Finding(topic, text)


# --- small layout helpers -----------------------------------------------------------------------------


def _cell(text: object, style: TextStyle) -> list:
    return [([(str(text), None)], style)]


def _grid(rows, widths_mm, styles, *, header: bool = True, compact: bool = False, fills=None, **kw) -> Grid:
    """A Grid whose string cells become paragraphs in the cell (or compact) style, the first row the header."""
    body = styles["compact" if compact else "cell"]
    head = styles["compact_head" if compact else "cell_head"]
    cells = [
        [_cell(cell, head if header and r == 0 else body) if isinstance(cell, str) else cell for cell in row]
        for r, row in enumerate(rows)
    ]
    all_fills = {0: HEAD_FILL} if header else {}
    all_fills.update(fills or {})
    if compact:
        kw.setdefault("padding", COMPACT_PADDING)
    return Grid(cells, [w * mm for w in widths_mm], header=1 if header else 0, fills=all_fills, **kw)


def _para(text: object, styles, name: str = "body") -> Text:
    return Text(str(text), styles[name])


def _gap(height: float = 1.2 * mm) -> Spacer:
    return Spacer(1, height)


def _footnotes(styles) -> Text:
    return _para(" ".join(footnotes()), styles, "small_muted")


def _chart(drawing, factor: float = 1.0):
    drawing = charts.scaled(drawing, factor) if factor != 1.0 else drawing
    drawing.hAlign = "CENTER"
    return drawing


def _heading(text: str, styles, level: int = 1) -> list:
    return base.text_heading(text, styles, level)


def _chapter(text: str, styles, lead: list, blocks: list[list]) -> list:
    """A chapter: its heading (never in the last quarter of a page) kept with its lead-in and the start of its
    first block; each block a Section that starts with its own heading."""
    head = [CondPageBreak(FRAME_HEIGHT / 4), *_heading(text, styles)]
    if not blocks:
        return head + lead
    first = head[1:] + lead + blocks[0]
    return [head[0], _section(first)] + [_section(block) for block in blocks[1:]]


def _section(block: list) -> Section:
    """The flowables as a Section that keeps together everything before its first table (a heading, a lead-in,
    a chart): that much moves to the next page rather than end this one; the table may split."""
    keep = next((n for n, flowable in enumerate(block) if isinstance(flowable, Grid)), len(block))
    return Section(block, keep=max(keep, 1))


# --- the story ------------------------------------------------------------------------------------------


def _story(report: CityReport, styles) -> list:
    story = [_page_one(report, styles), PageBreak()]
    story += _overview(report, styles)
    story += _problem_areas(report, styles)
    story += _city_problems(report, styles)
    story += _countermeasures(report, styles)
    story += _method(report, styles)
    return story


def _page_one(report: CityReport, styles) -> KeepInFrame:
    """Page 1 with the five problems at a glance when it fits (measured), else without them; should even that
    not fit, it is scaled down to the page."""
    canvas = Canvas(None)
    for glance in (True, False):
        content = _summary(report, styles, glance=glance)
        if _listWrapOn(content, TEXT_WIDTH, canvas)[1] <= FRAME_HEIGHT - 2:
            break
    return KeepInFrame(TEXT_WIDTH, FRAME_HEIGHT - 2, content, mode="shrink")


def _summary(report: CityReport, styles, *, glance: bool) -> list:
    data = report.data
    info = [
        [_("范围"), report.scope_label],
        [_("问卷版本"), data.questionnaire_version or "–"],
        [_("报告生成日期"), report.generated_on],
    ]
    story: list = [
        _para(report.title, styles, "title"),
        _para(report.subtitle, styles, "subtitle"),
        HRFlowable(width="100%", thickness=1.2, color=base.ACCENT, spaceBefore=1, spaceAfter=5),
        _grid(info, (32, 142), styles, header=False, compact=True, fills={(r, 0): HEAD_FILL for r in range(3)}),
        Spacer(1, 4 * mm),
        _headline(report, styles),
        Spacer(1, 2 * mm),
        *_heading(_("主要发现"), styles, 2),
        _findings(key_findings(report), styles),
    ]
    if glance:
        story += [Spacer(1, 1 * mm), *_glance(report, styles)]
    story += [
        Spacer(1, 3 * mm),
        Panel([_para(report.disclaimer, styles, "small_muted")], fill=WARN_FILL, line=WARN_LINE),
    ]
    return story


def _headline(report: CityReport, styles) -> Grid:
    """Four figures across the page: firms assessed, coverage, firms at L3 or above, the mean index."""
    data = report.data
    coverage = data.coverage
    if coverage is not None and coverage.has_register:
        covered = _pct(coverage.total.share, coverage.total.hidden_reason)
    else:
        covered = _("未导入名录")
    level = data.at_or_above
    figures = [
        (_("已提交评估的企业"), _count(data.overview.submitted)),
        (_("工商登记企业覆盖率"), covered),
        (
            _("%(level)s及以上的企业占比") % {"level": level.level if level else "L3"},
            _pct(level.share if level else None, level.hidden_reason if level else None),
        ),
        (_("平均综合指数（0–100）"), _num(data.overview.index.mean)),
    ]
    rows = [
        [_cell(value, styles["figure"]) for _label, value in figures],
        [_cell(label, styles["figure_label"]) for label, _value in figures],
    ]
    return Grid(rows, [TEXT_WIDTH / 4] * 4, header=0, fills={0: base.NOTE_FILL, 1: base.NOTE_FILL}, padding=(4, 4))


def _findings(findings: list[Finding], styles) -> Grid:
    """The findings numbered, each its topic and sentence, then the list it introduces."""
    rows = []
    for n, finding in enumerate(findings, start=1):
        text = [([(with_colon(finding.topic), base.DARK_ACCENT), (finding.text, None)], styles["finding"])]
        text += [([(f"· {item}", None)], styles["finding_item"]) for item in finding.items]
        rows.append([_cell(f"{n}", styles["number"]), text])
    return Grid(rows, [8 * mm, TEXT_WIDTH - 8 * mm], header=0, line=colors.white, padding=(2.5, 2.5))


def _glance(report: CityReport, styles) -> list:
    """The five problems in one table: the share of firms weak in each, the mean, the median."""
    rows = [[_("论文指出的问题"), _("低于40分的企业占比"), _("平均分")]]
    for s in report.data.dimension_stats:
        rows.append([f"{s.info.code} {s.info.problem}", _pct(s.weak_share), _num(s.mean)])
    block = _heading(_("五个问题一览"), styles, 3)
    block.append(_grid(rows, (122, 30, 22), styles, compact=True))
    return block


# --- 一、总体情况 -------------------------------------------------------------------------------------------


def _overview(report: CityReport, styles) -> list:
    story = _heading(_("一、总体情况"), styles)
    story += _coverage(report, styles)
    story += _levels(report, styles)
    story += _dimension_scores(report, styles)
    for summary in report.data.context:
        story += _context_block(summary, styles)
    story += _change(report, styles)
    return story


def _coverage(report: CityReport, styles) -> list:
    coverage = report.data.coverage
    title = _heading(_("覆盖面：已评估企业占工商登记企业的比例"), styles, 2)
    if coverage is None or not coverage.has_register:
        return [Section(title + [_para(_("尚未导入工商登记名录，无法计算覆盖率。"), styles, "muted")])]
    head = [_("区县"), _("登记"), _("已评估"), _("覆盖率"), _("重点产业领域"), _("登记"), _("已评估"), _("覆盖率")]
    left = [coverage.total, *coverage.by_district]
    right = coverage.by_sector
    rows = [head]
    for n in range(max(len(left), len(right))):
        row = []
        for side in (left, right):
            if n < len(side):
                r = side[n]
                row += [
                    r.label,
                    _count(r.registered),
                    _count(r.assessed, r.hidden_reason),
                    _pct(r.share, r.hidden_reason),
                ]
            else:
                row += ["", "", "", ""]
        rows.append(row)
    notes = [
        _(
            "已评估：登记企业中在所选轮次提交了自评估的企业（按统一社会信用代码对应）。一家企业可属于多个重点产业领域，"
            "在每个领域各计一次。"
        )
    ]
    unregistered = shown_count(coverage.assessed_not_registered)
    if unregistered:
        notes.append(_("另有 %(n)s 家已评估企业不在名录中。") % {"n": _count(unregistered)})
    block = title + [
        _grid(
            rows,
            (26, 14, 14, 15, 37, 14, 14, 15),
            styles,
            compact=True,
            fills={(1, c): base.NOTE_FILL for c in range(4)},
        ),
        _gap(),
        _para(sentence_gap().join(notes), styles, "small_muted"),
        _footnotes(styles),
    ]
    return [_section(block)]


def _levels(report: CityReport, styles) -> list:
    levels = report.data.overview.levels
    chart = city_charts.share_rows(
        [f"{c.code} {c.name}" for c in levels],
        [c.share for c in levels],
        reasons=[c.hidden_reason for c in levels],
    )
    rows = [[_("等级"), _("名称"), _("企业数"), _("占比")]]
    rows += [[c.code, c.name, _count(c.firms, c.hidden_reason), _pct(c.share, c.hidden_reason)] for c in levels]
    block = _heading(_("等级分布（各企业所选轮次的最终等级）"), styles, 2)
    block += [_chart(chart), _grid(rows, (20, 64, 45, 45), styles, compact=True), _gap(), _footnotes(styles)]
    return [_section(block)]


def _dimension_scores(report: CityReport, styles) -> list:
    stats = report.data.dimension_stats
    chart = city_charts.share_rows(
        [f"{s.info.code} {s.info.problem}" for s in stats],
        [s.weak_share for s in stats],
        title=_("各问题的普遍程度：本维度得分低于 40 分的企业占比"),
    )
    rows = [[_("维度"), _("企业数"), _("平均分"), _("四分位数"), _("低于40分"), _("数据不足")]]
    for s in stats:
        quartiles = hidden_value() if not s.quartiles else " / ".join(format_score(q) for q in s.quartiles)
        rows.append(
            [f"{s.info.code} {s.info.name}", _count(s.firms), _num(s.mean), quartiles, _pct(s.weak_share),
             _count(s.insufficient)]
        )  # fmt: skip
    note = _(
        "“低于40分”为本维度得分低于 40 分的企业占比，即该问题在企业中的普遍程度；“数据不足”的企业"
        "（多数题目选择“不清楚”）不计入得分统计。"
    )
    block = _heading(_("五个问题领域的得分（0–100）"), styles, 2)
    block += [_chart(chart), _grid(rows, (52, 20, 20, 38, 22, 22), styles, compact=True), _gap()]
    block += [_para(note, styles, "small_muted"), _footnotes(styles)]
    return [_section(block)]


def _context_block(summary: ContextSummary, styles) -> list:
    """An unscored context question (the barriers question): how many firms chose each option. Counts only;
    the firms' own "other" texts are never shown here."""
    block = _heading(_("企业反映的情况：%(question)s") % {"question": summary.text}, styles, 2)
    if summary.answered is None:
        block.append(_para(_("回答本题的企业不足 %(n)d 家，不显示统计。") % {"n": min_group_size()}, styles, "muted"))
        return [Section(block)]
    shown = [r for r in summary.rows if r.firms is not None]
    chart = city_charts.share_rows([r.label for r in shown], [r.share for r in shown])
    rows = [[_("选项"), _("企业数"), _("占回答本题企业的比例")]]
    rows += [[r.label, _count(r.firms, r.hidden_reason), _pct(r.share, r.hidden_reason)] for r in summary.rows]
    if summary.multiple:
        note = _(
            "%(firms)s 家企业回答了本题（背景问题 %(code)s，不计分；可多选，比例之和可超过 100%%）。"
            "企业填写的“其他”说明不在本报告中列出。"
        )
    else:
        note = _("%(firms)s 家企业回答了本题（背景问题 %(code)s，不计分）。企业填写的“其他”说明不在本报告中列出。")
    block += [_chart(chart) if shown else _gap(0), _grid(rows, (104, 30, 40), styles, compact=True), _gap()]
    block += [_para(note % {"firms": _count(summary.answered), "code": summary.code}, styles, "small_muted")]
    block.append(_footnotes(styles))
    return [_section(block)]


def _change(report: CityReport, styles) -> list:
    change = report.data.change
    level = report.data.at_or_above
    if change is None or level is None:
        return []
    block = _heading(_("与上一轮相比"), styles, 2)
    if not change.firms:
        return [Section(block + [_para(_change_finding(report).text, styles, "muted")])]
    rows = [
        [_("指标"), _("上一轮"), _("本轮"), _("变化")],
        [
            _("平均综合指数"),
            _num(change.previous_mean),
            _num(change.current_mean),
            format_change(
                None
                if change.current_mean is None or change.previous_mean is None
                else change.current_mean - change.previous_mean
            ),
        ],
        [
            _("%(level)s及以上的企业占比") % {"level": level.level},
            _pct(change.previous_share, change.previous_reason),
            _pct(change.current_share, change.current_reason),
            "–"
            if change.previous_share is None or change.current_share is None
            else format_change(change.current_share - change.previous_share),
        ],
    ]
    note = _(
        "比较的是 %(firms)s 家此前提交过评估的企业：每家企业所选的一轮与本企业在它之前最近提交的一轮（任何问卷版本）"
        "相比；没有更早轮次的企业不在此比较中。"
    ) % {"firms": _count(change.firms)}
    block += [
        _grid(rows, (70, 34, 34, 36), styles, compact=True),
        _para(note, styles, "small_muted"),
        _footnotes(styles),
    ]
    return [_section(block)]


# --- 二、五个问题的普遍程度 -----------------------------------------------------------------------------------


def _problem_areas(report: CityReport, styles) -> list:
    data = report.data
    intro = _(
        "下列各表按区县、重点产业领域、企业规模、主导产业链和行业列出五个问题的普遍程度：各组中本维度得分低于 40 分的"
        "企业占比（百分比）。底色越深，比例越高：低于 20 的无底色，其余依次为 20–40、40–60、60 及以上。"
    )
    names = join_list(f"{d.code} {d.problem}" for d in data.dimensions)
    lead = [_para(intro, styles, "muted"), _para(with_colon(_("五个问题")) + names, styles, "small_muted")]
    blocks, hidden = [], []
    for prevalence in data.prevalence:
        shown = [row for row in prevalence.rows if row.firms is not None]
        if not shown:
            if prevalence.rows or prevalence.hidden_groups:
                hidden.append(prevalence.title)
        elif prevalence.overlapping or len(prevalence.rows) > 1:  # one group of a partition: the whole selection
            blocks.append(_prevalence_table(prevalence, report, styles))
    if hidden:
        note = _("%(groupings)s：各组的企业均不足 %(n)d 家，不列出。") % {
            "groupings": join_list(hidden),
            "n": min_group_size(),
        }
        lead.append(_para(note, styles, "small_muted"))
    story = _chapter(_("二、五个问题的普遍程度"), styles, lead, blocks)
    for n, area in enumerate(data.problem_areas):
        story += _area(n, area, report, styles)
    return story


def _prevalence_table(prevalence: Prevalence, report: CityReport, styles) -> list:
    dimensions = report.data.dimensions
    head = [prevalence.title, _("企业数")] + [f"{d.code} {d.name}" for d in dimensions]
    rows = [head]
    fills: dict = {}
    for r, row in enumerate(prevalence.rows, start=1):
        cells = [row.label, _count(row.firms, row.hidden_reason)]
        for c, (value, reason) in enumerate(zip(row.shares, row.reasons, strict=True), start=2):
            cells.append(hidden_value(reason) if value is None else format_score(value))
            shade = _shade(value)
            if shade is not None:
                fills[(r, c)] = shade
        rows.append(cells)
    rest = (TEXT_WIDTH / mm - 36 - 16) / max(len(dimensions), 1)
    grouping = prevalence.title if is_chinese() else prevalence.title[:1].lower() + prevalence.title[1:]
    title = _("按%(grouping)s") % {"grouping": grouping}
    block = _heading(title, styles, 3)
    block.append(_grid(rows, (36, 16) + (rest,) * len(dimensions), styles, compact=True, fills=fills))
    notes = []
    if prevalence.overlapping:
        notes.append(
            _(
                "一家企业可属于多个重点产业领域，在每个领域各计一次，各领域企业数之和可大于企业总数（领域取自工商登记名录）。"
            )
        )
    if prevalence.left_out:
        notes.append(
            _("另有 %(count)d 个行业未列出（按企业数列出前 %(n)d 个）。")
            % {"count": prevalence.left_out, "n": len(prevalence.rows)}
        )
    if prevalence.key == "industry" and prevalence.hidden_groups:
        notes.append(
            _("另有 %(count)d 个行业的企业不足 %(n)d 家，未列出。")
            % {"count": prevalence.hidden_groups, "n": min_group_size()}
        )
    notes += footnotes()
    block += [_gap(), _para(" ".join(notes), styles, "small_muted")]
    return block


def _shade(value: float | None):
    if value is None:
        return None
    for threshold, color in SHADES:
        if value >= threshold:
            return color
    return None


def _area_heading(n: int, problem: str) -> str:
    """The heading of problem area n: "（一）…" in Chinese, "(1) …" in English."""
    if is_chinese() and n < len(CHINESE_NUMBERS):
        return f"{in_brackets(CHINESE_NUMBERS[n])}{problem}"
    return f"{in_brackets(n + 1)} {problem}"


def _area(n: int, area: ProblemArea, report: CityReport, styles) -> list:
    s = area.stats
    block = _heading(_area_heading(n, s.info.problem), styles, 2)
    block.append(_para(_("对应维度：%(dimension)s") % {"dimension": f"{s.info.code} {s.info.name}"}, styles, "muted"))
    block.append(_para(_area_text(area), styles, "body"))
    if area.weak_items:
        rows = [[_("题号"), _("最常见的薄弱题目（选择0–1分或“不清楚”）"), _("企业占比")]]
        rows += [[i.code, i.text, _pct(i.share)] for i in area.weak_items[:WEAK_ITEMS_NAMED]]
        block += [_gap(), _grid(rows, (16, 134, 24), styles, compact=True), _gap()]
    if area.countermeasures:
        lines = join_list((_countermeasure_line(cm, report.language) for cm in area.countermeasures), strong=True)
        block.append(_para(with_colon(_("本领域对应的对策")) + lines, styles, "body"))
    else:
        block.append(_para(_("问卷中没有指向本领域的建议规则。"), styles, "muted"))
    return [_section(block)]


def _area_text(area: ProblemArea) -> str:
    s = area.stats
    if s.firms is None:
        return _("有有效得分的企业不足 %(n)d 家，不显示本领域的统计。") % {"n": min_group_size()}
    text = _(
        "在 %(firms)s 家有有效得分的企业中，%(share)s 的企业本维度得分低于 40 分；平均分 %(mean)s，中位数 %(median)s。"
    ) % {
        "firms": _count(s.firms),
        "share": _said_pct(s.weak_share),
        "mean": _num(s.mean),
        "median": hidden_value() if not s.quartiles else format_score(s.quartiles[1]),
    }
    places = []
    if len([r for r in area.by_district if r.weak_share is not None]) > 1 and area.top_districts:
        places.append(
            _("区县：%(groups)s")
            % {"groups": join_list(with_note(r.label, _pct(r.weak_share)) for r in area.top_districts)}
        )
    if area.top_sectors:
        places.append(
            _("重点产业领域：%(groups)s")
            % {"groups": join_list(with_note(r.label, _pct(r.weak_share)) for r in area.top_sectors)}
        )
    if places:
        text += sentence_gap() + _("最普遍的%(places)s。") % {"places": join_list(places, strong=True)}
    return text


def _countermeasure_line(cm: CountermeasureRef, language: str) -> str:
    if language.startswith("en"):
        return f"{cm.code} {cm.title} ({cm.heading})"
    return with_note(cm.heading, cm.code)


# --- 三、城市层面的问题 ---------------------------------------------------------------------------------------


def _city_problems(report: CityReport, styles) -> list:
    intro = _(
        "论文把以下问题放在政府或全市层面：它们不是单个企业能解决的，因此不计入企业的得分。每个问题列出与之相关的题目"
        "在所选企业中的回答情况（选择较低两档 A–B 和较高两档 D–E 的企业占比；其余选择 C 或“不清楚”），以及论文的对策"
        "在城市层面意味着的抓手。"
    )
    problems = report.data.city_problems
    if not problems:
        return _chapter(
            _("三、城市层面的问题"), styles, [_para(_("本问卷版本没有列出城市层面的问题。"), styles, "muted")], []
        )
    blocks = [_city_problem(n, problem, report, styles) for n, problem in enumerate(problems, start=1)]
    if any(None in (i.answered, i.low_share, i.high_share) for p in problems for i in p.items):
        blocks[-1].append(_footnotes(styles))
    return _chapter(_("三、城市层面的问题"), styles, [_para(intro, styles, "muted")], blocks)


def _city_problem(n: int, problem: CityProblem, report: CityReport, styles) -> list:
    block = _heading(f"{n}. {problem.text}", styles, 3)
    if problem.dimension:
        dimension = f"{problem.dimension.code} {problem.dimension.problem}"
        block.append(_para(_("所属问题领域：%(dimension)s") % {"dimension": dimension}, styles, "small_muted"))
    if problem.items:
        rows = [[_("相关题目"), _("回答企业"), _("选A–B"), _("选D–E")]]
        rows += [
            [
                f"{i.code} {i.text}",
                _count(i.answered),
                _pct(i.low_share, i.low_reason),
                _pct(i.high_share, i.high_reason),
            ]
            for i in problem.items
        ]
        block += [_gap(), _grid(rows, (110, 22, 21, 21), styles, compact=True), _gap()]
    for lever in problem.levers:
        block.append(Text([(with_colon(_("城市层面的抓手")), base.DARK_ACCENT), (lever, None)], styles["body"]))
    if problem.countermeasures:
        lines = join_list((_countermeasure_line(cm, report.language) for cm in problem.countermeasures), strong=True)
        block.append(_para(with_colon(_("对应的对策")) + lines, styles, "small"))
    if problem.programmes:
        block.append(_para(with_colon(_("相关支持项目")) + join_list(problem.programmes), styles, "small"))
    block.append(_gap(2 * mm))
    return block


# --- 四、四项对策 -------------------------------------------------------------------------------------------


def _countermeasures(report: CityReport, styles) -> list:
    data = report.data
    intro = _para(
        _("每项对策列出问卷中指向它的问题领域，以及这些领域中得分低于 40 分的企业占比（即需要该对策的企业面）。"),
        styles,
        "muted",
    )
    weak_share = {s.info.code: s.weak_share for s in data.dimension_stats}
    blocks = []
    for summary in data.countermeasures:
        block = _heading(_countermeasure_line(summary.ref, report.language), styles, 2)
        block.append(_para(summary.description, styles, "body"))
        if summary.dimensions:
            rows = [[_("针对的问题领域"), _("低于40分的企业占比")]]
            rows += [[with_note(d.problem, d.code), _pct(weak_share.get(d.code))] for d in summary.dimensions]
            block.append(_grid(rows, (124, 50), styles, compact=True))
        blocks.append(block)
    return _chapter(_("四、四项对策与所针对的问题"), styles, [intro], blocks)


def _method(report: CityReport, styles) -> list:
    text = _(
        "每家企业计入一轮已提交的自评估：未选择轮次时为该企业最近一次提交的一轮，选择轮次时为该名称的一轮。"
        "维度得分为 0–100；“低于40分”与问卷中“维度得分低于40分”的建议规则一致。四分位数按线性插值计算。"
        "薄弱题目为选择最低两档（0–1分）或“不清楚”的题目。"
    )
    change = _(
        "与上一轮相比：每家企业所选的一轮与本企业在它之前最近提交的一轮比较（任何问卷版本），只计有更早轮次的企业。"
        "重点产业领域取自工商登记名录（按统一社会信用代码对应），一家企业可属于多个领域。"
    )
    block = _heading(_("附：统计口径"), styles, 2)
    block += [
        _para(text + sentence_gap() + change, styles, "small"),
        Spacer(1, 3 * mm),
        Panel([_para(report.disclaimer, styles, "small")], fill=WARN_FILL, line=WARN_LINE),
    ]
    return [_section(block)]
