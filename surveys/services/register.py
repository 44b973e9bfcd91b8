"""The business register (工商登记名单): importing it from CSV or XLSX, row by row validated, upserted by USCC.

The register is coverage's denominator (surveys/analytics/coverage.py): the manufacturing firms of the city,
whether or not they have signed up. A row links to the firm (``Enterprise``) with the same USCC.

File: a header row, then one firm per row; the columns in any order, named in Chinese or English
(:data:`COLUMNS`; other columns are ignored; of two headers naming one column, say 区县代码 and 区县, the one
listed first below is read), every one of the seven present:

=================  ===========================================  ===============================================
column             header (any of)                              cell
=================  ===========================================  ===============================================
USCC               统一社会信用代码, 信用代码, USCC             18 characters, check character verified
                                                                (surveys/uscc.py); required
name               企业名称, 名称, name, firm name              up to 100 characters; required
district           区县代码, 区县, district, district code      GB/T 2260 code (370102 …) or the district's
                                                                name; required
industry           行业代码, 行业, industry, industry code      GB/T 4754 code of the division (C34), or a
                                                                deeper code (C3411, 3411: its division), or
                                                                OTHER; required
size class         企业规模, 规模, size, size class             large, medium, small, micro (or 大型 …);
                                                                required
leading chain      主导产业链, 产业链, leading chain, chain     IT, EQUIP, STEEL, BIO, OTHER (or the name);
                                                                may be empty
sector tags        重点产业领域, 产业领域, sectors, sector tags  codes of choices.SECTORS (steel, biomed …) or
                                                                their names, separated by ; ；, ， 、 or |;
                                                                may be empty
=================  ===========================================  ===============================================

Codes are read case-insensitively, full-width characters as half-width. A CSV file is UTF-8 (with or without a
byte-order mark) or, failing that, GB18030 (what Excel on a Chinese Windows writes); the delimiter is the
comma, the tab or the semicolon, whichever the header row uses. An XLSX file is read from its first sheet,
values only: a cell holding a formula is not evaluated but read as its text ("=…"), and refused as
formula-like like any other text starting with = + - @, a tab or a carriage return (surveys/text.py's
``looks_like_formula``, the rule the exports neutralise by).

Rows are numbered as a spreadsheet shows them (the header is row 1, blank rows count but are skipped). A row
with any error is not imported; each error names the row, the USCC as written, the column and the reason in
the active language. A USCC met again later in the file is an error on each later row ("duplicates row N"):
the first row with the code is the one imported (when it is valid itself), so that a firm listed twice is not
lost, and the report says which row was kept.

Valid rows are upserted by USCC: new codes created, existing ones updated only where a value differs, so the
same file imported twice reports "0 created, 0 updated, N unchanged". The import is one transaction: a
database error leaves the register as it was. Rows are not ``full_clean()``-ed one by one: every field is
checked above against the same choices, and per-row model validation would double a 100,000-row import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import choices
from ..models import RegisterEntry, sectors_encode
from ..text import clean_user_text, format_count, join_list, looks_like_formula
from .enterprises import uscc_report
from .errors import ServiceError
from .summaries import (
    MOVE_LIMIT,
    register_sector_firms,
    summaries_enterprise_add,
    summaries_enterprise_remove,
    summaries_rebuild,
    summaries_register_recount,
)

NAME_MAX_LENGTH = RegisterEntry._meta.get_field("name").max_length or 100
SECTORS_MAX_LENGTH = RegisterEntry._meta.get_field("sectors").max_length or 200
MAX_ROWS = 500_000  # rows of a file, the header included
BATCH_SIZE = 2000  # rows per INSERT / UPDATE (Django splits them further where the database needs it: SQLite)
LOOKUP_CHUNK = 5000  # codes per "uscc IN (…)", at most the database's parameter limit (SQLite's 999)
VALUE_SHOWN = 40  # characters of a bad value quoted in a reason

# The stored fields a row sets (besides the USCC), in the order of _Row's values.
FIELDS = ("name", "district", "industry", "size_class", "leading_chain", "sectors")

# --- messages (Chinese source, translated in surveys/locale) --------------------------------------------

REQUIRED = gettext_lazy("必填，不能为空。")
FORMULA_LIKE = gettext_lazy(
    "内容以 =、+、-、@、制表符或回车开头，电子表格可能把它当作公式执行，因此未导入。请去掉开头的这些字符。"
)
TOO_LONG = gettext_lazy("超过 %(max)d 个字符（现有 %(length)d 个）。")
UNKNOWN_DISTRICT = gettext_lazy("“%(value)s”不是济南市的区县代码（GB/T 2260，例如 370102 历下区）。")
UNKNOWN_INDUSTRY = gettext_lazy("“%(value)s”不是制造业的行业代码（GB/T 4754 大类，例如 C34；非制造业填 OTHER）。")
UNKNOWN_SIZE = gettext_lazy("“%(value)s”不是企业规模代码（可填：%(codes)s）。")
UNKNOWN_CHAIN = gettext_lazy("“%(value)s”不是主导产业链代码（可填：%(codes)s，或留空）。")
UNKNOWN_SECTORS = gettext_lazy("未知的重点产业领域：%(values)s（可填：%(codes)s，或留空）。")
DUPLICATE = gettext_lazy("与第 %(row)d 行的统一社会信用代码重复；只导入该代码第一次出现的行。")

FILE_EMPTY = gettext_lazy("文件中没有表头行，也没有数据。")
FILE_NOT_XLSX = gettext_lazy("无法读取该 Excel 文件：文件已损坏，或不是 .xlsx 格式。")
FILE_OLD_XLS = gettext_lazy("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV（UTF-8）后再导入。")
FILE_ENCODING = gettext_lazy("无法识别该 CSV 文件的编码，请另存为 UTF-8 或 GB18030 编码后再导入。")
FILE_CSV = gettext_lazy("CSV 文件格式有误（第 %(row)d 行附近），无法读取。")
FILE_TOO_MANY_ROWS = gettext_lazy("文件超过 %(max)s 行，请拆分后分批导入。")
MISSING_COLUMNS = gettext_lazy("表头缺少以下列：%(columns)s。列名可用中文或英文，见页面上的说明。")
DUPLICATE_COLUMN = gettext_lazy("表头中“%(column)s”这一列出现了不止一次。")


class RegisterFileError(ServiceError):
    """The file cannot be read at all (not a CSV/XLSX file, an unknown encoding, a header row without the
    required columns): nothing was imported. ``message`` is translated."""


# --- columns --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterColumn:
    key: str
    label: Promise  # as errors and the page name the column
    headers: tuple[str, ...]  # accepted header names, compared by _header_key()
    required: bool  # the cell may not be empty
    help: Promise  # what the cell holds (the upload page's table of columns)


COLUMNS = (
    RegisterColumn(
        "uscc",
        gettext_lazy("统一社会信用代码"),
        ("统一社会信用代码", "社会信用代码", "信用代码", "USCC", "unified social credit code", "credit code"),
        True,
        gettext_lazy("18位代码，核对第18位校验码；可带空格或分隔符。"),
    ),
    RegisterColumn(
        "name",
        gettext_lazy("企业名称"),
        ("企业名称", "名称", "单位名称", "name", "firm name", "company name", "enterprise name"),
        True,
        gettext_lazy("不超过100个字符。"),
    ),
    RegisterColumn(
        "district",
        gettext_lazy("区县代码"),
        ("区县代码", "区县", "所在区县", "行政区划代码", "district", "district code"),
        True,
        gettext_lazy("GB/T 2260 区县代码（如 370102）或区县名称（历下区）。"),
    ),
    RegisterColumn(
        "industry",
        gettext_lazy("行业代码"),
        ("行业代码", "行业", "所属行业", "国民经济行业代码", "industry", "industry code"),
        True,
        gettext_lazy("GB/T 4754 制造业大类代码（如 C34）；更细的代码（C3411、3411）按所属大类；非制造业填 OTHER。"),
    ),
    RegisterColumn(
        "size_class",
        gettext_lazy("企业规模"),
        ("企业规模", "规模", "size", "size class"),
        True,
        gettext_lazy("large、medium、small、micro（或 大型、中型、小型、微型）。"),
    ),
    RegisterColumn(
        "leading_chain",
        gettext_lazy("主导产业链"),
        ("主导产业链", "产业链", "主导产业链代码", "leading chain", "leading chain code", "chain"),
        False,
        gettext_lazy("IT、EQUIP、STEEL、BIO、OTHER（或产业链名称）；可留空。"),
    ),
    RegisterColumn(
        "sectors",
        gettext_lazy("重点产业领域"),
        ("重点产业领域", "产业领域", "领域标签", "sectors", "sector", "sector tags"),
        False,
        gettext_lazy("领域代码（如 steel、cnc_robot、biomed）或名称，多个用 ; ， 、 或 | 分隔；可留空。"),
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

_HEADER_NOISE_RE = re.compile(r"[\s_\-*:：]+")
_SECTOR_SEPARATORS_RE = re.compile(r"[;；,，、|]+")


def _header_key(text: str) -> str:
    return _HEADER_NOISE_RE.sub("", unicodedata.normalize("NFKC", text).casefold())


# Header → (column key, rank): a column's names are listed most specific first, so that a file with both
# "区县代码" and "区县" (the district's name beside its code) reads the code.
_HEADER_LOOKUP = {
    _header_key(header): (column.key, rank) for column in COLUMNS for rank, header in enumerate(column.headers)
}


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRowError:
    row: int  # as a spreadsheet numbers it (the header is row 1)
    uscc: str  # as written in the file (cleaned; a long text cut at VALUE_SHOWN characters), "" when empty
    column: str  # the column's label in the active language
    reason: str  # in the active language


@dataclass(frozen=True)
class RegisterImportResult:
    rows: int  # data rows read (blank rows not counted)
    created: int
    updated: int
    unchanged: int
    errors: list[RegisterRowError] = field(default_factory=list)

    @property
    def invalid_rows(self) -> int:
        """Rows not imported (a row may have several errors)."""
        return len({error.row for error in self.errors})

    def summary(self) -> str:
        """The counts as one sentence in the active language: "新增 3 家，更新 0 家，未变 17 家；5 行有误，未导入。"."""
        return _("新增 %(created)s 家，更新 %(updated)s 家，未变 %(unchanged)s 家；%(invalid)s 行有误，未导入。") % {
            "created": format_count(self.created),
            "updated": format_count(self.updated),
            "unchanged": format_count(self.unchanged),
            "invalid": format_count(self.invalid_rows),
        }


# --- reading files ----------------------------------------------------------------------------------------

Cell = object
RawRow = Sequence[Cell]


def _read_rows(file: IO[bytes]) -> Iterator[RawRow]:
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _xlsx_rows(file)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2 compound file: .xls (BIFF)
        raise RegisterFileError(str(FILE_OLD_XLS))
    return _csv_rows(file.read())


def _xlsx_rows(file: IO[bytes]) -> Iterator[RawRow]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        with warnings.catch_warnings():
            # "Workbook contains no default style" and the like: about formatting, which is not read.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            # data_only=False (the default): a formula cell reads as its formula text, never as a value.
            book = load_workbook(file, read_only=True, data_only=False)
    except Exception as exc:  # whatever openpyxl makes of a damaged or foreign ZIP file: unreadable
        raise RegisterFileError(str(FILE_NOT_XLSX)) from exc
    if not book.worksheets:
        book.close()
        raise RegisterFileError(str(FILE_NOT_XLSX))
    sheet = book.worksheets[0]
    # The stored dimensions may be wrong (some generators write none, or a stale one): read every row there is.
    sheet.reset_dimensions()

    def rows() -> Iterator[RawRow]:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
                yield from sheet.iter_rows(values_only=True)
        except Exception as exc:  # a damaged sheet, found while reading it
            raise RegisterFileError(str(FILE_NOT_XLSX)) from exc
        finally:
            book.close()

    return rows()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.decode(data, encoding)
        except UnicodeDecodeError:
            continue
    raise RegisterFileError(str(FILE_ENCODING))


def _csv_rows(data: bytes) -> Iterator[RawRow]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[RawRow]:
        n = 0
        try:
            for n, row in enumerate(reader, start=1):  # noqa: B007 (n is reported on an error)
                yield row
        except csv.Error as exc:
            raise RegisterFileError(str(FILE_CSV) % {"row": n + 1}) from exc

    return rows()


def _cell_text(value: Cell) -> str:
    """A cell as text: numbers without a trailing ".0" (a code typed into a number cell), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# --- codes ------------------------------------------------------------------------------------------------


