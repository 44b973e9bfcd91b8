"""The city report's own charts, drawn to read the same printed in black and white.

Plain data in, a ReportLab ``Drawing`` out (like surveys/reports/charts.py, whose bars the report uses as well).
Every bar carries its value written beside it; one series per chart, in a mid grey, so that nothing depends on
telling colours apart. A hidden value (a group below the minimum size) has no bar: its mark ("—*", "—†") is
written in its place.
"""

from __future__ import annotations

import math

from reportlab.graphics.shapes import Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from surveys.suppression import hidden_value

from .charts import GRID_COLOR, MUTED_TEXT, TEXT_COLOR, WIDTH, ChartDrawing, _wrap_text
from .fonts import pdf_font_name
from .formatting import round_score

BAR_FILL = colors.HexColor("#7A7A7A")  # a mid grey: dark enough on any printer, light enough under a label
BAR_HEIGHT = 11
ROW_GAP = 7
LABEL_FONT = 8
VALUE_FONT = 8
MAX_LABEL_WIDTH = 150  # points; a longer label wraps to a second line


def share_rows(labels: list[str], shares: list[float | None], *, reasons=None, title: str = "") -> ChartDrawing:
    """Horizontal bars of percentages (0–100), one row per label (on the left, wrapped to two lines at most),
    the value written at the end of each bar; a hidden share (None) has its mark instead of a bar."""
    font = pdf_font_name()
    reasons = list(reasons) if reasons is not None else [None] * len(shares)
    widest = max((stringWidth(label, font, LABEL_FONT) for label in labels), default=0.0)
    label_width = min(max(widest + 4, 60), MAX_LABEL_WIDTH)
    left = label_width + 8
    plot_width = WIDTH - left - 40
    wrapped = [_wrap_text(label, font, LABEL_FONT, label_width, max_lines=2).split("\n") for label in labels]
    rows = [max(len(lines) * LABEL_FONT * 1.2, BAR_HEIGHT) + ROW_GAP for lines in wrapped]
    title_height = 16 if title else 0
    axis_height = 14
    height = math.ceil(sum(rows) + axis_height + title_height + 4)
    description = "; ".join(
        f"{label}: {hidden_value(reason) if value is None else _percent(value)}"
        for label, value, reason in zip(labels, shares, reasons, strict=True)
    )
    drawing = ChartDrawing(WIDTH, height, title=title, description=description)
    drawing.initialFontName = font
    if title:
        drawing.add(String(0, height - 11, title, fontName=font, fontSize=8.5, fillColor=TEXT_COLOR))
    bottom = axis_height
    top = height - title_height - 2
    for level in range(0, 101, 20):  # the scale: a grid line every 20 points, labelled under the axis
        x = left + plot_width * level / 100
        drawing.add(Line(x, bottom, x, top, strokeColor=GRID_COLOR if level else MUTED_TEXT, strokeWidth=0.5))
        drawing.add(
            String(x, bottom - 10, f"{level}%", fontName=font, fontSize=7, fillColor=MUTED_TEXT, textAnchor="middle")
        )
    y = top
    for lines, row, value, reason in zip(wrapped, rows, shares, reasons, strict=True):
        middle = y - row / 2 + ROW_GAP / 2
        first = middle + (len(lines) - 1) * LABEL_FONT * 0.6 - LABEL_FONT * 0.35
        for n, text in enumerate(lines):
            drawing.add(
                String(label_width, first - n * LABEL_FONT * 1.2, text, fontName=font, fontSize=LABEL_FONT,
                       fillColor=TEXT_COLOR, textAnchor="end")
            )  # fmt: skip
        bar_bottom = middle - BAR_HEIGHT / 2
        length = 0.0 if value is None else plot_width * max(0.0, min(float(value), 100.0)) / 100
        if length:
            drawing.add(Rect(left, bar_bottom, length, BAR_HEIGHT, fillColor=BAR_FILL, strokeColor=None))
        label = hidden_value(reason) if value is None else _percent(value)
        drawing.add(
            String(left + length + 3, middle - VALUE_FONT * 0.35, label, fontName=font, fontSize=VALUE_FONT,
                   fillColor=TEXT_COLOR)
        )  # fmt: skip
        y -= row
    return drawing


def _percent(value: float) -> str:
    return f"{round_score(value)}%"
