"""The fonts ReportLab uses for PDF reports and charts: the main CJK font and the fallback chain behind it.

The main font is the first TrueType font found in ``settings.JINAN_PDF_FONT_PATHS`` (WenQuanYi Micro Hei),
registered as ``JinanCJK`` and embedded (as a subset) in every PDF, so the document reads on a machine
without Chinese fonts. When none is usable, ReportLab's built-in CID font STSong-Light is used instead: it
needs no file, but it is not embedded, so a reader without a Chinese font sees boxes (a warning is logged).

Every character a user typed must be printed. Behind the main font come the TrueType fonts of
``settings.JINAN_PDF_FALLBACK_FONT_PATHS`` (Debian's fonts-symbola and fonts-hanazono: Symbola for emoji
and symbols, HanaMinB for CJK Extension B–F, HanaMinA for Extension A and the compatibility supplement).
:func:`font_runs` splits a text into runs, each in the first font of the chain that has its characters;
``esc()`` in base.py wraps the runs the main font lacks in ``<font name="…">``. A character that no installed
font has prints as a visible replacement mark (U+FFFD), and is recorded for the document's one warning
(:func:`log_missing_glyphs`); an invisible format or control character without a glyph is left out.

Cost: the main font's coverage is read once per process into a set of characters and a regular expression
that finds a character outside it, which checks a whole text at once (the usual case: every character is
there; ``esc()`` then does what it did before). A fallback font is read only when a text needs a character
the main font lacks, once per process; each character's font is then remembered.

ReportLab's ToUnicode CMap writes a character above U+FFFF as five or six hex digits, which is not UTF-16:
text extraction and copy-paste lose 𠮷 or 📦. ``_to_unicode_cmap`` writes them as surrogate pairs (the
same CMap otherwise); it replaces ReportLab's function once per process.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

TTF_FONT_NAME = "JinanCJK"
FALLBACK_FONT_NAME = "STSong-Light"
FALLBACK_PREFIX = "JinanFallback-"  # + the file's stem: the ReportLab name of a font of the chain
REPLACEMENT_MARK = "\ufffd"  # printed for a character no installed font has (□ where no font has U+FFFD)
# What the paragraph markup handles itself (line breaks become <br/>, tabs and spaces are white space): never
# looked up in a font.
_LAYOUT_CHARACTERS = frozenset("\n\r\t ")


@dataclass(frozen=True)
class PdfFont:
    name: str  # the ReportLab font name to use in styles and drawings
    embedded: bool  # True for a TrueType font (embedded as a subset), False for the CID fallback
    path: str = ""  # the font file, for a TrueType font


@dataclass(frozen=True)
class _Fallback:
    name: str  # the ReportLab font name
    cmap: dict[int, int]  # code point -> glyph (0: none)
    path: str


class _Chain:
    """The registered main font, its coverage, and the fallback fonts (read on first need)."""

    def __init__(self, main: PdfFont, main_chars: frozenset[str] | None, fallback_paths: list[str]):
        self.main = main
        # None: the CID font, whose coverage cannot be read; it is taken to have every character of the BMP.
        self.main_chars = main_chars
        # Finds a character the main font lacks: the regular expression engine scans a whole text in C without
        # making a string per character (0.4 µs for a 55-character sentence, a sixth of a set's issuperset).
        self.outside_main = _outside(main_chars)
        self.fallback_paths = fallback_paths
        self.fallbacks: list[_Fallback] | None = None
        # A character -> its fallback font's name; None: no font has it; "" (_LEFT_OUT): invisible, left out.
        self.font_of: dict[str, str | None] = {}
        self.replacement: tuple[str | None, str] | None = None  # (font name or None for the main font, mark)


_lock = threading.RLock()
_chain: _Chain | None = None
# Fallback fonts read so far, by path: kept across reset_font_registration() (reading HanaMinB takes 0.2 s).
_loaded: dict[str, TTFont] = {}
# The code points of the document being built that no font has: reported once by log_missing_glyphs().
_missing: ContextVar[set[int] | None] = ContextVar("jinan_pdf_missing_glyphs", default=None)


def pdf_font() -> PdfFont:
    """Register the CJK font on first use and return it; later calls return the same font."""
    chain = _chain if _chain is not None else _get_chain()
    return chain.main


def pdf_font_name() -> str:
    return pdf_font().name


def reset_font_registration() -> None:
    """Forget the registered fonts so that the next pdf_font() reads the settings again (tests)."""
    global _chain
    with _lock:
        _chain = None
    _missing.set(None)


def _get_chain() -> _Chain:
    global _chain
    with _lock:
        if _chain is None:
            _chain = _register()
        return _chain


def _register() -> _Chain:
    _install_to_unicode_cmap()
    fallback_paths = [str(p) for p in getattr(settings, "JINAN_PDF_FALLBACK_FONT_PATHS", []) or []]
    for raw in fallback_paths:
        if not Path(raw).is_file():
            logger.warning(
                "PDF fallback font %s not found: characters only it has print as U+FFFD. "
                "Install fonts-symbola and fonts-hanazono.",
                raw,
            )
    paths = list(getattr(settings, "JINAN_PDF_FONT_PATHS", []) or [])
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            continue
        try:
            # In a TrueType collection (.ttc) the first face is the regular one; a .ttf ignores the index.
            # Not asciiReadable: characters fill the 256-glyph subsets in the order they first appear, so a
            # Chinese line mixed with digits and Latin letters stays in one subset instead of switching font
            # at every change of script (fewer, shorter text operations; the text layer maps back to Unicode
            # through each subset's ToUnicode table either way).
            font = TTFont(TTF_FONT_NAME, str(path), subfontIndex=0, asciiReadable=False)
        except (TTFError, OSError) as exc:
            # e.g. a CFF-flavoured OpenType font (Noto CJK .otf/.ttc): ReportLab only reads TrueType outlines.
            logger.warning("PDF font %s cannot be used by ReportLab: %s", path, exc)
            continue
        _keep_tables(font.face)
        pdfmetrics.registerFont(font)
        _register_family(TTF_FONT_NAME)
        logger.debug("PDF font: %s (embedded)", path)
        main = PdfFont(name=TTF_FONT_NAME, embedded=True, path=str(path))
        return _Chain(main, _characters(font) | _LAYOUT_CHARACTERS, fallback_paths)
    logger.warning(
        "No usable TrueType CJK font in JINAN_PDF_FONT_PATHS (%s); PDFs use the non-embedded %s, "
        "which shows boxes on readers without Chinese fonts. Install fonts-wqy-microhei.",
        ", ".join(paths) or "empty",
        FALLBACK_FONT_NAME,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT_NAME))
    _register_family(FALLBACK_FONT_NAME)
    return _Chain(PdfFont(name=FALLBACK_FONT_NAME, embedded=False), None, fallback_paths)


def _register_family(name: str) -> None:
    # There is no bold or italic face: map them to the regular one so that <b>/<i> never fail.
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


def _characters(font: TTFont) -> frozenset[str]:
    return frozenset(chr(code) for code, glyph in font.face.charToGlyph.items() if glyph)


def _outside(chars: frozenset[str] | None) -> re.Pattern[str]:
    """A pattern matching one character not in ``chars`` (None: outside the BMP, or a lone surrogate)."""
    if chars is None:
        return re.compile("[^\x00-\ud7ff\ue000-\uffff]")
    codes = sorted(map(ord, chars))
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    members = "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ranges)
    return re.compile(f"[^{members}]")


# --- the fallback chain -----------------------------------------------------------------------------


def fallback_fonts() -> list[PdfFont]:
    """The fallback fonts that could be read, in the order they are tried (reads them all)."""
    return [PdfFont(name=face.name, embedded=True, path=face.path) for face in _fallbacks(_get_chain())]


def _fallbacks(chain: _Chain) -> list[_Fallback]:
    with _lock:
        if chain.fallbacks is None:
            fonts = [(raw, _load_fallback(raw)) for raw in chain.fallback_paths]
            chain.fallbacks = [
                _Fallback(font.fontName, font.face.charToGlyph, raw) for raw, font in fonts if font is not None
            ]
        return chain.fallbacks


def _load_fallback(raw: str) -> TTFont | None:
    font = _loaded.get(raw)
    if font is None:
        path = Path(raw)
        if not path.is_file():
            return None  # warned about at registration
        try:
            font = TTFont(f"{FALLBACK_PREFIX}{path.stem}", str(path), subfontIndex=0)
        except (TTFError, OSError) as exc:
            logger.warning("PDF fallback font %s cannot be used by ReportLab: %s", path, exc)
            return None
        _loaded[raw] = font
        logger.debug("PDF fallback font: %s (embedded where needed)", path)
    # Registered again after a reset: the name may have been used for another file in between (tests).
    pdfmetrics.registerFont(font)
    _register_family(font.fontName)
    return font


def main_font_has(text: str) -> bool:
    """Every character of ``text`` is drawn by the main font (the usual case, checked for the whole text)."""
    chain = _chain if _chain is not None else _get_chain()
    return chain.outside_main.search(text) is None


def font_runs(text: str) -> list[tuple[str | None, str]]:
    """``text`` as runs ``(font, characters)``: ``None`` for the main font, else the name of the fallback font
    that has the run's characters. A character no font has becomes the replacement mark (in a font that has
    it) and is recorded for the document's warning; an invisible one without a glyph is left out."""
    chain = _chain if _chain is not None else _get_chain()
    runs: list[tuple[str | None, str]] = []
    current: str | None = None
    pending: list[str] = []
    for char in text:
        if _in_main(chain, char):
            font: str | None = None
        else:
            font = _font_of(chain, char)
            if font == _LEFT_OUT:
                continue
            if font is None:
                _record_missing(ord(char))
                font, char = _replacement(chain)
        if font != current and pending:
            runs.append((current, "".join(pending)))
            pending = []
        current = font
        pending.append(char)
    if pending:
        runs.append((current, "".join(pending)))
    return runs


