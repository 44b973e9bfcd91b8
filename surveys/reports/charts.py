"""Every chart of the application: one drawing code for the web pages (as SVG) and the PDFs (as a flowable).

Pure functions: plain data in, a ReportLab ``Drawing`` out. ``drawing_to_svg`` turns a drawing into a
standalone SVG for ``<img>``; in a PDF the drawing is placed as it is (``scaled`` to fit).

- The firm's charts (results page, firm PDF; ``chart_drawings`` builds both from a report):
  ``dimension_radar`` and ``dimension_bars``. Scores are on the fixed 0–100 scale. A value of ``None`` is
  "no score" (for example a dimension with insufficient data): it is a gap, never a zero. The radar's line
  stops at the spokes either side of it (no point, no fill across it), the bars leave its place empty and
  write ``missing`` ("数据不足" in the firm's charts) there, and the text alternative says it. The first
  series is always the firm; the others are comparisons (industry, district, city averages).
- The results page shows the web variants (``web_chart_drawings``): drawn for a width of about 340 CSS pixels
  (``NARROW``) with every text at 13 px or more, so that they stay legible on a 375 px phone, where the PDF's
  480 pt drawings would shrink their 6.5–8.5 pt labels to 5–6 px; the radar in the same design, larger type,
  fewer ring labels; the bars turned horizontal (a line per dimension name, a bar per series). The PDF keeps
  ``chart_drawings``, unchanged.
- Every value written on a chart is rounded by the display rule (surveys/reports/formatting.py): one
  decimal for a score, a whole number for a percentage.
- The administrators' charts (dashboard, city PDF): ``count_bars`` and ``share_bars``. ``None`` is a
  hidden value (a group below the minimum size): its bar is not drawn and a note under the
  chart (suppression.chart_note()) names it with its mark.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.lib.validators import isString
from reportlab.pdfbase.pdfmetrics import stringWidth

from surveys.suppression import chart_note, hidden_value
from surveys.text import join_list

from .fonts import pdf_font_name
from .formatting import format_count, format_score, round_score
from .svg import drawing_svg

SCALE_MAX = 100
SCALE_STEP = 20

# The firm in a strong blue; comparisons in muted colours that stay apart for colour-blind readers
# (Okabe–Ito orange and bluish green, and a neutral grey), and dashed in the radar.
FIRM_COLOR = colors.HexColor("#0B5CAD")
FIRM_FILL = colors.Color(11 / 255, 92 / 255, 173 / 255, alpha=0.16)
COMPARISON_COLORS = [colors.HexColor("#D08C1E"), colors.HexColor("#3E9A7B"), colors.HexColor("#7F7F7F")]
COMPARISON_DASHES = [(4, 2), (1.5, 1.5), (6, 2, 1.5, 2)]
GRID_COLOR = colors.HexColor("#C8CDD3")
TEXT_COLOR = colors.HexColor("#222222")
MUTED_TEXT = colors.HexColor("#555555")
AXIS_FONT = 7.5  # the value axis's labels

# The font stack a browser uses for the SVG's text (it does not know ReportLab's font names).
CSS_FONT_STACK = (
    "'WenQuanYi Micro Hei','Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',"
    "'Hiragino Sans GB','Source Han Sans SC',sans-serif"
)

WIDTH = 480  # points: the A4 text width of the report is about 490 pt


@dataclass(frozen=True)
class ChartSize:
    """The measures of the firm's radar: the PDF's (``PDF``, in points) or the web's narrow variant
    (``NARROW``, in CSS pixels, drawn for a width of about 340 px, so that it is shown near 1:1 on a phone)."""

    width: float = WIDTH
    label_font: float = 8.5  # the dimension names
    label_wrap: float = 118  # their line length
    value_font: float = 7.5  # the firm's values
    ring_font: float = 6.5  # the scale on the rings
    ring_labels: tuple[int, ...] = (20, 40, 60, 80, 100)
    legend_font: float = 8.5
    radius: float = 100
    symbol_size: float = 5
    # Room above the top spoke's label and below the lower ones' (two-line labels).
    top_room: float = 30
    bottom_room: float = 40
    balanced: bool = False  # labels wrapped into lines of even length ("数字经济 / 引领带动")


PDF = ChartSize()
NARROW = ChartSize(
    width=340,
    label_font=13,
    label_wrap=76,
    value_font=13,
    ring_font=13,
    ring_labels=(50, 100),
    legend_font=13,
    radius=90,
    symbol_size=6,
    top_room=44,
    bottom_room=62,
    balanced=True,
)
# The web's horizontal bars (``dimension_rows``): the same type sizes as NARROW.
ROW_BAR_HEIGHT = 13
ROW_BAR_GAP = 2

Series = list[tuple[str, list[float | None] | None]]


class ChartDrawing(Drawing):
    """A Drawing that carries its title and a text alternative (the numbers) for the SVG <title>/<desc>."""

    _attrMap = AttrMap(
        BASE=Drawing,
        chartTitle=AttrMapValue(isString, desc="title for the SVG <title>"),
        chartDescription=AttrMapValue(isString, desc="text alternative for the SVG <desc>"),
    )

    def __init__(self, width: float, height: float, *, title: str = "", description: str = ""):
        super().__init__(width, height)
        self.chartTitle = title
        self.chartDescription = description


# --- radar ------------------------------------------------------------------------------------------


class Radar(Group):
    """The radar's own shapes (see ``_radar_shapes``), with the centre and radius they were drawn around."""

    _attrMap = AttrMap(
        BASE=Group,
        centre=AttrMapValue(None, desc="(x, y) of the centre"),
        radius=AttrMapValue(None, desc="the radius of the 100 ring"),
    )

    def __init__(self, centre: tuple[float, float], radius: float):
        super().__init__()
        self.centre = centre
        self.radius = radius