def _code_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _lookup(pairs: Sequence[tuple[str, object]]) -> dict[str, str]:
    """Code or name (Chinese or English) → code, by _code_key()."""
    found: dict[str, str] = {}
    for language in (choices.LANGUAGE_EN, choices.LANGUAGE_ZH):
        with translation.override(language):
            found.update({_code_key(str(label)): code for code, label in pairs})
    found.update({_code_key(code): code for code, _label in pairs})
    return found


def _industry_code(text: str, industries: dict[str, str]) -> str | None:
    """C34, c34, C3411, 3411, 34 → C34 (GB/T 4754 division numbers are unique across its sections); OTHER or
    a division's name as such."""
    key = _code_key(text)
    if key in industries:
        return industries[key]
    digits = key.removeprefix("c")
    if digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 4:
        return industries.get(f"c{digits[:2]}")
    return None


@dataclass
class _Codes:
    """The lookups of one import, built once (labels in both languages)."""

    districts: dict[str, str]
    industries: dict[str, str]
    sizes: dict[str, str]
    chains: dict[str, str]
    sectors: dict[str, str]

    @classmethod
    def build(cls) -> _Codes:
        return cls(
            districts=_lookup(choices.DISTRICTS),
            industries=_lookup(choices.INDUSTRIES),
            sizes=_lookup(choices.SIZE_CLASSES),
            chains=_lookup(choices.LEADING_CHAINS),
            sectors=_lookup(choices.SECTORS),
        )


