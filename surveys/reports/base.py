"""What every PDF of the application shares: the A4 page with its running header and "page x of y" footer,
the palette, the paragraph styles, tables and boxes, and the escaping of dynamic text.

ReportLab platypus, measured in mm. Every dynamic string goes through ``esc()`` (or ``para()``) before it
reaches a Paragraph: ReportLab's paragraph parser understands a markup of its own (``<font>``, ``<para>``,
``<a href>``, entities), and a firm name or a note must appear as typed, never as markup. Canvas strings
(header, footer) are drawn as they are and never parsed.
"""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph, Table, TableStyle
from reportlab.platypus import paragraph as rl_paragraph
from reportlab.platypus.flowables import HRFlowable

from .fonts import pdf_font_name

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


# --- text -------------------------------------------------------------------------------------------


def esc(text: object) -> str:
    """Escape a dynamic string for a Paragraph; line breaks become <br/>."""
    value = escape(str(text if text is not None else ""))
    return value.replace("\r\n", "\n").replace("\n", "<br/>")


def para(text: object, style: ParagraphStyle) -> Paragraph:
    """A Paragraph showing ``text`` literally."""
    return Paragraph(esc(text), style)


def markup(source: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph from markup built by the caller, whose dynamic parts went through esc()."""
    return Paragraph(source, style)


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (canvas strings are drawn as they are, never parsed)."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


# --- styles, tables, boxes, headings ----------------------------------------------------------------


def paragraph_styles(font: str, **overrides: dict) -> dict[str, ParagraphStyle]:
    """The paragraph styles of every report, in ``font``; ``overrides`` change a style's attributes by name
    (e.g. ``title={"fontSize": 21}``)."""
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14.5, textColor=INK, wordWrap="CJK")

    def style(name: str, **kw) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **{**kw, **overrides.get(name, {})})

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


def table(rows, widths_mm, styles, *, header: bool = True, extra=()) -> Table:
    """A table whose cells are Paragraphs; the header row repeats on every page the table spans."""
    cells = [
        [
            cell
            if not isinstance(cell, str)
            else para(cell, styles["cell_head"] if header and r == 0 else styles["cell"])
            for cell in row
        ]
        for r, row in enumerate(rows)
    ]
    # splitInRow: a row taller than what is left of the page (a long note) continues on the next one
    # instead of raising LayoutError.
    result = Table(
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
    result.setStyle(TableStyle(commands + list(extra)))
    return result


def box(flowables, *, fill=NOTE_FILL, line=RULE) -> Table:
    """The flowables in a framed, filled box across the text width (notes and warnings)."""
    result = Table([[flowables]], colWidths=[TEXT_WIDTH], hAlign="LEFT")
    result.setStyle(
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
    return result


def heading(text: str, styles, level: int = 1) -> list:
    """A heading of ``level`` 1–3 (a rule under level 1); levels 1 and 2 become PDF bookmarks."""
    paragraph = para(text, styles[f"h{level}"])
    paragraph._outline_level = level - 1  # read by ReportDocument.afterFlowable
    if level == 1:
        return [paragraph, HRFlowable(width="100%", thickness=0.8, color=ACCENT, spaceBefore=1, spaceAfter=6)]
    return [paragraph]


def chapters(*parts: list) -> list:
    """The flowables of each part, every part after the first on a new page."""
    story: list = []
    for n, part in enumerate(parts):
        story += [PageBreak(), *part] if n else part
    return story


# --- document and pages -----------------------------------------------------------------------------


def build_pdf(
    story: list,
    *,
    header_text: str,
    footer_text: str,
    title: str,
    author: str,
    subject: str,
    lang: str,
    keywords: str = "",
    templates: tuple[str, ...] = ("body",),
) -> bytes:
    """The PDF of ``story``: A4, the CJK font, a page template per name in ``templates`` (all alike, the
    first one used first), headings as bookmarks, header and footer drawn by :func:`numbered_canvas`."""
    font = pdf_font_name()
    buffer = BytesIO()
    doc = ReportDocument(
        buffer,
        templates=templates,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=author,
        subject=subject,
        creator=CREATOR,
        keywords=keywords or [],
        lang=lang,
        initialFontName=font,
    )
    doc.build(story, canvasmaker=numbered_canvas(header_text=header_text, footer_text=footer_text, font=font))
    return buffer.getvalue()


class ReportDocument(BaseDocTemplate):
    """One frame per page; a flowable with ``_outline_level`` (see :func:`heading`) becomes a bookmark."""

    def __init__(self, filename, *, templates: tuple[str, ...] = ("body",), **kwargs):
        super().__init__(filename, **kwargs)
        frame = Frame(
            self.leftMargin, self.bottomMargin, self.width, self.height, id="body", leftPadding=0, rightPadding=0
        )
        self.addPageTemplates([PageTemplate(id=name, frames=[frame]) for name in templates])
        self._outline_count = 0

    def afterFlowable(self, flowable):
        level = getattr(flowable, "_outline_level", None)
        if level is None:
            return
        self._outline_count += 1
        key = f"h{self._outline_count}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=level > 0)


def numbered_canvas(*, header_text: str, footer_text: str, font: str):
    """A canvas class (A4, 18 mm side margins) that draws the running header after the first page and a
    footer with ``footer_text`` and "page x of y" once the count is known."""
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
            width, height = PAGE_SIZE
            self.saveState()
            self.setFillColor(MUTED)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            if page > 1:
                self.setFont(font, 8)
                self.drawString(MARGIN_LEFT, height - 12 * mm, fit(header_text, font, 8, TEXT_WIDTH))
                self.line(MARGIN_LEFT, height - 13.5 * mm, width - MARGIN_RIGHT, height - 13.5 * mm)
            self.line(MARGIN_LEFT, 14 * mm, width - MARGIN_RIGHT, 14 * mm)
            self.setFont(font, 7.5)
            number = page_pattern % {"page": page, "pages": total}
            number_width = stringWidth(number, font, 7.5)
            self.drawRightString(width - MARGIN_RIGHT, 10 * mm, number)
            self.drawString(MARGIN_LEFT, 10 * mm, fit(footer_text, font, 7.5, TEXT_WIDTH - number_width - 8 * mm))
            self.restoreState()

    return NumberedCanvas