# Where a label's box sits around its anchor point, by the direction (degrees) of its spoke: to the right of a
# point on the right, above a point at the top, and so on (ReportLab's pie and spider charts use the same).
_BOX_ANCHORS = {0: "w", 45: "sw", 90: "s", 135: "se", 180: "e", 225: "ne", 270: "n", 315: "nw"}


def _box_anchor(degrees: float) -> str:
    """The box anchor of a label on a spoke at ``degrees``: by eighths of the circle, and on the axes only
    within 5 degrees of them."""
    octant = (int((degrees % 360) / 45.0) * 45) % 360
    if not octant % 90:
        off = (degrees - octant) % 360
        if abs(off) > 5:
            octant = (octant + (45 if off > 0 else -45)) % 360
    return _BOX_ANCHORS[octant]


def _spoke_label(
    text: str,
    x: float,
    y: float,
    degrees: float,
    *,
    font: str,
    size: float,
    color,
    backing=None,
    pad_x: float = 0,
) -> list:
    """A (multi-line) label beside the point (x, y) of a spoke at ``degrees``, each line centred in the label's
    box, on an optional ``backing`` colour: its shapes."""
    lines = text.split("\n")
    leading = size * 1.2
    width = max(stringWidth(line, font, size) for line in lines) + 2 * pad_x
    height = leading * len(lines)
    anchor = _box_anchor(degrees)
    # The box's top and left edges relative to the point.
    top = 0.0 if anchor.startswith("n") else height if anchor.startswith("s") else height / 2
    left = -width if anchor.endswith("e") else 0.0 if anchor.endswith("w") else -width / 2
    drawn: list = []
    if backing is not None:
        drawn.append(Rect(x + left, y + top - height, width, height, fillColor=backing, strokeColor=None))
    baseline = y + top - size  # ReportLab's labels put the first baseline a font size under the top
    for line in lines:
        centre = x + left + width / 2
        drawn.append(String(centre, baseline, line, fontName=font, fontSize=size, fillColor=color, textAnchor="middle"))
        baseline -= leading
    return drawn


def _runs(known: list[bool]) -> list[list[int]]:
    """The runs of consecutive known positions around a circle (the last position neighbours the first); a
    circle without a gap is one closed run."""
    n = len(known)
    if all(known):
        return [list(range(n)) + [0]]
    first_gap = known.index(False)
    runs: list[list[int]] = []
    current: list[int] = []
    for offset in range(1, n + 1):
        i = (first_gap + offset) % n
        if known[i]:
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _radar_shapes(
    labels: list[str],
    rows: list[tuple[str, list[float | None], dict]],
    *,
    cx: float,
    cy: float,
    size: ChartSize,
    font: str,
) -> Radar:
    """The radar itself (no title, scale or legend), in plain shapes, drawn bottom to top: the firm's area, the
    grey rings at 20 … 100, the series' lines (comparisons first, the firm last, on top), the firm's points,
    the spokes with the dimension names, and the firm's values on white backings. ``rows``: the visible
    series, firm first. A missing value leaves a gap: the line stops at the spokes either side of it, with
    no point and no area across it."""
    n = len(labels)
    radius = size.radius
    degrees = [90 - 360 * i / n for i in range(n)]  # clockwise from the top
    spokes = [(math.cos(math.radians(d)) * radius, math.sin(math.radians(d)) * radius) for d in degrees]

    def at(i: int, value: float) -> tuple[float, float]:
        return cx + spokes[i][0] * value / SCALE_MAX, cy + spokes[i][1] * value / SCALE_MAX

    areas: list = []
    lines: list = []
    marks: list = []
    for level in range(SCALE_STEP, SCALE_MAX + 1, SCALE_STEP):
        ring = [coordinate for i in [n - 1, *range(n)] for coordinate in at(i, level)]
        lines.append(PolyLine(ring, strokeColor=GRID_COLOR, strokeWidth=0.5))
    for _name, values, style in reversed(rows):
        clamped = [_clamp(v) for v in values]
        for run in _runs([v is not None for v in clamped]):
            if len(run) < 2:
                continue
            path = [coordinate for i in run for coordinate in at(i, clamped[i])]
            lines.append(
                PolyLine(path, strokeColor=style["color"], strokeWidth=style["width"], strokeDashArray=style["dash"])
            )
            if style["fill"] is not None and None not in clamped:
                areas.append(Polygon(path, fillColor=style["fill"], strokeColor=None, strokeWidth=0))
        if style["firm"]:
            marks = _firm_marks(clamped, at, degrees, size=size, font=font)
    names: list = []
    for i, label in enumerate(labels):
        names.append(Line(cx, cy, cx + spokes[i][0], cy + spokes[i][1], strokeColor=GRID_COLOR, strokeWidth=0.5))
        x, y = cx + spokes[i][0] * 1.1, cy + spokes[i][1] * 1.1
        names += _spoke_label(label, x, y, degrees[i], font=font, size=size.label_font, color=TEXT_COLOR)
    points = [mark for mark in marks if isinstance(mark, Circle)]
    group = Radar((cx, cy), radius)
    group.contents = areas + lines + points + names + [mark for mark in marks if not isinstance(mark, Circle)]
    return group


