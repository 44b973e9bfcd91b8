"""The business register upload page (/manage/register/): city administrators only, the result counts, the bad
rows, the error report as CSV, the size limit, CSRF and the audit log."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from surveys.audit.models import AuditEvent
from surveys.manage import forms as manage_forms
from surveys.models import RegisterEntry
from surveys.scopes import ROLE_DISTRICT
from surveys.services import register

from .conftest import DISTRICT_SCOPE, make_admin

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
REGISTER = reverse("manage:register")


@pytest.fixture(autouse=True)
def _reports_in_tmp(settings, tmp_path):
    """The error reports are written under MEDIA_ROOT: a fresh directory per test."""
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_file(client, path: Path, **extra):
    return client.post(REGISTER, {"file": upload(path.name, path.read_bytes())}, **extra)


def report_lines(client, response) -> list[list[str]]:
    token = response.context["report_token"]
    download = client.get(reverse("manage:register_errors", args=[token]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    data = b"".join(download.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_page_explains_the_columns(client, city_admin):
    client.force_login(city_admin)
    response = client.get(REGISTER)
    assert response.status_code == 200
    page = response.content.decode()
    for column in register.COLUMNS:
        assert str(column.label) in page and str(column.help) in page
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page
    assert "cnc_robot" in page  # the sector codes are listed
    # The admin navigation links it for the city.
    assert f'href="{REGISTER}"' in client.get(reverse("manage:dashboard")).content.decode()


def test_district_administrators_get_403_and_no_link(client, roles, questionnaire):
    client.force_login(make_admin(ROLE_DISTRICT, DISTRICT_SCOPE))
    assert client.get(REGISTER).status_code == 403
    assert post_file(client, DATA / "register-sample.csv").status_code == 403
    assert not RegisterEntry.objects.exists()
    assert f'href="{REGISTER}"' not in client.get(reverse("manage:dashboard")).content.decode()


def test_an_upload_shows_the_counts_the_bad_rows_and_offers_the_report(client, city_admin):
    client.force_login(city_admin)
    response = post_file(client, DATA / "register-bad.csv")
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged, result.invalid_rows) == (2, 0, 0, 6)
    page = response.content.decode()
    assert "新增 2 家，更新 0 家，未变 0 家；6 行有误，未导入。" in page
    assert "“370199”不是济南市的区县代码" in page
    assert "=HYPERLINK" not in page or "&quot;" in page  # shown escaped, never as markup
    lines = report_lines(client, response)
    assert lines[0] == ["行号", "统一社会信用代码", "列", "原因"]
    assert [line[0] for line in lines[1:]] == ["3", "4", "5", "6", "7", "7", "9"]
    assert lines[3][2:] == ["统一社会信用代码", str(register.DUPLICATE) % {"row": 2}]
    assert RegisterEntry.objects.count() == 2
    again = post_file(client, DATA / "register-bad.csv")
    assert "新增 0 家，更新 0 家，未变 2 家；6 行有误，未导入。" in again.content.decode()
    event = AuditEvent.objects.filter(action=AuditEvent.IMPORT).latest("id")
    assert event.user == city_admin and event.success
    assert event.detail["file"] == "register-bad.csv" and event.detail["side"] == "manage"
    assert "6 行有误" in event.detail["result"]


def test_the_error_report_neutralises_formula_like_cells(client, city_admin):
    client.force_login(city_admin)
    header = ",".join(register.COLUMNS[n].headers[0] for n in range(7))
    data = f"{header}\r\n\"=cmd|' /C calc'!A0\",@SUM(1),370112,C34,small,,\r\n".encode()
    response = client.post(REGISTER, {"file": upload("register.csv", data)})
    lines = report_lines(client, response)
    assert lines[1][1] == "'=cmd|' /C calc'!A0"
    assert {line[3] for line in lines[1:]} == {str(register.FORMULA_LIKE)}


def test_an_upload_in_english(client, city_admin):
    client.force_login(city_admin)
    response = post_file(client, DATA / "register-bad.csv", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "2 created, 0 updated, 0 unchanged; 6 rows not imported." in page
    assert "is not the code of a Jinan district" in page
    assert report_lines(client, response)[0] == ["Row", "Unified Social Credit Code (USCC)", "Column", "Reason"]


def test_a_file_too_large_or_of_another_type_is_refused(client, city_admin, monkeypatch):
    client.force_login(city_admin)
    response = client.post(REGISTER, {"file": upload("register.pdf", b"%PDF-1.4")})
    assert response.status_code == 200
    assert "只能导入 .csv 或 .xlsx 文件。" in response.content.decode()
    monkeypatch.setattr(manage_forms, "REGISTER_MAX_UPLOAD_MB", 0)
    response = post_file(client, DATA / "register-sample.csv")
    assert "文件超过 0 MB 的上限" in response.content.decode()
    assert response.context["result"] is None
    assert not RegisterEntry.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.IMPORT).exists()


def test_an_unreadable_file_is_reported_and_logged_as_failed(client, city_admin):
    client.force_login(city_admin)
    response = client.post(REGISTER, {"file": upload("register.xlsx", b"PK\x03\x04 broken")})
    assert response.status_code == 200
    assert str(register.FILE_NOT_XLSX) in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.IMPORT)
    assert not event.success and event.detail["file"] == "register.xlsx"


def test_no_file(client, city_admin):
    client.force_login(city_admin)
    response = client.post(REGISTER, {})
    assert response.status_code == 200 and response.context["form"].errors["file"]


def test_csrf_is_enforced(city_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(city_admin)
    response = client.post(
        REGISTER, {"file": upload("register-sample.csv", (DATA / "register-sample.csv").read_bytes())}
    )
    assert response.status_code == 403
    assert not RegisterEntry.objects.exists()


def test_the_report_download_is_for_city_administrators_and_known_tokens(client, city_admin, roles):
    client.force_login(city_admin)
    token = post_file(client, DATA / "register-bad.csv").context["report_token"]
    assert client.get(reverse("manage:register_errors", args=["0" * 32])).status_code == 404
    assert client.get(reverse("manage:register_errors", args=["not-a-token"])).status_code == 404
    client.force_login(make_admin(ROLE_DISTRICT, DISTRICT_SCOPE))
    assert client.get(reverse("manage:register_errors", args=[token])).status_code == 403
    # A clean import writes no report.
    client.force_login(city_admin)
    assert post_file(client, DATA / "register-sample.csv").context["report_token"] is None