def _in_main(chain: _Chain, char: str) -> bool:
    if chain.main_chars is None:
        return char <= "\uffff" and not ("\ud800" <= char <= "\udfff")
    return char in chain.main_chars


_LEFT_OUT = ""  # _font_of() for an invisible character the main font lacks: drawn by no font, left out


def _font_of(chain: _Chain, char: str) -> str | None:
    """The first fallback font that has ``char`` (None: none has it; _LEFT_OUT: an invisible character),
    remembered per character."""
    try:
        return chain.font_of[char]
    except KeyError:
        pass
    code = ord(char)
    if _invisible(char):
        found: str | None = _LEFT_OUT
    else:
        found = next((face.name for face in _fallbacks(chain) if face.cmap.get(code)), None)
    chain.font_of[char] = found
    return found


def _replacement(chain: _Chain) -> tuple[str | None, str]:
    """(font, mark) for a character no font has: U+FFFD in the first font of the chain that has it, else □."""
    if chain.replacement is None:
        for mark in (REPLACEMENT_MARK, "\u25a1"):
            if _in_main(chain, mark):
                chain.replacement = (None, mark)
                break
            font = _font_of(chain, mark)
            if font:
                chain.replacement = (font, mark)
                break
        else:
            chain.replacement = (None, "?")
    return chain.replacement


