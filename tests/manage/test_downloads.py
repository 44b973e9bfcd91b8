"""Every download goes through surveys/reports/http.py: an attachment named in UTF-8 (RFC 5987) with an ASCII
fallback, that no cache keeps (``Cache-Control: private, no-store``): the firm's own PDF as much as the
administrators' PDFs and exports, streamed or not."""

import io

import pytest
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import reverse

from surveys.reports.http import attachment

from .conftest import submitted_firm

pytestmark = pytest.mark.django_db

FIRM_ROUND = "2026 第一轮"


def assert_private_attachment(response) -> None:
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and "; filename*=UTF-8''" in disposition
    assert disposition.isascii()


@pytest.fixture
def firm_round(questionnaire):
    return submitted_firm(questionnaire, district="370112", label=FIRM_ROUND)


def test_the_firms_own_pdf_is_a_private_attachment(client, firm_round):
    enterprise, assessment = firm_round
    client.force_login(enterprise.memberships.get().user)
    response = client.get(reverse("surveys:report", args=[assessment.pk]))
    assert_private_attachment(response)
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    # The Chinese round label is in the UTF-8 name; the fallback keeps the ASCII part.
    assert f'filename="{enterprise.uscc}-2026.pdf"' in response["Content-Disposition"]
    assert "%E7%AC%AC%E4%B8%80%E8%BD%AE.pdf" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("round_report", HttpResponse),
        ("city_report", HttpResponse),
        ("export:firms.csv", StreamingHttpResponse),
        ("export:answers.xlsx", FileResponse),
        ("export:aggregates.csv", StreamingHttpResponse),
        ("audit_export", StreamingHttpResponse),
    ],
)
def test_every_administrators_download_is_a_private_attachment(client, city_admin, firm_round, url, kind):
    enterprise, assessment = firm_round
    client.force_login(city_admin)
    if url == "round_report":
        path = reverse("manage:round_report", args=[enterprise.pk, assessment.pk])
    elif url.startswith("export:"):
        path = reverse("manage:export", args=url.removeprefix("export:").split("."))
    else:
        path = reverse(f"manage:{url}")
    response = client.get(path)
    assert type(response) is kind
    assert_private_attachment(response)
    if response.streaming:
        assert b"".join(response.streaming_content)


def test_attachment_takes_bytes_text_pieces_or_an_open_file():
    made = {
        "bytes": attachment(b"%PDF", filename="报告.pdf", content_type="application/pdf"),
        "pieces": attachment(iter(["\ufeffa,b\r\n", "1,2\r\n"]), filename="表.csv", content_type="text/csv"),
        "file": attachment(io.BytesIO(b"PK"), filename="表.xlsx", content_type="application/octet-stream"),
    }
    assert type(made["bytes"]) is HttpResponse and made["bytes"].content == b"%PDF"
    assert type(made["pieces"]) is StreamingHttpResponse
    assert b"".join(made["pieces"].streaming_content).decode("utf-8") == "\ufeffa,b\r\n1,2\r\n"
    assert type(made["file"]) is FileResponse and b"".join(made["file"].streaming_content) == b"PK"
    for response in made.values():
        assert_private_attachment(response)
    # Without a fallback named by the caller, the ASCII fallback is derived from the name.
    assert made["bytes"]["Content-Disposition"].startswith('attachment; filename="report.pdf"; ')
