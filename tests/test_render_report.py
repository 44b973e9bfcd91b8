"""python manage.py render_report: a firm's round as a PDF file."""

from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from surveys import services
from surveys.management.commands import render_report
from tests import factories
from tests.model_factories import EnterpriseFactory, MembershipFactory, questionnaire
from tests.reports.conftest import submit_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm():
    """A firm with two submitted rounds and an open draft, on the small test questionnaire."""
    questionnaire()
    answers = factories.uniform_answers(factories.definition_dict(), 2)
    enterprise = EnterpriseFactory(name="济南报告测试有限公司")
    user = MembershipFactory(enterprise=enterprise).user
    submit_round(enterprise=enterprise, user=user, answers=answers, label="2025 全年")
    submit_round(enterprise=enterprise, user=user, answers={**answers, "P1.1": 4}, label="2026 第一轮")
    services.assessment_start(enterprise=enterprise, user=user, label="2026 第二轮")
    return enterprise


def run(*args) -> str:
    out = StringIO()
    call_command("render_report", *args, stdout=out)
    return out.getvalue()


def pdf_text(path) -> str:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_writes_the_latest_submitted_round_by_default(firm, tmp_path):
    out = tmp_path / "report.pdf"
    message = run("--uscc", firm.uscc, "--out", str(out))
    assert message.startswith(f"wrote {out} (")
    assert f"{firm.uscc}-2026 第一轮.pdf" in message
    text = pdf_text(out)
    assert "2026 第一轮" in text and "济南报告测试有限公司" in text
    assert "维度1" in text  # Chinese by default


def test_a_named_round_in_english(firm, tmp_path):
    out = tmp_path / "report-en.pdf"
    run("--uscc", firm.uscc.lower(), "--round", "2025 全年", "--lang", "en", "--out", str(out))
    text = pdf_text(out)
    assert "2025 全年" in text and "Dimension 1" in text and "Countermeasure CM1" in text


def test_unknown_uscc(db, tmp_path):
    with pytest.raises(CommandError, match="no firm with USCC '91370100MA3C0A1B7D'"):
        run("--uscc", "91370100MA3C0A1B7D", "--out", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_unknown_round_lists_the_firms_rounds(firm, tmp_path):
    with pytest.raises(CommandError) as error:
        run("--uscc", firm.uscc, "--round", "2024", "--out", str(tmp_path / "x.pdf"))
    assert str(error.value) == render_report.UNKNOWN_ROUND.format(
        uscc=firm.uscc, label="2024", labels="'2026 第二轮', '2026 第一轮', '2025 全年'"
    )


def test_a_draft_round_has_no_report(firm, tmp_path):
    with pytest.raises(CommandError) as error:
        run("--uscc", firm.uscc, "--round", "2026 第二轮", "--out", str(tmp_path / "x.pdf"))
    assert str(error.value) == render_report.DRAFT_ROUND.format(uscc=firm.uscc, label="2026 第二轮")
    assert not (tmp_path / "x.pdf").exists()


def test_a_firm_with_only_a_draft(tmp_path):
    questionnaire()
    enterprise = EnterpriseFactory()
    services.assessment_start(enterprise=enterprise, user=MembershipFactory(enterprise=enterprise).user)
    with pytest.raises(CommandError) as error:
        run("--uscc", enterprise.uscc, "--out", str(tmp_path / "x.pdf"))
    assert str(error.value) == render_report.NO_SUBMITTED_ROUND.format(uscc=enterprise.uscc)


def test_an_unsupported_language_is_refused(firm, tmp_path):
    with pytest.raises(CommandError, match="invalid choice: 'fr'"):
        run("--uscc", firm.uscc, "--lang", "fr", "--out", str(tmp_path / "x.pdf"))


def test_an_unwritable_output_is_a_command_error(firm, tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        run("--uscc", firm.uscc, "--out", str(tmp_path / "missing-dir" / "x.pdf"))
