"""What every PDF of the application shares: the A4 page with its running header and "page x of y" footer,
the palette, the paragraph styles, tables and boxes, and the escaping of dynamic text.

ReportLab platypus, measured in mm. Every dynamic string goes through ``esc()`` (or ``para()``) before it
reaches a Paragraph: ReportLab's paragraph parser understands a markup of its own (``<font>``, ``<para>``,
``<a href>``, entities), and a firm name or a note must appear as typed, never as markup. Canvas strings
(header, footer) are drawn as they are and never parsed.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate, Paragraph, Table, TableStyle
from reportlab.platypus import paragraph as rl_paragraph
from reportlab.platypus.flowables import HRFlowable

from . import fonts
from .fonts import pdf_font_name

MIMETYPE = "application/pdf"
CREATOR = "jinan_assess"

PAGE_SIZE = A4
MARGIN_LEFT = MARGIN_RIGHT = 18 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
TEXT_WIDTH = PAGE_SIZE[0] - MARGIN_LEFT - MARGIN_RIGHT  # 174 mm
FRAME_HEIGHT = PAGE_SIZE[1] - MARGIN_TOP - MARGIN_BOTTOM  # 257 mm

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

# Compressed streams are written as binary: ReportLab's default also encodes them in ASCII85, which makes the
# file a quarter larger and costs time on every page (process-wide, like the line-breaking lists above).
rl_config.useA85 = 0


class _FastFlate(pdfdoc.PDFStreamFilterZCompress):
    """Flate, faster than ReportLab's zlib level 6: compressing the page streams and the embedded font subsets
    took about a fifth of a firm report's time. Page contents at level 2 (half the time, a few per cent
    larger); an embedded TrueType subset by Huffman coding alone, as glyph outlines have few repeats for the
    string matching to find: 40 % of level 6's time, 10 % larger."""

    LEVEL = 2
    TRUETYPE = (b"\x00\x01\x00\x00", b"true")  # the first bytes of a TrueType font file

    def encode(self, text):
        data = text.encode("utf8") if isinstance(text, str) else text
        if data[:4] in self.TRUETYPE:
            packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 8, zlib.Z_HUFFMAN_ONLY)
            return packer.compress(data) + packer.flush()
        return zlib.compress(data, self.LEVEL)


# ReportLab refers to one shared filter object (pdfdoc.PDFZCompress) for every stream it compresses.
pdfdoc.PDFZCompress = _FastFlate()


# --- text -------------------------------------------------------------------------------------------


def esc(text: object) -> str:
    """Escape a dynamic string for a Paragraph; line breaks become <br/>. Characters the main font lacks
    (an emoji, a CJK Extension B character) are wrapped in ``<font name="…">`` of the fallback font that has
    them, and a character no installed font has prints as a replacement mark (fonts.font_runs)."""
    value = str(text if text is not None else "")
    if value.isascii() or fonts.main_font_has(value):  # the usual case: one regular-expression scan of the text
        return _escape_lines(value)
    return "".join(
        _escape_lines(run) if font is None else f'<font name="{font}">{_escape_lines(run)}</font>'
        for font, run in fonts.font_runs(value)
    )


def _escape_lines(value: str) -> str:
    return escape(value).replace("\r\n", "\n").replace("\n", "<br/>")


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
    doc.build(
        story,
        canvasmaker=numbered_canvas(
            header_text=header_text,
            footer_text=footer_text,
            font=font,
            characters=characters_by_frequency(story, header_text, footer_text),
        ),
    )
    fonts.log_missing_glyphs(title)  # one warning per document for characters printed as replacement marks
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
        for item in flowable.flowables if isinstance(flowable, Section) else [flowable]:
            level = getattr(item, "_outline_level", None)
            if level is None:
                continue
            self._outline_count += 1
            key = f"h{self._outline_count}"
            self.canv.bookmarkPage(key)
            text = item.plain() if isinstance(item, Text) else item.getPlainText()
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)


