"""Every character the user typed is printed (issue 13 item 4): the font chain behind the main CJK font.

A firm named with a CJK Extension B character (𠮷 U+20BB7) and an emoji (📦 U+1F4E6), with a note holding
both, gets a firm report (Chinese and English) and an administrators' copy whose extracted text contains
them, with the fallback fonts embedded (pdffonts). A character no installed font has prints as U+FFFD and
is named in one warning per document; so does every character of a missing fallback font.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from pypdf import PdfReader

from surveys import services
from surveys.reports import fonts, render_assessment_pdf
from surveys.reports.base import esc
from surveys.scopes import ROLE_CITY
from surveys.selectors.results import assessment_report
from tests.manage.conftest import make_admin
from tests.model_factories import EnterpriseFactory, MembershipFactory

from .conftest import realistic_answers, submit_round

pytestmark = pytest.mark.django_db

EXT_B = "\U00020bb7"  # 𠮷
EMOJI = "\U0001f4e6"  # 📦
NO_FONT = "\U0010fffd"  # private use, plane 16: no font has it
FIRM_NAME = f"济南{EXT_B}祥{EMOJI}机械有限公司"
NOTE = f"二号车间{EXT_B}字号的老设备{EMOJI}尚未联网。"
LABEL = f"2026 T0{EMOJI}"
HANAMIN_B = "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"
SYMBOLA = "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"

needs_fallback_fonts = pytest.mark.skipif(
    not all(Path(path).is_file() for path in django_settings.JINAN_PDF_FALLBACK_FONT_PATHS),
    reason="the fallback fonts are not installed (apt-get install fonts-symbola fonts-hanazono; make system-deps)",
)


@pytest.fixture(autouse=True)
def _fresh_fonts():
    # The registration is process-wide: start from the settings of the test, and leave none of them behind.
    fonts.reset_font_registration()
    yield
    fonts.reset_font_registration()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def embedded_fonts(data: bytes) -> dict[str, str]:
    """pdffonts' table: font name without the subset prefix -> its "emb" column."""
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed: apt-get install poppler-utils")
    output = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True, timeout=30).stdout
    table = {}
    for line in output.decode().splitlines()[2:]:
        columns = line.split()
        # name, type (one or two words), encoding, emb, sub, uni, object, generation
        table[columns[0].split("+")[-1]] = columns[-5]
    return table


def firm_with_characters(questionnaire, *, note: str = NOTE, label: str = LABEL):
    enterprise = EnterpriseFactory(name=FIRM_NAME, contact_name=f"王{EXT_B}", industry="C39", district="370105")
    user = MembershipFactory(enterprise=enterprise).user
    answers = realistic_answers(questionnaire, seed=3)
    assessment = submit_round(enterprise=enterprise, user=user, answers=answers, notes={"P1.1": note}, label=label)
    return enterprise, assessment


def firm_pdf(assessment, language: str) -> bytes:
    _filename, _mimetype, data = render_assessment_pdf(assessment_report(assessment=assessment, language=language))
    return data


@needs_fallback_fonts
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_firm_report_prints_extension_b_and_emoji_with_the_fallback_fonts_embedded(questionnaire, language):
    _enterprise, assessment = firm_with_characters(questionnaire)
    data = firm_pdf(assessment, language)
    text = squeeze(pdf_text(data))
    assert squeeze(FIRM_NAME) in text  # the cover
    assert squeeze(NOTE) in text  # the answers appendix
    assert squeeze(LABEL) in text
    assert "\ufffd" not in text
    # The running header (a canvas string, from page 2) names the firm too.
    page_two = squeeze(PdfReader(io.BytesIO(data)).pages[1].extract_text())
    assert squeeze(FIRM_NAME) in page_two
    table = embedded_fonts(data)
    assert table.get("HanaMinB") == "yes" and table.get("Symbola") == "yes", table
    assert table.get("WenQuanYiMicroHei-0", table.get("WenQuanYiMicroHei")) == "yes", table


@needs_fallback_fonts
def test_the_administrators_copy_prints_them_too(client, questionnaire):
    enterprise, assessment = firm_with_characters(questionnaire)
    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    response = client.get(reverse("manage:round_report", args=[enterprise.pk, assessment.pk]))
    assert response.status_code == 200
    text = squeeze(pdf_text(response.content))
    assert squeeze(FIRM_NAME) in text and squeeze(NOTE) in text
    assert f"王{EXT_B}" in text  # the contact, which only administrators' copies print
    assert {"HanaMinB", "Symbola"} <= {name for name, emb in embedded_fonts(response.content).items() if emb == "yes"}