def _firm_marks(clamped: list[float | None], at, degrees: list[float], *, size: ChartSize, font: str) -> list:
    """The firm's points, and its values just outside them on white backings (legible where a comparison's
    line crosses them); none for a missing value."""
    marks: list = []
    shift = 9 * size.value_font / PDF.value_font
    for i, value in enumerate(clamped):
        if value is None:
            continue
        x, y = at(i, value)
        marks.append(Circle(x, y, size.symbol_size / 2, fillColor=FIRM_COLOR, strokeColor=None))
        direction = math.radians(degrees[i])
        marks += _spoke_label(
            format_score(value),
            x + math.cos(direction) * shift,
            y + math.sin(direction) * shift,
            degrees[i],
            font=font,
            size=size.value_font,
            color=FIRM_COLOR,
            backing=colors.Color(1, 1, 1, alpha=0.85),
            pad_x=1,
        )
    return marks


def dimension_radar(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    title: str = "",
    missing: str = "–",
    size: ChartSize = PDF,
) -> Drawing:
    """A radar of the dimension scores on 0–100, the first series (the firm) filled, comparisons dashed; a
    missing value is a gap in its line (``missing`` names it in the text alternative). ``size``: the PDF's
    measures, or NARROW for the web."""
    font = pdf_font_name()
    visible = _visible_series(series, len(labels))
    n = len(labels)
    width = size.width
    if size.balanced:
        legend = _stacked_legend(visible, font, width - 20, radar=True, font_size=size.legend_font)
    else:
        legend = _legend(visible, font, width - 20, radar=True, font_size=size.legend_font)
    label_font = size.label_font
    radius = size.radius
    wrap = _balanced_wrap if size.balanced else _wrap_text
    wrapped = [wrap(label, font, label_font, size.label_wrap) for label in labels]
    top_room, bottom_room = size.top_room, size.bottom_room
    if size.balanced:  # room for the labels as wrapped (the PDF keeps its measures)
        lines = [w.count("\n") + 1 for w in wrapped] or [1]
        top_room = max(top_room, lines[0] * label_font * 1.2 + 0.1 * radius + 6)
        bottom_room = max(bottom_room, max(lines[1:] or [1]) * label_font * 1.2 + 0.1 * radius + 14)
    title_height = 24 if title else 4
    # Room for two-line spoke labels above the top spoke and below the two lower ones (at -0.81 r).
    height = math.ceil(title_height + top_room + radius + 0.81 * radius + bottom_room + legend.height + 8)
    drawing = ChartDrawing(width, height, title=title, description=_describe(labels, visible, missing))
    drawing.initialFontName = font
    if title:
        drawing.add(_title(title, font, height, width))
    cx = width / 2
    cy = height - title_height - top_room - radius
    drawing.add(_radar_shapes(wrapped, visible, cx=cx, cy=cy, size=size, font=font))

    # Ring values in the middle of the rings' first edge (between the first two spokes), away from the
    # firm's value labels, which sit on the spokes.
    first, second = math.radians(90), math.radians(90 - 360 / max(n, 1))
    ux, uy = (math.cos(first) + math.cos(second)) / 2, (math.sin(first) + math.sin(second)) / 2
    ring_font = size.ring_font
    for level in size.ring_labels:
        rho = radius * level / SCALE_MAX
        x, y = cx + ux * rho + 2, cy + uy * rho + 2
        text = str(level)
        backing = Rect(
            x - 1, y - ring_font * 3 / 13, stringWidth(text, font, ring_font) + 2, ring_font * 15 / 13, strokeColor=None
        )
        backing.fillColor = colors.Color(1, 1, 1, alpha=0.75)
        drawing.add(backing)
        drawing.add(String(x, y, text, fontName=font, fontSize=ring_font, fillColor=MUTED_TEXT))
    legend.translate((width - legend.width) / 2, 6)
    drawing.add(legend.group)
    return drawing