def characters_by_frequency(story: list, *texts: str) -> str:
    """The characters of the story's texts (and ``texts``), the most frequent first.

    An embedded TrueType font is written as subsets of 256 characters, each a font of its own in the PDF, and
    ReportLab fills them in the order characters first appear. A Chinese report uses about a thousand
    characters, so in that order almost every line hops between three or four subsets, each hop a font
    change in the page's content. Given codes in order of frequency first, the 256 most frequent characters
    share one subset and most lines stay in it: a third of the text operations and a smaller file, drawn and
    compressed faster. A character the walk misses is simply given its code when it is first drawn."""
    parts = list(texts)
    pending = list(story)
    while pending:
        item = pending.pop()
        if isinstance(item, Text):
            parts.extend(str(text) for text, _color in item.runs)
        elif isinstance(item, Grid):
            for row in item.rows:
                for cell in row:
                    for runs, _tokens, _style in cell or ():
                        parts.extend(str(text) for text, _color in runs)
        elif isinstance(item, Paragraph):
            parts.append(item.getPlainText())
        else:
            for attribute in ("flowables", "_content"):  # Section, Panel; KeepInFrame
                pending.extend(getattr(item, attribute, None) or ())
    counts = Counter("".join(parts))
    return "".join(sorted(counts, key=counts.__getitem__, reverse=True))


def numbered_canvas(*, header_text: str, footer_text: str, font: str, characters: str = ""):
    """A canvas class (A4, 18 mm side margins) that draws the running header after the first page and a
    footer with ``footer_text`` and "page x of y" once the count is known."""
    page_pattern = _("第 %(page)d 页，共 %(pages)d 页")

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._page_states: list[dict] = []
            main = getFont(font)
            if characters and main._dynamicFont:
                main.splitString(characters, self._doc)  # codes in order of frequency (characters_by_frequency)

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
                fonts.draw_string(self, MARGIN_LEFT, height - 12 * mm, fit(header_text, font, 8, TEXT_WIDTH), font, 8)
                self.line(MARGIN_LEFT, height - 13.5 * mm, width - MARGIN_RIGHT, height - 13.5 * mm)
            self.line(MARGIN_LEFT, 14 * mm, width - MARGIN_RIGHT, 14 * mm)
            self.setFont(font, 7.5)
            number = page_pattern % {"page": page, "pages": total}
            number_width = stringWidth(number, font, 7.5)
            self.drawRightString(width - MARGIN_RIGHT, 10 * mm, number)
            self.drawString(MARGIN_LEFT, 10 * mm, fit(footer_text, font, 7.5, TEXT_WIDTH - number_width - 8 * mm))
            self.restoreState()

    return NumberedCanvas


# --- lean text and tables: the firm's report --------------------------------------------------------
#
# The firm's PDF (pdf.py) is mostly plain text in tables. ReportLab's Paragraph parses markup, builds a
# fragment per word and measures every character through the font registry on each wrap, which made a
# report cost about 0.2 ms per piece of text. The flowables below take plain strings (nothing is parsed,
# so user text needs no escaping and always appears as typed), measure through a per-process width cache,
# break lines in one pass and draw each line with one text operation:
#
# - ``Text``: a paragraph in a ``TextStyle``; runs of text may carry their own colour.
# - ``Grid``: a table of such paragraphs with fixed column widths (widened to the longest word, so a word is
#   never broken inside a cell), spans, fills, a repeated header, and splits between rows (never leaving a
#   header with fewer than two rows) or inside a row taller than a page.
# - ``Section``: flowables that start together: a heading never ends a page without what follows it.
# - ``Panel``: a framed, filled box of Text (notes, warnings).
#
# Lines break between Chinese characters and at spaces, never inside a Latin word unless the word alone is
# wider than the line; Chinese closing punctuation never starts a line (the character before it goes down with it).

# Characters a line breaks between (CJK ideographs, kana, full-width forms and CJK punctuation).
_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31bf\u3200-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef\U00020000-\U0003ffff"
)
_TOKEN_RE = re.compile(rf"[ \t\r]+|\n|[{_CJK}]|[^ \t\r\n{_CJK}]+")
CANNOT_START = "，。、；：？！）》〉」』】”’…%,.;:?!)]}·"
CANNOT_END = "（《〈「『【“‘([{"

Run = tuple[str, object]  # (text, colour or None for the style's)
Line = tuple[float, list[tuple[str, str, object]]]  # (width, [(text, font, colour)])


# eq=False: a style is its own identity (hashed by id), since the styles are made once per process and font
# (text_styles); the generated hash over every field, colours included, was paid on each cache lookup.
@dataclass(frozen=True, eq=False)
class TextStyle:
    font: str
    size: float
    leading: float
    color: object = INK
    align: str = "left"  # left | center | right
    indent: float = 0.0  # points, every line
    space_before: float = 0.0
    space_after: float = 0.0