def _invisible(char: str) -> bool:
    """A control or format character, or a variation selector: nothing to see, and ReportLab does no shaping
    (a ZWJ sequence is drawn as its emoji side by side): left out when the main font lacks it."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Cc", "Cf")
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x180B <= code <= 0x180F
        or code == 0x034F
    )


# --- for base.py's lean text (Text, Grid): measured and drawn per font ---------------------------------


def segments(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` to be drawn in ``font`` as ``(characters, font name)`` pieces: ``[(text, font)]`` when the main
    font has every character (or ``font`` is not the main font), else the runs of :func:`font_runs` (missing
    characters recorded for the document's warning)."""
    if text.isascii():
        return [(text, font)]
    chain = _chain if _chain is not None else _get_chain()
    if font != chain.main.name or chain.outside_main.search(text) is None:
        return [(text, font)]
    return [(run, run_font or font) for run_font, run in font_runs(text)]


def char_width(char: str, font: str) -> float:
    """The width at size 1 of one character of a text in ``font``, in the font that will draw it (the
    fallback that has it, the replacement mark's; 0 for an invisible character left out)."""
    chain = _chain if _chain is not None else _get_chain()
    if font == chain.main.name and not _in_main(chain, char):
        found = _font_of(chain, char)
        if found == _LEFT_OUT:
            return 0.0
        if found is None:
            found, char = _replacement(chain)
        font = found or font
    return pdfmetrics.stringWidth(char, font, 1000) / 1000