# --- grouped bars -----------------------------------------------------------------------------------


def dimension_bars(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    title: str = "",
    missing: str = "–",
    left_out: Sequence[str] = (),
) -> Drawing:
    """Grouped bars per dimension: the firm, then each comparison; a series that is None is left out. A
    missing value has no bar: ``missing`` is written upright in its place (a dash lies on the axis).
    ``left_out``: the groups (or values) hidden by the minimum group size, each with its mark ("历城区†"),
    named in a note under the chart (suppression.chart_note) so that a missing bar is never unexplained."""
    font = pdf_font_name()
    visible = _visible_series(series, len(labels))
    legend = _legend(visible, font, WIDTH - 20, radar=False)
    label_font = 8
    left = 34
    plot_width, group_width, wrapped, label_lines = _categories(labels, font, label_font, left=left, gap=6)
    axis_label_height = label_lines * label_font * 1.2 + 8
    plot_height = 160
    title_height = 24 if title else 6
    note = f"{chart_note()} {join_list(left_out)}" if left_out else ""
    note_height = 12 if note else 0
    bottom = legend.height + 12 + axis_label_height + note_height
    height = math.ceil(bottom + plot_height + title_height + 10)
    description = _describe(labels, visible, missing) + (f". {note}" if note else "")
    drawing = ChartDrawing(WIDTH, height, title=title, description=description)
    drawing.initialFontName = font
    if title:
        drawing.add(_title(title, font, height))
    if note:
        drawing.add(String(left, 3, note, fontName=font, fontSize=7, fillColor=MUTED_TEXT, textAnchor="start"))

    chart = BarChart(
        font,
        box=(left, bottom, plot_width, plot_height),
        data=[[_clamp(v) for v in values] for _, values, _ in visible] or [[None] * len(labels)],
        names=wrapped,
        label_font=label_font,
        scale=(SCALE_MAX, SCALE_STEP),
        value_format=_score_label,
        value_font=6.5 if len(visible) > 2 else 7.5,
        # A missing value (no score, e.g. insufficient data) is marked, not silently left out.
        missing=(missing, 8 if len(missing) <= 1 else 6.5),
        colors=[style["color"] for _name, _values, style in visible] or [FIRM_COLOR],
        group_spacing=max(group_width * 0.22, 6),
        bar_spacing=1,
    )
    drawing.add(chart)
    legend.translate((WIDTH - legend.width) / 2, 6 + note_height)
    drawing.add(legend.group)
    return drawing


def dimension_rows(
    labels: list[str], series: list[tuple[str, list[float | None]]], *, missing: str = "–", size: ChartSize = NARROW
) -> Drawing:
    """The web's variant of ``dimension_bars`` for narrow screens: horizontal bars, one block per dimension
    (its name on a line of its own, then a bar per series with its value at the bar's end), on the fixed
    0–100 scale, in ``size``'s type (13 px or more). A missing value has no bar: ``missing`` is written in
    its place. The series are those of ``dimension_bars`` (a None series left out), in the same colours."""
    font = pdf_font_name()
    visible = _visible_series(series, len(labels))
    width = size.width
    legend = _stacked_legend(visible, font, width - 10, radar=False, font_size=size.legend_font)
    label_font, value_font = size.label_font, size.value_font
    wrapped = [_wrap_text(label, font, label_font, width - 8).split("\n") for label in labels]
    value_room = stringWidth("100.0", font, value_font) + 6
    left = 4
    plot_width = width - left - value_room
    line = label_font * 1.3
    bar_step = ROW_BAR_HEIGHT + ROW_BAR_GAP
    block_gap = 10
    blocks = [len(lines) * line + max(len(visible), 1) * bar_step + block_gap for lines in wrapped]
    axis_height = value_font * 1.5
    height = math.ceil(axis_height + sum(blocks) + legend.height + 14)
    drawing = ChartDrawing(width, height, description=_describe(labels, visible, missing))
    drawing.initialFontName = font
    top = height - axis_height
    # The scale: grid lines at 0, 20 … 100 through every block, labelled at 0, 50 and 100 above them.
    bottom = legend.height + 14
    for level in range(0, SCALE_MAX + 1, SCALE_STEP):
        x = left + plot_width * level / SCALE_MAX
        grid = PolyLine([x, bottom, x, top], strokeColor=GRID_COLOR if level else MUTED_TEXT, strokeWidth=0.5)
        drawing.add(grid)
    for level in (0, 50, 100):
        x = left + plot_width * level / SCALE_MAX
        anchor = "start" if level == 0 else ("end" if level == SCALE_MAX else "middle")
        drawing.add(
            String(x, top + 4, str(level), fontName=font, fontSize=value_font, fillColor=MUTED_TEXT, textAnchor=anchor)
        )
    y = top
    for i, lines in enumerate(wrapped):
        for text in lines:
            y -= line
            label = String(left, y + label_font * 0.25, text, fontName=font, fontSize=label_font, fillColor=TEXT_COLOR)
            backing = Rect(left - 1, y, stringWidth(text, font, label_font) + 4, line, strokeColor=None)
            backing.fillColor = colors.white
            drawing.add(backing)
            drawing.add(label)
        for _name, values, style in visible:
            y -= bar_step
            value = _clamp(values[i])
            text_y = y + ROW_BAR_GAP + (ROW_BAR_HEIGHT - value_font * 0.75) / 2
            if value is None:
                drawing.add(String(left + 2, text_y, missing, fontName=font, fontSize=value_font, fillColor=MUTED_TEXT))
                continue
            length = plot_width * value / SCALE_MAX
            drawing.add(Rect(left, y + ROW_BAR_GAP, length, ROW_BAR_HEIGHT, fillColor=style["color"], strokeColor=None))
            drawing.add(
                String(
                    left + length + 3,
                    text_y,
                    format_score(value),
                    fontName=font,
                    fontSize=value_font,
                    fillColor=TEXT_COLOR,
                )
            )
        y -= block_gap
    legend.translate((width - legend.width) / 2, 6)
    drawing.add(legend.group)
    return drawing


