"""Charts of the administrators' pages and the city report that surveys/charts.py does not cover.

Same conventions as surveys/charts.py (plain data in, a ReportLab Drawing out, drawn by
``charts.drawing_to_svg`` for the web and placed as a flowable in PDFs). ``None`` is a hidden value (a
group below the minimum size): its bar is not drawn and "<10" is written in its place.
"""

from __future__ import annotations

import math

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.textlabels import NA_Label
from reportlab.graphics.shapes import Drawing, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from . import charts
from .fonts import pdf_font_name

HIDDEN_LABEL = "<10"


def _wrap(text: str, font: str, size: float, width: float, max_lines: int = 3) -> str:
    """Break ``text`` between characters (Chinese) or at spaces so that each line fits ``width``."""
    lines, line = [], ""
    for token in text.replace(" ", "\x00 ").split("\x00") if " " in text else list(text):
        if line and stringWidth(line + token, font, size) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + ["".join(lines[max_lines - 1 :])]
    return "\n".join(lines)


def _nice_maximum(values: list[float]) -> tuple[float, float]:
    """An axis maximum and step (1, 2 or 5 × 10^k) for counts, at least 10."""
    top = max([v for v in values if v is not None] or [0]) or 1
    raw_step = top / 5
    magnitude = 10 ** math.floor(math.log10(raw_step)) if raw_step > 0 else 1
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if step >= raw_step:
            break
    step = max(step, 2)
    return step * math.ceil(top / step), step


def count_bars(labels: list[str], counts: list[int | None], *, title: str = "", series_name: str = "") -> Drawing:
    """Vertical bars of firm counts per category (e.g. the level distribution), with the count on each bar."""
    maximum, step = _nice_maximum([float(n) for n in counts if n is not None])
    return _bars(labels, counts, maximum=maximum, step=step, value_format="%d", title=title, series_name=series_name)


def share_bars(labels: list[str], shares: list[float | None], *, title: str = "", series_name: str = "") -> Drawing:
    """Vertical bars of percentages (0–100) per category; a hidden share is marked "<10"."""
    return _bars(labels, shares, maximum=100, step=20, value_format="%.0f", title=title, series_name=series_name)


def _bars(labels, values, *, maximum: float, step: float, value_format: str, title: str, series_name: str) -> Drawing:
    font = pdf_font_name()
    label_font = 8
    left, right = 40, 10
    plot_width = charts.WIDTH - left - right
    group_width = plot_width / max(len(labels), 1)
    wrapped = [_wrap(label, font, label_font, group_width - 4) for label in labels]
    label_lines = max((w.count("\n") + 1 for w in wrapped), default=1)
    plot_height = 150
    title_height = 24 if title else (18 if series_name else 8)
    bottom = label_lines * label_font * 1.2 + 14
    height = math.ceil(bottom + plot_height + title_height + 12)
    description = "; ".join(
        f"{label}: {HIDDEN_LABEL if v is None else value_format % v}" for label, v in zip(labels, values, strict=True)
    )
    drawing = charts.ChartDrawing(charts.WIDTH, height, title=title or series_name, description=description)
    drawing.initialFontName = font
    if title:
        drawing.add(
            String(
                charts.WIDTH / 2,
                height - 16,
                title,
                fontName=font,
                fontSize=11,
                fillColor=charts.TEXT_COLOR,
                textAnchor="middle",
            )
        )
    elif series_name:
        drawing.add(
            String(
                left,
                height - 12,
                series_name,
                fontName=font,
                fontSize=8,
                fillColor=charts.MUTED_TEXT,
                textAnchor="start",
            )
        )
    chart = VerticalBarChart()
    chart.x, chart.y = left, bottom
    chart.width, chart.height = plot_width, plot_height
    chart.data = [[None if v is None else float(v) for v in values]] if values else [[None]]
    chart.groupSpacing = max(group_width * 0.3, 4)
    chart.categoryAxis.categoryNames = wrapped or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = label_font
    chart.categoryAxis.labels.fillColor = charts.TEXT_COLOR
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.labels.textAnchor = "middle"
    chart.categoryAxis.labels.dy = -4
    chart.categoryAxis.strokeColor = charts.MUTED_TEXT
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = maximum
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.labels.fillColor = charts.MUTED_TEXT
    chart.valueAxis.labelTextFormat = "%d"
    chart.valueAxis.strokeColor = charts.MUTED_TEXT
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = charts.GRID_COLOR
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = charts.FIRM_COLOR
    chart.barLabelFormat = value_format
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7.5
    chart.barLabels.fillColor = charts.TEXT_COLOR
    chart.barLabels.nudge = 5
    chart.barLabels.boxAnchor = "s"
    chart.barLabels.boxTarget = "hi"
    chart.naLabel = NA_Label()
    chart.naLabel.text = HIDDEN_LABEL
    chart.naLabel.fontName = font
    chart.naLabel.fontSize = 7.5
    chart.naLabel.fillColor = charts.MUTED_TEXT
    chart.naLabel.boxAnchor = "s"
    drawing.add(chart)
    return drawing


def scaled(drawing: Drawing, factor: float) -> Drawing:
    """The drawing rendered ``factor`` times its size (ReportLab's renderScale), e.g. to fit a PDF page."""
    drawing.renderScale = factor
    return drawing
