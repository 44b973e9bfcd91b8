"""Line breaking in the reports' text flowables (surveys/reports/base.py): lines never pass their width."""

import pytest

from surveys.reports.base import CANNOT_START, layout_lines, text_styles
from surveys.reports.fonts import pdf_font_name

QUESTION = "企业采集和使用生产设备数据的程度如何（含纸面、Excel）？"


@pytest.fixture
def cell_style():
    return text_styles(pdf_font_name())["cell"]


def line_texts(lines):
    return ["".join(piece for piece, _font, _color in segments) for _width, segments in lines]


@pytest.mark.parametrize("extra", range(0, 40))
def test_closing_punctuation_never_passes_the_cells_width_nor_starts_a_line(cell_style, extra):
    """Whatever the width, the full-width question mark (or bracket) that does not fit takes the characters
    before it down: no line is wider than the cell (it used to hang across the column's border), and no line
    but the first starts with a closing mark."""
    width = 60 + extra * 3.7
    lines = layout_lines([(QUESTION, None)], cell_style, width)
    assert "".join(line_texts(lines)) == QUESTION
    assert all(line_width <= width + 0.01 for line_width, _segments in lines), [
        (w, t) for (w, _s), t in zip(lines, line_texts(lines), strict=True)
    ]
    assert not any(text[0] in CANNOT_START for text in line_texts(lines)[1:])