# --- the administrators' bars: counts and shares, hidden values marked ---------------------------------


def count_bars(
    labels: list[str], counts: list[int | None], *, title: str = "", series_name: str = "", reasons=None
) -> Drawing:
    """Vertical bars of firm counts per category (e.g. the level distribution), with the count on each bar.
    A hidden count (None) has no bar; a note under the chart names it with its mark (``reasons``: the
    suppression reason of each category, SMALL when not given)."""
    maximum, step = _nice_maximum([float(n) for n in counts if n is not None])
    return _single_bars(
        labels,
        counts,
        maximum=maximum,
        step=step,
        value_format=format_count,
        title=title,
        series_name=series_name,
        reasons=reasons,
    )


def share_bars(
    labels: list[str], shares: list[float | None], *, title: str = "", series_name: str = "", reasons=None
) -> Drawing:
    """Vertical bars of percentages (0–100) per category; a hidden share has no bar and the note says so."""
    return _single_bars(
        labels,
        shares,
        maximum=100,
        step=20,
        value_format=_percent_label,
        title=title,
        series_name=series_name,
        reasons=reasons,
    )


def scaled(drawing: Drawing, factor: float) -> Drawing:
    """The drawing rendered ``factor`` times its size (ReportLab's renderScale), e.g. to fit a PDF page."""
    drawing.renderScale = factor
    return drawing


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


def _single_bars(
    labels, values, *, maximum: float, step: float, value_format: str, title: str, series_name: str, reasons=None
) -> Drawing:
    font = pdf_font_name()
    reasons = list(reasons) if reasons is not None else [None] * len(values)
    marks = [hidden_value(reason) for reason in reasons]
    left_out = [f"{label}{mark[-1]}" for label, v, mark in zip(labels, values, marks, strict=True) if v is None]
    note = f"{chart_note()} {join_list(left_out)}" if left_out else ""
    label_font = 8
    # Room for the value axis's widest label: a count axis of the whole province reads "3,000,000".
    left = max(40, math.ceil(stringWidth(format_count(round(maximum)), font, AXIS_FONT)) + 10)
    plot_width, group_width, wrapped, label_lines = _categories(labels, font, label_font, left=left, gap=4)
    plot_height = 150
    title_height = 24 if title else (18 if series_name else 8)
    note_height = 12 if note else 0
    bottom = label_lines * label_font * 1.2 + 14 + note_height
    height = math.ceil(bottom + plot_height + title_height + 12)
    description = "; ".join(
        f"{label}: {mark if v is None else _formatted(value_format, v)}"
        for label, v, mark in zip(labels, values, marks, strict=True)
    )
    if note:
        description = f"{description}. {note}"
    drawing = ChartDrawing(WIDTH, height, title=title or series_name, description=description)
    drawing.initialFontName = font
    if title:
        drawing.add(_title(title, font, height))
    elif series_name:
        drawing.add(
            String(left, height - 12, series_name, fontName=font, fontSize=8, fillColor=MUTED_TEXT, textAnchor="start")
        )
    chart = BarChart(
        font,
        box=(left, bottom, plot_width, plot_height),
        data=[[None if v is None else float(v) for v in values]] if values else [[None]],
        names=wrapped or [""],
        label_font=label_font,
        scale=(maximum, step),
        value_format=value_format,
        value_font=7.5,
        missing=("", 7.5),
        colors=[FIRM_COLOR],
        group_spacing=max(group_width * 0.3, 4),
    )
    drawing.add(chart)
    if note:
        drawing.add(String(left, 3, note, fontName=font, fontSize=7, fillColor=MUTED_TEXT, textAnchor="start"))
    return drawing


