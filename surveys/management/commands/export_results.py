"""Scheduled exports: the same CSV/XLSX files as the administrators' export buttons, written to a file."""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from surveys import analytics, scopes
from surveys.analytics.exports import DATASETS, tables_for
from surveys.choices import DISTRICTS, INDUSTRIES, LEADING_CHAINS, SIZE_CLASSES
from surveys.reports import exports


def _codes(pairs):
    return [code for code, _label in pairs]


class Command(BaseCommand):
    help = (
        "Export firm-level results (default), answers or the aggregate tables as CSV or XLSX. Without --user "
        "the whole city is exported (the server operator's view) without contact details."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=exports.FORMATS, required=True)
        parser.add_argument("--dataset", choices=DATASETS, default="firms")
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
        scope = _export_scope(user, with_contacts)
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
            _write(tables_for(dataset, scope, filters), fmt, out)
        if out != "-":
            self.stderr.write(f"wrote {out}")


def _export_scope(username: str, with_contacts: bool) -> scopes.AdminScope:
    """The named administrator's scope, checked for the export (and contacts if asked); else the whole city."""
    if not username:
        return scopes.AdminScope.city_wide(contacts=with_contacts)
    scope = scopes.administrator_scope(get_user_model().objects.filter(username=username).first())
    if scope is None:
        raise CommandError(f"{username!r} is not an administrator")
    if not scope.can_export:
        raise CommandError(f"{username!r} may not export")
    if with_contacts and not scope.can_view_contacts:
        raise CommandError(f"{username!r} may not see contact details")
    if with_contacts:
        return scope
    return scopes.AdminScope(
        all_districts=scope.all_districts, districts=scope.districts, can_view_contacts=False, can_export=True
    )


def _write(tables, fmt: str, out: str) -> None:
    if fmt == "csv":
        if out == "-":
            exports.write_csv(tables, sys.stdout)
        else:
            with open(out, "w", encoding="utf-8", newline="") as stream:
                exports.write_csv(tables, stream)
        return
    if out == "-":
        raise CommandError("XLSX needs --out FILE")
    try:
        with open(out, "wb") as stream:
            exports.write_xlsx(tables, stream)
    except exports.TooManyRowsError as exc:
        raise CommandError(f"{exc}: more rows than one XLSX sheet holds; use --format csv") from exc