def _quoted(value: str) -> str:
    return value if len(value) <= VALUE_SHOWN else value[: VALUE_SHOWN - 1] + "…"


def _codes_list(pairs: Sequence[tuple[str, object]]) -> str:
    return join_list(code for code, _label in pairs)


# --- rows -------------------------------------------------------------------------------------------------

_Values = tuple[str, str, str, str, str, str, str]  # uscc, then FIELDS


@dataclass
class _RowCheck:
    """One data row being validated: its cleaned cells and the errors found."""

    number: int
    cells: dict[str, str]
    errors: list[RegisterRowError] = field(default_factory=list)

    def fail(self, key: str, reason: str) -> None:
        code = _quoted(self.cells.get("uscc", ""))
        self.errors.append(RegisterRowError(self.number, code, str(COLUMNS_LABEL[key]), reason))


COLUMNS_LABEL = {column.key: column.label for column in COLUMNS}


def _header(row: RawRow) -> dict[str, int]:
    """Column key → position, from the header row. Of two headers naming one column the more specific is read
    ("区县代码" before "区县"); RegisterFileError when a column is missing, or named twice alike."""
    found: dict[str, tuple[int, int]] = {}  # key → (rank, position)
    for index, cell in enumerate(row):
        match = _HEADER_LOOKUP.get(_header_key(_cell_text(cell)))
        if match is None:
            continue
        key, rank = match
        if key in found and found[key][0] == rank:
            raise RegisterFileError(str(DUPLICATE_COLUMN) % {"column": clean_user_text(_cell_text(cell))})
        if key not in found or rank < found[key][0]:
            found[key] = (rank, index)
    missing = [str(column.label) for column in COLUMNS if column.key not in found]
    if missing:
        raise RegisterFileError(str(MISSING_COLUMNS) % {"columns": join_list(missing)})
    return {key: index for key, (_rank, index) in found.items()}