def _categories(labels: list[str], font: str, size: float, *, left: float, gap: float):
    """The category axis of a bar chart ``left`` points from the edge: (plot width, width per category, the
    labels wrapped to that width less ``gap``, the line count of the tallest label)."""
    plot_width = WIDTH - left - 10
    group_width = plot_width / max(len(labels), 1)
    wrapped = [_wrap_text(label, font, size, group_width - gap) for label in labels]
    return plot_width, group_width, wrapped, max((w.count("\n") + 1 for w in wrapped), default=1)


class BarChart(Group):
    """A vertical bar chart in the house style, drawn with plain shapes (lines, rectangles, strings).

    ReportLab's VerticalBarChart widget validates every attribute it sets and builds its shapes on each
    render; drawn directly, the same chart costs a fraction (it is on every firm PDF and dashboard). The
    inputs stay on the group (``data``, ``category_names``, ``colors``) for whoever checks what was drawn."""

    _attrMap = AttrMap(
        BASE=Group,
        data=AttrMapValue(None, desc="per series, the value of each category (None: no bar)"),
        category_names=AttrMapValue(None, desc="the category labels, wrapped"),
        colors=AttrMapValue(None, desc="per series, the bar colour"),
    )

    def __init__(
        self,
        font: str,
        *,
        box: tuple[float, float, float, float],
        data: list[list[float | None]],
        names: list[str],
        label_font: float,
        scale: tuple[float, float],
        value_format,
        value_font: float,
        missing: tuple[str, float],
        colors: list,
        group_spacing: float,
        bar_spacing: float = 0,
    ):
        super().__init__()
        self.data, self.category_names, self.colors = data, names, colors
        x0, y0, width, height = box
        maximum, step = scale
        # The value axis: a grid line and a label at each step.
        level = 0.0
        while level <= maximum + 1e-9:
            y = y0 + height * level / maximum
            self.add(Line(x0, y, x0 + width, y, strokeColor=GRID_COLOR, strokeWidth=0.5))
            self.add(
                String(
                    x0 - 5,
                    y - 2.6,
                    format_count(round(level)),
                    fontName=font,
                    fontSize=AXIS_FONT,
                    fillColor=MUTED_TEXT,
                    textAnchor="end",
                )
            )
            level += step
        self.add(Line(x0, y0, x0, y0 + height, strokeColor=MUTED_TEXT, strokeWidth=1))
        self.add(Line(x0, y0, x0 + width, y0, strokeColor=MUTED_TEXT, strokeWidth=1))
        categories = max(len(names), 1)
        group_width = width / categories
        series = max(len(data), 1)
        bar_width = (group_width - group_spacing - bar_spacing * (series - 1)) / series
        missing_text, missing_size = missing
        for i, name in enumerate(names):
            centre = x0 + group_width * (i + 0.5)
            # The category's name under the axis, its first line's top 4 points below it.
            for n, line in enumerate(name.split("\n")):
                baseline = y0 - 4 - label_font * (n + 1) * 1.2 + label_font * 0.2
                self.add(
                    String(
                        centre,
                        baseline,
                        line,
                        fontName=font,
                        fontSize=label_font,
                        fillColor=TEXT_COLOR,
                        textAnchor="middle",
                    )
                )
            left = x0 + group_width * i + group_spacing / 2
            for k, values in enumerate(data):
                value = values[i] if i < len(values) else None
                x = left + k * (bar_width + bar_spacing)
                middle = x + bar_width / 2
                if value is None:
                    self._missing(missing_text, missing_size, font, middle, y0)
                    continue
                top = y0 + height * min(value, maximum) / maximum
                self.add(Rect(x, y0, bar_width, top - y0, fillColor=colors[k], strokeColor=None))
                label = _formatted(value_format, value)
                self.add(
                    String(
                        middle,
                        top + 5 + value_font * 0.2,
                        label,
                        fontName=font,
                        fontSize=value_font,
                        fillColor=TEXT_COLOR,
                        textAnchor="middle",
                    )
                )

    def _missing(self, text: str, size: float, font: str, middle: float, axis: float) -> None:
        """The word written where a value is None: upright above the axis, a word running upwards from it."""
        if not text:
            return
        if len(text) > 1:
            upright = Group(String(0, -size * 0.35, text, fontName=font, fontSize=size, fillColor=MUTED_TEXT))
            upright.transform = (0, 1, -1, 0, middle, axis + 2)  # a quarter turn, anticlockwise
            self.add(upright)
        else:
            self.add(
                String(
                    middle,
                    axis + 2 + size * 0.2,
                    text,
                    fontName=font,
                    fontSize=size,
                    fillColor=MUTED_TEXT,
                    textAnchor="middle",
                )
            )


# --- the firm's charts from its report --------------------------------------------------------------


def chart_drawings(report) -> dict[str, object]:
    """The radar and the bars of a round's report (its read model), as the results page and the PDF show them."""
    labels, firm, comparisons, reference, missing = _report_series(report)
    return {
        "radar": dimension_radar(
            labels, [(report.firm_series_name, firm)] + ([reference] if reference else []), missing=missing
        ),
        "bars": report_bars(report),
        "reference": reference[0] if reference else None,
    }