class _Metrics:
    """Widths at size 1 of the characters and tokens of one font, measured once per process."""

    def __init__(self, font: str):
        self.font = font
        self.widths: dict[str, float] = {}
        self.tokens: dict[str, float] = {}

    def width(self, text: str) -> float:
        widths = self.widths
        total = 0.0
        for char in text:
            value = widths.get(char)
            if value is None:
                # In the font that draws it: a fallback font's for an emoji or an Extension B character.
                value = widths[char] = fonts.char_width(char, self.font)
            total += value
        return total

    def token(self, token: str) -> float:
        value = self.tokens.get(token)
        if value is None:
            value = self.width(token)
            if len(self.tokens) < 200_000:
                self.tokens[token] = value
        return value


_metrics: dict[str, _Metrics] = {}

# What a report lays out again and again (the questionnaire's questions, options, actions and descriptions are
# the same in every firm's report): a text's tokens and its lines at a width, kept per process. Bounded (each
# is emptied when full) and dropped when the fonts are registered anew (fonts.reset_font_registration: the
# widths and the fallback fonts may differ), so memory stays flat over any number of reports.
_CACHE_SIZE = 20_000
_token_cache: dict[tuple, list] = {}
_line_cache: dict[tuple, list] = {}
_cache_font: list[object] = [None]


def _check_caches() -> None:
    font = fonts.pdf_font()
    if _cache_font[0] is not font:
        _metrics.clear()
        _token_cache.clear()
        _line_cache.clear()
        _cache_font[0] = font


def metrics(font: str) -> _Metrics:
    found = _metrics.get(font)
    if found is None:
        found = _metrics[font] = _Metrics(font)
    return found


def text_width(text: str, font: str, size: float) -> float:
    return metrics(font).width(text) * size


Token = tuple[str, object, float, int]  # (text, colour, width, kind: 0 a word or character, 1 a space, 2 a break)


def _tokens(runs: list[Run], style: TextStyle) -> list[Token]:
    """The runs as tokens in ``style``: words and single CJK characters, spaces, line breaks (cached)."""
    key = (tuple(runs), style)
    found = _token_cache.get(key)
    if found is None:
        if len(_token_cache) >= _CACHE_SIZE:
            _token_cache.clear()
        found = _token_cache[key] = _measure_tokens(runs, style)
    return found


class Tokens(list):
    """A paragraph's tokens, with the width of its widest word (what a column needs at least), measured once."""

    widest: float = 0.0


def _measure_tokens(runs: list[Run], style: TextStyle) -> list[Token]:
    token_width = metrics(style.font).token
    size = style.size
    out = Tokens()
    for text, color in runs:
        color = color or style.color
        for token in _TOKEN_RE.findall(str(text)):
            if token == "\n":
                out.append((token, color, 0.0, 2))
            elif token[0] in " \t\r":
                out.append((" ", color, token_width(" ") * size, 1))
            else:
                out.append((token, color, token_width(token) * size, 0))
    out.widest = max((w for _t, _c, w, kind in out if kind == 0), default=0.0)
    return out


def _chop(token: str, width: float, font: str, size: float) -> list[str]:
    """A word wider than the line, cut into pieces that fit (the only place a word is broken)."""
    measure = metrics(font).width
    pieces, current = [], ""
    for char in token:
        if current and measure(current + char) * size > width:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current] if current else pieces


def layout_lines(runs: list[Run], style: TextStyle, width: float, tokens: list[Token] | None = None) -> list[Line]:
    """The runs (or their ``tokens``) broken into lines of at most ``width`` points (a closing mark passes
    it only on a line with nothing else to take down with it)."""
    key = (tuple(runs), style, round(width, 2)) if runs else None
    if key is not None:
        found = _line_cache.get(key)
        if found is not None:
            return found
        if len(_line_cache) >= _CACHE_SIZE:
            _line_cache.clear()
        lines = _line_cache[key] = _layout(_tokens(runs, style), style, width)
        return lines
    return _layout(tokens or [], style, width)


def _layout(tokens: list[Token], style: TextStyle, width: float) -> list[Line]:
    width = max(width - style.indent, 1.0)
    total = 0.0
    for _token, _color, token_width, kind in tokens:
        total += token_width
        if kind == 2:
            break
    else:
        if total <= width:  # one line: no breaking to do (leading and trailing spaces dropped)
            start, end = 0, len(tokens)
            while start < end and tokens[start][3] == 1:
                start += 1
            while end > start and tokens[end - 1][3] == 1:
                end -= 1
            parts = [(t, c, w) for t, c, w, _kind in tokens[start:end]]
            return [_merge(parts, sum(w for _t, _c, w in parts), style.font)]
    breaker = _LineBreaker(style, width)
    add = breaker.add
    for token in tokens:
        add(*token)
    return breaker.finish()