def _check_row(number: int, row: RawRow, positions: dict[str, int], codes: _Codes) -> _RowCheck:
    raw = {key: _cell_text(row[index]) if index < len(row) else "" for key, index in positions.items()}
    check = _RowCheck(number, {key: clean_user_text(value) for key, value in raw.items()})
    usable: dict[str, str] = {}
    for column in COLUMNS:
        value = check.cells[column.key]
        if looks_like_formula(raw[column.key]) or looks_like_formula(value):
            check.fail(column.key, str(FORMULA_LIKE))
        elif not value and column.required:
            check.fail(column.key, str(REQUIRED))
        else:
            usable[column.key] = value
    for key, validate in _VALIDATORS.items():
        if key in usable:
            reason = validate(usable[key], codes, check)
            if reason:
                check.fail(key, reason)
    return check


def _validate_uscc(value: str, codes: _Codes, check: _RowCheck) -> str:
    report = uscc_report(value)
    if report.errors:
        return report.errors[0]
    check.cells["uscc_code"] = report.code
    return ""


def _validate_name(value: str, codes: _Codes, check: _RowCheck) -> str:
    if len(value) > NAME_MAX_LENGTH:
        return str(TOO_LONG) % {"max": NAME_MAX_LENGTH, "length": len(value)}
    return ""


def _validate_choice(
    key: str, lookup: Callable[[_Codes], dict[str, str]], message: Promise, pairs: Sequence[tuple[str, object]]
) -> Callable[[str, _Codes, _RowCheck], str]:
    def validate(value: str, codes: _Codes, check: _RowCheck) -> str:
        if not value:
            check.cells[f"{key}_code"] = ""
            return ""
        code = lookup(codes).get(_code_key(value))
        if code is None:
            return str(message) % {"value": _quoted(value), "codes": _codes_list(pairs)}
        check.cells[f"{key}_code"] = code
        return ""

    return validate


