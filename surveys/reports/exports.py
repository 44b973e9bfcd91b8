"""Writing export tables (surveys/analytics/exports.py builds them) as CSV and XLSX, and naming the files.

CSV is written with a UTF-8 byte-order mark so that Excel reads Chinese correctly, piece by piece for a
streaming response; XLSX with openpyxl's write-only mode, in a temporary file.

Every text cell, headers included, goes through :func:`neutralise` (CWE-1236, ASVS 5.0 1.2.10): a value
starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or NUL gets a leading ``'`` so that a
spreadsheet shows it as text instead of evaluating it. Numbers are written as numbers; those of a table's
``display_columns`` rounded by the display rule of the pages and PDFs (formatting.py: 48.65 → 48.7).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..text import FORMULA_PREFIXES, looks_like_formula
from .formatting import display_number

if TYPE_CHECKING:
    from surveys.analytics.exports import Table

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}
BOM = "\ufeff"
# Excel's sheet limit is 1,048,576 rows, one of them the header.
XLSX_MAX_ROWS = 1_048_575

_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)  # the first characters, for a fast check per cell
FORMATS = ("csv", "xlsx")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet cannot take for a formula; numbers, dates and None pass unchanged."""
    if looks_like_formula(value):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """A value ready for either writer: Decimal → float, aware datetimes → local naive, text neutralised."""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_STARTS else value
    if value is None or kind is int or kind is float:
        return value
    if kind is Decimal:
        return float(value)
    if kind is bool:
        return _("是") if value else _("否")
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.replace(tzinfo=None, microsecond=0)
    return neutralise(str(value))


def _displayed(table: Table, row: list[Any]) -> list[Any]:
    """The row with the values of the table's display columns rounded for display."""
    columns = table.display_columns
    if not columns:
        return row
    return [display_number(value) if n in columns else value for n, value in enumerate(row)]


class TooManyRowsError(Exception):
    """The export does not fit in one XLSX sheet."""


class _Echo:
    """A file-like object whose write() returns what it is given (csv.writer into a generator)."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(tables: list[Table], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text piece by piece: BOM, then each table (several separated by a title line and a blank).

    Rows are sent in pieces of ``rows_per_chunk`` lines: one piece per row would spend more time passing
    pieces through the response than writing them.
    """
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM
    several = len(tables) > 1
    for n, table in enumerate(tables):
        lines = []
        if several:
            if n:
                lines.append("\r\n")
            lines.append(writer.writerow([neutralise(f"# {table.title}")]))
        lines.append(writer.writerow([_cell(h) for h in table.headers]))
        for row in table.rows:
            lines.append(writer.writerow([_cell(v) for v in _displayed(table, row)]))
            if len(lines) >= rows_per_chunk:
                yield "".join(lines)
                lines = []
        if lines:
            yield "".join(lines)


def write_csv(tables: list[Table], stream: IO[str]) -> None:
    """Write the CSV to a text stream (the export_results command)."""
    for chunk in csv_chunks(tables):
        stream.write(chunk)


def write_xlsx(tables: list[Table], stream: IO[bytes]) -> None:
    """An XLSX workbook in write-only mode, one sheet per table; text cells neutralised and kept as text."""
    for table in tables:
        if table.count is not None and table.count() > XLSX_MAX_ROWS:
            raise TooManyRowsError(table.title)
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(title=_sheet_title(table.title, used))
        sheet.append([_xlsx_value(h) for h in table.headers])
        for n, row in enumerate(table.rows, start=1):
            if n > XLSX_MAX_ROWS:
                raise TooManyRowsError(table.title)
            sheet.append([_xlsx_value(v) for v in _displayed(table, row)])
    workbook.save(stream)


def write_xlsx_split(tables: list[Table], stream: IO[bytes], *, max_rows: int = XLSX_MAX_ROWS) -> None:
    """Like write_xlsx, but a table longer than a sheet goes on over further sheets ("答案", "答案-2", …),
    each with the header (background jobs: the full answers export of the whole city)."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        header = [_xlsx_value(h) for h in table.headers]
        sheet, rows_in_sheet = None, max_rows
        for row in table.rows:
            if rows_in_sheet >= max_rows:
                sheet, rows_in_sheet = workbook.create_sheet(title=_sheet_title(table.title, used)), 0
                sheet.append(header)
            sheet.append([_xlsx_value(v) for v in _displayed(table, row)])
            rows_in_sheet += 1
        if sheet is None:
            workbook.create_sheet(title=_sheet_title(table.title, used)).append(header)
    workbook.save(stream)


def _xlsx_value(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, str):
        # openpyxl refuses control characters; a string starting with "=" would become a formula, which
        # neutralise() has already prevented.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


_SHEET_UNSAFE = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_SHEET_UNSAFE)[:28] or "Sheet"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}-{n}"
        n += 1
    used.add(name)
    return name


def xlsx_file(tables: list[Table]) -> IO[bytes]:
    """The workbook in a temporary file (rewound), for a FileResponse or a copy to disk."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    try:
        write_xlsx(tables, handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def export_filename(dataset: str, fmt: str) -> tuple[str, str]:
    """(file name, ASCII fallback), e.g. ("济南企业评估-企业结果-20261201.csv", "jinan-firms-20261201.csv")."""
    stamp = timezone.localdate().strftime("%Y%m%d")
    titles = {"firms": _("企业结果"), "answers": _("答案"), "aggregates": _("汇总表"), "audit": _("审计日志")}
    return f"{_('济南企业自评估')}-{titles[dataset]}-{stamp}.{fmt}", f"jinan-{dataset}-{stamp}.{fmt}"