class _LineBreaker:
    """Greedy line filling: a token that does not fit starts the next line (and an opening bracket at the end
    of the line goes with it); closing punctuation that does not fit takes the character before it along
    (it hangs only where nothing can go); a word wider than the line is cut."""

    def __init__(self, style: TextStyle, width: float):
        self.style, self.width = style, width
        self.lines: list[Line] = []
        self.current: list[tuple[str, object, float]] = []
        self.used = 0.0
        self.space: tuple[str, object, float] | None = None

    def flush(self) -> None:
        self.lines.append(_merge(self.current, self.used, self.style.font))
        self.current, self.used = [], 0.0

    def add(self, token: str, color: object, token_width: float, kind: int) -> None:
        if kind == 2:  # a line break
            self.flush()
            self.space = None
            return
        if kind == 1:  # a space: kept only between words on one line
            self.space = (token, color, token_width) if self.current else None
            return
        gap = self.space[2] if self.space else 0.0
        closing = len(token) == 1 and token in CANNOT_START
        overflows = bool(self.current) and self.used + gap + token_width > self.width
        if overflows and closing and (self.space is not None or not self._can_carry()):
            overflows = False  # nothing to take along (a one-character line, or after a space): it hangs
        if overflows:
            carried = []
            # Closing punctuation never starts a line, nor hangs past it (in a table cell it would cross the
            # border): the characters before it go down with it.
            while closing and self._can_carry() and (not carried or carried[0][0] in CANNOT_START):
                carried.insert(0, self.current.pop())
                self.used -= carried[0][2]
            while len(self.current) > 1 and self.current[-1][0] in CANNOT_END:
                carried.insert(0, self.current.pop())
                self.used -= carried[0][2]
            self.flush()
            self.current, self.used = carried, sum(part[2] for part in carried)
            self.space = None
        if not self.current and token_width > self.width:
            pieces = _chop(token, self.width, self.style.font, self.style.size)
            self.lines += [_merge([(piece, color, 0.0)], self.width, self.style.font) for piece in pieces[:-1]]
            token = pieces[-1]
            token_width = text_width(token, self.style.font, self.style.size)
        if self.space and self.current:
            self.current.append(self.space)
            self.used += self.space[2]
        self.current.append((token, color, token_width))
        self.used += token_width
        self.space = None

    def _can_carry(self) -> bool:
        """The line's last token can go down to the next line (a character or word, not the line's only one)."""
        return len(self.current) > 1 and self.current[-1][0] != " "

    def finish(self) -> list[Line]:
        if self.current or not self.lines:
            self.flush()
        return self.lines


def _merge(parts: list[tuple[str, object, float]], width: float, font: str) -> Line:
    segments: list[tuple[str, str, object]] = []
    for text, color, _width in parts:
        if segments and segments[-1][2] is color:
            segments[-1] = (segments[-1][0] + text, font, color)
        else:
            segments.append((text, font, color))
    # Characters the main font lacks are drawn in the fallback font that has them (fonts.segments).
    return (width, [(piece, f, color) for text, font, color in segments for piece, f in fonts.segments(text, font)])


def longest_word(tokens: list[Token], style: TextStyle) -> float:
    """The width of the widest unbreakable token (the least width a column needs), indent included."""
    if isinstance(tokens, Tokens):
        return tokens.widest + style.indent
    return max((w for _t, _c, w, kind in tokens if kind == 0), default=0.0) + style.indent


def draw_lines(text, lines: list[Line], style: TextStyle, x: float, top: float, width: float) -> None:
    """The lines into the text object ``text``, the first one's top at ``top``, aligned inside ``width``."""
    baseline = top - style.size - (style.leading - style.size) / 2 + style.size * 0.12
    code = text._code
    for line_width, segments in lines:
        offset = style.indent
        if style.align == "center":
            offset = (width - line_width) / 2
        elif style.align == "right":
            offset = width - line_width
        code.append(f"1 0 0 1 {x + offset:.2f} {baseline:.2f} Tm")
        for segment, segment_font, segment_color in segments:
            if segment_font != text._fontname or style.size != text._fontsize:
                text.setFont(segment_font, style.size, style.leading)
            if segment_color is not getattr(text, "_jinan_color", None):
                text.setFillColor(segment_color)
                text._jinan_color = segment_color
            _show(text, segment)
        baseline -= style.leading