def _validate_industry(value: str, codes: _Codes, check: _RowCheck) -> str:
    code = _industry_code(value, codes.industries)
    if code is None:
        return str(UNKNOWN_INDUSTRY) % {"value": _quoted(value)}
    check.cells["industry_code"] = code
    return ""


def _validate_sectors(value: str, codes: _Codes, check: _RowCheck) -> str:
    parts = [part.strip() for part in _SECTOR_SEPARATORS_RE.split(value) if part.strip()]
    found = [codes.sectors.get(_code_key(part)) for part in parts]
    unknown = [_quoted(part) for part, code in zip(parts, found, strict=True) if code is None]
    if unknown:
        return str(UNKNOWN_SECTORS) % {"values": join_list(unknown), "codes": _codes_list(choices.SECTORS)}
    encoded = sectors_encode([code for code in found if code])
    if len(encoded) > SECTORS_MAX_LENGTH:  # pragma: no cover - ten known codes fit
        return str(TOO_LONG) % {"max": SECTORS_MAX_LENGTH, "length": len(encoded)}
    check.cells["sectors_code"] = encoded
    return ""


_VALIDATORS: dict[str, Callable[[str, _Codes, _RowCheck], str]] = {
    "uscc": _validate_uscc,
    "name": _validate_name,
    "district": _validate_choice("district", lambda c: c.districts, UNKNOWN_DISTRICT, choices.DISTRICTS),
    "industry": _validate_industry,
    "size_class": _validate_choice("size_class", lambda c: c.sizes, UNKNOWN_SIZE, choices.SIZE_CLASSES),
    "leading_chain": _validate_choice("leading_chain", lambda c: c.chains, UNKNOWN_CHAIN, choices.LEADING_CHAINS),
    "sectors": _validate_sectors,
}


def _values(check: _RowCheck) -> _Values:
    cells = check.cells
    return (
        cells["uscc_code"],
        cells["name"],
        cells["district_code"],
        cells["industry_code"],
        cells["size_class_code"],
        cells.get("leading_chain_code", ""),
        cells.get("sectors_code", ""),
    )


def _validated(rows: Iterable[RawRow]) -> tuple[int, list[_Values], list[RegisterRowError]]:
    """(data rows read, the valid rows' values, the errors) of the rows of a file, header first."""
    codes = _Codes.build()
    positions: dict[str, int] | None = None
    valid: list[_Values] = []
    errors: list[RegisterRowError] = []
    first_row: dict[str, int] = {}  # normalised USCC → the row it was first met in
    read = 0
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise RegisterFileError(str(FILE_TOO_MANY_ROWS) % {"max": f"{MAX_ROWS:,}"})
        if not any(_cell_text(cell).strip() for cell in row):
            continue
        if positions is None:
            positions = _header(row)
            continue
        read += 1
        check = _check_row(number, row, positions, codes)
        code = check.cells.get("uscc_code")
        if code is not None:
            if code in first_row:
                check.fail("uscc", str(DUPLICATE) % {"row": first_row[code]})
            else:
                first_row[code] = number
        if check.errors:
            errors.extend(check.errors)
        else:
            valid.append(_values(check))
    if positions is None:
        raise RegisterFileError(str(FILE_EMPTY))
    return read, valid, errors


# --- writing ----------------------------------------------------------------------------------------------


def _existing(codes: list[str]) -> dict[str, tuple[int, tuple[str, ...]]]:
    """USCC → (id, stored FIELDS) of the register rows with these codes."""
    found: dict[str, tuple[int, tuple[str, ...]]] = {}
    size = min(LOOKUP_CHUNK, connection.features.max_query_params or LOOKUP_CHUNK)
    for start in range(0, len(codes), size):
        chunk = codes[start : start + size]
        for pk, code, *values in RegisterEntry.objects.filter(uscc__in=chunk).values_list("id", "uscc", *FIELDS):
            found[code] = (pk, tuple(values))
    return found


