"""surveys/reports/charts.py: the radar and the grouped bars, as PDF drawings and as standalone SVG."""

import re
from io import BytesIO
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.spider import SpiderChart
from reportlab.graphics.shapes import Drawing, Rect

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


def spider(drawing: Drawing) -> SpiderChart:
    return next(c for c in drawing.contents if isinstance(c, SpiderChart))


def test_radar_draws_labels_and_legend_in_chinese_into_a_pdf():
    drawing = charts.dimension_radar(LABELS, [FIRM, INDUSTRY], title="五个维度得分")
    assert isinstance(drawing, Drawing)
    text = pdf_text(drawing)
    for label in LABELS + ["本企业", "行业平均（通用设备制造业）", "五个维度得分"]:
        assert label in text


@pytest.mark.parametrize("values", [[1, 2, 3, 4, 5], [0, 0, 0, 0, 0], [100, 100, 100, 100, 100]])
def test_radar_scale_is_pinned_to_0_100_whatever_the_data(values):
    chart = spider(charts.dimension_radar(LABELS, [("本企业", values)]))
    # SpiderChart scales to its largest value: the grey ring strands (20 … 100) make that 100.
    assert max(map(max, chart.data)) == 100
    assert [row[0] for row in chart.data[:5]] == [20, 40, 60, 80, 100]
    assert chart.data[-1] == [float(v) for v in values]  # the firm is drawn last, on top


def test_radar_puts_the_firm_on_top_and_draws_no_marker_for_a_missing_value():
    chart = spider(charts.dimension_radar(LABELS, [FIRM, INDUSTRY]))
    firm_row = len(chart.data) - 1
    assert chart.strands[firm_row].strokeColor == charts.FIRM_COLOR
    assert chart.strands[firm_row].fillColor is not None
    assert chart.strands[(firm_row, 4)].symbol is None  # insufficient data: no point claimed
    assert chart.strands[(firm_row, 0)].symbol is not None
    assert chart.strands[firm_row - 1].strokeDashArray  # comparisons are dashed


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
