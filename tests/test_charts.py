"""surveys/reports/charts.py: the radar and the grouped bars, as PDF drawings and as standalone SVG."""

import math
import re
from io import BytesIO
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Polygon, PolyLine, Rect

from surveys.reports import charts

SVG = "{http://www.w3.org/2000/svg}"
LABELS = ["数字经济引领带动", "融合程度", "核心技术掌握", "跨界复合型人才", "数实融合生态环境"]
FIRM = ("本企业", [28.1, 30.6, 13.9, 53.6, None])
INDUSTRY = ("行业平均（通用设备制造业）", [48.9, 48.6, 28.9, 69.1, 46.9])
DISTRICT = ("区县平均（历城区）", None)
CITY = ("全市平均（济南全市）", [47.6, 50.0, 30.0, 60.0, 45.0])


def svg_tree(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)


def texts(root: ElementTree.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def pdf_text(drawing: Drawing) -> str:
    return PdfReader(BytesIO(renderPDF.drawToString(drawing))).pages[0].extract_text()


def radar(drawing: Drawing) -> charts.Radar:
    return next(c for c in drawing.contents if isinstance(c, charts.Radar))


def lines_of(chart: charts.Radar, color) -> list[PolyLine]:
    return [s for s in chart.contents if isinstance(s, PolyLine) and s.strokeColor == color]


def distances(chart: charts.Radar, points: list[float]) -> list[float]:
    """Each point's distance from the radar's centre, as a fraction of the 100 ring's radius."""
    cx, cy = chart.centre
    return [math.hypot(points[i] - cx, points[i + 1] - cy) / chart.radius for i in range(0, len(points), 2)]


def test_radar_draws_labels_and_legend_in_chinese_into_a_pdf():
    drawing = charts.dimension_radar(LABELS, [FIRM, INDUSTRY], title="五个维度得分")
    assert isinstance(drawing, Drawing)
    text = pdf_text(drawing)
    for label in LABELS + ["本企业", "行业平均（通用设备制造业）", "五个维度得分"]:
        assert label in text


@pytest.mark.parametrize("values", [[1, 2, 3, 4, 5], [0, 0, 0, 0, 0], [100, 100, 100, 100, 100]])
def test_radar_scale_is_pinned_to_0_100_whatever_the_data(values):
    chart = radar(charts.dimension_radar(LABELS, [("本企业", values)]))
    rings = lines_of(chart, charts.GRID_COLOR)
    assert [round(distances(chart, ring.points)[0], 6) for ring in rings] == [0.2, 0.4, 0.6, 0.8, 1.0]
    (firm,) = lines_of(chart, charts.FIRM_COLOR)
    # One closed line through the five spokes (back to the first), each point at value ÷ 100 of the radius.
    assert distances(chart, firm.points) == pytest.approx([v / 100 for v in values + values[:1]], abs=1e-9)
    assert chart.contents.index(firm) > max(chart.contents.index(ring) for ring in rings)  # over the grid


def test_radar_puts_the_firm_on_top_and_draws_no_marker_for_a_missing_value():
    chart = radar(charts.dimension_radar(LABELS, [FIRM, INDUSTRY]))
    series = [s for s in chart.contents if isinstance(s, PolyLine) and s.strokeColor != charts.GRID_COLOR]
    assert series[-1].strokeColor == charts.FIRM_COLOR and not series[-1].strokeDashArray
    assert all(line.strokeDashArray for line in series if line.strokeColor != charts.FIRM_COLOR)  # dashed
    # A point per known value, none on the spoke of the missing one (insufficient data: no point claimed).
    points = [s for s in chart.contents if isinstance(s, Circle)]
    assert len(points) == 4
    centre_x, centre_y = chart.centre
    missing_direction = math.radians(90 - 360 * 4 / 5)
    for point in points:
        assert abs(math.atan2(point.cy - centre_y, point.cx - centre_x) - missing_direction) > 0.1
    # No area across the gap; a complete firm series is filled.
    assert not [s for s in chart.contents if isinstance(s, Polygon)]
    complete = radar(charts.dimension_radar(LABELS, [("本企业", [28.1, 30.6, 13.9, 53.6, 40.0]), INDUSTRY]))
    assert [s.fillColor for s in complete.contents if isinstance(s, Polygon)] == [charts.FIRM_FILL]


def test_radar_labels_sit_outside_the_rings_and_the_values_by_their_points():
    chart = radar(charts.dimension_radar(LABELS, [FIRM], size=charts.NARROW))
    strings = [s for s in chart.contents if hasattr(s, "text")]
    values = [s for s in strings if s.fillColor == charts.FIRM_COLOR]
    assert [s.text for s in values] == ["28.1", "30.6", "13.9", "53.6"]
    names = [s for s in strings if s.fillColor == charts.TEXT_COLOR]
    cx, cy = chart.centre
    assert all(math.hypot(s.x - cx, s.y - cy) > chart.radius for s in names)  # outside the 100 ring
    assert "".join(s.text for s in names) == "".join(label.replace("\n", "") for label in LABELS)


def test_bars_hide_a_series_that_is_none_and_keep_the_others_colours():
    drawing = charts.dimension_bars(LABELS, [FIRM, INDUSTRY, DISTRICT, CITY], title="比较")
    root = svg_tree(charts.drawing_to_svg(drawing, id_prefix="bars"))
    legend = texts(root)
    assert "区县平均（历城区）" not in legend
    assert {"本企业", "行业平均（通用设备制造业）", "全市平均（济南全市）"} <= set(legend)
    bar_chart = next(c for c in drawing.contents if isinstance(c, charts.BarChart))
    assert len(bar_chart.data) == 3
    # The city keeps the third comparison colour although the district before it is hidden.
    assert bar_chart.colors[2] == charts.COMPARISON_COLORS[2]
    assert bar_chart.colors[0] == charts.FIRM_COLOR
    bars = [shape for shape in bar_chart.contents if isinstance(shape, Rect)]
    assert len(bars) == 3 * len(LABELS) - sum(v is None for series in bar_chart.data for v in series)
    assert {bar.fillColor for bar in bars} == {
        charts.FIRM_COLOR,
        *charts.COMPARISON_COLORS[:1],
        charts.COMPARISON_COLORS[2],
    }


def test_bars_accept_a_series_with_none_in_place_of_the_tuple():
    drawing = charts.dimension_bars(LABELS, [FIRM, None, CITY])
    assert "全市平均（济南全市）" in pdf_text(drawing)


def test_long_english_labels_are_wrapped_inside_the_drawing():
    labels = ["Digital economy as a driver", "Depth of integration", "Mastery of core technology", "Talent", "Data"]
    drawing = charts.dimension_bars(labels, [("This firm", [10, 20, 30, 40, 50])])
    bar_chart = next(c for c in drawing.contents if isinstance(c, charts.BarChart))
    assert "\n" in bar_chart.category_names[0]
    text = pdf_text(drawing)
    assert "Digital economy as a" in text and "driver" in text


def test_svg_is_standalone_responsive_and_uses_a_css_cjk_font_stack():
    data = charts.drawing_to_svg(charts.dimension_radar(LABELS, [FIRM, INDUSTRY], title="得分"), id_prefix="radar")
    assert data.startswith(b"<?xml")
    assert b"<!DOCTYPE" not in data
    root = svg_tree(data)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "100%" and root.get("height") is None
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox"))
    assert root.get("role") == "img"
    styles = " ".join(e.get("style", "") for e in root.iter())
    assert "'WenQuanYi Micro Hei'" in styles and "sans-serif" in styles
    assert "JinanCJK" not in styles and "STSong" not in styles
    assert set(LABELS) <= set(texts(root))
    title = root.find(f"{SVG}title")
    assert title.text == "得分"
    assert "28" in root.find(f"{SVG}desc").text  # the numbers as a text alternative


def test_svg_ids_are_prefixed_and_references_resolve():
    first = svg_tree(charts.drawing_to_svg(charts.dimension_radar(LABELS, [FIRM]), id_prefix="radar-1"))
    second = svg_tree(charts.drawing_to_svg(charts.dimension_bars(LABELS, [FIRM]), id_prefix="bars-1"))
    ids_first = {e.get("id") for e in first.iter() if e.get("id")}
    ids_second = {e.get("id") for e in second.iter() if e.get("id")}
    assert ids_first and all(i.startswith("radar-1-") for i in ids_first)
    assert all(i.startswith("bars-1-") for i in ids_second)
    assert not ids_first & ids_second  # both can be inlined in one page
    for root, ids in ((first, ids_first), (second, ids_second)):
        refs = re.findall(r"url\(#([^)]+)\)", " ".join(e.get("style", "") for e in root.iter()))
        assert refs and set(refs) <= ids


def test_svg_prefix_is_made_a_valid_id():
    root = svg_tree(charts.drawing_to_svg(charts.dimension_radar(LABELS, [FIRM]), id_prefix="1 chart/<x>"))
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", e.get("id")) for e in root.iter() if e.get("id"))


def test_svg_escapes_markup_in_labels_and_series_names():
    hostile = ['<b>bold</b> & "q"', "a < b", "&amp;", "]]>", "<script>alert(1)</script>"]
    drawing = charts.dimension_bars(hostile, [("<firm> & co", [1, 2, 3, 4, 5])], title="<title>&")
    data = charts.drawing_to_svg(drawing, id_prefix="x")
    # renderSVG writes text through the DOM, which escapes it; the document stays well-formed XML …
    root = svg_tree(data)
    assert b"<script>" not in data and b"<b>" not in data and b"<firm>" not in data
    assert b"&lt;firm&gt; &amp; co" in data
    # … and the text reads back exactly as given.
    all_text = texts(root)
    assert "<firm> & co" in all_text
    assert '<b>bold</b> & "q"' in "".join(all_text)
    assert "&amp;" in all_text
    assert root.find(f"{SVG}title").text == "<title>&"


def test_empty_comparisons_and_all_missing_values_still_draw():
    drawing = charts.dimension_radar(LABELS, [("本企业", [None] * 5), ("行业", [None] * 5)])
    assert "行业" not in pdf_text(drawing)  # an all-missing comparison is hidden
    charts.drawing_to_svg(charts.dimension_bars(LABELS, [("本企业", [None] * 5)]), id_prefix="empty")