def _batches(items: list[_Values], size: int) -> Iterator[list[_Values]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _Moves:
    firms: list[int]  # the firms whose register cells move
    rebuild: bool  # too many: rebuild the summaries instead


def _summaries_leave(usccs: list[str]) -> _Moves:
    """Before the register rows with these USCCs appear, change or go: their firms leave the cells that read the
    register row (sectors, coverage: surveys/services/summaries.py)."""
    firms = register_sector_firms(usccs)
    moves = _Moves(firms, rebuild=len(firms) > MOVE_LIMIT)  # one grouped rebuild beats moving thousands one by one
    if firms and not moves.rebuild:
        summaries_enterprise_remove(enterprise_ids=firms, sectors_only=True)
    return moves


def _summaries_return(moves: _Moves, *, changed: bool) -> None:
    """After the change: the firms return to the cells as the register now says, and (``changed``) the register's
    counts are recomputed, in the transaction of the change."""
    if moves.rebuild:
        summaries_rebuild()  # the register's counts included
        return
    if moves.firms:
        summaries_enterprise_add(enterprise_ids=moves.firms, sectors_only=True)
    if changed:
        summaries_register_recount()


@contextmanager
def register_change(*, usccs: Sequence[str]) -> Iterator[None]:
    """Around a write of the register rows with these USCCs that bypasses :func:`register_import` and
    :func:`register_delete` (a test's factory, a bulk load): in one transaction, their firms leave the register's
    cells before it, return after it, and the register's counts are recomputed."""
    with transaction.atomic():
        moves = _summaries_leave(list(usccs))
        yield
        _summaries_return(moves, changed=True)


@transaction.atomic
def register_import(
    *,
    file: IO[bytes] | None = None,
    rows: Iterable[RawRow] | None = None,
    batch_size: int = BATCH_SIZE,
) -> RegisterImportResult:
    """Validate a register file (``file``: CSV or XLSX bytes; or ``rows``: the cells of its rows, the header
    first) and upsert its valid rows by USCC (see the module docstring). Errors are in the active language.

    Raises RegisterFileError when the file cannot be read at all; nothing is written then."""
    if (file is None) == (rows is None):
        raise TypeError("register_import takes either file or rows")
    source = _read_rows(file) if file is not None else iter(rows or ())
    read, valid, errors = _validated(source)
    existing = _existing([values[0] for values in valid])
    new: list[_Values] = []
    changed: list[tuple[int, _Values]] = []
    for values in valid:
        stored = existing.get(values[0])
        if stored is None:
            new.append(values)
        elif stored[1] != values[1:]:
            changed.append((stored[0], values))
    # The firms whose register row appears or changes anything but its name leave the cells that read the row
    # (sectors, coverage) before the register changes and return after.
    # A row's values are (USCC, *FIELDS), the stored ones FIELDS; the name (FIELDS[0]) is counted nowhere.
    moves = _summaries_leave(
        [values[0] for values in new]
        + [values[0] for _pk, values in changed if existing[values[0]][1][1:] != values[2:]]
    )
    for batch in _batches(new, batch_size):
        RegisterEntry.objects.bulk_create(
            [RegisterEntry(uscc=values[0], **dict(zip(FIELDS, values[1:], strict=True))) for values in batch]
        )
    now = timezone.now()
    for start in range(0, len(changed), batch_size):
        RegisterEntry.objects.bulk_update(
            [
                RegisterEntry(id=pk, uscc=values[0], updated_at=now, **dict(zip(FIELDS, values[1:], strict=True)))
                for pk, values in changed[start : start + batch_size]
            ],
            fields=[*FIELDS, "updated_at"],
        )
    _summaries_return(moves, changed=bool(new or changed))
    return RegisterImportResult(
        rows=read,
        created=len(new),
        updated=len(changed),
        unchanged=len(valid) - len(new) - len(changed),
        errors=errors,
    )


@transaction.atomic
def register_delete(*, usccs: Sequence[str]) -> int:
    """Delete the register rows with these USCCs (firms that left the register); returns how many. The firms with
    these codes leave the cells that read their register row first and return as firms without one."""
    codes = sorted(set(usccs))
    moves = _summaries_leave(codes)
    deleted = 0
    size = min(LOOKUP_CHUNK, connection.features.max_query_params or LOOKUP_CHUNK)
    for start in range(0, len(codes), size):
        deleted += RegisterEntry.objects.filter(uscc__in=codes[start : start + size]).delete()[0]
    _summaries_return(moves, changed=bool(deleted))
    return deleted


def register_error_rows(result: RegisterImportResult) -> list[list[object]]:
    """The error report's rows (row, USCC, column, reason), for the CSV written by the page and the command."""
    return [[error.row, error.uscc, error.column, error.reason] for error in result.errors]


def register_error_headers() -> list[str]:
    return [_("行号"), _("统一社会信用代码"), _("列"), _("原因")]
