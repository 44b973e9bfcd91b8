"""Scheduled exports: the same CSV/XLSX files as the administrators' export buttons, written to a file."""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from surveys import analytics, exports, scopes
from surveys.choices import DISTRICTS, INDUSTRIES, LEADING_CHAINS, SIZE_CLASSES


def _codes(pairs):
    return [code for code, _label in pairs]


class Command(BaseCommand):
    help = (
        "Export firm-level results (default), answers or the aggregate tables as CSV or XLSX. Without --user "
        "the whole city is exported (the server operator's view) without contact details."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=exports.FORMATS, required=True)
        parser.add_argument("--dataset", choices=exports.DATASETS, default="firms")
        parser.add_argument("--out", required=True, help="file to write ('-' for standard output, CSV only)")
        parser.add_argument("--district", choices=_codes(DISTRICTS), default="")
        parser.add_argument("--industry", choices=_codes(INDUSTRIES), default="")
        parser.add_argument("--size", choices=_codes(SIZE_CLASSES), default="")
        parser.add_argument("--chain", choices=_codes(LEADING_CHAINS), default="")
        parser.add_argument("--round", default="", help="round label (default: each firm's latest submitted round)")
        parser.add_argument("--year", type=int, default=None, help="year of submission")
        parser.add_argument("--level", default="", help="level code, e.g. L3")
        parser.add_argument("--user", default="", help="export with this administrator's scope and permissions")
        parser.add_argument("--with-contacts", action="store_true", help="include contact persons and phones")
        parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args, fmt, dataset, out, user, with_contacts, language, **options):
        if user:
            account = get_user_model().objects.filter(username=user).first()
            scope = scopes.administrator_scope(account)
            if scope is None:
                raise CommandError(f"{user!r} is not an administrator")
            if not scope.can_export:
                raise CommandError(f"{user!r} may not export")
            if with_contacts and not scope.can_view_contacts:
                raise CommandError(f"{user!r} may not see contact details")
            if not with_contacts:
                scope = scopes.AdminScope(
                    all_districts=scope.all_districts,
                    districts=scope.districts,
                    can_view_contacts=False,
                    can_export=True,
                )
        else:
            scope = scopes.AdminScope.city_wide(contacts=with_contacts)
        if options["district"] and not scope.allows_district(options["district"]):
            raise CommandError(f"district {options['district']} is outside {user!r}'s scope")
        filters = analytics.Filters(
            district=options["district"],
            industry=options["industry"],
            size_class=options["size"],
            leading_chain=options["chain"],
            round_label=options["round"],
            year=options["year"],
            level=options["level"],
        )
        with translation.override(language):
            tables = exports.tables_for(dataset, scope, filters)
            if fmt == "csv":
                if out == "-":
                    exports.write_csv(tables, sys.stdout)
                else:
                    with open(out, "w", encoding="utf-8", newline="") as stream:
                        exports.write_csv(tables, stream)
            else:
                if out == "-":
                    raise CommandError("XLSX needs --out FILE")
                try:
                    with open(out, "wb") as stream:
                        exports.write_xlsx(tables, stream)
                except exports.TooManyRowsError as exc:
                    raise CommandError(f"{exc}: more rows than one XLSX sheet holds; use --format csv") from exc
        if out != "-":
            self.stderr.write(f"wrote {out}")
