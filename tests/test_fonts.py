"""surveys/reports/fonts.py: the CJK TrueType font is registered once, with the CID font as the fallback."""

import logging
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from surveys.reports import fonts

WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


@pytest.fixture(autouse=True)
def _fresh_registration():
    # The registration is process-wide: start from scratch, and leave none of the test's settings behind.
    fonts.reset_font_registration()
    yield
    fonts.reset_font_registration()


def _pdf_with_text(font_name: str, text: str) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setFont(font_name, 12)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


@pytest.mark.skipif(not Path(WQY).is_file(), reason=f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
def test_the_configured_truetype_font_is_registered_and_embedded(settings):
    settings.JINAN_PDF_FONT_PATHS = [WQY]
    font = fonts.pdf_font()
    assert font == fonts.PdfFont(name=fonts.TTF_FONT_NAME, embedded=True, path=WQY)
    assert fonts.pdf_font_name() == fonts.TTF_FONT_NAME
    text = PdfReader(BytesIO(_pdf_with_text(font.name, "济南数实融合"))).pages[0].extract_text()
    assert "济南数实融合" in text


def test_registration_happens_once_per_process(settings):
    first = fonts.pdf_font()
    settings.JINAN_PDF_FONT_PATHS = ["/nonexistent/font.ttf"]
    assert fonts.pdf_font() is first  # settings are read on the first use only
    fonts.reset_font_registration()
    assert fonts.pdf_font().name == fonts.FALLBACK_FONT_NAME


def test_falls_back_to_stsong_light_when_no_configured_font_exists(settings, tmp_path, caplog):
    settings.JINAN_PDF_FONT_PATHS = [str(tmp_path / "missing.ttc"), str(tmp_path / "also-missing.ttf")]
    with caplog.at_level(logging.WARNING, logger="surveys.reports.fonts"):
        font = fonts.pdf_font()
    assert font == fonts.PdfFont(name="STSong-Light", embedded=False)
    assert "STSong-Light" in caplog.text and "fonts-wqy-microhei" in caplog.text
    # The fallback still writes Chinese (not embedded: the reader's fonts draw it).
    text = PdfReader(BytesIO(_pdf_with_text(font.name, "济南"))).pages[0].extract_text()
    assert "济南" in text


@pytest.mark.skipif(not Path(WQY).is_file(), reason=f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
def test_a_file_that_is_not_a_truetype_font_is_skipped_with_a_warning(settings, tmp_path, caplog):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font at all")
    settings.JINAN_PDF_FONT_PATHS = [str(broken), WQY]
    with caplog.at_level(logging.WARNING, logger="surveys.reports.fonts"):
        font = fonts.pdf_font()
    assert font.embedded and font.path == WQY
    assert str(broken) in caplog.text