def _show(text, segment: str) -> None:
    """``segment`` in the text object's font: for a TrueType font, ReportLab's textOut without its bookkeeping
    (the text position is set per line, and the font's size and leading are known), else textOut itself."""
    font = getFont(text._fontname)
    if not font._dynamicFont:
        text.textOut(segment)
        return
    if not segment:
        return
    doc = text._canvas._doc
    append = text._code.append
    size = text._fontsize
    # The operator that selects a subset at a size, made once per document: a Chinese line switches subsets
    # several times (lines are placed by Tm, so no leading, TL, is set).
    operators = text._canvas.__dict__.setdefault("_jinan_subset_operators", {})
    current = text._curSubset
    for subset, data in font.splitString(segment, doc):
        if subset != current:
            key = (font.fontName, subset, size)
            operator = operators.get(key)
            if operator is None:
                operator = operators[key] = f"{font.getSubsetInternalName(subset, doc)} {size:g} Tf"
            append(operator)
            current = subset
        append(f"({escapePDF(data)}) Tj")
    text._curSubset = current


class Text(Flowable):
    """A paragraph of plain text (never parsed as markup) in one TextStyle; splits between lines, leaving at
    least two on each side."""

    def __init__(self, runs: str | list[Run], style: TextStyle, *, lines: list[Line] | None = None):
        super().__init__()
        self.runs = [(runs, None)] if isinstance(runs, str) else runs
        self.style = style
        self.spaceBefore = style.space_before
        self.spaceAfter = style.space_after
        self._lines = lines
        self._part = lines is not None  # a piece of a split paragraph keeps its lines
        self._width = None

    def wrap(self, aW, aH):
        if self._lines is None or (self._width != aW and not self._part):
            _check_caches()
            self._lines = layout_lines(self.runs, self.style, aW)
        self._width = aW
        self.width, self.height = aW, len(self._lines) * self.style.leading
        return self.width, self.height

    def split(self, aW, aH):
        self.wrap(aW, aH)
        fit = int(aH // self.style.leading)
        total = len(self._lines)
        if fit < 2 or total < 4:
            return []
        fit = min(fit, total - 2)
        first = Text(self.runs, self.style, lines=self._lines[:fit])
        rest = Text(self.runs, self.style, lines=self._lines[fit:])
        first._width = rest._width = aW
        first.spaceAfter = rest.spaceBefore = 0
        return [first, rest]

    def draw(self):
        text = self.canv.beginText()
        draw_lines(text, self._lines, self.style, 0, self.height, self.width)
        self.canv.drawText(text)

    def plain(self) -> str:
        return "".join(str(text) for text, _color in self.runs)


Cell = list[tuple[list[Run], TextStyle]]  # the paragraphs of a table cell, top to bottom


class Grid(Flowable):
    """A table of plain-text cells (``Cell``s; None continues the cell to its left across that column).

    ``widths`` in points are widened, where a column's longest word needs it, at the expense of the widest
    column. ``header`` rows repeat on every page the table spans. ``fills`` maps a row (or a (row, column)
    cell) to its background; ``bound`` lists the rows that stay on the page of the row above them (a note
    under its answer, the reasons under an action).
    """

    PAD_X, PAD_TOP, PAD_BOTTOM = 4.0, 3.0, 4.0
    BLOCK_GAP = 1.5

    def __init__(self, rows, widths, *, header: int = 1, fills=None, bound=(), line=RULE, line_width=0.4, padding=None):
        super().__init__()
        if padding is not None:  # (top, bottom) of every cell, e.g. tighter in the summary's tables
            self.PAD_TOP, self.PAD_BOTTOM = padding
        # Each cell's paragraphs as (runs, tokens, style): measured once (and cached per process) for the
        # widths and the lines.
        _check_caches()
        self.rows = [
            [None if cell is None else [(runs, _tokens(runs, style), style) for runs, style in cell] for cell in row]
            for row in rows
        ]
        self.widths = _fit_widths(self.rows, list(widths), self.PAD_X)
        self.header = header
        self.fills = fills or {}
        self.bound = set(bound)
        self.line, self.line_width = line, line_width
        self.spaceBefore = self.spaceAfter = 0
        self._laid = None

    # layout
    def _layout(self):
        if self._laid is None:
            laid, heights = [], []
            for row in self.rows:
                cells, height = [], 0.0
                for c, cell in enumerate(row):
                    if cell is None:
                        cells.append(None)
                        continue
                    span = 1
                    while c + span < len(row) and row[c + span] is None:
                        span += 1
                    inner = sum(self.widths[c : c + span]) - 2 * self.PAD_X
                    blocks = [(layout_lines(runs, style, inner), style) for runs, _tokens_, style in cell]
                    cell_height = sum(len(lines) * style.leading for lines, style in blocks)
                    cell_height += self.BLOCK_GAP * max(len(blocks) - 1, 0)
                    cells.append((c, span, blocks))
                    height = max(height, cell_height)
                laid.append(cells)
                heights.append(height + self.PAD_TOP + self.PAD_BOTTOM)
            self._laid, self._heights = laid, heights
        return self._laid, self._heights

    def wrap(self, aW, aH):
        _laid, heights = self._layout()
        self.width, self.height = sum(self.widths), sum(heights)
        return self.width, self.height

    def _copy(self, rows, laid, heights, bound):
        other = Grid.__new__(Grid)
        Flowable.__init__(other)
        other.rows, other.widths, other.header = rows, self.widths, self.header
        other.fills, other.bound = {}, set(bound)
        other.line, other.line_width = self.line, self.line_width
        other.PAD_TOP, other.PAD_BOTTOM = self.PAD_TOP, self.PAD_BOTTOM
        other.spaceBefore = other.spaceAfter = 0
        other._laid, other._heights = laid, heights
        return other

    def split(self, aW, aH):
        _laid, heights = self._layout()
        head, total = self.header, len(self.rows)
        if total <= head:
            return []
        room = aH - sum(heights[:head])
        cut, used = head, 0.0
        while cut < total and used + heights[cut] <= room:
            used += heights[cut]
            cut += 1
        if cut >= total:
            return [self]
        while cut > head and cut in self.bound:
            cut -= 1  # a bound row stays with the row above it
        if total - cut == 1 and cut - head >= 3:
            cut -= 1  # no single row alone on the next page
        body = cut - head
        if body >= 2 or (body == 1 and heights[head] >= 20 * mm):
            return [self._part(0, cut), self._part(cut, total)]
        if body == 0 and heights[head] + sum(heights[:head]) > 0.9 * FRAME_HEIGHT and room > 30 * mm:
            return self._split_row(room)  # a row taller than a page (a very long note)
        return []

    def _part(self, start, end):
        laid, heights = self._layout()
        head = self.header
        index = list(range(head)) + list(range(max(start, head), end))
        part = self._copy(
            [self.rows[i] for i in index],
            [laid[i] for i in index],
            [heights[i] for i in index],
            [n for n, i in enumerate(index) if i in self.bound and n >= head],
        )
        part.fills = _remap_fills(self.fills, index)
        return part

    def _split_row(self, room: float):
        """The first body row cut where it reaches ``room`` (a note longer than a page), the rest after it."""
        laid, heights = self._layout()
        head = self.header
        room -= self.PAD_TOP + self.PAD_BOTTOM
        first_cells, rest_cells = [], []
        for cell in laid[head]:
            if cell is None:
                first_cells.append(None)
                rest_cells.append(None)
                continue
            c, span, blocks = cell
            kept, moved, used = [], [], 0.0
            for lines, style in blocks:
                fit = max(int((room - used) // style.leading), 0)
                if moved or fit <= 0:
                    moved.append((lines, style))
                    continue
                kept.append((lines[:fit], style))
                if fit < len(lines):
                    moved.append((lines[fit:], style))
                used += fit * style.leading + self.BLOCK_GAP
            first_cells.append((c, span, kept))
            rest_cells.append((c, span, moved))

        def height(cells):
            tallest = 0.0
            for cell in cells:
                if cell is not None:
                    tallest = max(tallest, sum(len(lines) * style.leading for lines, style in cell[2]))
            return tallest + self.PAD_TOP + self.PAD_BOTTOM

        index = list(range(head))
        rows = [self.rows[i] for i in index]
        first = self._copy(
            rows + [self.rows[head]], [laid[i] for i in index] + [first_cells],
            [heights[i] for i in index] + [height(first_cells)], [],
        )  # fmt: skip
        rest = self._copy(
            rows + self.rows[head:], [laid[i] for i in index] + [rest_cells] + laid[head + 1 :],
            [heights[i] for i in index] + [height(rest_cells)] + heights[head + 1 :],
            [i for i in self.bound if i > head],
        )  # fmt: skip
        first.fills = _remap_fills(self.fills, index + [head])
        rest.fills = _remap_fills(self.fills, index + list(range(head, len(self.rows))))
        return [first, rest]

    def draw(self):
        laid, heights = self._layout()
        canv = self.canv
        lefts = [sum(self.widths[:c]) for c in range(len(self.widths) + 1)]
        tops = [self.height - sum(heights[:r]) for r in range(len(heights) + 1)]
        canv.saveState()
        self._draw_fills(laid, lefts, tops)
        text = canv.beginText()
        path = canv.beginPath()
        for r, cells in enumerate(laid):
            for cell in cells:
                if cell is None:
                    continue
                c, span, blocks = cell
                top = tops[r] - self.PAD_TOP
                inner = lefts[c + span] - lefts[c] - 2 * self.PAD_X
                for lines, style in blocks:
                    draw_lines(text, lines, style, lefts[c] + self.PAD_X, top, inner)
                    top -= len(lines) * style.leading + self.BLOCK_GAP
                if c:
                    path.moveTo(lefts[c], tops[r + 1])
                    path.lineTo(lefts[c], tops[r])
            if r + 1 < len(laid):
                path.moveTo(0, tops[r + 1])
                path.lineTo(self.width, tops[r + 1])
        path.rect(0, 0, self.width, self.height)
        canv.drawText(text)
        canv.setLineWidth(self.line_width)
        canv.setStrokeColor(self.line)
        canv.drawPath(path, stroke=1, fill=0)
        canv.restoreState()

    def _draw_fills(self, laid, lefts, tops) -> None:
        canv = self.canv
        for key, fill in self.fills.items():
            r, c = key if isinstance(key, tuple) else (key, None)
            if r >= len(laid):
                continue
            if c is None:
                left, right = 0, self.width
            else:
                cell = laid[r][c] if c < len(laid[r]) else None
                if cell is None:
                    continue
                left, right = lefts[c], lefts[c + cell[1]]
            canv.setFillColor(fill)
            canv.rect(left, tops[r + 1], right - left, tops[r] - tops[r + 1], stroke=0, fill=1)


def _fit_widths(rows, widths: list[float], pad: float) -> list[float]:
    """Each column at least as wide as its longest word (single cells only); the difference is taken from the
    widest columns that have room to spare."""
    needed = [0.0] * len(widths)
    for row in rows:
        for c, cell in enumerate(row):
            if cell is None or (c + 1 < len(row) and row[c + 1] is None):
                continue
            for _runs, tokens, style in cell:
                needed[c] = max(needed[c], longest_word(tokens, style) + 2 * pad + 0.5)
    short = sum(max(n - w, 0.0) for n, w in zip(needed, widths, strict=True))
    if short <= 0:
        return widths
    widths = [max(n, w) for n, w in zip(needed, widths, strict=True)]
    for _round in range(len(widths)):
        spare = [(w - n, c) for c, (w, n) in enumerate(zip(widths, needed, strict=True)) if w - n > 0.5]
        if short <= 0.01 or not spare:
            break
        room, c = max(spare)
        taken = min(room, short)
        widths[c] -= taken
        short -= taken
    return widths


def _remap_fills(fills: dict, index: list[int]) -> dict:
    where = {old: new for new, old in enumerate(index)}
    out = {}
    for key, color in fills.items():
        row = key[0] if isinstance(key, tuple) else key
        if row in where:
            out[(where[row], key[1]) if isinstance(key, tuple) else where[row]] = color
    return out


class Section(Flowable):
    """Flowables that start together: the first ``keep`` of them (a heading and its lead-in) go to the next
    page unless the first lines of the one after them fit below them. After that the contents split as
    they would on their own."""

    def __init__(self, flowables: list, keep: int = 1):
        super().__init__()
        self.flowables = [f for f in flowables if f is not None]
        self.keep = keep
        first = self.flowables[0] if self.flowables else None
        self.spaceBefore = first.getSpaceBefore() if first is not None else 0
        self.spaceAfter = self.flowables[-1].getSpaceAfter() if self.flowables else 0

    def _gaps(self):
        gaps = [0.0]
        for before, after in zip(self.flowables, self.flowables[1:], strict=False):
            gaps.append(max(before.getSpaceAfter(), after.getSpaceBefore()))
        return gaps

    def wrap(self, aW, aH):
        self._sizes = [f.wrapOn(self.canv, aW, aH) for f in self.flowables]
        self.width = aW
        self.height = sum(h for _w, h in self._sizes) + sum(self._gaps())
        return self.width, self.height

    def split(self, aW, aH):
        self.wrap(aW, aH)
        gaps = self._gaps()
        used = 0.0
        for i, flowable in enumerate(self.flowables):
            height = self._sizes[i][1] + gaps[i]
            if used + height <= aH:
                used += height
                continue
            parts = flowable.splitOn(self.canv, aW, aH - used - gaps[i]) if aH - used - gaps[i] > 0 else []
            if i < self.keep or (i == self.keep and not parts):
                return []
            return self.flowables[:i] + list(parts or []) + self.flowables[i + (1 if parts else 0) :]
        return [self]

    def drawOn(self, canvas, x, y, _sW=0):
        gaps = self._gaps()
        top = y + self.height
        for (_w, h), gap, flowable in zip(self._sizes, gaps, self.flowables, strict=True):
            top -= gap + h
            flowable.drawOn(canvas, x, top)


class Panel(Flowable):
    """Flowables in a framed, filled box across ``width`` (never split: keep its contents short)."""

    PAD_X, PAD_Y = 8.0, 6.0

    def __init__(self, flowables: list, *, width: float = TEXT_WIDTH, fill=NOTE_FILL, line=RULE):
        super().__init__()
        self.flowables, self.box_width, self.fill, self.line = flowables, width, fill, line
        self.spaceBefore = self.spaceAfter = 0

    def wrap(self, aW, aH):
        inner = self.box_width - 2 * self.PAD_X
        self._heights = [f.wrap(inner, aH)[1] for f in self.flowables]
        self.width, self.height = self.box_width, sum(self._heights) + 2 * self.PAD_Y
        return self.width, self.height

    def draw(self):
        canv = self.canv
        canv.saveState()
        canv.setFillColor(self.fill)
        canv.setStrokeColor(self.line)
        canv.setLineWidth(0.6)
        canv.rect(0, 0, self.width, self.height, stroke=1, fill=1)
        canv.restoreState()
        top = self.height - self.PAD_Y
        for flowable, height in zip(self.flowables, self._heights, strict=True):
            top -= height
            flowable.drawOn(canv, self.PAD_X, top)


@lru_cache(maxsize=8)
def text_styles(font: str) -> dict[str, TextStyle]:
    """The TextStyles of the firm's report in ``font`` (made once per process and font)."""
    return {
        "title": TextStyle(font, 17, 22, DARK_ACCENT),
        "subtitle": TextStyle(font, 9, 12.5, MUTED, space_after=2),
        "firm": TextStyle(font, 13, 17, INK, space_before=3, space_after=2),
        "h1": TextStyle(font, 14, 19, DARK_ACCENT, space_before=8, space_after=3),
        "h2": TextStyle(font, 11.5, 15.5, ACCENT, space_before=8, space_after=3),
        "h3": TextStyle(font, 10, 14, INK, space_before=5, space_after=1),
        "body": TextStyle(font, 9.5, 14, INK, space_after=2),
        "muted": TextStyle(font, 8.5, 12, MUTED, space_after=2),
        "small": TextStyle(font, 8, 11, INK),
        "small_muted": TextStyle(font, 7.5, 10, MUTED),
        "bullet": TextStyle(font, 9.5, 14, INK, indent=4 * mm),
        "cell": TextStyle(font, 8.5, 11.5, INK),
        "cell_head": TextStyle(font, 8.5, 11.5, DARK_ACCENT),
        "cell_strong": TextStyle(font, 8.5, 11.5, DARK_ACCENT),
        "cell_muted": TextStyle(font, 7.5, 10, MUTED),
        "cell_center": TextStyle(font, 8.5, 11.5, INK, align="center"),
        "compact": TextStyle(font, 8, 10.5, INK),
        "compact_head": TextStyle(font, 8, 10.5, DARK_ACCENT),
        "compact_muted": TextStyle(font, 7, 9, MUTED),
        "big": TextStyle(font, 22, 26, ACCENT, align="center"),
        "big_label": TextStyle(font, 8.5, 11, MUTED, align="center"),
        "rung": TextStyle(font, 9, 12, INK, align="center"),
        "rung_current": TextStyle(font, 9, 12, colors.white, align="center"),
        "rung_note": TextStyle(font, 7, 9, MUTED, align="center"),
        "rung_note_current": TextStyle(font, 7, 9, colors.white, align="center"),
    }


def text_heading(text: str, styles: dict[str, TextStyle], level: int = 1) -> list:
    """A heading of ``level`` 1–3 as lean Text (a rule under level 1); levels 1 and 2 become bookmarks."""
    heading_text = Text(text, styles[f"h{level}"])
    heading_text._outline_level = level - 1 if level < 3 else None
    if level == 1:
        return [heading_text, HRFlowable(width="100%", thickness=0.8, color=ACCENT, spaceBefore=1, spaceAfter=5)]
    return [heading_text]