def report_bars(report) -> Drawing:
    """The round's dimension bars (the firm and its comparisons): the one chart of the firm's PDF."""
    labels, firm, comparisons, _reference, missing = _report_series(report)
    return dimension_bars(labels, [(report.firm_series_name, firm)] + comparisons, missing=missing)


def web_chart_drawings(report) -> dict[str, Drawing]:
    """The results page's radar and bars: the same data as ``chart_drawings`` (the PDF's), drawn for the
    web's narrow width (NARROW) with larger type: the radar, and the bars as horizontal rows."""
    labels, firm, comparisons, reference, missing = _report_series(report)
    return {
        "radar": dimension_radar(
            labels, [(report.firm_series_name, firm)] + ([reference] if reference else []), missing=missing, size=NARROW
        ),
        "bars": dimension_rows(labels, [(report.firm_series_name, firm)] + comparisons, missing=missing),
    }


def _report_series(report):
    """(labels, the firm's values, the comparisons, the radar's one comparison or None, the missing word) of a
    round's report, as both the PDF's and the web's charts draw them."""
    labels = [
        gettext("%(name)s（数据不足）") % {"name": d.name} if d.insufficient_data else d.name for d in report.dimensions
    ]
    # Insufficient data is no score: a gap with its label, never a point or a bar at zero.
    firm = [None if d.insufficient_data else d.score for d in report.dimensions]
    comparisons = [(p.series_name, p.dimension_means if p.shown else None) for p in report.peers]
    # The radar compares with one group only (the first shown: the industry when it is large enough).
    reference = next((c for c in comparisons if c[1] is not None), None)
    return labels, firm, comparisons, reference, gettext("数据不足")


# --- SVG --------------------------------------------------------------------------------------------


def drawing_to_svg(drawing: Drawing, *, id_prefix: str) -> bytes:
    """A standalone, responsive SVG document (UTF-8) of a chart for ``image/svg+xml`` responses and
    ``<img src>``, with the chart's title and text alternative, ids that start with ``id_prefix`` and the
    browser's CJK font stack (surveys/reports/svg.py writes it)."""
    title = getattr(drawing, "chartTitle", "") or ""
    description = getattr(drawing, "chartDescription", "") or ""
    return drawing_svg(drawing, id_prefix=id_prefix, title=title, description=description, font_stack=CSS_FONT_STACK)


# --- helpers ----------------------------------------------------------------------------------------


class _Legend:
    def __init__(self, group: Group, width: float, height: float):
        self.group = group
        self.width = width
        self.height = height

    def translate(self, dx: float, dy: float) -> None:
        self.group.translate(dx, dy)


def _stacked_legend(visible, font: str, max_width: float, *, radar: bool, font_size: float) -> _Legend:
    """The narrow charts' legend: one series a row, its name wrapped onto as many lines as it needs (a long
    group name such as an industry's would not fit on one line of a phone's width), left-aligned."""
    swatch = 18
    line = font_size * 1.3
    group = Group()
    entries = [
        (_wrap_text(name, font, font_size, max_width - swatch - 6, max_lines=4).split("\n"), style)
        for name, _, style in visible
    ]
    height = sum(len(lines) * line + 2 for lines, _ in entries)
    width = max((swatch + 5 + max(stringWidth(t, font, font_size) for t in lines) for lines, _ in entries), default=0)
    y = height
    for lines, style in entries:
        y -= line
        mid = y + font_size * 0.35
        group.add(_swatch(style, 0, mid, swatch, radar=radar))
        for text in lines:
            group.add(String(swatch + 5, y, text, fontName=font, fontSize=font_size, fillColor=TEXT_COLOR))
            y -= line
        y += line - 2
    return _Legend(group, width, height)


def _swatch(style: dict, x: float, mid: float, swatch: float, *, radar: bool):
    """A series' mark in a legend: the radar's filled box or dashed line, or the bars' colour."""
    if radar and style["firm"]:
        return Rect(x, mid - 4, swatch, 8, fillColor=style["fill"], strokeColor=style["color"], strokeWidth=1.5)
    if radar:
        # A PolyLine, not a Line: renderSVG closes a Line's path, which hides the dash pattern.
        return PolyLine(
            [x, mid, x + swatch, mid],
            strokeColor=style["color"],
            strokeWidth=style["width"],
            strokeDashArray=style["dash"],
        )
    return Rect(x, mid - 4, swatch, 8, fillColor=style["color"], strokeColor=None)


