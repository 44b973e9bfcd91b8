"""The business register import (surveys/services/register.py) and its command (import_register)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.utils import translation
from openpyxl import Workbook

from surveys import text, uscc
from surveys.audit.models import AuditEvent
from surveys.models import RegisterEntry, sectors_encode
from surveys.reports import exports
from surveys.services import register
from surveys.services.enterprises import USCC_ERRORS
from surveys.services.register import RegisterFileError, register_import
from tests.model_factories import RegisterEntryFactory, register_uscc, run_command

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "register-sample.csv"
BAD = DATA / "register-bad.csv"
HEADER = ["统一社会信用代码", "企业名称", "区县代码", "行业代码", "企业规模", "主导产业链", "重点产业领域"]


def import_path(path: Path) -> register.RegisterImportResult:
    with path.open("rb") as handle:
        return register_import(file=handle)


def import_bytes(data: bytes) -> register.RegisterImportResult:
    return register_import(file=io.BytesIO(data))


def row(n: int, name: str = "", **values) -> list[str]:
    """A valid data row (overridable by column key)."""
    cells = {
        "uscc": register_uscc(n),
        "name": name or f"济南测试登记企业{n}",
        "district": "370112",
        "industry": "C34",
        "size_class": "small",
        "leading_chain": "EQUIP",
        "sectors": "",
    }
    cells.update(values)
    return list(cells.values())


def errors_by_row(result) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for error in result.errors:
        found.setdefault(error.row, []).append((error.column, error.reason))
    return found


# --- the sample and the bad file ------------------------------------------------------------------------


def test_the_sample_imports_and_a_second_run_changes_nothing():
    first = import_path(SAMPLE)
    assert (first.rows, first.created, first.updated, first.unchanged, first.errors) == (20, 20, 0, 0, [])
    assert RegisterEntry.objects.count() == 20
    steel = RegisterEntry.objects.get(name="山东泉城特钢有限公司")
    assert (steel.district, steel.industry, steel.size_class, steel.leading_chain) == (
        "370117",
        "C31",
        "large",
        "STEEL",
    )
    assert steel.sectors == ",materials,steel," and steel.sector_codes == ["materials", "steel"]
    assert RegisterEntry.objects.get(name="济南历山家具制造有限公司").leading_chain == ""
    stamps = dict(RegisterEntry.objects.values_list("uscc", "updated_at"))
    second = import_path(SAMPLE)
    assert (second.created, second.updated, second.unchanged, second.errors) == (0, 0, 20, [])
    assert dict(RegisterEntry.objects.values_list("uscc", "updated_at")) == stamps


def test_every_sample_code_passes_the_uscc_rule():
    with SAMPLE.open(encoding="utf-8") as handle:
        codes = [line[0] for line in csv.reader(handle)][1:]
    assert len(codes) == 20
    assert all(uscc.validate(code).is_valid and not uscc.validate(code).warnings for code in codes)


def test_bad_rows_are_reported_and_the_good_ones_imported():
    result = import_path(BAD)
    assert (result.rows, result.created, result.updated, result.unchanged) == (8, 2, 0, 0)
    assert result.invalid_rows == 6
    assert sorted(RegisterEntry.objects.values_list("name", flat=True)) == [
        "济南正确示例机械有限公司",
        "济南第二正确示例有限公司",
    ]
    errors = errors_by_row(result)
    assert errors[3] == [("统一社会信用代码", str(USCC_ERRORS[uscc.ERR_CHECK]))]
    assert errors[4] == [("区县代码", str(register.UNKNOWN_DISTRICT) % {"value": "370199"})]
    assert errors[5] == [("统一社会信用代码", str(register.DUPLICATE) % {"row": 2})]
    assert errors[6] == [("企业名称", str(register.FORMULA_LIKE))]
    assert errors[7] == [("企业名称", str(register.REQUIRED)), ("企业规模", str(register.REQUIRED))]
    assert errors[9][0][0] == "重点产业领域" and "aerospace" in errors[9][0][1]
    assert set(errors) == {3, 4, 5, 6, 7, 9}
    # Each error names the USCC as written.
    assert {e.row: e.uscc for e in result.errors}[5] == "913701123D0000018W"
    # The duplicate did not overwrite the first row (C34, not the duplicate's C35).
    assert RegisterEntry.objects.get(uscc="913701123D0000018W").industry == "C34"
    again = import_path(BAD)
    assert (again.created, again.updated, again.unchanged, again.invalid_rows) == (0, 0, 2, 6)


def test_the_reasons_are_in_the_active_language():
    with translation.override("en"):
        result = import_path(BAD)
    errors = errors_by_row(result)
    assert errors[4][0][0] == "District code"
    assert "370199" in errors[4][0][1] and "district" in errors[4][0][1].lower()
    assert errors[7][0] == ("Firm name", "Required: the cell is empty.")
    assert "row 2" in errors[5][0][1]
    assert "formula" in errors[6][0][1]
    assert all(not any("\u4e00" <= c <= "\u9fff" for c in reason) for _c, reason in sum(errors.values(), []))


def test_a_changed_row_is_updated_and_only_it():
    import_path(SAMPLE)
    rows = list(csv.reader(SAMPLE.read_text(encoding="utf-8").splitlines()))
    rows[3][1] = "济南华瑞生物制药股份有限公司"
    rows[5][6] = "power_equip;steel"
    before = dict(RegisterEntry.objects.values_list("uscc", "updated_at"))
    result = register_import(rows=rows)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 18)
    changed = RegisterEntry.objects.get(uscc=rows[3][0])
    assert changed.name == "济南华瑞生物制药股份有限公司" and changed.updated_at > before[rows[3][0]]
    assert RegisterEntry.objects.get(uscc=rows[5][0]).sectors == ",power_equip,steel,"
    after = dict(RegisterEntry.objects.values_list("uscc", "updated_at"))
    assert [code for code in after if after[code] != before[code]] == sorted([rows[3][0], rows[5][0]])


def test_rows_of_the_register_not_in_the_file_are_left_alone():
    kept = RegisterEntryFactory()
    import_path(SAMPLE)
    assert RegisterEntry.objects.filter(pk=kept.pk).exists()


# --- cells ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    ["=1+1", "+8613800000000", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", " =1+1", '=HYPERLINK("http://x","y")'],
)
def test_formula_like_text_is_refused_in_every_column(payload):
    for n, key in enumerate(("uscc", "name", "district", "sectors")):
        result = register_import(rows=[HEADER, row(n, **{key: payload})])
        assert result.created == 0
        assert [(e.column, e.reason) for e in result.errors] == [
            (str(register.COLUMNS_LABEL[key]), str(register.FORMULA_LIKE))
        ], key


def test_the_formula_rule_has_one_home():
    """The import refuses exactly what the exports neutralise: text.looks_like_formula is that rule."""
    assert exports.FORMULA_PREFIXES is text.FORMULA_PREFIXES
    samples = [prefix + "x" for prefix in text.FORMULA_PREFIXES] + ["济南=1", "x", "", " =1"]
    for sample in samples:
        assert (exports.neutralise(sample) != sample) == text.looks_like_formula(sample), sample
    assert all(text.looks_like_formula(prefix + "x") for prefix in text.FORMULA_PREFIXES)
    assert not text.looks_like_formula("济南=1") and not text.looks_like_formula(3)


def test_user_text_is_normalised():
    name = "济南\u200b精工\u202e机械\u3000有限公司 "
    result = register_import(rows=[HEADER, row(1, name=name)])
    assert result.created == 1
    assert RegisterEntry.objects.get().name == "济南精工机械 有限公司"


def test_codes_are_read_leniently():
    rows = [
        HEADER,
        row(1, district="历下区", industry="3411", size_class="小型", leading_chain="equip", sectors="精品钢；biomed"),
        row(
            2, district="３７０１０５", industry="c3899", size_class="Large", leading_chain="", sectors="steel, ic、nev"
        ),
        row(3, district="Lixia District", industry="OTHER", size_class="MICRO", sectors="Biomedicine|ic"),
    ]
    rows[1][0] = " " + rows[1][0][:6] + "-" + rows[1][0][6:].lower()  # pasted with a space, a dash, lower case
    result = register_import(rows=rows)
    assert result.errors == [] and result.created == 3
    first, second, third = RegisterEntry.objects.order_by("uscc")
    assert (first.uscc, first.district, first.industry, first.size_class, first.leading_chain) == (
        register_uscc(1),
        "370102",
        "C34",
        "small",
        "EQUIP",
    )
    assert first.sectors == sectors_encode(["steel", "biomed"])
    assert (second.district, second.industry, second.size_class, second.sectors) == (
        "370105",
        "C38",
        "large",
        ",ic,nev,steel,",
    )
    assert (third.district, third.industry, third.size_class, third.sectors) == (
        "370102",
        "OTHER",
        "micro",
        ",biomed,ic,",
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("industry", "B06", register.UNKNOWN_INDUSTRY),
        ("industry", "C99", register.UNKNOWN_INDUSTRY),
        ("size_class", "huge", register.UNKNOWN_SIZE),
        ("leading_chain", "SPACE", register.UNKNOWN_CHAIN),
        ("district", "370101", register.UNKNOWN_DISTRICT),
    ],
)
def test_unknown_codes(key, value, message):
    result = register_import(rows=[HEADER, row(1, **{key: value})])
    assert [e.column for e in result.errors] == [str(register.COLUMNS_LABEL[key])]
    assert result.errors[0].reason.startswith(str(message).split("%")[0])
    assert value in result.errors[0].reason


def test_a_name_too_long_and_each_uscc_rule():
    long_name = "济" * 101
    wrong = register_uscc(3)[:-1] + ("0" if register_uscc(3)[-1] != "0" else "1")
    result = register_import(
        rows=[HEADER, row(1, name=long_name), row(2, uscc="91370112ABC"), row(3, uscc=wrong), row(4, uscc="O" * 18)]
    )
    errors = errors_by_row(result)
    assert errors[2] == [("企业名称", str(register.TOO_LONG) % {"max": 100, "length": 101})]
    assert errors[3][0][0] == "统一社会信用代码" and "18" in errors[3][0][1]
    assert errors[4] == [("统一社会信用代码", str(USCC_ERRORS[uscc.ERR_CHECK]))]
    assert "O" in errors[5][0][1]


def test_every_duplicate_after_the_first_is_reported():
    rows = [HEADER, row(1), row(2), row(1, name="第二次"), row(1, name="第三次")]
    result = register_import(rows=rows)
    assert result.created == 2
    assert [(e.row, e.reason) for e in result.errors] == [
        (4, str(register.DUPLICATE) % {"row": 2}),
        (5, str(register.DUPLICATE) % {"row": 2}),
    ]
    assert RegisterEntry.objects.get(uscc=register_uscc(1)).name == "济南测试登记企业1"


def test_blank_rows_count_in_the_numbering_and_extra_columns_are_ignored():
    rows = [[], ["备注", *HEADER], ["x", *row(1)], ["", "", ""], ["y", *row(2, district="nowhere")]]
    result = register_import(rows=rows)
    assert result.rows == 2 and result.created == 1
    assert [e.row for e in result.errors] == [5]


# --- files ----------------------------------------------------------------------------------------------


def csv_bytes(rows, *, encoding="utf-8", delimiter=",") -> bytes:
    stream = io.StringIO()
    csv.writer(stream, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return stream.getvalue().encode(encoding)


def test_csv_with_a_byte_order_mark_in_gb18030_and_with_tabs():
    assert import_bytes(csv_bytes([HEADER, row(1)], encoding="utf-8-sig")).created == 1
    assert import_bytes(csv_bytes([HEADER, row(2)], encoding="gb18030")).created == 1
    english = ["Sectors", "USCC", "Name", "District code", "Industry code", "Size class", "Leading chain"]
    cells = row(3)
    assert import_bytes(csv_bytes([english, [cells[6], *cells[:6]]], delimiter="\t")).created == 1
    assert RegisterEntry.objects.get(uscc=register_uscc(2)).name == "济南测试登记企业2"


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for cells in rows:
        sheet.append(cells)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def test_xlsx_a_formula_cell_is_read_as_text_and_refused():
    rows = [HEADER, row(1), row(2, name='=HYPERLINK("http://x","y")'), row(3, district=370112), row(4, sectors="=A1")]
    result = import_bytes(xlsx_bytes(rows))
    assert (result.created, result.rows) == (2, 4)
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (3, "企业名称", str(register.FORMULA_LIKE)),
        (5, "重点产业领域", str(register.FORMULA_LIKE)),
    ]
    assert not RegisterEntry.objects.filter(name__startswith="=").exists()
    assert RegisterEntry.objects.get(uscc=register_uscc(3)).district == "370112"  # a number cell read as its code


def test_xlsx_with_stale_dimensions_is_read_to_its_last_row():
    """Some generators write a wrong <dimension> (read-only openpyxl would stop there): every row is read."""
    data = xlsx_bytes([HEADER, *(row(n) for n in range(1, 6))])
    stale = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(stale, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content, replaced = re.subn(rb'<dimension ref="[^"]+" ?/>', b'<dimension ref="A1:B2"/>', content)
                assert replaced == 1
            target.writestr(item, content)
    assert import_bytes(stale.getvalue()).created == 5


def foreign_zip() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return stream.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (foreign_zip(), register.FILE_NOT_XLSX),
        (b"", register.FILE_EMPTY),
        (b"\r\n\r\n", register.FILE_EMPTY),
        (b"PK\x03\x04 not really a zip", register.FILE_NOT_XLSX),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", register.FILE_OLD_XLS),
    ],
)
def test_files_that_cannot_be_read(data, message):
    with pytest.raises(RegisterFileError) as caught:
        import_bytes(data)
    assert caught.value.message == str(message)
    assert not RegisterEntry.objects.exists()


def test_of_two_headers_for_one_column_the_more_specific_is_read():
    header = ["区县", *HEADER, "行业"]
    cells = row(1)
    result = register_import(rows=[header, ["历下区", *cells, "通用设备制造业"]])
    assert result.errors == [] and result.created == 1
    entry = RegisterEntry.objects.get()
    assert (entry.district, entry.industry) == ("370112", "C34")  # from 区县代码 and 行业代码


def test_a_header_without_the_required_columns():
    with pytest.raises(RegisterFileError) as caught:
        import_bytes(csv_bytes([["统一社会信用代码", "企业名称", "行业"], row(1)[:3]]))
    assert caught.value.message == str(register.MISSING_COLUMNS) % {
        "columns": "区县代码、企业规模、主导产业链、重点产业领域"
    }
    with pytest.raises(RegisterFileError) as caught:
        import_bytes(csv_bytes([[*HEADER, " 企业 名称 "], row(1)]))
    assert caught.value.message == str(register.DUPLICATE_COLUMN) % {"column": "企业 名称"}


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(register, "MAX_ROWS", 3)
    with pytest.raises(RegisterFileError):
        register_import(rows=[HEADER, row(1), row(2), row(3)])
    assert not RegisterEntry.objects.exists()


def test_the_import_is_atomic(monkeypatch):
    """A database error in the middle leaves nothing half-written (the first batch is rolled back too)."""
    RegisterEntryFactory(uscc=register_uscc(1), name="旧名称")
    manager = RegisterEntry.objects
    original = manager.bulk_create
    calls = []

    def failing(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) > 1:
            raise DatabaseError("disk full")
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(manager, "bulk_create", failing)
    rows = [HEADER, row(1, name="新名称"), *(row(n) for n in range(2, 8))]
    with pytest.raises(DatabaseError):
        register_import(rows=rows, batch_size=2)
    assert calls == [2, 2]
    assert list(RegisterEntry.objects.values_list("name", flat=True)) == ["旧名称"]


# --- the command ----------------------------------------------------------------------------------------


def test_the_command_prints_the_counts_and_each_bad_row(tmp_path):
    out = run_command("import_register", str(BAD))
    assert "新增 2 家，更新 0 家，未变 0 家；6 行有误，未导入。" in out
    assert "第 4 行  913701123D0000042D  区县代码：“370199”不是济南市的区县代码" in out
    out = run_command("import_register", str(BAD), "--lang", "en", "--errors-out", str(tmp_path / "errors.csv"))
    assert "0 created, 0 updated, 2 unchanged; 6 rows not imported." in out
    assert "Row 4  913701123D0000042D  District code: " in out
    report = (tmp_path / "errors.csv").read_bytes()
    assert report.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0] == ["Row", "Unified Social Credit Code (USCC)", "Column", "Reason"]
    assert len(lines) == 1 + 7  # row 7 has two errors
    assert lines[1][:2] == ["3", "913701123D00000340"]
    event = AuditEvent.objects.filter(action=AuditEvent.IMPORT).latest("id")
    assert event.detail["file"] == "register-bad.csv" and "6 rows not imported" in event.detail["result"]


def test_the_command_neutralises_the_error_report(tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes([HEADER, row(1, uscc="=cmd|'/c calc'!A1")]))
    call_command("import_register", str(path), "--errors-out", str(tmp_path / "errors.csv"), stdout=io.StringIO())
    lines = list(csv.reader(io.StringIO((tmp_path / "errors.csv").read_text(encoding="utf-8-sig"))))
    assert lines[1][1] == "'=cmd|'/c calc'!A1"


def test_the_command_fails_only_when_the_file_cannot_be_read(tmp_path):
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("import_register", str(tmp_path / "missing.csv"), stdout=io.StringIO())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(CommandError, match=str(register.FILE_NOT_XLSX)):
        call_command("import_register", str(broken), stdout=io.StringIO())
    call_command("import_register", str(BAD), stdout=io.StringIO())  # bad rows: no error


@pytest.mark.django_db
def test_the_registers_counts_follow_imports_and_deletions():
    """SummaryRegister (coverage's registered firms) is recomputed in the transaction of every import or deletion
    that changes a row; the cache marker changes with it; the check finds nothing after each."""
    from surveys.models import SummaryRegister
    from surveys.services import summaries_differences

    header = ["统一社会信用代码", "企业名称", "区县代码", "行业代码", "企业规模", "主导产业链", "重点产业领域"]
    codes = [uscc.with_check_character(f"9137010{n:010d}"[:17]) for n in range(1, 4)]

    def counts(grain: str = "district") -> dict:
        return {
            (row.district, row.sector): row.firms
            for row in SummaryRegister.objects.filter(grain=grain, industry="*" if grain == "district" else "C34")
        }

    register_import(
        rows=[
            header,
            [codes[0], "甲", "370112", "C34", "small", "", "steel"],
            [codes[1], "乙", "370112", "C34", "small", "", "steel；ic"],
            [codes[2], "丙", "370102", "C34", "large", "IT", ""],
        ]
    )
    # A row with two tags counts in each and in their pair (the firms of one tag in the other).
    steel_ic = {("370112", "steel|ic"): 1}
    assert counts() == {("370112", ""): 2, ("370112", "steel"): 2, ("370112", "ic"): 1, ("370102", ""): 1} | steel_ic
    assert summaries_differences().ok
    marker = register_fingerprint()
    register_import(rows=[header, [codes[1], "乙二", "370102", "C34", "small", "", "ic"]])
    assert counts() == {("370112", ""): 1, ("370112", "steel"): 1, ("370102", ""): 2, ("370102", "ic"): 1}
    assert register_fingerprint() != marker and summaries_differences().ok
    assert register.register_delete(usccs=[codes[0], codes[0]]) == 1
    assert counts() == {("370102", ""): 2, ("370102", "ic"): 1}
    assert summaries_differences().ok


def register_fingerprint():
    from surveys.analytics.coverage import register_fingerprint as fingerprint

    return fingerprint()


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("zh-hans", "新增 12,345 家，更新 1,002 家，未变 60,000 家；0 行有误，未导入。"),
        ("en", "12,345 created, 1,002 updated, 60,000 unchanged; 0 rows not imported."),
    ],
)
def test_the_import_summary_groups_its_counts_as_the_pages_do(language, sentence):
    from django.utils.translation import override

    from surveys.services.register import RegisterImportResult

    result = RegisterImportResult(rows=73347, created=12345, updated=1002, unchanged=60000)
    with override(language):
        assert result.summary() == sentence
