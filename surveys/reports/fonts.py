"""The CJK font ReportLab uses for PDF reports and charts, registered once per process.

The first TrueType font found in ``settings.JINAN_PDF_FONT_PATHS`` is registered as ``JinanCJK`` and
embedded (as a subset) in every PDF, so the document reads on a machine without Chinese fonts. When none
is usable, ReportLab's built-in CID font STSong-Light is used instead: it needs no file, but it is not
embedded, so a reader without a Chinese font sees boxes (a warning is logged).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

TTF_FONT_NAME = "JinanCJK"
FALLBACK_FONT_NAME = "STSong-Light"


@dataclass(frozen=True)
class PdfFont:
    name: str  # the ReportLab font name to use in styles and drawings
    embedded: bool  # True for a TrueType font (embedded as a subset), False for the CID fallback
    path: str = ""  # the font file, for a TrueType font


_lock = threading.Lock()
_registered: PdfFont | None = None


def pdf_font() -> PdfFont:
    """Register the CJK font on first use and return it; later calls return the same font."""
    global _registered
    if _registered is not None:
        return _registered
    with _lock:
        if _registered is None:
            _registered = _register()
    return _registered


def pdf_font_name() -> str:
    return pdf_font().name


def reset_font_registration() -> None:
    """Forget the registered font so that the next pdf_font() reads the settings again (tests)."""
    global _registered
    with _lock:
        _registered = None


def _register() -> PdfFont:
    paths = list(getattr(settings, "JINAN_PDF_FONT_PATHS", []) or [])
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            continue
        try:
            # In a TrueType collection (.ttc) the first face is the regular one; a .ttf ignores the index.
            font = TTFont(TTF_FONT_NAME, str(path), subfontIndex=0)
        except (TTFError, OSError) as exc:
            # e.g. a CFF-flavoured OpenType font (Noto CJK .otf/.ttc): ReportLab only reads TrueType outlines.
            logger.warning("PDF font %s cannot be used by ReportLab: %s", path, exc)
            continue
        pdfmetrics.registerFont(font)
        _register_family(TTF_FONT_NAME)
        logger.debug("PDF font: %s (embedded)", path)
        return PdfFont(name=TTF_FONT_NAME, embedded=True, path=str(path))
    logger.warning(
        "No usable TrueType CJK font in JINAN_PDF_FONT_PATHS (%s); PDFs use the non-embedded %s, "
        "which shows boxes on readers without Chinese fonts. Install fonts-wqy-microhei.",
        ", ".join(paths) or "empty",
        FALLBACK_FONT_NAME,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT_NAME))
    _register_family(FALLBACK_FONT_NAME)
    return PdfFont(name=FALLBACK_FONT_NAME, embedded=False)


def _register_family(name: str) -> None:
    # There is no bold or italic face: map them to the regular one so that <b>/<i> never fail.
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