def _legend(visible, font: str, max_width: float, *, radar: bool, font_size: float = 8.5) -> _Legend:
    """Swatch + name per series, laid out in rows that fit ``max_width`` (built by hand: names may be long)."""
    swatch = 18
    gap = 14
    row_height = 14 if font_size == 8.5 else font_size * 14 / 8.5  # (the PDF's exact measures)
    entries = []
    for name, _, style in visible:
        text = _wrap_text(name, font, font_size, max_width - swatch - 6).replace("\n", " ")
        entries.append((text, style, swatch + 5 + stringWidth(text, font, font_size)))
    rows: list[list] = [[]]
    widths = [0.0]
    for entry in entries:
        needed = entry[2] + (gap if rows[-1] else 0)
        if rows[-1] and widths[-1] + needed > max_width:
            rows.append([])
            widths.append(0.0)
            needed = entry[2]
        rows[-1].append(entry)
        widths[-1] += needed
    group = Group()
    total_width = max(widths) if entries else 0.0
    height = row_height * len(rows) if entries else 0.0
    for r, row in enumerate(rows):
        y = height - (r + 1) * row_height + 4
        x = (total_width - widths[r]) / 2
        for text, style, width in row:
            mid = y + font_size * 0.35
            group.add(_swatch(style, x, mid, swatch, radar=radar))
            group.add(String(x + swatch + 5, y, text, fontName=font, fontSize=font_size, fillColor=TEXT_COLOR))
            x += width + gap
    return _Legend(group, total_width, height)


def _visible_series(series, count: int) -> list[tuple[str, list[float | None], dict]]:
    """The series to draw, each with its style; None entries, None values and all-None series are hidden."""
    visible = []
    for index, entry in enumerate(series):
        if entry is None:
            continue
        name, values = entry
        if values is None:
            continue
        values = list(values)[:count] + [None] * max(count - len(values), 0)
        if index == 0:
            style = {
                "firm": True,
                "color": FIRM_COLOR,
                "fill": FIRM_FILL,
                "width": 2.2,
                "dash": None,
                "symbol": "FilledCircle",
            }
        else:
            if all(v is None for v in values):
                continue
            # Colours follow the series' position, so a hidden group does not recolour the others.
            k = (index - 1) % len(COMPARISON_COLORS)
            style = {
                "firm": False,
                "color": COMPARISON_COLORS[k],
                "fill": None,
                "width": 1.3,
                "dash": COMPARISON_DASHES[k],
                "symbol": None,
            }
        visible.append((name, values, style))
    return visible


def _clamp(value: float | None) -> float | None:
    if value is None:
        return None
    return max(0.0, min(float(SCALE_MAX), float(value)))


def _describe(labels: list[str], visible, missing: str = "–") -> str:
    parts = []
    for i, label in enumerate(labels):
        values = ", ".join(f"{name} {format_score(values[i], missing=missing)}" for name, values, _ in visible)
        parts.append(f"{label}: {values}")
    return "; ".join(parts)


def _score_label(value: float) -> str:
    """A score on a bar, by the display rule: "48.7"."""
    return format_score(value)


def _percent_label(value: float) -> str:
    """A percentage on a bar, a whole number by the display rule: "13" for 12.5."""
    return str(round_score(value, 0))


def _formatted(value_format, value) -> str:
    return value_format(value) if callable(value_format) else value_format % value


def _title(text: str, font: str, height: float, width: float = WIDTH) -> String:
    return String(width / 2, height - 16, text, fontName=font, fontSize=11, fillColor=TEXT_COLOR, textAnchor="middle")


def _balanced_wrap(text: str, font: str, size: float, max_width: float) -> str:
    """``_wrap_text`` into as few lines as it needs at ``max_width``, but with lines of even length: the
    narrowest width that still needs no more lines (no line of one or two characters left over)."""
    wrapped = _wrap_text(text, font, size, max_width, max_lines=99)
    lines = wrapped.count("\n") + 1
    if lines == 1 or lines > 3:
        return _wrap_text(text, font, size, max_width)
    width = max_width
    while width > size:
        narrower = _wrap_text(text, font, size, width - 2, max_lines=99)
        if narrower.count("\n") + 1 > lines:
            break
        wrapped, width = narrower, width - 2
    return wrapped


_TOKEN_RE = re.compile(
    r"\s+|[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]+"
)
_CJK_RE = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]")
# Chinese punctuation that must not start a line.
_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)")


def _wrap_text(text: str, font: str, size: float, max_width: float, *, max_lines: int = 3) -> str:
    """Greedy line breaking that works for Chinese (between characters) and English (between words)."""
    lines: list[str] = []
    line = ""
    for token in _TOKEN_RE.findall(text):
        if token.isspace():
            if line:
                line += " "
            continue
        candidate = line + token
        if not line or stringWidth(candidate.rstrip(), font, size) <= max_width or token in _NO_LINE_START:
            line = candidate
        else:
            lines.append(line.rstrip())
            line = token
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        rest = lines[max_lines - 1 :]
        last = rest[0]
        for following in rest[1:]:
            # The lines were broken at a space between Latin words (which the break dropped), or anywhere
            # in Chinese (no space).
            latin = not _CJK_RE.match(last[-1:]) and not _CJK_RE.match(following[:1])
            last += (" " if latin else "") + following
        lines = lines[: max_lines - 1] + [last]
    return "\n".join(lines) or text