# --- the document's warning -------------------------------------------------------------------------


def _record_missing(code: int) -> None:
    missing = _missing.get()
    if missing is None:
        missing = set()
        _missing.set(missing)
    missing.add(code)


def take_missing_glyphs() -> list[int]:
    """The code points printed as replacement marks since the last call (in this thread), sorted."""
    missing = _missing.get()
    if not missing:
        return []
    _missing.set(None)
    return sorted(missing)


def log_missing_glyphs(document: str) -> None:
    """One warning for the document just built, naming every character that no installed font has."""
    missing = take_missing_glyphs()
    if missing:
        logger.warning(
            "PDF %r: no installed font has %s; printed as %s. Install fonts-symbola and fonts-hanazono "
            "(JINAN_PDF_FALLBACK_FONT_PATHS).",
            document,
            ", ".join(f"U+{code:04X}" for code in missing),
            "U+FFFD",
        )


# --- canvas strings ---------------------------------------------------------------------------------


def draw_string(canvas: Any, x: float, y: float, text: str, font_name: str, size: float) -> None:
    """``canvas.drawString`` with the fallback chain (running headers): the runs the main font lacks in the
    fallback font that has them. The canvas keeps ``font_name`` afterwards."""
    if text.isascii() or main_font_has(text):
        canvas.drawString(x, y, text)
        return
    for font, run in font_runs(text):
        name = font or font_name
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)
    canvas.setFont(font_name, size)


# --- ReportLab's ToUnicode CMap for characters above U+FFFF ---------------------------------------------


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ``makeToUnicodeCMap`` with UTF-16BE destinations: a surrogate pair above U+FFFF."""
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *(f"<{i:02X}> <{_utf16_hex(code)}>" for i, code in enumerate(subset)),
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def _utf16_hex(code: int) -> str:
    return f"{code:04X}" if code <= 0xFFFF else chr(code).encode("utf-16-be").hex().upper()


def _install_to_unicode_cmap() -> None:
    if ttfonts.makeToUnicodeCMap is not _to_unicode_cmap:
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _keep_tables(face) -> None:
    """Keep the font file's tables once read. ReportLab copies a table out of the file each time it builds a
    subset: for a CJK font the glyph table alone is 3.5 MB, copied for each of a report's four or so subsets
    (about a twentieth of a firm report's time). The copies are immutable bytes, so one per process serves
    every document."""
    read = face.get_table
    tables: dict[str, bytes] = {}

    def get_table(tag: str) -> bytes:
        data = tables.get(tag)
        if data is None:
            data = tables[tag] = read(tag)
        return data

    face.get_table = get_table
