"""python manage.py import_register FILE [--lang en] [--errors-out PATH]: the business register from CSV or XLSX.

Prints the counts and each bad row (row number, USCC, column, reason); ``--errors-out`` writes the same as a
CSV report (UTF-8 with BOM, formula-like text neutralised). The exit code is non-zero only when the file
cannot be read at all; bad rows are reported, and the good rows imported, with exit code 0. The columns and
codes: surveys/services/register.py (and the README, "Business register").
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from surveys.analytics.exports import Table
from surveys.audit.models import AuditEvent
from surveys.audit.services import audit_event_record
from surveys.choices import LANGUAGE_EN, LANGUAGE_ZH
from surveys.reports.exports import write_csv
from surveys.services.register import (
    RegisterFileError,
    register_error_headers,
    register_error_rows,
    register_import,
)
from surveys.text import with_colon


class Command(BaseCommand):
    help = "Import the business register from a CSV or XLSX file: validate every row, upsert the valid ones by USCC."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8 or GB18030) or XLSX file, with a header row")
        parser.add_argument(
            "--lang", choices=[LANGUAGE_ZH, LANGUAGE_EN], default=LANGUAGE_ZH, help="language of the report"
        )
        parser.add_argument("--errors-out", metavar="PATH", help="write the bad rows to this CSV file")

    def handle(self, *args, file, lang, errors_out, **options):
        with translation.override(lang):
            path = Path(file)
            try:
                with path.open("rb") as handle:
                    result = register_import(file=handle)
            except OSError as exc:
                raise CommandError(_("无法打开文件：%(error)s") % {"error": exc.strerror or exc}) from exc
            except RegisterFileError as exc:
                raise CommandError(exc.message) from exc
            audit_event_record(
                request=None,
                action=AuditEvent.IMPORT,
                target="register",
                username="manage.py import_register",
                detail={"file": path.name, "result": result.summary()},
            )
            self.stdout.write(result.summary())
            for error in result.errors:
                row = _("第 %(row)d 行") % {"row": error.row}
                self.stdout.write(f"  {row}  {error.uscc or '-'}  {with_colon(error.column)}{error.reason}")
            if errors_out:
                table = Table(title=_("导入错误"), headers=register_error_headers(), rows=register_error_rows(result))
                with open(errors_out, "w", encoding="utf-8", newline="") as stream:
                    write_csv([table], stream)
                self.stdout.write(_("错误报告已写入 %(path)s") % {"path": errors_out})