@needs_fallback_fonts
def test_a_character_no_font_has_prints_a_replacement_mark_and_one_warning(questionnaire, caplog):
    _enterprise, assessment = firm_with_characters(questionnaire, note=f"备注{NO_FONT}结束{NO_FONT}", label="2026 T1")
    with caplog.at_level(logging.WARNING, logger="surveys.reports.fonts"):
        data = firm_pdf(assessment, "zh-hans")
    text = squeeze(pdf_text(data))
    assert "备注\ufffd结束\ufffd" in text
    assert squeeze(FIRM_NAME) in text  # the rest of the chain still works
    warnings = [r.getMessage() for r in caplog.records if r.name == "surveys.reports.fonts"]
    assert len(warnings) == 1, warnings  # one line for the document, however often the character occurs
    assert "U+10FFFD" in warnings[0] and "\n" not in warnings[0]


def test_a_missing_fallback_font_still_renders_with_replacement_marks_and_warnings(
    questionnaire, settings, tmp_path, caplog
):
    settings.JINAN_PDF_FALLBACK_FONT_PATHS = [str(tmp_path / "Symbola.ttf"), str(tmp_path / "HanaMinB.ttf")]
    _enterprise, assessment = firm_with_characters(questionnaire)
    with caplog.at_level(logging.WARNING, logger="surveys.reports.fonts"):
        data = firm_pdf(assessment, "zh-hans")
    text = squeeze(pdf_text(data))
    assert "济南\ufffd祥\ufffd机械有限公司" in text
    messages = [r.getMessage() for r in caplog.records if r.name == "surveys.reports.fonts"]
    assert any(str(tmp_path / "HanaMinB.ttf") in m and "not found" in m for m in messages), messages
    [document] = [m for m in messages if "no installed font has" in m]
    assert "U+20BB7" in document and "U+1F4E6" in document
    assert not {"HanaMinB", "Symbola"} & set(embedded_fonts(data))


# --- the helpers --------------------------------------------------------------------------------------


def test_text_the_main_font_has_is_escaped_as_before():
    assert esc("济南 <b>R&D</b>\n二行") == "济南 &lt;b&gt;R&amp;D&lt;/b&gt;<br/>二行"
    assert fonts.main_font_has("济南鲁华精密机械制造有限公司（第一轮）：“数实融合”，75 台。")


@needs_fallback_fonts
def test_runs_the_main_font_lacks_are_wrapped_in_the_first_fallback_font_that_has_them():
    markup = esc(f"a<{EXT_B}{EXT_B}>{EMOJI}\n")
    assert markup == (
        f'a&lt;<font name="{fonts.FALLBACK_PREFIX}HanaMinB">{EXT_B}{EXT_B}</font>&gt;'
        f'<font name="{fonts.FALLBACK_PREFIX}Symbola_hint">{EMOJI}</font><br/>'
    )
    assert [font.path for font in fonts.fallback_fonts()] == django_settings.JINAN_PDF_FALLBACK_FONT_PATHS
    assert fonts.take_missing_glyphs() == []


@needs_fallback_fonts
def test_an_invisible_character_without_a_glyph_is_left_out_and_a_missing_one_is_recorded():
    # Left out when the main font lacks them (WenQuanYi has the ZWJ, not U+FE0F): they draw nothing.
    drawn = "".join(run for _font, run in fonts.font_runs(f"a\u200db\ufe0f{EMOJI}\ufe0f"))
    assert drawn.replace("\u200d", "") == f"ab{EMOJI}"
    assert fonts.take_missing_glyphs() == []
    assert fonts.font_runs(f"x{NO_FONT}") == [(None, "x\ufffd")]
    assert fonts.take_missing_glyphs() == [0x10FFFD]
    assert fonts.take_missing_glyphs() == []  # taken once, for one document


@needs_fallback_fonts
def test_behind_the_cid_font_the_fallback_fonts_draw_what_lies_outside_the_bmp(settings, tmp_path):
    settings.JINAN_PDF_FONT_PATHS = [str(tmp_path / "missing.ttc")]
    assert fonts.pdf_font().name == fonts.FALLBACK_FONT_NAME
    assert esc("济南") == "济南"
    assert esc(f"济南{EXT_B}") == f'济南<font name="{fonts.FALLBACK_PREFIX}HanaMinB">{EXT_B}</font>'
